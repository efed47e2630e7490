"""Closing a year's hours (学时年度关账): once committee staff close a year for their subtree, no entry dated in that
year is credited, reversed or corrected for a member who belonged to the subtree at the year's end — the signed
figures never change; other trees, other years and reopened years take entries as before.

The world (tests/scope.py): R (BJ) > C1 (BJ01) > {A (BJ01A), B (BJ01B)}, X (LH) > XB (LH01); the committee user
holds C1, the secretary A."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.members import services as member_services
from dangjian.training.models import HoursEntry, HoursKind, HoursYearClose, MemberHoursYear
from dangjian.training.services import ledger
from dangjian.training.services.year_close import hours_year_close, hours_year_reopen
from dangjian.training.tests.factories import credit

TODAY = timezone.localdate()
LAST = TODAY.year - 1
CLOSED_MESSAGE = f"{LAST}年度学时已由滨江一中党委关账"


def manual(by, member, on, hours="2"):
    return ledger.hours_credit(by=by, member=member, on=on, hours=hours, kind=HoursKind.MANUAL, reason="补录")


def totals(member, year):
    row = MemberHoursYear.objects.filter(member=member, year=year).first()
    return row.total if row else None


def test_a_closed_year_takes_no_entry_for_the_members_of_the_subtree(world):
    committee = world.user(Role.COMMITTEE)
    a1, a2 = world.members["A"]
    b1, x1 = world.members["B"][0], world.members["X"][0]
    entry = credit(a1, "4", on=dt.date(LAST, 5, 1))
    hours_year_close(by=committee, org=world.orgs["C1"], year=LAST, note="经党委会审定")
    count = HoursEntry.objects.count()

    for member in (a2, b1):
        with pytest.raises(ValidationError) as error:
            manual(committee, member, dt.date(LAST, 11, 3))
        assert CLOSED_MESSAGE in error.value.message_dict["date"][0]
    with pytest.raises(ValidationError):
        ledger.hours_reverse(by=committee, entry=entry, reason="重复登记")
    with pytest.raises(ValidationError):
        ledger.hours_correct(by=committee, entry=entry, hours="2", reason="登记有误")
    # A batch with one closed member writes nothing at all.
    with pytest.raises(ValidationError):
        ledger.hours_credit_many(
            by=Access.system_access(),
            credits=[
                ledger.Credit(member_id=x1.pk, on=dt.date(LAST, 6, 1), hours="2", kind=HoursKind.CONCENTRATED),
                ledger.Credit(member_id=a2.pk, on=dt.date(LAST, 6, 1), hours="2", kind=HoursKind.CONCENTRATED),
            ],
        )
    assert HoursEntry.objects.count() == count
    assert totals(a1, LAST) == 4 and totals(x1, LAST) is None

    # This year, and another tree's closed year, take entries as before.
    manual(committee, a2, TODAY)
    ledger.hours_credit(
        by=Access.system_access(), member=x1, on=dt.date(LAST, 6, 1), hours="2", kind=HoursKind.CONCENTRATED
    )
    assert totals(x1, LAST) == 2


def test_the_closure_follows_where_the_member_was_at_the_years_end(world):
    """A member who moved out of the closed subtree today was in it at the year's end: still closed. One who moved
    in today was not: their last year belongs to the other tree."""
    committee = world.user(Role.COMMITTEE)
    a1 = world.members["A"][0]
    x1 = world.members["X"][0]
    hours_year_close(by=committee, org=world.orgs["A"], year=LAST)
    system = Access.system_access()
    for member, to in ((a1, world.orgs["XB"]), (x1, world.orgs["A"])):
        transfer = member_services.member_transfer_start(by=system, member=member, to_organization=to)
        member_services.member_transfer_accept(by=system, transfer=transfer)
    with pytest.raises(ValidationError):
        manual(system, a1, dt.date(LAST, 3, 1))
    manual(system, x1, dt.date(LAST, 3, 1))


def test_who_may_close_and_what_is_refused(world):
    committee, secretary = world.user(Role.COMMITTEE), world.user(Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        hours_year_close(by=secretary, org=world.orgs["A"], year=LAST)
    with pytest.raises(PermissionDenied):
        hours_year_close(by=committee, org=world.orgs["X"], year=LAST)  # outside the grant
    with pytest.raises(ValidationError, match="尚未结束"):
        hours_year_close(by=committee, org=world.orgs["C1"], year=TODAY.year)
    hours_year_close(by=committee, org=world.orgs["C1"], year=LAST)
    with pytest.raises(ValidationError, match="已由滨江一中党委关账"):
        hours_year_close(by=committee, org=world.orgs["A"], year=LAST)  # covered from above
    with pytest.raises(ValidationError, match="原因"):
        hours_year_reopen(by=committee, org=world.orgs["C1"], year=LAST, reason="  ")
    hours_year_reopen(by=committee, org=world.orgs["C1"], year=LAST, reason="补录遗漏的培训班")
    assert not HoursYearClose.objects.exists()
    history = HoursYearClose.history.order_by("history_date").values_list("history_type", "history_change_reason")
    assert list(history) == [("+", "学时年度关账"), ("-", "重新开账：补录遗漏的培训班")]
    manual(committee, world.members["A"][1], dt.date(LAST, 12, 30))  # open again


def test_the_dashboard_closes_and_says_so(world):
    committee = world.client(Role.COMMITTEE)

    def page(path="/training/hours/", org="BJ01", year=LAST) -> str:
        return committee.get(path, {"org": org, "year": year}).content.decode()

    assert "尚未关账" in page() and 'action="/training/hours/close/"' in page()
    data = {"org": "BJ01", "year": LAST, "note": "经党委会审定"}
    after = committee.post("/training/hours/close/", data, follow=True).content.decode()
    assert f"{LAST}年度学时已关账" in after and "经党委会审定" in after and "重新开账" in after
    # The member report of a branch below says it too; the running year offers no closing.
    assert f"{LAST}年度学时已关账" in page("/training/hours/members/", org="BJ01A")
    assert 'action="/training/hours/close/"' not in page(year=TODAY.year)


@pytest.mark.parametrize(
    ("role", "data", "message"),
    [
        (Role.SECRETARY, {"org": "BJ01A", "year": LAST}, "只有该党组织或上级党组织的工委工作人员"),
        (Role.COMMITTEE, {"org": "LH", "year": LAST}, "党组织编码"),
        (Role.COMMITTEE, {"org": "BJ01", "year": "abc"}, "年度"),
        (Role.COMMITTEE, {"org": "BJ01"}, "年度：请填写年度"),
        (Role.COMMITTEE, {"org": "BJ01", "year": TODAY.year}, "尚未结束"),
    ],
)
def test_bad_closing_requests_get_a_message_and_close_nothing(world, role, data, message):
    response = world.client(role).post("/training/hours/close/", data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not HoursYearClose.objects.exists()


def test_the_command_closes_lists_and_reopens(world):
    out = io.StringIO()
    call_command("close_hours_year", "--org", "BJ01", "--year", str(LAST), "--note", "审定", stdout=out)
    assert f"已关账：滨江一中党委（BJ01）{LAST}年度学时" in out.getvalue()
    out = io.StringIO()
    call_command("close_hours_year", "--list", stdout=out)
    assert out.getvalue().splitlines()[1].startswith(f"{LAST},BJ01,滨江一中党委,")
    with pytest.raises(CommandError, match="原因"):
        call_command("close_hours_year", "--org", "BJ01", "--year", str(LAST), "--reopen", stdout=io.StringIO())
    with pytest.raises(CommandError, match="工委工作人员"):
        call_command(
            "close_hours_year", "--org", "BJ01", "--year", str(LAST), "--reopen", "--reason", "x",
            "--as", world.user(Role.SECRETARY).username, stdout=io.StringIO(),
        )  # fmt: skip
    call_command("close_hours_year", "--org", "BJ01", "--year", str(LAST), "--reopen", "--reason", "更正", stdout=out)
    assert not HoursYearClose.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--org"),
        (["--org", "BJ01"], "--year"),
        (["--org", "NOPE", "--year", "2025"], "找不到党组织编码"),
        (["--org", "BJ01", "--year", "25x"], "年度“25x”不正确"),
        (["--org", "BJ01", "--year", "2025", "--as", "nobody"], "找不到用户"),
    ],
)
def test_the_command_refuses_bad_arguments(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("close_hours_year", *args, stdout=io.StringIO())
