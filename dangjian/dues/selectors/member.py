"""One member's dues (docs/dues.md, "The member's page"): the month paid up to (shown on a transfer, the receiving
branch continues from there), the next month to pay, and their own page: base, rate, months paid, receipts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from dangjian.dues.models import DuesBase, DuesEntry, DuesPayment, EntryKind
from dangjian.dues.rules import add_months, month_of
from dangjian.dues.selectors.ledger import MonthDue, live_entries, month_range, schedules
from dangjian.members.models import Member

# How far back the next unpaid month is looked for (arrears older than this are settled by the branch by hand).
LOOKBACK_MONTHS = 24


def paid_through(member: Member) -> dt.date | None:
    """The last month the member has paid (the latest live payment line), or None. The caller has reached the member
    through the scope (the transfer page, the member's own page)."""
    return (
        DuesEntry.objects.dangerously_all()
        .filter(member=member, kind=EntryKind.PAYMENT, reversed=False)
        .aggregate(last=Max("period"))["last"]
    )


def next_unpaid_month(member: Member, *, today: dt.date | None = None) -> dt.date:
    """The first month owing and unpaid (within the last two years, up to the current month); when all are paid, the
    month after the last one paid (at least the current month)."""
    current = month_of(today or timezone.localdate())
    first = (
        DuesBase.objects.dangerously_all()
        .filter(member=member)
        .order_by("effective")
        .values_list("effective", flat=True)
        .first()
    )
    if first is not None and first <= current:
        start = max(first, add_months(current, -LOOKBACK_MONTHS), month_of(member.join_date))
        schedule = schedules([member.pk], start, current)[member.pk]
        paid = live_entries([member.pk], start, current)
        for month, due in schedule.items():
            if due.owed and (member.pk, month) not in paid:
                return month
    last = paid_through(member)
    return max(current, add_months(last, 1)) if last else current


@dataclass
class MemberDues:
    member: Member
    base: DuesBase | None
    months: list[tuple[MonthDue, DuesEntry | None]]
    payments: list[DuesPayment]
    paid_through: dt.date | None
    year: int

    @property
    def unpaid(self) -> list[MonthDue]:
        return [due for due, entry in self.months if due.owed and entry is None]


def member_dues(member: Member, *, year: int | None = None, today: dt.date | None = None) -> MemberDues:
    """A member's year: the base in force now, each month up to the current one (what it owes, the line paying it),
    and their payments (receipts) of that year, newest first. A fixed number of queries."""
    today = today or timezone.localdate()
    year = year or today.year
    current = month_of(today)
    last = min(dt.date(year, 12, 1), current) if year <= today.year else dt.date(year, 1, 1)
    months = month_range(dt.date(year, 1, 1), last) if year <= today.year else []
    schedule = schedules([member.pk], months[0], months[-1])[member.pk] if months else {}
    paid = live_entries([member.pk], months[0], months[-1]) if months else {}
    base = (
        DuesBase.objects.dangerously_all().filter(member=member, effective__lte=current).order_by("-effective").first()
    )
    payments = list(
        DuesPayment.objects.dangerously_all()
        .filter(member=member, paid_on__year=year)
        .prefetch_related("entries")
        .order_by("-paid_on", "-pk")
    )
    return MemberDues(
        member=member,
        base=base,
        months=[(schedule[m], paid.get((member.pk, m))) for m in months],
        payments=payments,
        paid_through=paid_through(member),
        year=year,
    )
