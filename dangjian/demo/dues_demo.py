"""The demo county's party dues (演示数据 · 党费): two years — last year and this year up to last month — for a sample
of branches (the demo secretary's branch and the first branches by tree order), generated deterministically from
the seed: realistic bases (employed 3,000–15,000 yuan after tax, retirees, a few students), monthly payments (some
quarterly, by cash, bank, online or payroll deduction, a few with volunteered extra), a few exemptions approved by
the branch's parent committee, members in arrears (3–4 months) and one case of 6 months and more, and last year's
months closed. The `member` demo login sees their own dues.

Written in bulk (the rows the services would write: one ledger line per member-month, the amounts of
`dues.rules.monthly_due`), since almost every month lies in the past, where the services rightly refuse new bases.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from dangjian.dues.models import (
    BaseSource,
    DuesBase,
    DuesEntry,
    DuesMonthClose,
    DuesPayment,
    DuesReduction,
    ReductionKind,
    Way,
)
from dangjian.dues.rules import FIXED_STANDINGS, add_months, month_of, monthly_due, months_from
from dangjian.dues.selectors.report import Figures, live_branch_figures
from dangjian.members.models import Member, Status
from dangjian.orgs.models import BRANCH_KINDS, Organization

SAMPLE_BRANCHES = 30
ZERO = Decimal("0.00")


def _sample(plan, limit: int) -> list[Organization]:
    branches = list(Organization.objects.dangerously_all().filter(kind__in=BRANCH_KINDS).order_by("path")[:limit])
    own = getattr(getattr(plan, "secretary_branch", None), "obj", None)
    if own is not None and own.pk not in {b.pk for b in branches}:
        branches.insert(0, own)
    return branches


def write_demo_dues(plan=None, *, seed: int = 1, today: dt.date | None = None, limit: int = SAMPLE_BRANCHES) -> int:
    """Write the sample's dues; the number of ledger lines written."""
    today = today or timezone.localdate()
    rng = random.Random(f"dues-{seed}")
    current = month_of(today)
    first = dt.date(today.year - 1, 1, 1)
    last = add_months(current, -1)
    if last < first:
        return 0
    branches = _sample(plan, limit)
    by_id = {b.pk: b for b in branches}
    parents = {
        o.path: o for o in Organization.objects.dangerously_all().filter(path__in={b.path[:-4] for b in branches})
    }
    members = list(
        Member.objects.dangerously_all()
        .filter(organization__in=branches, status=Status.ACTIVE)
        .order_by("organization__path", "pk")
    )
    demo_member_ids = set(Member.objects.dangerously_all().filter(user__username="member").values_list("pk", flat=True))
    bases, reductions, plans = [], [], []
    case_done = False
    for member in members:
        roll = rng.random()
        standing = "retired" if roll < 0.12 else ("student" if roll < 0.15 else "employed")
        pay_from = max(first, month_of(member.join_date))
        for year in (today.year - 1, today.year):
            effective = max(dt.date(year, 1, 1), month_of(member.join_date))
            if effective > last:
                continue
            if standing == "employed":
                amount = Decimal(rng.randrange(3000_00, 15000_00, 50)) / 100
            elif standing == "retired":
                amount = Decimal(rng.randrange(3000_00, 8000_00, 50)) / 100
            else:
                amount = None
            if amount is not None and year == today.year:
                amount = (amount * Decimal("1.03")).quantize(Decimal("0.01"))
            rate, due = monthly_due(amount, standing)
            bases.append(
                DuesBase(
                    member=member,
                    standing=standing,
                    amount=amount,
                    effective=effective,
                    rate=rate,
                    monthly_due=due,
                    source=BaseSource.PAYROLL if rng.random() < 0.6 else BaseSource.ANNUAL,
                )
            )
        exempt: set[dt.date] = set()
        if standing not in FIXED_STANDINGS and rng.random() < 0.02:
            start = add_months(last, -rng.randrange(4, 10))
            end = add_months(start, 2)
            exempt = set(months_from(start, 3))
            reductions.append(
                DuesReduction(
                    member=member,
                    kind=ReductionKind.EXEMPT,
                    start=start,
                    end=end,
                    reason="重病住院，经济困难",
                    approved_by_org=parents.get(by_id[member.organization_id].path[:-4], by_id[member.organization_id]),
                    approved_on=start,
                )
            )
        stop = last
        if member.pk not in demo_member_ids:
            if not case_done and rng.random() < 0.05:
                stop, case_done = add_months(last, -7), True  # the case: 7 months unpaid
            elif rng.random() < 0.05:
                stop = add_months(last, -rng.choice((3, 4)))
        plans.append((member, pay_from, stop, exempt))
    DuesBase.objects.bulk_create(bases)
    DuesReduction.objects.bulk_create(reductions)
    # Each member's bases in force, month by month.
    due_of: dict[tuple[int, dt.date], Decimal] = {}
    by_member: dict[int, list[DuesBase]] = {}
    for b in sorted(bases, key=lambda b: b.effective):
        by_member.setdefault(b.member_id, []).append(b)
    payments: list[DuesPayment] = []
    spans: list[list[dt.date]] = []
    for member, pay_from, stop, exempt in plans:
        rows = by_member.get(member.pk, [])
        month = pay_from
        quarterly = rng.random() < 0.25
        way = rng.choice((Way.CASH, Way.BANK, Way.ONLINE, Way.PAYROLL, Way.PAYROLL))
        while month <= stop:
            count = 3 if quarterly else 1
            covered = [m for m in months_from(month, count) if m <= stop and m not in exempt]
            month = add_months(month, count)
            covered = [m for m in covered if any(b.effective <= m for b in rows)]
            if not covered:
                continue
            for m in covered:
                due_of[(member.pk, m)] = [b for b in rows if b.effective <= m][-1].monthly_due
            extra = Decimal("10.00") if rng.random() < 0.03 else ZERO
            paid_on = min(covered[0] + dt.timedelta(days=rng.randrange(3, 25)), today)
            payments.append(
                DuesPayment(
                    receipt_no=f"DF{paid_on.year}-S{seed}-{len(payments) + 1:06d}",
                    member=member,
                    organization_id=member.organization_id,
                    paid_on=paid_on,
                    first_month=covered[0],
                    months=len(covered),
                    way=way,
                    reference=f"LS{paid_on:%Y%m%d}{len(payments):05d}" if way in (Way.BANK, Way.ONLINE) else "",
                    amount=sum((due_of[(member.pk, m)] for m in covered), ZERO),
                    extra=extra,
                )
            )
            spans.append(covered)
    created = DuesPayment.objects.bulk_create(payments, batch_size=500)
    entries = [
        DuesEntry(
            payment=p,
            member_id=p.member_id,
            organization_id=p.organization_id,
            period=m,
            booked=month_of(p.paid_on),
            amount=due_of[(p.member_id, m)],
            extra=p.extra if i == 0 else ZERO,
        )
        for p, covered in zip(created, spans, strict=True)
        for i, m in enumerate(covered)
    ]
    DuesEntry.objects.bulk_create(entries, batch_size=1000)
    # Last year's months closed by the first few branches (the demo secretary's among them).
    closes = []
    for branch in branches[:5]:
        for month in months_from(first, 12):
            f = live_branch_figures(branch, month).get(branch.pk, Figures())
            closes.append(
                DuesMonthClose(
                    organization=branch,
                    month=month,
                    due_count=f.due_count,
                    paid_count=f.paid_count,
                    due_amount=f.due_amount,
                    paid_amount=f.paid_amount,
                    arrears_count=f.arrears_count,
                )
            )
    DuesMonthClose.objects.bulk_create(closes)
    return len(entries)


def wipe_demo_dues() -> None:
    """Delete every dues row (ledger lines first): they PROTECT members and organizations, so a test that empties
    the demo database removes them before the members."""
    DuesEntry.objects.dangerously_all().filter(reverses__isnull=False).delete()
    DuesEntry.objects.dangerously_all().delete()
    for model in (DuesPayment, DuesMonthClose, DuesReduction, DuesBase):
        model.objects.dangerously_all().delete()
