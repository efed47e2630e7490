"""The to-do items of committee terms and organization setup (待办), registered by `committees.todo`.

Items: a term ending soon ("term-ending:<term pk>", period: the term's last month, so
it is reminded once), an overdue re-election ("term-overdue:<term pk>", overdue), an organization that should have
an elected committee and has none ("term-missing:<org pk>"), and a setup flag ("setup:<org pk>:<rule>", period: the
current quarter, since the setup is reviewed every quarter: Jianshi seed). Only for the people who act on them: the
roles that edit an organization's members (committee staff above it, its secretary), over their subtrees.

Reports due ("setup-report:<org pk>:<kind>", period: the period code "2026-Q4" / "2026-H2"): the quarterly setup
review and the half-year setup report that a root of a committee user's scope owes (report schedule), from the
first day of the period's last month until it is filed, overdue after the due date (`selectors.filings`).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import Access, access_for
from dangjian.accounts.roles import MEMBER_EDIT_ROLES
from dangjian.committees.selectors.filings import reports_due
from dangjian.committees.selectors.setup import ReportPeriod, setup_flags
from dangjian.committees.selectors.terms import terms_ending, terms_overdue
from dangjian.core.todo import TodoItem

KIND_TERM = "换届提醒"
KIND_SETUP = "组织设置"
KIND_REPORT = "组织设置报送"
ITEMS_LIMIT = 100  # per user; the workbench shows fewer


def _acting_access(user) -> Access | None:
    """`user`'s access narrowed to the subtrees where they act (member editors: committee staff, secretaries)."""
    access = access_for(user)
    if access.system:
        return access
    roots = access.roots_of(MEMBER_EDIT_ROLES)
    if not roots:
        return None
    return Access(user_id=access.user_id, roles=access.roles, view_roots=roots, member_edit_roots=roots)


def committee_todo_items(*, user, today: dt.date | None = None, limit: int = ITEMS_LIMIT) -> list[TodoItem]:
    """The user's committee to-do items: overdue re-elections and missing committees first, then terms ending
    soon, then the setup reports due (committee staff only), then setup flags. A fixed number of queries whatever
    the scope's size."""
    access = _acting_access(user)
    if access is None:
        return []
    today = today or timezone.localdate()
    items: list[TodoItem] = []
    for alert in terms_overdue(by=access, today=today):
        url = reverse("committees:organization", args=[alert.organization.pk])
        if alert.term is None:
            items.append(
                TodoItem(
                    kind=KIND_TERM,
                    title=f"{alert.organization.name}应选举产生委员会，尚无本届委员会记录",
                    url=url,
                    key=f"term-missing:{alert.organization.pk}",
                    period="",
                    since=None,
                    overdue=True,
                )
            )
        else:
            items.append(
                TodoItem(
                    kind=KIND_TERM,
                    title=f"{alert.organization.name}委员会任期已于{alert.term.ends_on:%Y-%m-%d}届满，尚未换届",
                    url=url,
                    key=f"term-overdue:{alert.term.pk}",
                    period=f"{alert.term.ends_on:%Y-%m}",
                    since=alert.term.ends_on + dt.timedelta(days=1),
                    overdue=True,
                )
            )
    for alert in terms_ending(by=access, today=today):
        term = alert.term
        assert term is not None  # an ending term's alert names the term
        items.append(
            TodoItem(
                kind=KIND_TERM,
                title=f"{alert.organization.name}委员会任期将于{term.ends_on:%Y-%m-%d}届满，请做好换届准备",
                url=reverse("committees:organization", args=[alert.organization.pk]),
                key=f"term-ending:{term.pk}",
                period=f"{term.ends_on:%Y-%m}",
                since=alert.warn_from,
                overdue=False,
            )
        )
    report_url = reverse("committees:report")
    for due in reports_due(by=user, today=today):  # the user itself: the committee role's own roots
        period = due.due_period
        days = (period.due - period.end).days
        query = urlencode({"org": due.organization.code, "year": period.year, "period": period.period})
        items.append(
            TodoItem(
                kind=KIND_REPORT,
                title=f"{due.organization.name}：{period.short_title}待报送"
                f"（{period.end.month}月{period.end.day}日截止后{days}日内）",
                url=f"{report_url}?{query}",
                key=f"setup-report:{due.organization.pk}:{period.kind}",
                period=period.code,
                # Overdue: undated, like a missing committee: the title carries the deadline, and a report left
                # late sorts after the dated overdue items about people waiting (transfers, classes to approve).
                since=None if due.overdue else period.opens,
                overdue=due.overdue,
            )
        )
    quarter = f"{today.year}-{ReportPeriod.current(today)}"
    setup_url = reverse("committees:setup")
    for flag in setup_flags(by=access, today=today):
        items.append(
            TodoItem(
                kind=KIND_SETUP,
                title=f"{flag.organization.name}：{flag.message}",
                url=f"{setup_url}?org={flag.organization.code}",
                key=f"setup:{flag.organization.pk}:{flag.rule}",
                period=quarter,
                since=None,
                overdue=False,
            )
        )
    return items[:limit]
