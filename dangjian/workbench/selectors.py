"""Read-side computations of the workbench (工作台)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db.models import Count
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import BUSINESS_ROLES
from dangjian.core import summaries, todo
from dangjian.core.todo import TodoItem
from dangjian.members.models import Category, Member, Status
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind

logger = logging.getLogger(__name__)


def kept_workbench_counts(*, user) -> dict:
    """`workbench_counts`, kept a short while (core.summaries): the same figures, recomputed after any write to the
    business tables, per scope (roles and the roots the user sees)."""
    return summaries.cached(
        ["business"], "workbench-counts", summaries.scope_of(user), lambda: workbench_counts(user=user), user=user
    )


def _counts(queryset, field: str, choices) -> list[tuple[str, int]]:
    found = dict(queryset.order_by().values(field).annotate(n=Count("pk")).values_list(field, "n"))
    return [(label, found.get(value, 0)) for value, label in choices]


def workbench_counts(*, user) -> dict:
    """Counts over the user's scope: organizations by kind, members by category and status, units by type.

    Each breakdown is one GROUP BY over the scoped queryset, so the page costs a fixed number of queries
    whatever the size of the scope.
    """
    members = Member.objects.visible_to(user)
    orgs_by_kind = _counts(Organization.objects.visible_to(user), "kind", OrgKind.choices)
    by_category = _counts(members.filter(status=Status.ACTIVE), "category", Category.choices)
    return {
        "orgs_by_kind": orgs_by_kind,
        "orgs_total": sum(n for _, n in orgs_by_kind),
        "members_by_category": by_category,
        "members_active": sum(n for _, n in by_category),
        "members_by_status": _counts(members, "status", Status.choices),
        "units_by_kind": _counts(Unit.objects.visible_to(user), "kind", UnitKind.choices),
    }


# How many to-do items the home page shows; the 全部待办 page (/todo/) lists them all, paginated.
ITEMS_SHOWN = 20

# The sources of the to-do list: every app registers its own in `core.todo` (docs/development.md "To-do items"); the
# workbench only reads them, in their order, when it assembles a list.
ITEM_SOURCES: Iterable = todo.registry


def _day(value: dt.datetime | dt.date | str | None) -> dt.date:
    if isinstance(value, str):  # a plain-dict source may give an ISO date
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            value = None
    if value is None:
        return dt.date.max
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def sort_items(items) -> list[TodoItem]:
    """Overdue first, then the oldest first (by `since`; undated last), items of the same day in the order their
    sources gave them (a source puts its most pressing first); one item per (key, period)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for item in items:
        if (item.key, item.period) not in seen:
            seen.add((item.key, item.period))
            unique.append(item)
    return sorted(unique, key=lambda item: (not item.overdue, _day(item.since)))


def todo_items(*, user, now: dt.datetime | None = None, today: dt.date | None = None) -> list[TodoItem]:
    """The user's whole to-do list: the items of every registered source (ITEM_SOURCES) for the user's scope,
    overdue first, then by date. Nothing for a user without a business role (the three admins, 三员分立)
    nor for the system access (jobs have no to-do list). A fixed number of queries per source whatever the scope's
    size. The home page shows the first ITEMS_SHOWN."""
    access = access_for(user)
    if access.system or not access.roles & BUSINESS_ROLES:
        return []
    today = today or timezone.localdate(now)
    items: list[TodoItem] = []
    for source in ITEM_SOURCES:
        try:
            items.extend(todo.items_of(source, user=user, today=today))
        except Exception:
            # One broken source must not take the home page (and everyone's other reminders) down with it; the
            # error is logged with its traceback for the operators.
            logger.exception("to-do source %s failed for user %s", todo.name_of(source), getattr(user, "pk", None))
    return sort_items(items)


def kept_todo_items(*, user, today: dt.date | None = None) -> list[TodoItem]:
    """`todo_items` for the pages (home, 全部待办), kept a short while (core.summaries): recomputed after any write
    to the business tables or the grants, per user and day. A committee's list runs the county's compliance report;
    the reminders (`send_reminders`) read `todo_items` itself."""
    today = today or timezone.localdate()
    return summaries.cached(
        ["business"],
        "todo",
        (getattr(user, "pk", None), summaries.scope_of(user), today),
        lambda: todo_items(user=user, today=today),
        user=user,
    )


def todo_groups(items: list[TodoItem]) -> list[tuple[str, list[TodoItem]]]:
    """The items grouped by kind, the groups in the order of their first item (so overdue kinds come first)."""
    groups: dict[str, list[TodoItem]] = {}
    for item in items:
        groups.setdefault(item.kind, []).append(item)
    return list(groups.items())
