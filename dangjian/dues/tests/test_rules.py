"""The amount rule (docs/dues.md, "Amount"): each bracket's bound belongs to it, the rate applies to the whole base,
retirees have their own two brackets, the fixed standings pay 0.2 yuan, amounts are rounded to the fen by the policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dangjian.dues.models import DuesPolicy
from dangjian.dues.rules import DEFAULT_RATES, add_months, monthly_due, months_apart

D = Decimal


@pytest.mark.parametrize(
    ("base", "rate", "amount"),
    [
        ("0.00", "0.5", "0.00"),
        ("0.01", "0.5", "0.00"),
        ("1.00", "0.5", "0.01"),
        ("2999.99", "0.5", "15.00"),
        ("3000.00", "0.5", "15.00"),
        ("3000.01", "1.0", "30.00"),
        ("4999.99", "1.0", "50.00"),
        ("5000.00", "1.0", "50.00"),
        ("5000.01", "1.5", "75.00"),
        ("9999.99", "1.5", "150.00"),
        ("10000.00", "1.5", "150.00"),
        ("10000.01", "2.0", "200.00"),
        ("25000.00", "2.0", "500.00"),
        ("1000000.00", "2.0", "20000.00"),
        ("3333.33", "1.0", "33.33"),
        ("6789.10", "1.5", "101.84"),
    ],
    ids=lambda v: str(v),
)
def test_employed_brackets_at_their_edges(base, rate, amount):
    assert monthly_due(D(base), "employed") == (D(rate), D(amount))


@pytest.mark.parametrize(
    ("base", "rate", "amount"),
    [
        ("2000.00", "0.5", "10.00"),
        ("4000.00", "0.5", "20.00"),
        ("5000.00", "0.5", "25.00"),
        ("5000.01", "1.0", "50.00"),
        ("12000.00", "1.0", "120.00"),
    ],
    ids=lambda v: str(v),
)
def test_retirees_pay_half_a_percent_up_to_5000_and_one_above(base, rate, amount):
    assert monthly_due(D(base), "retired") == (D(rate), D(amount))


@pytest.mark.parametrize("standing", ["student", "unemployed", "subsistence"])
def test_fixed_standings_pay_twenty_fen_whatever_the_base(standing):
    assert monthly_due(None, standing) == (None, D("0.20"))
    assert monthly_due(D("8000"), standing) == (None, D("0.20"))


def test_amounts_are_decimal_and_rounded_by_the_policy():
    # 3,001.50 × 1% = 30.015 → 30.02 half up, 30.01 when the policy cuts below the fen.
    _rate, amount = monthly_due(D("3001.50"), "employed")
    assert isinstance(amount, Decimal) and amount == D("30.02")
    cut = DuesPolicy(rounding="down")
    assert monthly_due(D("3001.50"), "employed", cut) == (D("1.0"), D("30.01"))


def test_a_policy_row_carries_the_documents_defaults():
    policy = DuesPolicy()
    for name in ("bracket_1", "bracket_2", "bracket_3", "rate_1", "rate_4", "retiree_bracket", "fixed_amount"):
        assert getattr(policy, name) == getattr(DEFAULT_RATES, name)
    assert (policy.max_months, policy.arrears_notice_months, policy.arrears_case_months) == (6, 3, 6)
    assert policy.max_base == D("1000000")


def test_an_employed_base_is_required():
    with pytest.raises(ValueError):
        monthly_due(None, "employed")


def test_month_arithmetic():
    assert add_months(dt.date(2025, 11, 1), 3) == dt.date(2026, 2, 1)
    assert add_months(dt.date(2025, 1, 1), -1) == dt.date(2024, 12, 1)
    assert months_apart(dt.date(2025, 11, 1), dt.date(2026, 5, 1)) == 6


@pytest.mark.django_db
def test_the_seeded_policy_is_the_2008_rules():
    policy = DuesPolicy.objects.dangerously_all().get(owner__isnull=True)
    assert "2008" in policy.source
    assert monthly_due(D("3000.01"), "employed", policy) == (D("1.00"), D("30.00"))
