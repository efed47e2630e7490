"""State changes of the notifications: recording reminders (the daily `send_reminders` job) and marking them read.

Recording is insert-only and idempotent: the rows are bulk-inserted with conflicts on the (user, key, period)
constraint ignored (INSERT … ON CONFLICT DO NOTHING on PostgreSQL, INSERT OR IGNORE on SQLite), so two jobs running at
once, or the same job twice, never record a reminder twice. Marking read is a conditional update of the
user's own rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import cast

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Field
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import service
from dangjian.notices.models import Notification
from dangjian.notices.selectors import chunks, field_of, unrecorded

NOT_YOURS = "只能标记自己的通知。"


def _cut(value, field: str) -> str:
    # The fields cut are the notification's own text columns, never a relation.
    return str(value or "")[: cast(Field, Notification._meta.get_field(field)).max_length]


@transaction.atomic
def notifications_record(*, user, items: Iterable, now: dt.datetime | None = None) -> list[Notification]:
    """Record a notification for `user` of each to-do item (TodoItem or dict with kind, title, url, key, period) whose
    key and period are not recorded for them yet, in one bulk insert; return the notifications this call created
    (those another run inserted meanwhile are left out: the rows are found again by their creation time)."""
    now = now or timezone.now()
    new, _ = unrecorded(user=user, items=items)
    if not new:
        return []
    rows = [
        Notification(
            user=user,
            kind=_cut(field_of(item, "kind"), "kind"),
            title=_cut(field_of(item, "title"), "title"),
            url=_cut(field_of(item, "url"), "url"),
            key=_cut(field_of(item, "key"), "key"),
            period=_cut(field_of(item, "period"), "period"),
            created_at=now,
        )
        for item in new
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    created: list[Notification] = []
    for chunk in chunks(sorted({row.key for row in rows})):
        created.extend(Notification.objects.dangerously_all().filter(user=user, created_at=now, key__in=chunk))
    return sorted(created, key=lambda n: n.pk)


def _own(by):
    access = access_for(by)
    if access.user_id is None:
        raise PermissionDenied(NOT_YOURS)
    return Notification.objects.filter(user_id=access.user_id)


@service
def notification_mark_read(*, by, notification: Notification) -> Notification:
    """Mark one of `by`'s own notifications read (已读); reading it again changes nothing. Another user's
    notification is refused (the pages answer 404 before getting here)."""
    own = _own(by).filter(pk=notification.pk)
    if not own.exists():
        raise PermissionDenied(NOT_YOURS)
    own.filter(read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification


@service
def notifications_mark_all_read(*, by) -> int:
    """Mark all of `by`'s unread notifications read; return how many changed."""
    return _own(by).filter(read_at__isnull=True).update(read_at=timezone.now())
