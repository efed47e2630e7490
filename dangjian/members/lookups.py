"""Checks of ID numbers against the registry, counted and watched (security review F7).

The import (page and command, dry runs included) and the member forms check each ID number against every
registered member, in and out of the user's scope. So that they cannot be used to learn who is a party member
where:

- a number registered OUTSIDE the user's scope gets one neutral answer, `UNREGISTRABLE_ID_MESSAGE`; one
  registered inside it (a member the user can see anyway) may keep the precise duplicate message;
- every user's lookups are counted per day in the database (`IdLookupDay`, so the count holds across processes
  and servers) and limited by DANGJIAN_ID_LOOKUP_DAILY_LIMIT (default 2,000; 0 = no limit). Over the limit an
  import is refused whole and a form refused, with an `AuditAction.LOOKUP_LIMITED` record. The system access of a
  job or of the emergency account sees every member: it has nothing to learn and is not counted;
- numbers registered outside scope are counted too: more than DANGJIAN_FOREIGN_LOOKUP_ALERT (default 20) in one
  import, or a user's day crossing it, records an `AuditAction.SECURITY_ALERT` and sends `foreign_lookup_alert`
  (members.signals), on which the notices app notifies every active security admin. (members may not import
  notices, which sits above it: the signal keeps the dependency pointing one way.)

The counts are written outside the import's transaction, so a refused import (rolled back) is still counted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record
from dangjian.members.models import DUPLICATE_ID_MESSAGE, UNREGISTRABLE_ID_MESSAGE, IdLookupDay, Member
from dangjian.members.signals import foreign_lookup_alert

LIMIT_MESSAGE = (
    "今日核验公民身份号码的次数已达上限（每人每天 {limit} 个），本次{what}未执行。"
    "如确需继续，请明日再试或联系安全管理员。"
)


class LookupLimitExceeded(Exception):
    """The user's lookups of the day would pass DANGJIAN_ID_LOOKUP_DAILY_LIMIT; the message says so in Chinese."""


def daily_limit() -> int:
    """How many ID numbers one user may check against the registry per day (0: no limit)."""
    return max(int(getattr(settings, "DANGJIAN_ID_LOOKUP_DAILY_LIMIT", 2000)), 0)


def alert_threshold() -> int:
    """More numbers registered outside scope than this, in one import or one user's day, raise an alert."""
    return max(int(getattr(settings, "DANGJIAN_FOREIGN_LOOKUP_ALERT", 20)), 0)


def counted_user(by, actor=None):
    """The user whose lookups count: the account behind `by` (a user, or an Access with `actor` naming its
    user); None for the system access (jobs, the emergency account), which sees every member anyway."""
    if access_for(by).system:
        return None
    user = actor if actor is not None else (None if hasattr(by, "view_roots") else by)
    return user if getattr(user, "is_authenticated", False) else None


def _today_row(user) -> IdLookupDay:
    row, _ = IdLookupDay.objects.get_or_create(user_id=user.pk, day=timezone.localdate())
    return row


def id_lookups_reserve(*, user, count: int, via: str, what: str = "导入") -> None:
    """Count `count` lookups for `user` today, or raise LookupLimitExceeded (recording LOOKUP_LIMITED) when they
    would pass the daily limit: then nothing is counted. One conditional UPDATE decides, so two processes never
    both pass the last lookups of the day."""
    limit = daily_limit()
    if user is None or count <= 0:
        return
    row = _today_row(user)
    rows = IdLookupDay.objects.filter(pk=row.pk)
    if limit:
        rows = rows.filter(lookups__lte=limit - count)
    if rows.update(lookups=F("lookups") + count):
        return
    audit_record(
        action=AuditAction.LOOKUP_LIMITED,
        result=AuditResult.DENIED,
        actor=user,
        object_type=Member._meta.label_lower,
        object_repr="公民身份号码核验",
        detail={"via": via, "requested": count, "limit": limit, "counted_today": row.lookups},
    )
    raise LookupLimitExceeded(LIMIT_MESSAGE.format(limit=limit, what=what))


def foreign_hits_record(*, user, hits: int, via: str, in_one: bool = True) -> bool:
    """Count `hits` numbers registered outside `user`'s scope; when they are more than the alert threshold in one
    import (`in_one`), or when they take the user's day past it, record a SECURITY_ALERT and send
    `foreign_lookup_alert`. True when an alert was raised."""
    if user is None or hits <= 0:
        return False
    threshold = alert_threshold()
    row = _today_row(user)
    with transaction.atomic():
        row = IdLookupDay.objects.select_for_update().get(pk=row.pk)
        before = row.foreign_hits
        row.foreign_hits = before + hits
        row.save(update_fields=["foreign_hits"])
    over_in_one = in_one and hits > threshold
    day_crossed = before <= threshold < row.foreign_hits
    if not (over_in_one or day_crossed):
        return False
    detail = {
        "event": "foreign_id_lookups",
        "via": via,
        "hits": hits,
        "today": row.foreign_hits,
        "threshold": threshold,
        "user": user.get_username(),
    }
    audit_record(
        action=AuditAction.SECURITY_ALERT,
        result=AuditResult.DENIED,
        actor=user,
        object_type=Member._meta.label_lower,
        object_repr="疑似批量探测党员身份",
        detail=detail,
    )
    foreign_lookup_alert.send(sender=Member, user=user, detail=detail)
    return True


def id_number_taken(by, number: str, *, exclude_pk: int | None = None) -> str | None:
    """Why `number` cannot be registered (again) for `by`, or None when no other member holds it: the precise
    DUPLICATE_ID_MESSAGE when `by` can see the member who holds it, the neutral UNREGISTRABLE_ID_MESSAGE when that
    member lies outside their scope. Not counted: callers count (`id_lookups_reserve`, `foreign_hits_record`)."""
    holders = Member.objects.dangerously_all().with_id_number(number)
    if exclude_pk is not None:
        holders = holders.exclude(pk=exclude_pk)
    holder = holders.values_list("pk", flat=True).first()
    if holder is None:
        return None
    if Member.objects.visible_to(by).filter(pk=holder).exists():
        return DUPLICATE_ID_MESSAGE
    return UNREGISTRABLE_ID_MESSAGE


def id_number_check(*, by, number: str, exclude_pk: int | None = None, via: str = "form") -> str | None:
    """A member form's check of one ID number against the registry, counted: the lookup against the user's daily
    limit (raising LookupLimitExceeded over it), a number registered outside their scope against the alert
    threshold. The message to show, or None when the number is free."""
    user = counted_user(by)
    id_lookups_reserve(user=user, count=1, via=via, what="登记")
    message = id_number_taken(by, number, exclude_pk=exclude_pk)
    if message == UNREGISTRABLE_ID_MESSAGE:
        foreign_hits_record(user=user, hits=1, via=via, in_one=False)
    return message
