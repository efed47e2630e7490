"""The dues rule as pure functions (docs/dues.md, "Amount"): the monthly amount a member owes on a base, and the
calendar of months the ledger counts in.

中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》(2008): employed members pay on their monthly after-tax pay
(工资收入 less personal income tax and social insurance) by bracket — up to 3,000 yuan 0.5%, over 3,000 up to 5,000
1%, over 5,000 up to 10,000 1.5%, over 10,000 2% — each rate applied to the whole base (not progressively);
retirees 0.5% up to 5,000 and 1% above; students, the unemployed and members living on subsistence allowance a
fixed 0.2 yuan a month. The numbers are policy rows (`DuesPolicy`); `DEFAULT_RATES` holds the documents' defaults.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Protocol

FEN = Decimal("0.01")
HUNDRED = Decimal("100")


class Standing:
    """Which line of the rule a member's dues follow (缴纳类别); the model's choices carry the labels."""

    EMPLOYED = "employed"
    RETIRED = "retired"
    STUDENT = "student"
    UNEMPLOYED = "unemployed"
    SUBSISTENCE = "subsistence"


# The standings that pay a fixed amount whatever their income (no base is asked for).
FIXED_STANDINGS = frozenset({Standing.STUDENT, Standing.UNEMPLOYED, Standing.SUBSISTENCE})

ROUNDINGS = {"half_up": ROUND_HALF_UP, "down": ROUND_DOWN}


class Rates(Protocol):
    """The numbers of the rule: a `DuesPolicy` row, or `DEFAULT_RATES` (read only: the rule never changes them)."""

    @property
    def bracket_1(self) -> Decimal: ...
    @property
    def bracket_2(self) -> Decimal: ...
    @property
    def bracket_3(self) -> Decimal: ...
    @property
    def rate_1(self) -> Decimal: ...
    @property
    def rate_2(self) -> Decimal: ...
    @property
    def rate_3(self) -> Decimal: ...
    @property
    def rate_4(self) -> Decimal: ...
    @property
    def retiree_bracket(self) -> Decimal: ...
    @property
    def retiree_rate_low(self) -> Decimal: ...
    @property
    def retiree_rate_high(self) -> Decimal: ...
    @property
    def fixed_amount(self) -> Decimal: ...
    @property
    def rounding(self) -> str: ...


@dataclass(frozen=True)
class DefaultRates:
    """The 2008 rules' numbers (rates in percent of the base)."""

    bracket_1: Decimal = Decimal("3000.00")
    bracket_2: Decimal = Decimal("5000.00")
    bracket_3: Decimal = Decimal("10000.00")
    rate_1: Decimal = Decimal("0.5")
    rate_2: Decimal = Decimal("1.0")
    rate_3: Decimal = Decimal("1.5")
    rate_4: Decimal = Decimal("2.0")
    retiree_bracket: Decimal = Decimal("5000.00")
    retiree_rate_low: Decimal = Decimal("0.5")
    retiree_rate_high: Decimal = Decimal("1.0")
    fixed_amount: Decimal = Decimal("0.20")
    rounding: str = "half_up"


DEFAULT_RATES = DefaultRates()


def rate_for(base: Decimal, standing: str, rates: Rates) -> Decimal | None:
    """The percentage of the base a member pays; None for a fixed-amount standing (students, the unemployed, members
    on subsistence allowance). A bracket's upper bound belongs to it: 3,000.00 pays 0.5%, 3,000.01 pays 1%."""
    if standing in FIXED_STANDINGS:
        return None
    if standing == Standing.RETIRED:
        return rates.retiree_rate_low if base <= rates.retiree_bracket else rates.retiree_rate_high
    if base <= rates.bracket_1:
        return rates.rate_1
    if base <= rates.bracket_2:
        return rates.rate_2
    if base <= rates.bracket_3:
        return rates.rate_3
    return rates.rate_4


def monthly_due(base: Decimal | None, standing: str, rates: Rates = DEFAULT_RATES) -> tuple[Decimal | None, Decimal]:
    """(rate in percent or None, amount in yuan rounded to the fen by the policy's rounding) of one month's dues.
    Probationary members pay like full members: the category does not enter the rule."""
    if standing in FIXED_STANDINGS:
        return None, Decimal(rates.fixed_amount).quantize(FEN)
    if base is None:
        raise ValueError("an employed or retired member's dues need a base")
    base = Decimal(base)
    rate = rate_for(base, standing, rates)
    assert rate is not None, "only the fixed standings have no rate"
    amount = (base * Decimal(rate) / HUNDRED).quantize(FEN, rounding=ROUNDINGS.get(rates.rounding, ROUND_HALF_UP))
    return rate, amount


# ---------------------------------------------------------------------------------------------------------
# Months: a month is the date of its first day.


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_from(first: dt.date, count: int) -> list[dt.date]:
    return [add_months(month_of(first), i) for i in range(count)]


def months_apart(earlier: dt.date, later: dt.date) -> int:
    """How many months `later` lies after `earlier` (0 for the same month)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def month_label(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"
