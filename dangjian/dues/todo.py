"""The dues' sources of the to-do list (待办; docs/development.md "To-do items", docs/dues.md "Arrears"):

- arrears (欠交党费): for the secretary one item per member of their branch with 3 or more months owed and unpaid
  (the policy's `arrears_notice_months`); 6 consecutive months (`arrears_case_months`) are flagged as a case for the
  branch to act on (自行脱党 procedure) — a person decides, nothing happens automatically; for the committee user one
  count per subtree of the members with such a case.
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
    """Members behind with their dues: the secretary's list, and the committee's count of cases."""
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
    for root in Organization.objects.grant_roots(user, {Role.COMMITTEE}):
        policy = policy_for(root, today.year)
        found = arrears_in(by=user, org=root, today=today, at_least=policy.arrears_case_months)
        cases = [r for r in found if r.run >= policy.arrears_case_months]
        if cases:
            items.append(
                TodoItem(
                    kind="连续欠交党费",
                    title=f"{root.name}：{len(cases)}名党员连续{policy.arrears_case_months}个月以上未交党费，待所在支部研究处理",
                    url=url_with_query("dues:report", org=root.code),
                    key=f"dues-arrears-rollup:{root.pk}",
                    period=period,
                    since=since,
                )
            )
    return items[:SOURCE_LIMIT]
