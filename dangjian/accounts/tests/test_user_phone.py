"""A user's phone (联系电话) is encrypted at rest like the members' (security review F8)."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client

from dangjian.accounts.models import User
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, user_with_role
from dangjian.core import crypto

pytestmark = pytest.mark.django_db


def stored_phone(user) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_a_users_phone_is_stored_encrypted():
    user = UserFactory(phone="13712345678")
    assert crypto.is_token(stored_phone(user)) and "13712345678" not in stored_phone(user)
    assert User.objects.get(pk=user.pk).phone == "13712345678"
    assert stored_phone(UserFactory(phone="")) == ""


def test_the_admin_shows_and_saves_it_in_clear_through_a_one_line_input():
    user = UserFactory(phone="13712345678")
    client = Client()
    client.force_login(user_with_role(Role.SYSTEM_ADMIN))
    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert 'name="phone" value="13712345678"' in page and "<textarea" not in page


def test_the_migration_seals_clear_phones_and_can_be_reversed():
    migration = importlib.import_module("dangjian.accounts.migrations.0005_encrypt_user_phone")
    users = [UserFactory(phone=f"1371234567{n}") for n in range(3)]
    with connection.cursor() as cursor:
        for user in users:
            cursor.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [user.phone, user.pk])
    editor = SimpleNamespace(connection=connection)
    migration.encrypt_phones(None, editor)
    migration.encrypt_phones(None, editor)  # nothing sealed twice
    assert [User.objects.get(pk=u.pk).phone for u in users] == [u.phone for u in users]
    assert all(crypto.is_token(stored_phone(u)) for u in users)
    migration.decrypt_phones(None, editor)
    assert [stored_phone(u) for u in users] == [u.phone for u in users]
