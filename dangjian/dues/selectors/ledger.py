"""Each member's months (docs/dues.md, "Amount" and "Reductions"): what a month owes — the latest base in force that
month, unless an approved reduction or exemption covers it — and which months hold a live payment. Rows are read
for ids the caller reached through the scope (hence `dangerously_all()`), in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from dangjian.dues.models import DuesBase, DuesEntry, DuesReduction, EntryKind, ReductionKind
from dangjian.dues.rules import add_months, month_of, months_apart


@dataclass(frozen=True)
class MonthDue:
    """One member-month: the base in force, the reduction covering it, and what it owes (None: no base set)."""

    month: dt.date
    base: DuesBase | None
    reduction: DuesReduction | None

    @property
    def amount(self) -> Decimal | None:
        if self.reduction is not None:
            if self.reduction.kind == ReductionKind.EXEMPT:
                return Decimal("0.00")
            return self.reduction.monthly_amount or Decimal("0.00")
        return self.base.monthly_due if self.base is not None else None

    @property
    def exempt(self) -> bool:
        return self.reduction is not None and self.amount == 0

    @property
    def owed(self) -> bool:
        """Whether the month owes something (a base is set and no exemption)."""
        amount = self.amount
        return amount is not None and amount > 0


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    first, last = month_of(first), month_of(last)
    return [add_months(first, i) for i in range(months_apart(first, last) + 1)]


def schedules(member_ids: Iterable[int], first: dt.date, last: dt.date) -> dict[int, dict[dt.date, MonthDue]]:
    """member id → month → MonthDue for every month from `first` to `last` (two queries)."""
    ids = list(member_ids)
    months = month_range(first, last)
    bases: dict[int, list[DuesBase]] = defaultdict(list)
    for base in (
        DuesBase.objects.dangerously_all()
        .filter(member_id__in=ids, effective__lte=months[-1])
        .order_by("member_id", "effective")
    ):
        bases[base.member_id].append(base)
    reductions: dict[int, list[DuesReduction]] = defaultdict(list)
    for reduction in DuesReduction.objects.dangerously_all().filter(
        member_id__in=ids, start__lte=months[-1], end__gte=months[0]
    ):
        reductions[reduction.member_id].append(reduction)
    out: dict[int, dict[dt.date, MonthDue]] = {}
    for pk in ids:
        rows, i, current = bases.get(pk, []), 0, None
        mine: dict[dt.date, MonthDue] = {}
        for month in months:
            while i < len(rows) and rows[i].effective <= month:
                current = rows[i]
                i += 1
            reduction = next((r for r in reductions.get(pk, ()) if r.covers(month)), None)
            mine[month] = MonthDue(month=month, base=current, reduction=reduction)
        out[pk] = mine
    return out


def live_entries(member_ids: Iterable[int], first: dt.date, last: dt.date) -> dict[tuple[int, dt.date], DuesEntry]:
    """(member id, month) → the live payment line of that month, with its payment (one query)."""
    return {
        (entry.member_id, entry.period): entry
        for entry in DuesEntry.objects.dangerously_all()
        .filter(
            member_id__in=list(member_ids),
            period__gte=month_of(first),
            period__lte=month_of(last),
            kind=EntryKind.PAYMENT,
            reversed=False,
        )
        .select_related("payment")
    }
