"""Encryption at rest of ID numbers (个人信息保护): AES-GCM tokens, key rotation, no clear number in the database,
lookups only through the blind index, uniqueness through it.

This module does not build the shared world: the rotation test swaps the key ring, and every member row in
the database must then be one of its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import os
import secrets
from unittest import mock

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.core import crypto
from dangjian.core.validators import FEMALE, MALE
from dangjian.members.forms import MemberForm
from dangjian.members.models import DUPLICATE_ID_MESSAGE, Member
from dangjian.members.tests.factories import MemberFactory, make_id_number
from dangjian.orgs.models import Organization
from dangjian.orgs.tests.factories import OrganizationFactory

NUMBER = make_id_number(dt.date(1979, 5, 4), MALE, 1, "110105")  # ends in X
OTHER = make_id_number(dt.date(1981, 8, 21), FEMALE, 4, "430902")


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def keys():
    """Swap the key ring for the test: `use(field_keys)` installs 'kid:key,...' with a fixed index key."""
    index = new_key()

    def use(field_keys: str) -> crypto.KeyRing:
        patcher = mock.patch.dict(os.environ, {"DANGJIAN_FIELD_KEYS": field_keys, "DANGJIAN_INDEX_KEY": index})
        patcher.start()
        patchers.append(patcher)
        crypto.keyring.cache_clear()
        return crypto.keyring()

    patchers: list = []
    yield use
    for patcher in reversed(patchers):
        patcher.stop()
    crypto.keyring.cache_clear()


def raw_tokens(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {table}")
        return [row[0] for row in cursor.fetchall()]


# ---------------------------------------------------------------------------------------------------------
# The cipher.


def test_the_sample_number_has_a_check_character_x():
    assert NUMBER.endswith("X")


def test_round_trip():
    token = crypto.encrypt(NUMBER)
    assert crypto.is_token(token)
    assert NUMBER not in token
    assert crypto.decrypt(token) == NUMBER


def test_round_trip_of_non_ascii_text():
    assert crypto.decrypt(crypto.encrypt("滨江区·身份证")) == "滨江区·身份证"


def test_tokens_differ_each_time():
    tokens = {crypto.encrypt(NUMBER) for _ in range(5)}
    assert len(tokens) == 5
    assert {crypto.decrypt(t) for t in tokens} == {NUMBER}


def test_a_token_names_its_key(keys):
    keys(f"k1:{new_key()}")
    token = crypto.encrypt(NUMBER)
    assert token.startswith("enc1:k1:")
    assert crypto.token_key_id(token) == "k1"


def test_an_unknown_key_id_raises(keys):
    keys(f"k1:{new_key()}")
    token = crypto.encrypt(NUMBER)
    forged = token.replace("enc1:k1:", "enc1:k9:", 1)
    with pytest.raises(ImproperlyConfigured):
        crypto.decrypt(forged)


def test_a_token_under_another_key_of_the_same_id_does_not_decrypt(keys):
    keys(f"k1:{new_key()}")
    token = crypto.encrypt(NUMBER)
    keys(f"k1:{new_key()}")
    with pytest.raises(InvalidTag):
        crypto.decrypt(token)


def test_a_tampered_token_does_not_decrypt():
    token = crypto.encrypt(NUMBER)
    prefix, kid, body = token.split(":", 2)
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(InvalidTag):
        crypto.decrypt(f"{prefix}:{kid}:{base64.b64encode(bytes(raw)).decode()}")


@pytest.mark.parametrize(
    "field_keys",
    ["k1", "k1:not-base64!", f"k1:{base64.b64encode(b'short').decode()}", ""],
    ids=["no-key", "not-base64", "too-short", "empty"],
)
def test_bad_key_configuration_is_refused(field_keys):
    with pytest.raises(ImproperlyConfigured):
        crypto.parse_keys(field_keys, new_key())


def test_the_blind_index_is_keyed_and_stable(keys):
    keys(f"k1:{new_key()}")
    first = crypto.blind_index(NUMBER)
    assert first == crypto.blind_index(NUMBER)
    assert first != crypto.blind_index(OTHER)
    assert NUMBER not in first
    assert first != hashlib.sha256(NUMBER.encode()).hexdigest()  # keyed, not a plain hash


# ---------------------------------------------------------------------------------------------------------
# Rotation.


@pytest.mark.django_db
def test_rotation_keeps_old_tokens_readable_and_reseals_them_under_the_new_key(keys):
    k1, k2 = new_key(), new_key()
    keys(f"k1:{k1}")
    member = MemberFactory(id_number=NUMBER)
    assert {crypto.token_key_id(t) for t in raw_tokens("members_member")} == {"k1"}

    keys(f"k2:{k2},k1:{k1}")
    assert Member.objects.get(pk=member.pk).id_number == NUMBER  # old tokens still decrypt
    fresh = MemberFactory(id_number=OTHER)
    assert crypto.token_key_id(raw_tokens("members_member")[-1]) == "k2"

    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "已用密钥 k2 重新加密 1 条党员记录" in out.getvalue()
    assert {crypto.token_key_id(t) for t in raw_tokens("members_member")} == {"k2"}

    keys(f"k2:{k2}")  # the old key removed
    assert Member.objects.get(pk=member.pk).id_number == NUMBER
    assert Member.objects.get(pk=fresh.pk).id_number == OTHER
    assert Member.objects.with_id_number(NUMBER).get() == member


@pytest.mark.django_db
def test_rotation_reseals_phones_too_in_the_member_and_history_tables(keys):
    k1, k2 = new_key(), new_key()
    keys(f"k1:{k1}")
    member = MemberFactory(id_number=NUMBER, phone="13700002222")
    keys(f"k2:{k2},k1:{k1}")
    call_command("rotate_field_keys", stdout=io.StringIO())
    for table in ("members_member", "members_historicalmember"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT phone FROM {table}")
            assert {crypto.token_key_id(row[0]) for row in cursor.fetchall()} == {"k2"}, table
    keys(f"k2:{k2}")  # the old key removed: the phone still reads, and is still found whole
    assert Member.objects.get(pk=member.pk).phone == "13700002222"
    assert [h.phone for h in member.history.all()] == ["13700002222"]
    assert Member.objects.with_phone("13700002222").get() == member


@pytest.mark.django_db
def test_rotation_is_idempotent(keys):
    k1, k2 = new_key(), new_key()
    keys(f"k1:{k1}")
    MemberFactory(id_number=NUMBER)
    keys(f"k2:{k2},k1:{k1}")
    call_command("rotate_field_keys", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "重新加密 0 条" in out.getvalue()


@pytest.mark.django_db
def test_after_rotation_the_old_key_can_be_removed_without_losing_the_history(keys):
    """docs/security.md: rotate, run rotate_field_keys, then remove the old key. The history table holds
    the ID number encrypted too, so it must be re-sealed as well, or the member's page cannot be read."""
    k1, k2 = new_key(), new_key()
    keys(f"k1:{k1}")
    member = MemberFactory(id_number=NUMBER)
    keys(f"k2:{k2},k1:{k1}")
    call_command("rotate_field_keys", stdout=io.StringIO())
    assert {crypto.token_key_id(t) for t in raw_tokens("members_historicalmember")} == {"k2"}

    keys(f"k2:{k2}")
    assert [h.id_number for h in member.history.all()] == [NUMBER] * member.history.count()


# ---------------------------------------------------------------------------------------------------------
# The database never holds a clear number.


def text_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return [column.name for column in description]


def raw_scan(table: str, needle: str) -> list[tuple[str, object]]:
    """(column, value) of every cell of `table` whose text contains `needle`."""
    columns = text_columns(table)
    hits = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(connection.ops.quote_name(c) for c in columns)} FROM {table}")
        for row in cursor.fetchall():
            for column, value in zip(columns, row, strict=True):
                if value is not None and needle in str(value):
                    hits.append((column, value))
    return hits


@pytest.mark.django_db
def test_a_raw_scan_finds_no_clear_id_number():
    member = MemberFactory(id_number=NUMBER)
    member.phone = "13700001111"
    member.save()  # a second history row
    member.id_number = OTHER
    member.birth_date = dt.date(1981, 8, 21)
    member.gender = FEMALE
    member.save()  # a third, with the number changed
    assert member.history.count() == 3
    for table in ("members_member", "members_historicalmember"):
        for number in (NUMBER, OTHER):
            assert raw_scan(table, number) == [], (table, number)
            assert raw_scan(table, number.lower()) == []
        # Phones are encrypted too (F8), in the member table and in its history.
        assert raw_scan(table, "13700001111") == [], table
        assert raw_scan(table, member.name), table  # the rows are there: the scan sees what is stored in clear


@pytest.mark.django_db
def test_the_digest_is_stored_and_not_the_number():
    member = MemberFactory(id_number=NUMBER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_digest FROM members_member WHERE id = %s", [member.pk])
        token, digest = cursor.fetchone()
    assert crypto.is_token(token)
    assert digest == crypto.blind_index(NUMBER)


# ---------------------------------------------------------------------------------------------------------
# Lookups.


@pytest.mark.django_db
@pytest.mark.parametrize("lookup", ["exact", "iexact", "contains", "icontains", "startswith", "endswith", "in"])
def test_lookups_on_the_encrypted_field_are_refused(lookup):
    value = [NUMBER] if lookup == "in" else NUMBER
    with pytest.raises(FieldError):
        list(Member.objects.filter(**{f"id_number__{lookup}": value}))


@pytest.mark.django_db
def test_a_plain_filter_on_the_encrypted_field_is_refused():
    with pytest.raises(FieldError):
        Member.objects.filter(id_number=NUMBER)


@pytest.mark.django_db
def test_isnull_is_allowed():
    member = MemberFactory(id_number=NUMBER)
    assert list(Member.objects.filter(id_number__isnull=False)) == [member]


@pytest.mark.django_db
def test_with_id_number_finds_exactly():
    member = MemberFactory(id_number=NUMBER)
    MemberFactory(id_number=OTHER)
    assert list(Member.objects.with_id_number(NUMBER)) == [member]
    assert list(Member.objects.with_id_number(f" {NUMBER.lower()} ")) == [member]  # as people type it
    assert not Member.objects.with_id_number(NUMBER[:17]).exists()
    assert not Member.objects.with_id_number(NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")).exists()


# ---------------------------------------------------------------------------------------------------------
# Uniqueness through the digest.


def form_data(org: Organization, number: str) -> dict:
    return {
        "name": "褚重复",
        "gender": MALE,
        "ethnicity": "汉族",
        "birth_date": "1979-05-04",
        "id_number": number,
        "phone": "",
        "education": "",
        "join_date": "2005-07-01",
        "full_date": "2006-07-01",
        "category": "full",
        "organization": org.code,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("typed", [NUMBER, f" {NUMBER} ", NUMBER.lower()], ids=["same", "spaces", "lower"])
def test_a_duplicate_id_number_is_refused_by_the_form(typed):
    org = OrganizationFactory(code="DUP01")
    MemberFactory(id_number=NUMBER, organization=org)
    form = MemberForm(
        form_data(org, typed), org_queryset=Organization.objects.all(), user=user_with_role(Role.COMMITTEE, org)
    )
    assert not form.is_valid()
    assert form.errors["id_number"] == [DUPLICATE_ID_MESSAGE]
    assert DUPLICATE_ID_MESSAGE == "该公民身份号码已登记为党员，不能重复登记。"


@pytest.mark.django_db
def test_a_duplicate_id_number_is_refused_on_the_page():
    org = OrganizationFactory(code="DUP02")
    MemberFactory(id_number=NUMBER, organization=org)
    client = Client()
    client.force_login(user_with_role(Role.COMMITTEE, org))
    response = client.post("/members/new/", form_data(org, NUMBER))
    assert response.status_code == 200
    assert f"公民身份号码：{DUPLICATE_ID_MESSAGE}" in response.content.decode()
    assert Member.objects.with_id_number(NUMBER).count() == 1
