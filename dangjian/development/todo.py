"""Member development's sources of the to-do list (待办; docs/development.md "To-do items",
docs/development-of-members.md "Plan, to-do and report").

- the next step due (发展党员下一步): the secretary one item per person of the branch they run whose next step may be
  recorded now, with its deadline, linking to the step form;
- overdue steps (发展党员步骤逾期): committee staff one count per subtree of the people whose next step is past its
  deadline, linking to the plan page (which counts them per organization).
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, url_with_query
from dangjian.development.models import Candidate
from dangjian.development.selectors.candidates import with_due
from dangjian.orgs.models import Organization

KIND = "发展党员"


def _open_in(user, org: Organization):
    return (
        Candidate.objects.visible_to(user)
        .open()
        .filter(organization__path__startswith=org.path)
        .select_related("organization")
        .order_by("pk")
    )


@todo.source(order=120)
def next_steps(*, user, today: dt.date) -> list[TodoItem]:
    """For a secretary, per person of their branch, the next step that may be recorded today (its earliest day has
    come), with its deadline; overdue when the deadline has passed. Three queries per branch."""
    items: list[TodoItem] = []
    for org in Organization.objects.grant_roots(user, {Role.SECRETARY}):
        for row in with_due(_open_in(user, org)[:SOURCE_LIMIT], today):
            due = row.due
            if due is None or (due.earliest is not None and due.earliest > today):
                continue
            c = row.candidate
            title = f"{c.name}：{due.step.label}"
            if due.deadline is not None:
                title += f"（截止{due.deadline:%Y-%m-%d}）"
            items.append(
                TodoItem(
                    kind=KIND,
                    title=title,
                    url=reverse("development:step", args=[c.pk]),
                    key=f"development:{c.pk}:{due.step.number}",
                    since=due.earliest,
                    due=due.deadline,
                    overdue=row.overdue,
                )
            )
    return items[:SOURCE_LIMIT]


@todo.source(order=121)
def overdue_steps(*, user, today: dt.date) -> list[TodoItem]:
    """For committee staff, per subtree they hold, how many people's next step is past its deadline (the talk, the
    approvals, the vote on full membership). Three queries per subtree."""
    items: list[TodoItem] = []
    for root in Organization.objects.grant_roots(user, {Role.COMMITTEE}):
        late = [row for row in with_due(_open_in(user, root), today) if row.overdue]
        if late:
            items.append(
                TodoItem(
                    kind="发展党员步骤逾期",
                    title=f"{root.name}：{len(late)}名发展党员对象的步骤已逾期",
                    url=url_with_query("development:plan", org=root.code, year=today.year),
                    key=f"development-overdue:{root.pk}",
                    period=f"{today:%Y-%m}",
                    since=min(row.due.deadline for row in late if row.due and row.due.deadline),
                    overdue=True,
                )
            )
    return items
