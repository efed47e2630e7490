"""Account lockout after repeated login failures (GB/T 22239-2019 8.1.4.1 b: 登录失败处理).

django-axes records every failure (AccessFailureLog) and blocks locked accounts before the password is
checked. Its stock rule counts failures over the whole cool-off period; ours is the assessor's wording:
DANGJIAN_LOCKOUT_FAILURES failures within DANGJIAN_LOCKOUT_WINDOW lock the account for
DANGJIAN_LOCKOUT_DURATION from the failure that locked it (defaults 5, 15 minutes, 30 minutes). A
successful login clears the count, and so does the security admin's unlock (解锁, `LockoutRelease`, through
`accounts.services.account_unlock`). The rule is keyed on the username typed, so a name that does not exist
locks the same way and the response never tells whether an account exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessFailureLog
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone


class WindowedLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        now = timezone.now()
        limit = settings.DANGJIAN_LOCKOUT_FAILURES
        failures = AccessFailureLog.objects.filter(username=username)
        since = counting_since(username)
        if since is not None:
            failures = failures.filter(attempt_time__gt=since)
        if failures.filter(locked_out=True, attempt_time__gt=now - settings.DANGJIAN_LOCKOUT_DURATION).exists():
            return limit
        recent = failures.filter(attempt_time__gt=now - settings.DANGJIAN_LOCKOUT_WINDOW).count()
        # While a failure is being handled it is not logged yet: count it.
        if getattr(request, "_dangjian_failing", False):
            recent += 1
        return recent

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is not None:
            request._dangjian_failing = True
        try:
            return super().user_login_failed(sender, credentials, request=request, **kwargs)
        finally:
            if request is not None:
                request._dangjian_failing = False


def counting_since(username: str) -> dt.datetime | None:
    """Failures count after this moment: the account's last login or its last unlock, whichever is later."""
    from django.contrib.auth import get_user_model

    from dangjian.accounts.models import LockoutRelease

    moments = [
        get_user_model().objects.filter(username=username).values_list("last_login", flat=True).first(),
        LockoutRelease.objects.filter(username=username).aggregate(at=Max("released_at"))["at"],
    ]
    present = [m for m in moments if m is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class LockedAccount:
    """A login name locked now (锁定中): when the failure that locked it happened and when the lock ends."""

    username: str
    locked_at: dt.datetime
    until: dt.datetime
    user: object | None  # the account of that name; None when the name typed belongs to nobody


def locked_accounts(now: dt.datetime | None = None) -> list[LockedAccount]:
    """The names locked now, as `WindowedLockoutHandler` decides (a locking failure within the lock's duration,
    after the last login and the last unlock), newest first — in four queries whatever their number."""
    from django.contrib.auth import get_user_model

    from dangjian.accounts.models import LockoutRelease

    now = now or timezone.now()
    rows = (
        AccessFailureLog.objects.filter(locked_out=True, attempt_time__gt=now - settings.DANGJIAN_LOCKOUT_DURATION)
        .values("username")
        .annotate(locked_at=Max("attempt_time"))
    )
    locked = {row["username"]: row["locked_at"] for row in rows if row["username"]}
    if not locked:
        return []
    users = {u.username: u for u in get_user_model().objects.filter(username__in=locked)}
    releases = dict(
        LockoutRelease.objects.filter(username__in=locked)
        .values("username")
        .annotate(at=Max("released_at"))
        .values_list("username", "at")
    )
    result = []
    for username, locked_at in locked.items():
        user = users.get(username)
        cutoffs = [c for c in (getattr(user, "last_login", None), releases.get(username)) if c is not None]
        if any(c >= locked_at for c in cutoffs):
            continue
        result.append(
            LockedAccount(
                username=username,
                locked_at=locked_at,
                until=locked_at + settings.DANGJIAN_LOCKOUT_DURATION,
                user=user,
            )
        )
    return sorted(result, key=lambda a: a.locked_at, reverse=True)


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    """The login page again, with the lockout message (HTTP 429)."""
    minutes = int(settings.DANGJIAN_LOCKOUT_DURATION.total_seconds() // 60)
    return render(
        request,
        "accounts/login.html",
        {"lockout_message": f"登录失败次数过多，该账号已被锁定 {minutes} 分钟，请稍后再试或联系管理员。"},
        status=429,
    )
