"""Organizational life's sources of the to-do list (待办; docs/development.md "To-do items").

- duties of the current period (组织生活): the secretary per duty of their branch, the committee one count per duty;
- members absent from organizational life (连续未参加组织生活): the secretary one item per member, the committee
  a count.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from dangjian.accounts.roles import Role
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, month_period, url_with_query
from dangjian.orglife.models import ActivityRecordKind, Frequency
from dangjian.orglife.selectors.absence import absence_months, absent_members
from dangjian.orglife.selectors.compliance import ComplianceStatus, compliance_for
from dangjian.orgs.models import BRANCH_KINDS, Organization

# ---------------------------------------------------------------------------------------------------------
# Duties of the current period


_PERIOD_WORDS = {
    Frequency.MONTH: "本月",
    Frequency.QUARTER: "本季度",
    Frequency.HALF_YEAR: "本半年",
    Frequency.YEAR: "本年度",
}


def period_of(frequency: str, today: dt.date) -> tuple[str, dt.date]:
    """The key and first day of the period of `frequency` that holds `today`: 2026-05, 2026-Q2, 2026-H1, 2026."""
    year, month = today.year, today.month
    if frequency == Frequency.MONTH:
        return f"{year}-{month:02d}", dt.date(year, month, 1)
    if frequency == Frequency.QUARTER:
        quarter = (month - 1) // 3 + 1
        return f"{year}-Q{quarter}", dt.date(year, 3 * quarter - 2, 1)
    if frequency == Frequency.HALF_YEAR:
        half = 1 if month <= 6 else 2
        return f"{year}-H{half}", dt.date(year, 6 * half - 5, 1)
    return f"{year}", dt.date(year, 1, 1)


def period_end(frequency: str, today: dt.date) -> dt.date:
    """The last day of the period of `frequency` that holds `today`: the duty's deadline on the to-do list."""
    year, month = today.year, today.month
    last_month = {
        Frequency.MONTH: month,
        Frequency.QUARTER: ((month - 1) // 3 + 1) * 3,
        Frequency.HALF_YEAR: 6 if month <= 6 else 12,
    }.get(frequency, 12)
    following = dt.date(year + 1, 1, 1) if last_month == 12 else dt.date(year, last_month + 1, 1)
    return following - dt.timedelta(days=1)


def _month_counts(org: Organization, today: dt.date) -> dict[tuple[int, str], tuple[int]]:
    """(organization id, kind) → (records,) of the subtree's records this month: one grouped query, for the month
    duties' "本月已开展N次" (a quarter report counts the quarter's three months together)."""
    rows = (
        ActivityRecordKind.objects.filter(
            record__organization__path__startswith=org.path,
            record__date__gte=today.replace(day=1),
            record__date__lte=today,
        )
        .values("record__organization_id", "kind")
        .annotate(n=Count("record", distinct=True))
        .order_by()
    )
    return {(r["record__organization_id"], r["kind"]): (r["n"],) for r in rows}


def _month_standing(row, counts, today: dt.date) -> tuple[bool, int]:
    """Whether the current month of a month duty is met, by the compliance rules themselves (the attendance is
    measured against who should have attended: `DutyCompliance.open_in`), and the records held this month."""
    records = counts.get((row.organization.pk, row.duty.kind), (0,))[0]
    return not row.open_in(today), records


def duties_not_met(*, by, org: Organization, today: dt.date) -> list[tuple]:
    """(row, records held) for the rows (`orglife.selectors.compliance.DutyCompliance`) of `org`'s subtree whose duty
    is not yet met in the period that holds `today`, by the compliance rules (`compliance_for` over the current
    quarter: a quarter, half-year or year duty has one period there, the current one). A month duty's three months
    are counted together in a quarter report, so its current month is read apart (one more grouped query); a
    per-member month duty, which the defaults do not have, counts as met while no ended month of the quarter is
    short."""
    quarter = (today.month - 1) // 3 + 1
    report = compliance_for(by=by, org=org, year=today.year, quarter=quarter, today=today)
    month_rows = [r for r in report.rows if r.duty.frequency == Frequency.MONTH]
    counts = _month_counts(org, today) if month_rows else {}
    out = []
    for row in report.rows:
        per_member = getattr(row.duty, "per_member", False)
        if row.duty.frequency != Frequency.MONTH:
            met, done = row.periods_met >= row.periods, row.done
        elif per_member:
            met, done = row.status != ComplianceStatus.MISSED, row.done
        else:
            met, done = _month_standing(row, counts, today)
        if not met:
            out.append((row, done))
    return out


def _duty_key(rule) -> str:
    return f"{rule.kind}:member" if getattr(rule, "per_member", False) else rule.kind


def _duty_label(rule) -> str:
    return getattr(rule, "label", None) or rule.kind_label


def _duty_text(rule, done: int) -> str:
    """本月主题党日未开展（要求1次）; 本年度专题研究党建工作已开展1次，要求2次; with the attendance minimum if any."""
    word, label = _PERIOD_WORDS[rule.frequency], _duty_label(rule)
    if done and done >= rule.min_count and rule.min_attendance is not None:
        return f"{word}{label}参会率未达{rule.min_attendance.normalize():f}%"
    text = (
        f"{word}{label}已开展{done}次，要求{rule.min_count}次"
        if done
        else f"{word}{label}未开展（要求{rule.min_count}次）"
    )
    if rule.min_attendance is not None:
        text += f"，参会率须达{rule.min_attendance.normalize():f}%"
    return text


@todo.source(order=50)
def duties(*, user, today: dt.date) -> list[TodoItem]:
    """Organizational-life duties (组织生活要求) of the current period that are not yet met: for a secretary one item
    per duty of the branch they run, linking to the record form; for a committee user one item per duty with the
    number of organizations of their subtree that have not met it, linking to the compliance page. Due (not overdue)
    until the period ends; the period is the duty's (2026-05, 2026-Q2, 2026-H1, 2026)."""
    items: list[TodoItem] = []
    for org in Organization.objects.grant_roots(user, {Role.SECRETARY}):
        for row, done in duties_not_met(by=user, org=org, today=today):
            if row.organization.pk != org.pk:
                continue
            rule = row.duty
            period, start = period_of(rule.frequency, today)
            items.append(
                TodoItem(
                    kind="组织生活",
                    title=_duty_text(rule, done),
                    url=url_with_query("orglife:record_create", org=org.code),
                    key=f"duty:{org.pk}:{_duty_key(rule)}",
                    period=period,
                    since=start,
                    due=period_end(rule.frequency, today),
                )
            )
    for root in Organization.objects.grant_roots(user, {Role.COMMITTEE}):
        grouped: dict[str, list] = {}
        for row, _done in duties_not_met(by=user, org=root, today=today):
            grouped.setdefault(_duty_key(row.duty), []).append(row)
        quarter = (today.month - 1) // 3 + 1
        url = url_with_query("orglife:compliance", org=root.code, year=today.year, quarter=quarter)
        for key, rows in grouped.items():
            rule = rows[0].duty
            period, start = period_of(rule.frequency, today)
            noun = "支部" if all(r.organization.kind in BRANCH_KINDS for r in rows) else "党组织"
            items.append(
                TodoItem(
                    kind="组织生活",
                    title=f"{root.name}：{len(rows)}个{noun}{_PERIOD_WORDS[rule.frequency]}{_duty_label(rule)}未开展",
                    url=url,
                    key=f"duty-rollup:{root.pk}:{key}",
                    period=period,
                    since=start,
                    due=period_end(rule.frequency, today),
                )
            )
    return items[:SOURCE_LIMIT]


# ---------------------------------------------------------------------------------------------------------
# Members absent from organizational life


@todo.source(order=70)
def absences(*, user, today: dt.date) -> list[TodoItem]:
    """Members absent from every organizational-life activity for N consecutive months (`orglife.selectors.absence`;
    the system flags, a person decides): the secretary one item per member of the branch they run, linking to the
    member; the committee user one count per subtree, linking to the list. Monthly period."""
    months = absence_months()
    items: list[TodoItem] = []
    month = month_period(today)
    for org in Organization.objects.grant_roots(user, {Role.SECRETARY}):
        for member in absent_members(by=user, org=org, today=today, months=months)[:SOURCE_LIMIT]:
            items.append(
                TodoItem(
                    kind="连续未参加组织生活",
                    title=f"{member.name}连续{months}个月未参加组织生活，请支部研究处理",
                    url=member.get_absolute_url(),
                    key=f"absent:{member.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    for root in Organization.objects.grant_roots(user, {Role.COMMITTEE}):
        n = absent_members(by=user, org=root, today=today, months=months).count()
        if n:
            items.append(
                TodoItem(
                    kind="连续未参加组织生活",
                    title=f"{root.name}：{n}名党员连续{months}个月未参加组织生活",
                    url=url_with_query("workbench:absent", org=root.code),
                    key=f"absent-rollup:{root.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    return items[:SOURCE_LIMIT]
