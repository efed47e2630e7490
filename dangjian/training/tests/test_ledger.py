"""The hours ledger: credits in steps of 0.5, reasons, reversals and corrections, and the kept totals that must
always equal the ledger's sums (verify_hours)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.training.models import HoursEntry, HoursKind, MemberHoursYear
from dangjian.training.selectors.ledger import hours_discrepancies
from dangjian.training.services.ledger import Credit, hours_correct, hours_credit, hours_credit_many, hours_reverse

SYSTEM = Access.system_access()


def today() -> dt.date:
    return timezone.localdate()


def totals(member, year=None) -> MemberHoursYear:
    return MemberHoursYear.objects.get(member=member, year=year or today().year)


def test_a_credit_writes_the_entry_and_the_totals(world):
    member = world.members["A"][0]
    hours_credit(by=world.user(Role.SECRETARY), member=member, on=today(), hours="2.5", kind=HoursKind.ONLINE)
    hours_credit(by=SYSTEM, member=member, on=today(), hours=4, kind=HoursKind.CONCENTRATED)
    row = totals(member)
    assert (row.online, row.concentrated, row.total) == (Decimal("2.5"), Decimal("4"), Decimal("6.5"))
    assert row.last_entry_on == today()
    assert HoursEntry.objects.filter(member=member).count() == 2
    assert hours_discrepancies() == []


@pytest.mark.parametrize(
    "hours, message",
    [
        ("-1", "学时必须大于0。"),
        ("0", "学时必须大于0。"),
        ("1.25", "0.5的整数倍"),
        ("abc", "学时应为数字。"),
        ("500", "不能超过"),
    ],
    ids=["negative", "zero", "not-half-steps", "not-a-number", "too-many"],
)
def test_bad_hours_are_refused_and_nothing_is_written(world, hours, message):
    member = world.members["A"][0]
    with pytest.raises(ValidationError) as caught:
        hours_credit(by=SYSTEM, member=member, on=today(), hours=hours, kind=HoursKind.ONLINE)
    assert message in str(caught.value.message_dict["hours"])
    assert not HoursEntry.objects.filter(member=member).exists()
    assert not MemberHoursYear.objects.filter(member=member).exists()


@pytest.mark.parametrize("kind", [HoursKind.MANUAL, HoursKind.EXTERNAL])
def test_manual_and_external_credits_need_a_reason(world, kind):
    member = world.members["A"][0]
    with pytest.raises(ValidationError) as caught:
        hours_credit(by=SYSTEM, member=member, on=today(), hours=2, kind=kind, reason="  ")
    assert "reason" in caught.value.message_dict
    entry = hours_credit(by=SYSTEM, member=member, on=today(), hours=2, kind=kind, reason="市委党校培训证书")
    assert entry.reason == "市委党校培训证书"


def test_a_future_date_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        hours_credit(
            by=SYSTEM, member=world.members["A"][0], on=today() + dt.timedelta(days=1), hours=1, kind=HoursKind.ONLINE
        )
    assert "date" in caught.value.message_dict


def test_only_who_may_edit_the_member_credits_them(world):
    member = world.members["B"][0]  # branch B: not the secretary of A's
    with pytest.raises(PermissionDenied):
        hours_credit(by=world.user(Role.SECRETARY), member=member, on=today(), hours=1, kind=HoursKind.ONLINE)
    assert not HoursEntry.objects.filter(member=member).exists()


def test_a_correction_is_a_reversal_plus_a_new_entry(world):
    member = world.members["A"][0]
    entry = hours_credit(by=SYSTEM, member=member, on=today(), hours=4, kind=HoursKind.CONCENTRATED)
    reversal, corrected = hours_correct(by=SYSTEM, entry=entry, hours="3.5", reason="实际到课3.5学时")
    assert reversal.hours == Decimal("-4") and reversal.reverses == entry
    assert corrected.hours == Decimal("3.5") and corrected.reverses is None
    assert totals(member).concentrated == Decimal("3.5")
    assert HoursEntry.objects.filter(member=member).count() == 3  # the history stays
    assert hours_discrepancies() == []


def test_an_entry_is_reversed_once_and_a_reversal_never(world):
    member = world.members["A"][0]
    entry = hours_credit(by=SYSTEM, member=member, on=today(), hours=2, kind=HoursKind.ONLINE)
    reversal = hours_reverse(by=SYSTEM, entry=entry, reason="重复登记")
    with pytest.raises(ValidationError, match="已冲销"):
        hours_reverse(by=SYSTEM, entry=entry, reason="再冲一次")
    with pytest.raises(ValidationError, match="不能再次冲销"):
        hours_reverse(by=SYSTEM, entry=reversal, reason="冲销冲销")
    with pytest.raises(ValidationError):
        hours_reverse(by=SYSTEM, entry=entry, reason="")
    assert totals(member).total == Decimal("0")


def test_many_credits_in_one_call_add_up_per_member_and_year(world):
    a, b = world.members["A"]
    last_year = dt.date(today().year - 1, 12, 31)
    hours_credit_many(
        by=SYSTEM,
        credits=[
            Credit(member_id=a.pk, on=today(), hours=Decimal("2"), kind=HoursKind.CONCENTRATED),
            Credit(member_id=a.pk, on=today(), hours=Decimal("1.5"), kind=HoursKind.TEACHING),
            Credit(member_id=b.pk, on=today(), hours=Decimal("2"), kind=HoursKind.CONCENTRATED),
            Credit(member_id=a.pk, on=last_year, hours=Decimal("8"), kind=HoursKind.CONCENTRATED),
        ],
    )
    assert totals(a).total == Decimal("3.5") and totals(a).teaching == Decimal("1.5")
    assert totals(a, last_year.year).total == Decimal("8")
    assert totals(b).total == Decimal("2")


def test_verify_hours_reports_a_difference_and_exits_non_zero(world, capsys):
    member = world.members["A"][0]
    hours_credit(by=SYSTEM, member=member, on=today(), hours=2, kind=HoursKind.ONLINE)
    call_command("verify_hours", year=today().year)
    assert "一致" in capsys.readouterr().out
    MemberHoursYear.objects.filter(member=member).update(online=Decimal("5"))  # tampered behind the services
    with pytest.raises(CommandError, match="1 处不一致"):
        call_command("verify_hours")
    out = capsys.readouterr().out
    assert member.name in out and "网络学习：汇总 5.0，台账 2.0" in out
