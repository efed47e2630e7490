"""Reads of the notifications: a user's list (unread first), the unread count of the navbar, and which to-do items a
user has not been reminded of yet."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, QuerySet, Value, When

from dangjian.notices.models import Notification

# Keys looked up per query (well under SQLite's bound on variables).
KEY_CHUNK = 500


def notification_list(*, user) -> QuerySet[Notification]:
    """The user's own notifications, unread first, newest first within each (for a paginated page)."""
    unread_first = Case(When(read_at__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField())
    return Notification.objects.visible_to(user).alias(unread=unread_first).order_by("-unread", "-created_at", "-pk")


def unread_count(*, user) -> int:
    """How many of the user's notifications are unread: one COUNT on the (user, read_at) index."""
    return Notification.objects.visible_to(user).unread().count()


def field_of(item, name: str, default=""):
    """A field of a to-do item, be it a TodoItem or a plain dict."""
    if isinstance(item, dict):
        return item.get(name, default)
    return getattr(item, name, default)


def chunks(values: list, size: int = KEY_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def unrecorded(*, user, items: Iterable) -> tuple[list, int]:
    """Of the to-do `items`, those not yet recorded for the user (by key and period; the first of repeated ones),
    and how many were recorded already (or repeated). One query per KEY_CHUNK keys."""
    by_key: dict[tuple[str, str], object] = {}
    repeated = 0
    for item in items:
        pair = (str(field_of(item, "key")), str(field_of(item, "period") or ""))
        if pair in by_key:
            repeated += 1
            continue
        by_key[pair] = item
    keys = sorted({key for key, _ in by_key})
    recorded: set[tuple[str, str]] = set()
    for chunk in chunks(keys):
        recorded.update(
            Notification.objects.dangerously_all().filter(user=user, key__in=chunk).values_list("key", "period")
        )
    new = [item for pair, item in by_key.items() if pair not in recorded]
    return new, repeated + len(by_key) - len(new)
