"""Annual inspections (年检) that are overdue.

Source: the Qinhuai seed (docs/rules.md, 2024 newsletter no. 15): 培训机构年检时，党建工作同步检查 — party
building is checked at every institution's annual inspection (三同步), recorded with `services.check_record` (kind
年检), which keeps the institution's last inspection date (`Institution.last_inspection_on`, also entered on the
institution form for an inspection before the system).

Rule. An approved (已审批) institution is due for its next annual inspection `interval_months` after its last one —
never inspected: after its approval date — where the interval is the `InspectionPolicy` of the most specific owner at
or above the institution, valid in the current year (default: 12 months, yearly). It is overdue from the day after
that due date until an inspection is recorded. Suspended, cancelled and preparing institutions are not inspected.

Queries: the institutions (one, plain values) and the policies (one), whatever the number of institutions.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from dangjian.supervision.models import InspectionPolicy, Institution
from dangjian.supervision.selectors.policies import most_specific, valid_policies

DEFAULT_INTERVAL_MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months, on the last day of the month when the day does not exist (31 January
    plus one month: 28/29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def interval_months(policies, path: str) -> int:
    """The inspection interval in months for an institution at `path` (the most specific of `policies`; 12 when
    none applies)."""
    policy = most_specific(policies, path)
    return policy.interval_months if policy is not None else DEFAULT_INTERVAL_MONTHS


def due_date(last_inspection_on: dt.date | None, approved_on: dt.date | None, months: int) -> dt.date | None:
    """The date by which the next annual inspection is due: `months` after the last one, else after approval."""
    base = last_inspection_on or approved_on
    return add_months(base, months) if base is not None else None


@dataclass(frozen=True)
class InspectionDue:
    """An approved institution's annual inspection: when it was last inspected and when the next one is due."""

    pk: int
    name: str
    area: str
    last_inspection_on: dt.date | None
    due_on: dt.date
    today: dt.date

    @property
    def overdue(self) -> bool:
        return self.due_on < self.today

    @property
    def days_overdue(self) -> int:
        return max(0, (self.today - self.due_on).days)


def inspection_due(institution: Institution, today: dt.date | None = None) -> InspectionDue | None:
    """The annual inspection of one institution (module docstring; Qinhuai seed docs/rules.md: 年检时同步检查);
    None unless it is approved with an approval date."""
    today = today or timezone.localdate()
    if institution.approval_status != "approved" or institution.approved_on is None:
        return None
    months = interval_months(valid_policies(InspectionPolicy, today.year), institution.scope_path)
    due = due_date(institution.last_inspection_on, institution.approved_on, months)
    assert due is not None  # there is an approval date
    return InspectionDue(institution.pk, institution.name, institution.area, institution.last_inspection_on, due, today)


def overdue_inspections(institutions, today: dt.date | None = None) -> list[InspectionDue]:
    """The institutions of the queryset `institutions` (already scoped by the caller) whose annual inspection is
    overdue (module docstring: the `InspectionPolicy` interval after the last inspection, else after approval;
    Qinhuai seed docs/rules.md), the longest overdue first. Two queries."""
    today = today or timezone.localdate()
    rows = (
        institutions.operating()
        .filter(approved_on__isnull=False)
        .values_list(
            "pk",
            "unit__name",
            "area",
            "last_inspection_on",
            "approved_on",
            "unit__organization__path",
            "unit__managing_organization__path",
        )
        .order_by("unit__name", "pk")
    )
    policies = None
    out = []
    for pk, name, area, last, approved_on, org_path, managing_path in rows:
        if policies is None:
            policies = valid_policies(InspectionPolicy, today.year)
        due = due_date(last, approved_on, interval_months(policies, org_path or managing_path or ""))
        if due is not None and due < today:
            out.append(InspectionDue(pk, name, area, last, due, today))
    out.sort(key=lambda d: (d.due_on, d.name, d.pk))
    return out
