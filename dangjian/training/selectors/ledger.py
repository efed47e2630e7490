"""Read-side of the hours ledger: the totals checked against the ledger's own sums."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from dangjian.training.models import KIND_FIELDS, HoursEntry, MemberHoursYear

ZERO = Decimal("0")


@dataclass(frozen=True)
class Discrepancy:
    member_id: int
    year: int
    column: str  # a kind's column of MemberHoursYear, or "total"
    kept: Decimal
    ledger: Decimal


def hours_discrepancies(*, year: int | None = None) -> list[Discrepancy]:
    """Every (member, year, kind) whose kept total differs from the sum of its ledger entries (the totals must
    always equal the ledger's sums). Two grouped queries, compared in Python; no scope: for `verify_hours`."""
    entries = HoursEntry.objects.dangerously_all()
    totals = MemberHoursYear.objects.all()
    if year is not None:
        entries = entries.filter(year=year)
        totals = totals.filter(year=year)
    ledger: dict[tuple[int, int], dict[str, Decimal]] = {}
    for member_id, entry_year, kind, hours in (
        entries.order_by().values_list("member_id", "year", "kind").annotate(hours=Sum("hours"))
    ):
        ledger.setdefault((member_id, entry_year), {})[KIND_FIELDS[kind]] = hours or ZERO
    found: list[Discrepancy] = []
    columns = list(KIND_FIELDS.values())
    for row in totals.values("member_id", "year", *columns, "total"):
        key = (row["member_id"], row["year"])
        sums = ledger.pop(key, {})
        for column in columns:
            if row[column] != sums.get(column, ZERO):
                found.append(Discrepancy(key[0], key[1], column, row[column], sums.get(column, ZERO)))
        expected = sum(sums.values(), ZERO)
        if row["total"] != expected:
            found.append(Discrepancy(key[0], key[1], "total", row["total"], expected))
    for (member_id, entry_year), sums in ledger.items():  # entries without a totals row
        for column, hours in sums.items():
            if hours != ZERO:
                found.append(Discrepancy(member_id, entry_year, column, ZERO, hours))
    return found
