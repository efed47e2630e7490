"""Validators shared by every area: national ID numbers, phone numbers, dates.

The ID-number rules are those of GB 11643-1999 (公民身份号码): 17 digits (6-digit address code,
8-digit birth date, 3-digit sequence whose last digit is odd for men and even for women) and an
ISO 7064 MOD 11-2 check character (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landlines as people write them: optional area code with a dash, 7-8 digits, optional extension.
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")

MALE = "M"
FEMALE = "F"


@dataclass(frozen=True)
class IdNumberInfo:
    """What a valid ID number says about its holder."""

    number: str
    birth_date: dt.date
    gender: str  # MALE or FEMALE


def normalize_id_number(value: str) -> str:
    """Strip spaces and upper-case the check character, as people type a lower-case x."""
    return (value or "").strip().replace(" ", "").upper()


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(map(operator.mul, map(int, first17), ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def surely_past(day: dt.date) -> bool:
    """Whether `day` is before today in any time zone, by the process clock alone: two days of margin. The rules
    that refuse a future date ask this first, and the time zone's today (`timezone.localdate`, a conversion that a
    100,000-row import would do hundreds of thousands of times) only for the few dates near today."""
    return day < dt.date.today() - _MARGIN


_MARGIN = dt.timedelta(days=2)


def parse_id_number(value: str, *, today: dt.date | None = None) -> IdNumberInfo:
    """Validate an 18-character ID number and return the birth date and gender it encodes.

    Raises ValidationError with a Chinese message naming what is wrong.
    """
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError("公民身份号码应为18位，当前为%(n)d位。", code="id_length", params={"n": len(number)})
    if not _ID_SHAPE.match(number):
        raise ValidationError("公民身份号码前17位应为数字，最后一位为数字或X。", code="id_chars")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError("公民身份号码中的出生日期（第7-14位）不是有效日期。", code="id_birth") from None
    if today is not None:
        future = birth > today
    else:
        future = not surely_past(birth) and birth > timezone.localdate()
    if birth.year < 1900 or future:
        raise ValidationError("公民身份号码中的出生日期（第7-14位）不合理。", code="id_birth")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError("公民身份号码校验位错误，请核对号码。", code="id_checksum")
    gender = MALE if int(number[16]) % 2 == 1 else FEMALE
    return IdNumberInfo(number=number, birth_date=birth, gender=gender)


def validate_id_number(value: str) -> None:
    parse_id_number(value)


def validate_phone(value: str) -> None:
    """A mainland mobile number (11 digits starting 13-19) or a landline with area code."""
    number = (value or "").strip()
    if not (_MOBILE.match(number) or _LANDLINE.match(number)):
        raise ValidationError("手机号码格式不正确：应为11位手机号码或带区号的固定电话。", code="phone")


def validate_not_future(value: dt.date | None) -> None:
    if value and not surely_past(value) and value > timezone.localdate():
        raise ValidationError("日期不能晚于今天。", code="future_date")


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, month=3, day=1)


def mask_id_number(value: str) -> str:
    """Show the first character and the last four: 1*************123X.

    Nothing of the region code or the birth date (characters 7-14) is left: with the birth date shown
    elsewhere, a mask that hid only those eight digits gave the full number back (docs/security.md, 5).
    """
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:1] + "*" * (len(value) - 5) + value[-4:]


def masked_birth_date(value: dt.date | None) -> str:
    """The birth date as a role without full-ID rights sees it in exports: the year only (1990-**-**).

    With the year, the first character and the last four of the ID number, hundreds of numbers remain
    possible; with the month or the day, a handful would (the check digit weeds out most)."""
    if value is None:
        return ""
    return f"{value:%Y}-**-**"


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_phone(value: str) -> str:
    """Show the first three and the last four digits: 138****5678."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
