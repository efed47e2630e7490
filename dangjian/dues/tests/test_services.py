"""Bases, payments, reversals, reductions and the month close through the services, with the bad inputs of
docs/dues.md: each refused with a Chinese message on the field, nothing saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.dues import services
from dangjian.dues.models import DuesBase, DuesEntry, DuesMonthClose, DuesPayment, DuesReduction, Way
from dangjian.dues.rules import add_months, month_of
from dangjian.dues.selectors.ledger import live_entries
from dangjian.dues.selectors.member import next_unpaid_month, paid_through
from dangjian.dues.tests.factories import base, pay

D = Decimal
TODAY = timezone.localdate()
THIS = month_of(TODAY)


def _errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


def _counts():
    return (
        DuesBase.objects.dangerously_all().count(),
        DuesPayment.objects.dangerously_all().count(),
        DuesEntry.objects.dangerously_all().count(),
    )


@pytest.fixture
def member(world):
    return world.members["A"][0]


@pytest.fixture
def secretary(world):
    return world.user(Role.SECRETARY)


# -- bases ------------------------------------------------------------------------------------------------


def test_a_base_gives_the_rate_and_amount_of_its_bracket(world, member, secretary):
    row = services.base_set(by=secretary, member=member, amount="5000.01")
    assert (row.effective, row.rate, row.monthly_due) == (THIS, D("1.5"), D("75.00"))


def test_a_probationary_member_pays_like_a_full_member(world, secretary):
    probationary = world.members["A"][1]
    assert services.base_set(by=secretary, member=probationary, amount="4000").monthly_due == D("40.00")


def test_a_student_pays_twenty_fen_without_a_base(world, member, secretary):
    row = services.base_set(by=secretary, member=member, standing="student")
    assert (row.amount, row.rate, row.monthly_due) == (None, None, D("0.20"))


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-1", "不能为负数"), ("1000000.01", "超过"), ("abc", "应为数字"), ("", "请填写"), ("12.345", "两位小数")],
    ids=["negative", "absurd", "text", "missing", "fractions-of-fen"],
)
def test_a_bad_base_is_refused_on_its_field(world, member, secretary, amount, message):
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.base_set(by=secretary, member=member, amount=amount)
    assert message in " ".join(_errors(exc)["amount"])
    assert _counts() == before


def test_a_member_outside_the_scope_is_refused_on_the_member_field(world, secretary):
    outsider = world.members["B"][0]
    with pytest.raises(ValidationError) as exc:
        services.base_set(by=secretary, member=outsider, amount="3000")
    assert _errors(exc)["member"] == ["找不到该党员，或其不在您的管理范围内。"]
    assert not DuesBase.objects.dangerously_all().filter(member=outsider).exists()


def test_a_school_admin_does_not_act_in_dues(world, member):
    with pytest.raises(ValidationError) as exc:
        services.base_set(by=world.user(Role.SCHOOL_ADMIN), member=member, amount="3000")
    assert "member" in _errors(exc)


def test_a_change_within_the_year_needs_a_reason_and_takes_effect_next_month(world, member, secretary):
    services.base_set(by=secretary, member=member, amount="3000")
    with pytest.raises(ValidationError) as exc:
        services.base_set(by=secretary, member=member, amount="6000", source="change")
    assert "reason" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        services.base_set(by=secretary, member=member, amount="6000", source="change", reason="调薪", effective=THIS)
    assert "次月" in " ".join(_errors(exc)["effective"])
    row = services.base_set(by=secretary, member=member, amount="6000", source="change", reason="调薪")
    assert (row.effective, row.monthly_due, row.reason) == (add_months(THIS, 1), D("90.00"), "调薪")


# -- payments ---------------------------------------------------------------------------------------------


def test_a_payment_writes_one_line_per_month_and_a_numbered_receipt(world, member, secretary):
    base(member, "4000", effective=add_months(THIS, -2))
    payment = pay(member, by=secretary, first_month=add_months(THIS, -2), months=3, extra="10.00")
    lines = list(payment.entries.order_by("period"))
    assert [e.period for e in lines] == [add_months(THIS, -2), add_months(THIS, -1), THIS]
    assert [e.amount for e in lines] == [D("40.00")] * 3
    assert (payment.amount, payment.extra, payment.total) == (D("120.00"), D("10.00"), D("130.00"))
    assert payment.receipt_no == f"DF{TODAY.year}-{payment.pk:07d}"
    assert paid_through(member) == THIS
    assert next_unpaid_month(member, today=TODAY) == add_months(THIS, 1)


def test_the_default_first_month_is_the_oldest_unpaid_one(world, member):
    base(member, "4000", effective=add_months(THIS, -3))
    pay(member, first_month=add_months(THIS, -3))
    assert pay(member).first_month == add_months(THIS, -2)


def test_more_than_six_months_at_once_is_refused(world, member, secretary):
    base(member, "4000", effective=add_months(THIS, -8))
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        pay(member, by=secretary, first_month=add_months(THIS, -8), months=7)
    assert "1至6个月" in _errors(exc)["months"][0]
    assert _counts() == before


def test_paying_more_than_six_months_ahead_is_refused(world, member, secretary):
    base(member, "4000")
    with pytest.raises(ValidationError) as exc:
        pay(member, by=secretary, first_month=add_months(THIS, 6), months=2)
    assert "预交最多6个月" in _errors(exc)["first_month"][0]
    assert pay(member, by=secretary, first_month=add_months(THIS, 1), months=6).months == 6


def test_a_second_payment_for_a_paid_month_is_refused(world, member, secretary):
    base(member, "4000")
    first = pay(member, by=secretary, first_month=THIS)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        pay(member, by=secretary, first_month=THIS, way=Way.ONLINE, reference="WX1")
    assert first.receipt_no in _errors(exc)["first_month"][0]
    assert _counts() == before


def test_the_same_submission_twice_records_one_payment(world, member, secretary):
    base(member, "4000")
    one = pay(member, by=secretary, first_month=THIS, paid_on=TODAY, way=Way.BANK, reference="B-1")
    two = pay(member, by=secretary, first_month=THIS, paid_on=TODAY, way=Way.BANK, reference="B-1")
    assert one.pk == two.pk
    assert DuesPayment.objects.dangerously_all().filter(member=member).count() == 1


def test_the_database_keeps_one_live_line_per_member_and_month(world, member):
    from django.db import IntegrityError, transaction

    base(member, "4000")
    line = pay(member, first_month=THIS).entries.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DuesEntry.objects.create(
            payment=line.payment, member=member, organization=line.organization, period=THIS, booked=THIS, amount=1
        )


def test_a_payment_for_a_member_outside_the_scope_is_refused(world, secretary):
    outsider = world.members["B"][0]
    base(outsider, "4000")
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        pay(outsider, by=secretary)
    assert "member" in _errors(exc)
    assert _counts() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"way": Way.ONLINE}, "reference"),
        ({"extra": "-5"}, "extra"),
        ({"paid_on": TODAY + dt.timedelta(days=1)}, "paid_on"),
        ({"way": "cheque"}, "way"),
        ({"months": 0}, "months"),
    ],
    ids=["online-without-reference", "negative-extra", "future-date", "unknown-way", "zero-months"],
)
def test_bad_payment_details_are_refused_on_their_field(world, member, secretary, kwargs, field):
    base(member, "4000")
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        pay(member, by=secretary, first_month=THIS, **kwargs)
    assert field in _errors(exc)
    assert _counts() == before


def test_a_month_without_a_base_cannot_be_paid(world, member, secretary):
    with pytest.raises(ValidationError) as exc:
        pay(member, by=secretary, first_month=THIS)
    assert "基数" in _errors(exc)["first_month"][0]


# -- reversals --------------------------------------------------------------------------------------------


def test_a_reversal_needs_a_reason_and_leaves_the_payment_untouched(world, member, secretary):
    base(member, "4000")
    payment = pay(member, by=secretary, first_month=THIS)
    with pytest.raises(ValidationError) as exc:
        services.payment_reverse(by=secretary, payment=payment, reason=" ")
    assert "reason" in _errors(exc)
    services.payment_reverse(by=secretary, payment=payment, reason="重复登记")
    lines = DuesEntry.objects.dangerously_all().filter(payment=payment)
    assert sum((e.total for e in lines), D("0")) == 0
    assert lines.filter(kind="reversal").get().reason == "重复登记"
    assert live_entries([member.pk], THIS, THIS) == {}
    payment.refresh_from_db()
    assert payment.amount == D("40.00")  # never edited in place
    assert pay(member, by=secretary, first_month=THIS).pk != payment.pk


# -- the month close --------------------------------------------------------------------------------------


def test_a_closed_month_takes_no_payment_and_no_second_close(world, member, secretary):
    base(member, "4000")
    branch = world.orgs["A"]
    close = services.month_close(by=secretary, organization=branch, month=THIS)
    assert (close.due_count, close.paid_count, close.due_amount, close.arrears_count) == (1, 0, D("40.00"), 1)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        pay(member, by=secretary, first_month=THIS, paid_on=TODAY)
    assert "已结账" in _errors(exc)["paid_on"][0]
    assert _counts() == before
    with pytest.raises(ValidationError) as exc:
        services.month_close(by=secretary, organization=branch, month=THIS)
    assert "已结账" in _errors(exc)["month"][0]
    assert DuesMonthClose.objects.dangerously_all().filter(organization=branch).count() == 1


def test_only_a_branch_closes_and_only_in_scope(world, secretary):
    with pytest.raises(ValidationError):
        services.month_close(by=world.user(Role.COMMITTEE), organization=world.orgs["C1"], month=THIS)
    with pytest.raises(PermissionDenied):
        services.month_close(by=secretary, organization=world.orgs["B"], month=THIS)
    with pytest.raises(ValidationError) as exc:
        services.month_close(by=secretary, organization=world.orgs["A"], month=add_months(THIS, 1))
    assert "尚未开始" in _errors(exc)["month"][0]


# -- reductions -------------------------------------------------------------------------------------------


def test_a_reduction_is_approved_by_the_next_higher_committee_only(world, member, secretary):
    base(member, "4000")
    with pytest.raises(PermissionDenied):
        services.reduction_grant(by=secretary, member=member, kind="exempt", start=THIS, end=THIS, reason="重病")
    committee = world.user(Role.COMMITTEE)
    with pytest.raises(ValidationError) as exc:
        services.reduction_grant(by=committee, member=member, kind="reduce", start=THIS, end=THIS, reason="")
    assert {"reason", "monthly_amount"} <= set(_errors(exc))
    row = services.reduction_grant(
        by=committee,
        member=member,
        kind="reduce",
        monthly_amount="5.00",
        start=THIS,
        end=add_months(THIS, 2),
        reason="家庭困难",
    )
    assert row.approved_by_org == world.orgs["C1"]
    assert pay(member, by=secretary, first_month=THIS).amount == D("5.00")


def test_an_exempt_month_is_not_paid_and_not_owed(world, member):
    base(member, "4000")
    services.reduction_grant(
        by=world.user(Role.COMMITTEE), member=member, kind="exempt", start=THIS, end=THIS, reason="重病住院"
    )
    with pytest.raises(ValidationError) as exc:
        pay(member, first_month=THIS)
    assert "免交" in _errors(exc)["first_month"][0]
    assert DuesReduction.objects.dangerously_all().count() == 1
