"""National ID numbers (GB 11643-1999), phone numbers and dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from dangjian.core.validators import (
    FEMALE,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    MALE,
    add_years,
    id_check_char,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    parse_id_number,
    validate_id_number,
    validate_not_future,
    validate_phone,
)

TODAY = dt.date(2026, 3, 1)


def reference_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 written out from its definition, independently of the product's table:
    weight of position i (counted from the right, the check character being position 1) is 2^(i-1) mod 11,
    and the check value is (12 - sum mod 11) mod 11, written X for 10."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def reference_check_char_for_remainder(remainder: int) -> str:
    value = (12 - remainder) % 11
    return "X" if value == 10 else str(value)


def build_id(area: str, birth: dt.date, order: int) -> str:
    first17 = f"{area}{birth:%Y%m%d}{order:03d}"
    return first17 + reference_check_char(first17)


# ---------------------------------------------------------------------------------------------------------
# The check character


def test_weights_are_the_powers_of_two_mod_11():
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == ID_WEIGHTS
    assert "".join(reference_check_char_for_remainder(r) for r in range(11)) == ID_CHECK_CHARS


@pytest.mark.parametrize(
    ("number", "birth", "gender"),
    [
        ("11010519491231002X", dt.date(1949, 12, 31), FEMALE),
        ("110101199003074477", dt.date(1990, 3, 7), MALE),
        ("420116198506150016", dt.date(1985, 6, 15), MALE),
        ("320104200002290024", dt.date(2000, 2, 29), FEMALE),
    ],
    ids=["1949-female-X", "1990-male", "1985-male", "leap-day-2000"],
)
def test_known_valid_numbers(number, birth, gender):
    assert reference_check_char(number[:17]) == number[17]
    assert id_check_char(number[:17]) == number[17]
    info = parse_id_number(number, today=TODAY)
    assert (info.number, info.birth_date, info.gender) == (number, birth, gender)
    validate_id_number(number)


def test_valid_checksum_but_born_before_1900_is_refused():
    # 440524188001010014 has a correct check digit (the GB 11643 example) but a birth year of 1880.
    number = "440524188001010014"
    assert reference_check_char(number[:17]) == number[17]
    with pytest.raises(ValidationError) as exc:
        parse_id_number(number, today=TODAY)
    assert exc.value.code == "id_birth"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "id_length"),
        ("11010519491231002", "id_length"),
        ("11010519491231002X1", "id_length"),
        ("1101051949123100", "id_length"),
        ("11010519491231002Y", "id_chars"),
        ("1101051949123100AX", "id_chars"),
        ("X10105194912310021", "id_chars"),
        ("１１０１０５１９４９１２３１００２Ｘ", "id_chars"),  # full-width digits
        ("110105194912310021", "id_checksum"),
        ("110101199003074478", "id_checksum"),
        ("110105199902300029", "id_birth"),  # 30 February
        ("110105199913010029", "id_birth"),  # month 13
        ("110105199900000029", "id_birth"),  # month 0
        ("110105189912310029", "id_birth"),  # before 1900
    ],
    ids=[
        "empty",
        "17-chars",
        "19-chars",
        "16-chars",
        "bad-last-char",
        "letter-inside",
        "X-first",
        "full-width",
        "bad-check-digit",
        "bad-check-digit-2",
        "19990230",
        "month-13",
        "month-0",
        "before-1900",
    ],
)
def test_invalid_numbers(value, code):
    with pytest.raises(ValidationError) as exc:
        parse_id_number(value, today=TODAY)
    assert exc.value.code == code
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in exc.value.messages), "message in Chinese"


def test_impossible_date_is_refused_even_with_a_correct_check_digit():
    first17 = "11010519990230002"
    number = first17 + reference_check_char(first17)
    with pytest.raises(ValidationError) as exc:
        parse_id_number(number, today=TODAY)
    assert exc.value.code == "id_birth"


def test_future_birth_date_is_refused():
    tomorrow = TODAY + dt.timedelta(days=1)
    number = build_id("110105", tomorrow, 123)
    with pytest.raises(ValidationError) as exc:
        parse_id_number(number, today=TODAY)
    assert exc.value.code == "id_birth"
    assert parse_id_number(build_id("110105", TODAY, 123), today=TODAY).birth_date == TODAY


def test_future_birth_date_against_the_real_today():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        validate_id_number(build_id("110105", tomorrow, 123))


@pytest.mark.parametrize(
    "typed",
    ["11010519491231002x", " 11010519491231002x ", "110105 19491231 002x", "11010519491231002X"],
    ids=["lowercase-x", "padded", "spaced", "uppercase"],
)
def test_lowercase_x_and_spaces_are_accepted_via_normalize(typed):
    assert normalize_id_number(typed) == "11010519491231002X"
    assert parse_id_number(typed, today=TODAY).number == "11010519491231002X"


def test_normalize_handles_none():
    assert normalize_id_number(None) == ""


# ---------------------------------------------------------------------------------------------------------
# Property-based


AREAS = st.sampled_from(["110105", "110101", "320104", "420116", "440524", "650102"])
BIRTHS = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
ORDERS = st.integers(min_value=0, max_value=999)


@settings(max_examples=300, deadline=None)
@given(area=AREAS, birth=BIRTHS, order=ORDERS)
def test_generated_number_parses_back_to_its_birth_date_and_gender(area, birth, order):
    number = build_id(area, birth, order)
    assert id_check_char(number[:17]) == number[17]
    info = parse_id_number(number, today=TODAY)
    assert info.birth_date == birth
    assert info.gender == (MALE if order % 2 else FEMALE)
    assert parse_id_number(number.lower(), today=TODAY) == info


@settings(max_examples=300, deadline=None)
@given(
    area=AREAS,
    birth=BIRTHS,
    order=ORDERS,
    position=st.integers(min_value=0, max_value=17),
    data=st.data(),
)
def test_any_single_character_change_is_detected(area, birth, order, position, data):
    """MOD 11-2 detects every single-character substitution: the number becomes invalid."""
    number = build_id(area, birth, order)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationError):
        parse_id_number(changed, today=TODAY)


def test_every_single_digit_change_of_a_known_number_is_detected():
    number = "11010519491231002X"
    for position in range(18):
        for replacement in "0123456789X" if position == 17 else "0123456789":
            if replacement == number[position]:
                continue
            changed = number[:position] + replacement + number[position + 1 :]
            with pytest.raises(ValidationError):
                parse_id_number(changed, today=TODAY)


# ---------------------------------------------------------------------------------------------------------
# Phones


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "19912345678",
        "15000000000",
        " 13812345678 ",
        "010-12345678",
        "0755-1234567",
        "02112345678",
        "010-12345678-123",
    ],
    ids=["mobile-138", "mobile-199", "mobile-150", "padded", "beijing", "shenzhen-7", "no-dash", "extension"],
)
def test_valid_phones(value):
    validate_phone(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12812345678",
        "1381234567",
        "138123456789",
        "23812345678",
        "abc",
        "1381234567a",
        "12345678",
        "010-123456",
        "010-12345678-1234567",
        "138 1234 5678",
    ],
    ids=[
        "empty",
        "prefix-12",
        "10-digits",
        "12-digits",
        "starts-2",
        "letters",
        "letter-end",
        "no-area-code",
        "short-landline",
        "long-extension",
        "spaces-inside",
    ],
)
def test_invalid_phones(value):
    with pytest.raises(ValidationError) as exc:
        validate_phone(value)
    assert exc.value.code == "phone"
    assert "手机号码格式不正确" in exc.value.messages[0]


# ---------------------------------------------------------------------------------------------------------
# Dates and masking


def test_validate_not_future():
    today = timezone.localdate()
    validate_not_future(None)
    validate_not_future(today)
    validate_not_future(today - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        validate_not_future(today + dt.timedelta(days=1))
    assert exc.value.messages == ["日期不能晚于今天。"]


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (dt.date(1990, 5, 17), 18, dt.date(2008, 5, 17)),
        (dt.date(2000, 2, 29), 18, dt.date(2018, 3, 1)),
        (dt.date(2000, 2, 29), 4, dt.date(2004, 2, 29)),
        (dt.date(1999, 12, 31), 1, dt.date(2000, 12, 31)),
    ],
    ids=["plain", "leap-day-to-common-year", "leap-day-to-leap-year", "year-end"],
)
def test_add_years(day, years, expected):
    assert add_years(day, years) == expected


def test_masks():
    assert mask_id_number("11010519491231002X") == "1*************002X"
    assert mask_id_number("110105491231002") == "1**********1002"  # a 15-digit number of the first generation
    assert mask_id_number("") == ""
    assert mask_id_number("12345") == "*****"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
    assert mask_phone("1234567") == "*******"
