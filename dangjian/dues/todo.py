"""The dues' sources of the to-do list (待办; docs/development.md "To-do items", docs/dues.md "Arrears"):

- arrears (欠交党费): for the secretary one item per member of their branch with 3 or more months owed and unpaid
  (the policy's `arrears_notice_months`); 6 consecutive months (`arrears_case_months`) are flagged as a case for the
  branch to act on (自行脱党 procedure) — a person decides, nothing happens automatically. The committee reads the
  arrears of its subtree on the dues report (欠交人数), not on its to-do list: a count of cases over a county means
  every member's payment schedule, seconds of work that a to-do list rebuilt after every write cannot afford.
"""

from __future__ import annotations

import datetime as dt

from dangjian.accounts.roles import Role
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, month_period, url_with_query
from dangjian.dues.selectors.arrears import arrears_in
from dangjian.dues.selectors.policy import policy_for
from dangjian.orgs.models import Organization


@todo.source(order=130)
def arrears(*, user, today: dt.date) -> list[TodoItem]:
    """Members behind with their dues: the secretary's list."""
    items: list[TodoItem] = []
    period = month_period(today)
    since = today.replace(day=1)
    for org in Organization.objects.grant_roots(user, {Role.SECRETARY}):
        policy = policy_for(org, today.year)
        for row in arrears_in(by=user, org=org, today=today, at_least=policy.arrears_notice_months)[:SOURCE_LIMIT]:
            url = url_with_query("dues:member", member=row.member.pk)
            if row.run >= policy.arrears_case_months:
                title = f"{row.member.name}已连续{row.run}个月未交党费，请支部研究是否按自行脱党处理（由支部决定）"
                kind, overdue = "连续欠交党费", True
            else:
                title = (
                    f"{row.member.name}欠交党费{row.unpaid}个月"
                    f"（自{row.since.year}年{row.since.month}月起），请提醒补交"
                )
                kind, overdue = "欠交党费", False
            items.append(
                TodoItem(
                    kind=kind,
                    title=title,
                    url=url,
                    key=f"dues-arrears:{row.member.pk}",
                    period=period,
                    since=since,
                    overdue=overdue,
                )
            )
    return items[:SOURCE_LIMIT]
