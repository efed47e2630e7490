"""Read-side computations of the workbench (工作台)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.members.models import Category, Member, Status, overdue_days
from dangjian.members.selectors import transfers_incoming_pending, transfers_overdue_for
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind


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


ITEMS_SHOWN = 20


def todo_items(*, user, now: dt.datetime | None = None) -> list[TodoItem]:
    """The user's to-do list, overdue items first (issue 4: a transfer open for more than
    DANGJIAN_TRANSFER_OVERDUE_DAYS appears on both sides' lists; a transfer into the scope waits for the
    receiving side to accept or return it). A fixed number of queries whatever the scope's size."""
    access = access_for(user)
    if not access.can_view_members or access.system:
        return []
    now = now or timezone.now()
    items: list[TodoItem] = []
    url = reverse("members:transfers")
    overdue = list(transfers_overdue_for(user=user, now=now).select_related("member", "to_organization")[:ITEMS_SHOWN])
    for transfer in overdue:
        items.append(
            TodoItem(
                kind="组织关系接转",
                title=f"{transfer.member.name} 转往{transfer.other_side}，已超过{overdue_days()}天未办结",
                url=url,
                key=f"transfer-overdue:{transfer.pk}",
                since=transfer.started_at,
                overdue=True,
            )
        )
    seen = {transfer.pk for transfer in overdue}
    for transfer in transfers_incoming_pending(user=user).select_related("member", "from_organization")[:ITEMS_SHOWN]:
        if transfer.pk in seen:
            continue
        items.append(
            TodoItem(
                kind="组织关系接转",
                title=f"{transfer.member.name} 从{transfer.from_organization}转入，待接收或退回",
                url=url,
                key=f"transfer-incoming:{transfer.pk}",
                since=transfer.started_at,
            )
        )
    return items[:ITEMS_SHOWN]
