"""Read-side computations of the workbench (工作台)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, fields

from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import BUSINESS_ROLES
from dangjian.members.models import Category, Member, Status
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class TodoItem:
    """One line of the to-do list (待办): what is due, where it is done, and since when.

    `key` names the thing the item is about ("transfer:42", "duty:17:theme_day") and `period` the period it is
    due for ("2026-12", "2026-Q4", "2026", or "" for a one-off): a reminder is recorded once per user, key and
    period, never twice (issue 7)."""

    kind: str  # a short Chinese label of the kind of item, e.g. "组织关系接转"
    title: str
    url: str
    key: str
    period: str = ""
    since: dt.datetime | dt.date | None = None
    overdue: bool = False


# How many to-do items the home page shows; the 全部待办 page (/todo/) lists them all, paginated.
ITEMS_SHOWN = 20

# The sources of the to-do list: dotted paths of functions `f(*, user, today) -> list[TodoItem | dict]` (a dict with
# the fields of TodoItem), each returning what is due in the user's scope at a fixed number of queries. Other apps
# (committees, supervision, …) add theirs here; they must not import the workbench (it imports them).
ITEM_SOURCES: tuple[str, ...] = (
    "dangjian.workbench.sources.transfers",
    "dangjian.workbench.sources.sessions_to_close",
    "dangjian.workbench.sources.filings_to_approve",
    "dangjian.workbench.sources.bookings",
    "dangjian.workbench.sources.duties",
    "dangjian.workbench.sources.hours_behind",
    "dangjian.workbench.sources.absences",
    "dangjian.workbench.sources.own",
    "dangjian.committees.selectors.todo.committee_todo_items",
    "dangjian.supervision.selectors.todo.supervision_todo_items",
    "dangjian.schools.selectors.lecture_duty.lecture_duty_todo_items",
)

_FIELDS = frozenset(f.name for f in fields(TodoItem))


def as_item(value: TodoItem | dict) -> TodoItem:
    """A source's item as a TodoItem (a plain dict is wrapped; keys that are not fields are ignored)."""
    if isinstance(value, TodoItem):
        return value
    return TodoItem(**{k: v for k, v in value.items() if k in _FIELDS})


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
    """The user's whole to-do list (issue 7, "One to-do list"): the items of every source in ITEM_SOURCES for the
    user's scope, overdue first, then by date. Nothing for a user without a business role (the three admins, 三员分立)
    nor for the system access (jobs have no to-do list). A fixed number of queries per source whatever the scope's
    size. The home page shows the first ITEMS_SHOWN."""
    access = access_for(user)
    if access.system or not access.roles & BUSINESS_ROLES:
        return []
    today = today or timezone.localdate(now)
    items: list[TodoItem] = []
    for path in ITEM_SOURCES:
        try:
            items.extend(as_item(item) for item in import_string(path)(user=user, today=today))
        except Exception:
            # One broken source must not take the home page (and everyone's other reminders) down with it; the
            # error is logged with its traceback for the operators.
            logger.exception("to-do source %s failed for user %s", path, getattr(user, "pk", None))
    return sort_items(items)


def todo_groups(items: list[TodoItem]) -> list[tuple[str, list[TodoItem]]]:
    """The items grouped by kind, the groups in the order of their first item (so overdue kinds come first)."""
    groups: dict[str, list[TodoItem]] = {}
    for item in items:
        groups.setdefault(item.kind, []).append(item)
    return list(groups.items())
