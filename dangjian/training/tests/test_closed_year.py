"""A closed year's hours figures never change (docs/rules.md, "How the rules combine"): its reports count each member
where they belonged at the year's end, from the membership history, so transfers, status changes and
re-categorizations made today leave them byte-identical; a member who moved within the year is reported once, by
the organization of the year's end, with all their hours; a move never cuts the requirement.

The world (tests/scope.py): R (BJ) > C1 (BJ01) > {A (BJ01A), B (BJ01B)}, X (LH) > XB (LH01)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.members import services as member_services
from dangjian.members.models import Category, Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.training.models import HoursPolicy, ProRating
from dangjian.training.selectors import compliance as c
from dangjian.training.tests.factories import HoursPolicyFactory, credit

SYSTEM = Access.system_access()
YEAR = timezone.localdate().year - 1  # closed


@pytest.fixture(autouse=True)
def rules(db):
    HoursPolicy.objects.update(active=False)
    HoursPolicyFactory(owner=None, required_hours=Decimal("32"), online_cap=Decimal("0"), valid_from=2020)


def run(*args) -> str:
    out = io.StringIO()
    call_command("hours_report", *args, stdout=out)
    return out.getvalue()


def reports(*, as_user: str | None = None) -> list[str]:
    who = ("--as", as_user) if as_user else ()
    outputs = []
    for org in ("BJ01", "BJ01A", "BJ01B") if as_user else ("BJ", "BJ01", "BJ01A", "BJ01B"):
        for level in ("members", "children"):
            for fmt in (("--format", "csv"), ()):
                outputs.append(run("--year", str(YEAR), "--org", org, "--level", level, *fmt, *who))
    return outputs


def test_todays_changes_leave_a_closed_years_reports_byte_identical(world):
    """The probe: a transfer out on a later day changed the closed year's hours report of the branch left."""
    a1, a2 = world.members["A"]
    b1 = world.members["B"][0]
    probationary = MemberFactory(organization=world.orgs["B"], category=Category.PROBATIONARY, full_date=None)
    for member, hours in ((a1, "32"), (a2, "10"), (b1, "40"), (probationary, "5")):
        credit(member, hours, on=dt.date(YEAR, 5, 1))
    before = reports()
    before_committee = reports(as_user=world.user(Role.COMMITTEE).username)

    committee = world.user(Role.COMMITTEE)
    today = timezone.localdate()
    # A moves to B inside the system, today.
    transfer = member_services.member_transfer_start(by=committee, member=a1, to_organization=world.orgs["B"])
    member_services.member_transfer_accept(by=committee, transfer=transfer)
    # One dies, one leaves for another system, one is made a full member — all today.
    member_services.member_change_status(by=committee, member=a2, status=Status.DECEASED, on=today, reason="病故")
    member_services.member_transfer_out(by=committee, member=b1, destination="外省", letter_number="2026-01", on=today)
    member_services.member_make_full(by=committee, member=probationary, on=today)

    assert reports() == before
    assert reports(as_user=committee.username) == before_committee
    # And the figures are the year's: A still has its two members.
    assert "BJ01A,高一年级党支部,2,1,50.0%" in run(
        "--year", str(YEAR), "--org", "BJ01", "--level", "children", "--format", "csv"
    )


def test_a_member_who_moved_out_of_the_tree_still_counts_for_the_committee_of_the_time(world):
    """A member of A who moved to the other county today is in C1's closed year, not in the other county's."""
    a1 = world.members["A"][0]
    credit(a1, "32", on=dt.date(YEAR, 5, 1))
    transfer = member_services.member_transfer_start(by=SYSTEM, member=a1, to_organization=world.orgs["XB"])
    member_services.member_transfer_accept(by=SYSTEM, transfer=transfer)
    committee = world.user(Role.COMMITTEE)
    names = {row["name"] for row in c.compliance_members(by=committee, org=world.orgs["C1"], year=YEAR)}
    assert a1.name in names
    assert a1.name not in {row["name"] for row in c.compliance_members(by=SYSTEM, org=world.orgs["X"], year=YEAR)}
    # This year it is the other county's.
    this_year = YEAR + 1
    assert a1.name not in {
        row["name"] for row in c.compliance_members(by=committee, org=world.orgs["C1"], year=this_year)
    }


def test_a_move_within_the_year_reports_the_member_once_by_the_year_end_organization(world):
    a1 = world.members["A"][0]
    credit(a1, "20", on=dt.date(YEAR, 3, 1))
    transfer = member_services.member_transfer_start(by=SYSTEM, member=a1, to_organization=world.orgs["B"])
    member_services.member_transfer_accept(by=SYSTEM, transfer=transfer)
    # Decided in the September of the closed year.
    type(transfer).objects.filter(pk=transfer.pk).update(decided_at=timezone.make_aware(dt.datetime(YEAR, 9, 1, 10, 0)))
    credit(a1, "12", on=dt.date(YEAR, 10, 1))
    rows = [r for r in c.compliance_members(by=SYSTEM, org=world.orgs["R"], year=YEAR) if r["member_id"] == a1.pk]
    assert len(rows) == 1
    assert rows[0]["organization_code"] == "BJ01B"
    assert rows[0]["required"] == Decimal("32") and rows[0]["counted"] == Decimal("32")


def test_a_member_who_died_in_the_year_owes_the_months_in_the_party_and_is_reported(world):
    HoursPolicy.objects.update(pro_rating=ProRating.MONTHS)
    a2 = world.members["A"][1]
    member_services.member_change_status(by=SYSTEM, member=a2, status=Status.DECEASED, on=dt.date(YEAR, 6, 15))
    rows = {r["member_id"]: r for r in c.compliance_members(by=SYSTEM, org=world.orgs["A"], year=YEAR)}
    assert rows[a2.pk]["required"] == Decimal("16")  # 32 × 6 / 12
    requirement = c.requirement_for(type(a2).objects.get(pk=a2.pk), YEAR)
    assert requirement.hours == Decimal("16")


def test_a_member_who_arrived_from_outside_after_the_year_is_not_in_it(world):
    a1 = world.members["A"][0]
    before = {r["member_id"] for r in c.compliance_members(by=SYSTEM, org=world.orgs["A"], year=YEAR)}
    assert a1.pk in before
    newcomer = MemberFactory(organization=world.orgs["A"], join_date=dt.date(2000, 1, 1))
    type(a1).transfers.rel.related_model.objects.create(
        member=newcomer,
        kind="incoming",
        status="completed",
        to_organization=world.orgs["A"],
        transfer_date=dt.date(YEAR + 1, 1, 10),
        letter_number="外省-2026-01",
    )
    after = {r["member_id"] for r in c.compliance_members(by=SYSTEM, org=world.orgs["A"], year=YEAR)}
    assert newcomer.pk not in after and a1.pk in after


@pytest.mark.parametrize("path", ["/training/hours/", "/training/hours/members/"])
def test_the_report_pages_say_the_counting_rule(world, path):
    body = world.client(Role.COMMITTEE).get(path, {"org": "BJ01", "year": YEAR}).content.decode()
    assert 'id="period-rule"' in body and "只计一次" in body and f"{YEAR}年末" in body


def test_re_categorizing_a_member_today_keeps_the_closed_years_requirement(world, tmp_path):
    """The probe: the 40-hour rule of 班子成员 read today's flag, so making a member a leader today (or no longer one)
    rewrote last year's requirement and status of both."""
    HoursPolicyFactory(
        owner=None, applies_to="leadership", required_hours=Decimal("40"), online_cap=Decimal("0"), valid_from=2020
    )
    a1, a2 = world.members["A"]
    a1.is_leadership = True
    a1.save()
    for member in (a1, a2):
        credit(member, "35", on=dt.date(YEAR, 5, 1))
    before = reports()
    assert (c.requirement_for(a1, YEAR).hours, c.requirement_for(a2, YEAR).hours) == (Decimal("40"), Decimal("32"))

    committee = world.user(Role.COMMITTEE)
    member_services.member_update(by=committee, member=a1, is_leadership=False)
    # And through the roster import: a2 becomes a leader and a district cadre in the spreadsheet.
    out = tmp_path / "roster.xlsx"
    call_command("export_members", "--org", "BJ01A", "--out", str(out), stdout=io.StringIO())
    book = load_workbook(out)
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("姓名")].value == a2.name:
            row[header.index("班子成员")].value = "是"
            row[header.index("区管干部")].value = "是"
    book.save(out)
    message = io.StringIO()
    call_command("import_members", str(out), "--update", stdout=message)
    assert "更新 1 人" in message.getvalue()
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.is_leadership, a2.is_leadership, a2.is_district_cadre) == (False, True, True)

    assert reports() == before
    assert (c.requirement_for(a1, YEAR).hours, c.requirement_for(a2, YEAR).hours) == (Decimal("40"), Decimal("32"))
    # The running year reads today's flags.
    this_year = YEAR + 1
    assert (c.requirement_for(a1, this_year).hours, c.requirement_for(a2, this_year).hours) == (
        Decimal("32"),
        Decimal("40"),
    )
