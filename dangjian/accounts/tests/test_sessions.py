"""Sessions (会话管理): a new key at login, 30 minutes idle, 12 hours in all, logout and deactivation end them."""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from dangjian.accounts.middleware import SESSION_STARTED_KEY
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import TEST_PASSWORD
from dangjian.audit.models import AuditAction, AuditEvent

LOGIN = "/login/"


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else None


def is_logged_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def server_session(key: str) -> dict | None:
    """The decoded server-side session row of `key`, or None when there is no (live) row."""
    row = Session.objects.filter(session_key=key, expire_date__gt=timezone.now()).first()
    return row.get_decoded() if row else None


# ---------------------------------------------------------------------------------------------------------
# Login.


def test_login_issues_a_new_session_key(world):
    user = world.user(Role.SECRETARY)
    client = Client()
    session = client.session
    session["before_login"] = "x"
    session.save()
    before = session.session_key
    assert Session.objects.filter(session_key=before).exists()

    response = client.post(LOGIN, {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    after = session_key(client)
    assert after and after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert server_session(after)["_auth_user_id"] == str(user.pk)


# ---------------------------------------------------------------------------------------------------------
# Idle timeout.


def test_idle_timeout_is_30_minutes_renewed_on_every_request():
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_a_session_idle_for_more_than_30_minutes_is_over_and_activity_keeps_it(world):
    client = world.client(Role.SECRETARY)
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start):
        assert is_logged_in(client)
    key = session_key(client)
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry == start + dt.timedelta(seconds=1800)
    # Active every 20 minutes: still in after 60 minutes.
    for minutes in (20, 40, 60):
        with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(minutes=minutes)):
            assert is_logged_in(client), minutes
    # Then idle for 31 minutes: out.
    with mock.patch("django.utils.timezone.now", return_value=start + dt.timedelta(minutes=91)):
        response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


# ---------------------------------------------------------------------------------------------------------
# Absolute cap of 12 hours.


def start_session_at(client: Client, started: float) -> None:
    session = client.session
    session[SESSION_STARTED_KEY] = started
    session.save()


def test_the_first_request_records_when_the_session_started(world):
    client = world.client(Role.SECRETARY)
    before = time.time()
    assert is_logged_in(client)
    assert before - 1 <= client.session[SESSION_STARTED_KEY] <= time.time()


def test_a_session_younger_than_12_hours_goes_on(world):
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    start_session_at(client, time.time() - 12 * 3600 + 60)
    assert is_logged_in(client)


def test_a_session_older_than_12_hours_is_ended_and_audited(world):
    user = world.user(Role.SECRETARY)
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    old_key = session_key(client)
    start_session_at(client, time.time() - 12 * 3600 - 1)

    response = client.get("/members/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert server_session(old_key) is None
    event = AuditEvent.objects.get(action=AuditAction.SESSION_EXPIRED)
    assert event.actor_id == user.pk
    # Logged out for good: the next page asks for a login again.
    assert not is_logged_in(client)
    page = client.get(response.url)
    assert "登录已超过最长会话时间，请重新登录。" in page.content.decode()


def test_the_absolute_cap_holds_however_active_the_session(world):
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    start_session_at(client, time.time() - 12 * 3600 - 1)
    # A request every few minutes does not renew the 12 hours (only the idle timeout).
    assert not is_logged_in(client)


# ---------------------------------------------------------------------------------------------------------
# Logout.


def test_logout_by_post_deletes_the_session_row(world):
    user = world.user(Role.SECRETARY)
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    key = session_key(client)
    assert Session.objects.filter(session_key=key).exists()

    response = client.post("/logout/")
    assert response.status_code == 302
    assert response.url == LOGIN
    assert not Session.objects.filter(session_key=key).exists()
    assert not is_logged_in(client)
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor_id=user.pk).count() == 1


def test_logout_by_get_only_asks_for_confirmation(world):
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    key = session_key(client)
    response = client.get("/logout/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "确定退出登录吗？" in page
    assert 'method="post" action="/logout/"' in page
    assert server_session(key)["_auth_user_id"]
    assert is_logged_in(client)
    assert not AuditEvent.objects.filter(action=AuditAction.LOGOUT).exists()


def test_a_stolen_session_cookie_is_useless_after_logout(world):
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = session_key(client)
    assert is_logged_in(stolen)
    client.post("/logout/")
    assert not is_logged_in(stolen)


# ---------------------------------------------------------------------------------------------------------
# Deactivation.


def test_deactivating_a_user_ends_their_session_on_the_next_request(world):
    user = world.user(Role.SECRETARY)
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = client.get("/members/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)
    assert client.get(f"/members/{world.self_member.pk}/").status_code == 302


def test_deactivation_ends_the_session_on_the_server(world):
    """The issue: "logout and account deactivation end the session on the server". After the deactivated
    user's next request their session no longer names them, so reactivating the account later does not
    bring the old session (or a stolen copy of its cookie) back."""
    user = world.user(Role.SECRETARY)
    client = world.client(Role.SECRETARY)
    assert is_logged_in(client)
    key = session_key(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not is_logged_in(client)

    data = server_session(key) or {}
    assert "_auth_user_id" not in data
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert not is_logged_in(client)
