"""Login failure handling (登录失败处理): 5 failures within 15 minutes lock the account for 30 minutes.

Real logins go through the test client to /login/. The clock is frozen by patching `now` where it is read:
django.utils.timezone.now (our handler, sessions, last_login) and the copies axes imported by name
(`request.axes_attempt_time` comes from axes.handlers.proxy.now; the cool-off threshold from axes.attempts.now).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from unittest import mock

import pytest
from axes.models import AccessFailureLog
from django.test import Client
from django.utils import timezone

from dangjian.accounts.tests.factories import TEST_PASSWORD, UserFactory
from dangjian.audit.models import AuditAction, AuditEvent, AuditResult

pytestmark = pytest.mark.django_db

LOCKOUT_MESSAGE = "登录失败次数过多，该账号已被锁定 30 分钟，请稍后再试或联系管理员。"
FAILURE_MESSAGE = "用户名或密码错误，请重新输入。"
WRONG = "Wrong#Pass2026"
T0 = timezone.now().replace(microsecond=0)


@contextlib.contextmanager
def frozen(at: dt.datetime):
    with (
        mock.patch("django.utils.timezone.now", return_value=at),
        mock.patch("axes.handlers.proxy.now", return_value=at),
        mock.patch("axes.attempts.now", return_value=at),
    ):
        yield


def login(username: str, password: str, at: dt.datetime):
    """One login attempt from a fresh browser at time `at`."""
    with frozen(at):
        return Client().post("/login/", {"username": username, "password": password})


def alert(response) -> str:
    """The text of the login page's alert (the message the user sees)."""
    match = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>', response.content.decode())
    return match.group(1) if match else ""


def succeeded(response) -> bool:
    return response.status_code == 302 and response.url == "/"


def fail_times(username: str, *offsets: dt.timedelta):
    return [login(username, WRONG, T0 + offset) for offset in offsets]


MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def user():
    return UserFactory(username="lock_tester", full_name="郑锁定")


def test_a_right_password_logs_in(user):
    assert succeeded(login(user.username, TEST_PASSWORD, T0))


def test_a_failure_shows_the_failure_message(user):
    response = login(user.username, WRONG, T0)
    assert response.status_code == 200
    assert alert(response) == FAILURE_MESSAGE


def test_5_failures_within_15_minutes_lock_the_account(user):
    responses = fail_times(user.username, *(n * 3 * MINUTE for n in range(5)))  # 0, 3, 6, 9, 12 minutes
    assert [r.status_code for r in responses[:4]] == [200] * 4
    assert responses[4].status_code == 429
    assert alert(responses[4]) == LOCKOUT_MESSAGE
    # Locked: the right password is refused too, before it is checked.
    response = login(user.username, TEST_PASSWORD, T0 + 13 * MINUTE)
    assert response.status_code == 429
    assert alert(response) == LOCKOUT_MESSAGE
    assert "_auth_user_id" not in Client().session


def test_the_lock_lasts_30_minutes_from_the_locking_failure(user):
    fail_times(user.username, *(n * MINUTE for n in range(5)))  # the 5th, at 4 minutes, locks
    locked_at = T0 + 4 * MINUTE
    assert login(user.username, TEST_PASSWORD, locked_at + 29 * MINUTE).status_code == 429
    assert succeeded(login(user.username, TEST_PASSWORD, locked_at + 30 * MINUTE + dt.timedelta(seconds=1)))


def test_the_lock_ends_30_minutes_after_the_locking_failure_when_nobody_tries_meanwhile(user):
    fail_times(user.username, *(n * MINUTE for n in range(5)))
    locked_at = T0 + 4 * MINUTE
    assert succeeded(login(user.username, TEST_PASSWORD, locked_at + 30 * MINUTE + dt.timedelta(seconds=1)))


def test_attempts_during_the_lock_do_not_extend_it(user):
    """The lock runs from the failure that locked the account (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
    is off): trying again while locked, with any password, must not restart the 30 minutes."""
    fail_times(user.username, *(n * MINUTE for n in range(5)))
    locked_at = T0 + 4 * MINUTE
    for minutes in (5, 15, 25):
        assert login(user.username, WRONG, locked_at + minutes * MINUTE).status_code == 429
    assert succeeded(login(user.username, TEST_PASSWORD, locked_at + 30 * MINUTE + dt.timedelta(seconds=1)))


def test_4_failures_then_1_failure_16_minutes_later_do_not_lock(user):
    fail_times(user.username, *(n * dt.timedelta(seconds=10) for n in range(4)))
    late = login(user.username, WRONG, T0 + 16 * MINUTE)
    assert late.status_code == 200
    assert alert(late) == FAILURE_MESSAGE
    assert succeeded(login(user.username, TEST_PASSWORD, T0 + 16 * MINUTE + dt.timedelta(seconds=1)))


def test_5_failures_spread_over_more_than_15_minutes_do_not_lock(user):
    responses = fail_times(user.username, *(n * 4 * MINUTE for n in range(5)))  # 0 .. 16 minutes
    assert all(r.status_code == 200 for r in responses)
    assert succeeded(login(user.username, TEST_PASSWORD, T0 + 17 * MINUTE))


def test_a_successful_login_clears_the_count(user):
    fail_times(user.username, *(n * MINUTE for n in range(4)))
    assert succeeded(login(user.username, TEST_PASSWORD, T0 + 5 * MINUTE))
    response = login(user.username, WRONG, T0 + 6 * MINUTE)
    assert response.status_code == 200
    assert alert(response) == FAILURE_MESSAGE


def test_the_lock_is_per_username(user):
    other = UserFactory(username="lock_other")
    fail_times(user.username, *(n * MINUTE for n in range(5)))
    assert succeeded(login(other.username, TEST_PASSWORD, T0 + 5 * MINUTE))


# ---------------------------------------------------------------------------------------------------------
# No account enumeration.


def test_an_unknown_username_gets_the_same_failure_message(user):
    known = login(user.username, WRONG, T0)
    unknown = login("nobody_at_all", WRONG, T0)
    assert known.status_code == unknown.status_code == 200
    assert alert(known) == alert(unknown) == FAILURE_MESSAGE


def test_an_unknown_username_locks_with_the_same_message(user):
    known = fail_times(user.username, *(n * MINUTE for n in range(5)))[-1]
    unknown = fail_times("nobody_at_all", *(n * MINUTE for n in range(5)))[-1]
    assert known.status_code == unknown.status_code == 429
    assert alert(known) == alert(unknown) == LOCKOUT_MESSAGE
    # And while locked, both answer alike whatever password is typed.
    again_known = login(user.username, TEST_PASSWORD, T0 + 5 * MINUTE)
    again_unknown = login("nobody_at_all", TEST_PASSWORD, T0 + 5 * MINUTE)
    assert again_known.status_code == again_unknown.status_code == 429
    assert alert(again_known) == alert(again_unknown)


# ---------------------------------------------------------------------------------------------------------
# The audit trail.


def test_failures_and_the_lockout_are_audited(user):
    fail_times(user.username, *(n * MINUTE for n in range(5)))
    failures = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILURE, object_repr=user.username)
    assert failures.count() == 5
    assert set(failures.values_list("result", flat=True)) == {AuditResult.FAILURE}
    assert set(failures.values_list("source_ip", flat=True)) == {"127.0.0.1"}
    lockouts = AuditEvent.objects.filter(action=AuditAction.LOCKOUT, object_repr=user.username)
    assert lockouts.count() == 1
    assert lockouts.get().result == AuditResult.DENIED
    # The password typed is never kept.
    for event in AuditEvent.objects.all():
        assert WRONG not in repr(event.__dict__)
    assert AccessFailureLog.objects.filter(username=user.username).count() == 5


def test_a_lockout_of_an_unknown_username_is_audited_too():
    fail_times("nobody_at_all", *(n * MINUTE for n in range(5)))
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILURE, object_repr="nobody_at_all").count() == 5
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT, object_repr="nobody_at_all").count() == 1
