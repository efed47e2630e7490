"""The dues report (党费收缴情况; docs/dues.md, "Reports"): per organization of a subtree, for a month or a year,
应交人数 (members owing dues that month), 已交人数 (of them, those whose month is paid), 应交金额, 实交金额 (the
ledger's lines of the month, volunteered extra and reversals included) and 欠交人数.

A branch's closed month is read from its close (`DuesMonthClose`), which kept the figures as they stood: a report of
a closed period never changes afterwards (docs/rules.md, "How the rules combine"). An open month is computed from the
ledger: one grouped query over the members (the amount owed by correlated subqueries: the reduction covering the month,
else the latest base) and one over the ledger lines. A year is the sum of its months (person-months for the counts),
up to the current month. Each organization's row totals its subtree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from dangjian.dues.models import (
    DuesBase,
    DuesEntry,
    DuesMonthClose,
    DuesReduction,
    EntryKind,
    ReductionKind,
)
from dangjian.dues.rules import add_months, month_of
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization

ZERO = Decimal("0.00")
MONEY_FIELD = DecimalField(max_digits=12, decimal_places=2)
HEADERS: tuple[str, ...] = ("党组织编码", "党组织名称", "应交人数", "已交人数", "应交金额", "实交金额", "欠交人数")


@dataclass
class Figures:
    due_count: int = 0
    paid_count: int = 0
    due_amount: Decimal = ZERO
    paid_amount: Decimal = ZERO
    arrears_count: int = 0

    def add(self, other: Figures) -> None:
        self.due_count += other.due_count
        self.paid_count += other.paid_count
        self.due_amount += other.due_amount
        self.paid_amount += other.paid_amount
        self.arrears_count += other.arrears_count


@dataclass
class ReportRow:
    organization: Organization
    figures: Figures = field(default_factory=Figures)
    closed_months: int = 0

    def cells(self) -> tuple:
        f = self.figures
        return (
            self.organization.code,
            self.organization.name,
            f.due_count,
            f.paid_count,
            f.due_amount.quantize(Decimal("0.01")),
            f.paid_amount.quantize(Decimal("0.01")),
            f.arrears_count,
        )


def owed_expression(month: dt.date):
    """The amount a member (the outer row) owes in `month`: the approved reduction covering it (0 when exempt), else
    the monthly amount of the latest base in force; NULL when no base is set."""
    reduction = (
        DuesReduction.objects.dangerously_all()
        .filter(member=OuterRef("pk"), start__lte=month, end__gte=month)
        .annotate(
            owed=Case(
                When(kind=ReductionKind.EXEMPT, then=Value(ZERO)), default=F("monthly_amount"), output_field=MONEY_FIELD
            )
        )
        .order_by("-start")
        .values("owed")[:1]
    )
    base = (
        DuesBase.objects.dangerously_all()
        .filter(member=OuterRef("pk"), effective__lte=month)
        .order_by("-effective")
        .values("monthly_due")[:1]
    )
    return Coalesce(Subquery(reduction, output_field=MONEY_FIELD), Subquery(base, output_field=MONEY_FIELD))


def live_branch_figures(root: Organization, month: dt.date) -> dict[int, Figures]:
    """organization id → the live figures of `month` for the organizations of `root`'s subtree holding members or
    ledger lines (two grouped queries). The caller reached `root` through the scope."""
    month = month_of(month)
    paid = DuesEntry.objects.dangerously_all().filter(
        member=OuterRef("pk"), period=month, kind=EntryKind.PAYMENT, reversed=False
    )
    owing = (
        Member.objects.dangerously_all()
        .filter(organization__path__startswith=root.path, status=Status.ACTIVE, join_date__lt=add_months(month, 1))
        .annotate(owed=owed_expression(month))
        .filter(owed__gt=0)
        .annotate(paid=Exists(paid))
        .values("organization_id")
        .annotate(due_count=Count("pk"), due_amount=Sum("owed"), paid_count=Count("pk", filter=Q(paid=True)))
        .order_by()
    )
    out: dict[int, Figures] = {}
    for row in owing:
        out[row["organization_id"]] = Figures(
            due_count=row["due_count"],
            paid_count=row["paid_count"],
            due_amount=row["due_amount"] or ZERO,
            arrears_count=row["due_count"] - row["paid_count"],
        )
    lines = (
        DuesEntry.objects.dangerously_all()
        .filter(organization__path__startswith=root.path, period=month)
        .values("organization_id")
        .annotate(total=Sum(F("amount") + F("extra")))
        .order_by()
    )
    for row in lines:
        out.setdefault(row["organization_id"], Figures()).paid_amount = row["total"] or ZERO
    return out


def closes_in(root: Organization, months: Iterable[dt.date]) -> dict[tuple[int, dt.date], DuesMonthClose]:
    return {
        (c.organization_id, c.month): c
        for c in DuesMonthClose.objects.dangerously_all().filter(
            organization__path__startswith=root.path, month__in=list(months)
        )
    }


def frozen(close: DuesMonthClose) -> Figures:
    return Figures(
        due_count=close.due_count,
        paid_count=close.paid_count,
        due_amount=close.due_amount,
        paid_amount=close.paid_amount,
        arrears_count=close.arrears_count,
    )


def report_months(year: int, month: int | None, today: dt.date | None = None) -> list[dt.date]:
    """The months a report covers: the one asked for, or the year's months up to the current one."""
    if month is not None:
        return [dt.date(year, month, 1)]
    today = today or timezone.localdate()
    last = 12 if year < today.year else (today.month if year == today.year else 0)
    return [dt.date(year, m, 1) for m in range(1, last + 1)]


def figures_by_org(root: Organization, months: list[dt.date]) -> tuple[dict[int, Figures], dict[int, int]]:
    """organization id → its own figures summed over `months` (closed months from their close), and → how many of
    those months it has closed."""
    closes = closes_in(root, months)
    own: dict[int, Figures] = {}
    closed: dict[int, int] = {}
    for month in months:
        live = live_branch_figures(root, month)
        for org_id, figures in live.items():
            if (org_id, month) not in closes:
                own.setdefault(org_id, Figures()).add(figures)
        for (org_id, close_month), close in closes.items():
            if close_month == month:
                own.setdefault(org_id, Figures()).add(frozen(close))
                closed[org_id] = closed.get(org_id, 0) + 1
    return own, closed


def dues_report(
    *, org: Organization, year: int, month: int | None = None, today: dt.date | None = None
) -> list[ReportRow]:
    """One row per organization of `org`'s subtree (in tree order), each totalling its subtree. `org` was reached
    through the caller's scope (`report_organizations`)."""
    months = report_months(year, month, today)
    own, closed = figures_by_org(org, months)
    orgs = list(Organization.objects.dangerously_all().filter(path__startswith=org.path).order_by("path"))
    rows = {o.path: ReportRow(organization=o) for o in orgs}
    by_id = {o.pk: o for o in orgs}
    step = Organization.steplen
    for org_id, figures in own.items():
        path = by_id[org_id].path if org_id in by_id else None
        if path is None:
            continue
        for i in range(len(org.path), len(path) + 1, step):
            row = rows.get(path[:i])
            if row is not None:
                row.figures.add(figures)
                row.closed_months += closed.get(org_id, 0) if path[:i] == path else 0
    return [rows[o.path] for o in orgs]


def report_organizations(by):
    """The organizations a user may run the dues report for: those granted to them by a dues role."""
    from dangjian.dues.models import DUES_ROLES

    return Organization.objects.granted_to(by, DUES_ROLES)
