"""The exams' source of the to-do list (待办; docs/development.md "To-do items"): the members who must sit this year's
competence test (履职能力测试) and have not passed it — for the secretary one item per member of the branch they run,
for the committee one count per subtree. Yearly period, due at the year's end."""

from __future__ import annotations

import datetime as dt

from dangjian.accounts.roles import Role
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, url_with_query
from dangjian.exams.selectors.competence import competence_not_passed
from dangjian.orgs.models import Organization

KIND = "履职能力测试"


@todo.source(order=150)
def competence(*, user, today: dt.date) -> list[TodoItem]:
    """Members who have not passed this year's competence test."""
    items: list[TodoItem] = []
    year = today.year
    period, since, due = str(year), dt.date(year, 1, 1), dt.date(year, 12, 31)
    for org in Organization.objects.grant_roots(user, {Role.SECRETARY}):
        for member in competence_not_passed(by=user, org=org, year=year)[:SOURCE_LIMIT]:
            items.append(
                TodoItem(
                    kind=KIND,
                    title=f"{member.name}尚未通过{year}年度履职能力测试",
                    url=url_with_query("exams:competence", org=org.code, year=year),
                    key=f"competence:{member.pk}",
                    period=period,
                    since=since,
                    due=due,
                )
            )
    for root in Organization.objects.grant_roots(user, {Role.COMMITTEE}):
        n = len(competence_not_passed(by=user, org=root, year=year))
        if n:
            items.append(
                TodoItem(
                    kind=KIND,
                    title=f"{root.name}：{n}名应测人员尚未通过{year}年度履职能力测试",
                    url=url_with_query("exams:competence", org=root.code, year=year),
                    key=f"competence-rollup:{root.pk}",
                    period=period,
                    since=since,
                    due=due,
                )
            )
    return items[:SOURCE_LIMIT]
