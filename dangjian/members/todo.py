"""The members' sources of the to-do list (待办; docs/development.md "To-do items"): transfers (组织关系接转), on both
sides of a pending transfer."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from dangjian.accounts.access import access_for
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, local_date, moment
from dangjian.members.models import overdue_days
from dangjian.members.selectors import transfers_incoming_pending, transfers_overdue_for


@todo.source(order=10)
def transfers(*, user, today: dt.date) -> list[TodoItem]:
    """A transfer open for more than DANGJIAN_TRANSFER_OVERDUE_DAYS, on both sides' lists (overdue); a transfer into
    the scope, waiting for the receiving side to accept or return it."""
    if not access_for(user).can_view_members:
        return []
    now = moment(today)
    url = reverse("members:transfers")
    items: list[TodoItem] = []
    late = list(transfers_overdue_for(user=user, now=now).select_related("member", "to_organization")[:SOURCE_LIMIT])
    for transfer in late:
        items.append(
            TodoItem(
                kind="组织关系接转",
                title=f"{transfer.member.name} 转往{transfer.other_side}，已超过{overdue_days()}天未办结",
                url=url,
                key=f"transfer-overdue:{transfer.pk}",
                since=transfer.started_at,
                overdue=True,
                due=local_date(transfer.overdue_since()),
            )
        )
    seen = {transfer.pk for transfer in late}
    incoming = transfers_incoming_pending(user=user).select_related("member", "from_organization")[:SOURCE_LIMIT]
    for transfer in incoming:
        if transfer.pk in seen:
            continue
        items.append(
            TodoItem(
                kind="组织关系接转",
                title=f"{transfer.member.name} 从{transfer.from_organization}转入，待接收或退回",
                url=url,
                key=f"transfer-incoming:{transfer.pk}",
                since=transfer.started_at,
                due=local_date(transfer.overdue_since()),
            )
        )
    return items
