"""Compliance: which requirement applies to a member and why (strictest wins, owner specificity, flags, validity
years, inactive ignored, none applies), pro-rating by months, the online cap, statuses, roll-ups per child and for
the subtree, the consequence flag and the three years, the SQL path equal to `requirement_for` member by member,
the monthly trend and the schools' year-end reconciliation.

The world (tests/scope.py): R > C1 > {A, B}, X > XB; the committee holds C1, the secretary A. Every test starts
from no active policy (the migration's defaults are switched off) and builds the ones it needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.access import Access, access_for
from dangjian.accounts.roles import Role
from dangjian.members.models import MemberTransfer, Post, Status, TransferKind, TransferStatus
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.schools.models import SchoolAnnualPlan
from dangjian.schools.tests.factories import PartySchoolFactory
from dangjian.training.models import (
    Attendance,
    AttendanceMethod,
    ClassStatus,
    HoursKind,
    HoursPolicy,
    MemberHoursYear,
    PolicyApplies,
    ProRating,
)
from dangjian.training.selectors import compliance as c
from dangjian.training.tests.factories import HoursPolicyFactory, TrainingClassFactory, TrainingSessionFactory, credit

SYSTEM = Access.system_access()
YEAR = 2025
DURING = dt.date(YEAR, 10, 1)  # the year is running
AFTER = dt.date(YEAR + 1, 1, 15)  # the year is over
D = Decimal


@pytest.fixture(autouse=True)
def no_policies(db):
    HoursPolicy.objects.update(active=False)


def policy(owner=None, hours="32", applies_to=PolicyApplies.ALL, **extra) -> HoursPolicy:
    extra.setdefault("valid_from", 2020)
    return HoursPolicyFactory(owner=owner, required_hours=D(hours), applies_to=applies_to, **extra)


def on(month: int, day: int = 10) -> dt.date:
    return dt.date(YEAR, month, day)


def moved_in(member, month: int, *, internal: bool = True, day: int = 15) -> MemberTransfer:
    """A transfer that brought `member` into their organization in YEAR (internal accepted, or from outside)."""
    if internal:
        decided = timezone.make_aware(dt.datetime(YEAR, month, day, 10, 0))
        return MemberTransfer.objects.create(
            member=member,
            kind=TransferKind.INTERNAL,
            status=TransferStatus.ACCEPTED,
            to_organization=member.organization,
            transfer_date=on(month, day),
            decided_at=decided,
        )
    return MemberTransfer.objects.create(
        member=member,
        kind=TransferKind.INCOMING,
        status=TransferStatus.COMPLETED,
        to_organization=member.organization,
        external_organization="外省某党支部",
        letter_number="JS-2025-001",
        transfer_date=on(month, day),
        decided_at=timezone.now(),
    )


def sql_row(member, year=YEAR, org=None, today=None):
    """The member's line through the SQL path (the member report over the whole tree)."""
    root = org or Organization.objects.get(path=member.organization.path[: Organization.steplen])
    rows = c.compliance_members(by=SYSTEM, org=root, year=year, today=today).filter(pk=member.pk)
    return c.compliance_row(rows.get(), year, today)


# ---------------------------------------------------------------------------------------------------------
# Which rule applies


def test_the_strictest_rule_wins_and_the_explanation_names_it(world):
    member = world.members["A"][0]
    member.is_leadership = True
    member.save()
    policy(hours="32", name="党员年度集中学习培训")
    policy(world.orgs["R"], hours="24", name="江苏教育系统党员")
    leaders = policy(world.orgs["R"], hours="40", applies_to=PolicyApplies.LEADERSHIP, name="江苏教育系统班子成员")
    req = c.requirement_for(member, YEAR)
    assert req.hours == D("40") and req.policy == leaders
    assert "江苏教育系统班子成员" in req.explanation and "要求最高" in req.explanation
    assert "党员年度集中学习培训" in req.explanation  # the other applicable rules are named
    other = world.members["A"][1]
    assert c.requirement_for(other, YEAR).hours == D("32")


def test_a_tie_goes_to_the_most_specific_owner(world):
    policy(None, hours="32", online_cap=None, name="全系统")
    policy(world.orgs["C1"], hours="32", online_cap=D("6"), name="一中党委")
    branch = policy(world.orgs["A"], hours="32", online_cap=D("10"), name="高一支部")
    req = c.requirement_for(world.members["A"][0], YEAR)
    assert req.policy == branch and req.online_cap == D("10")
    assert "最具体" in req.explanation
    assert c.requirement_for(world.members["B"][0], YEAR).policy.name == "一中党委"


@pytest.mark.parametrize(
    "applies_to, flag",
    [(PolicyApplies.LEADERSHIP, "is_leadership"), (PolicyApplies.DISTRICT_CADRE, "is_district_cadre")],
    ids=["leadership", "district-cadre"],
)
def test_flag_rules_apply_only_to_members_with_the_flag(world, applies_to, flag):
    policy(hours="32")
    policy(world.orgs["R"], hours="48", applies_to=applies_to)
    flagged, plain = world.members["A"]
    setattr(flagged, flag, True)
    flagged.save()
    assert c.requirement_for(flagged, YEAR).hours == D("48")
    assert c.requirement_for(plain, YEAR).hours == D("32")


def test_the_secretaries_rule_needs_a_current_post(world):
    policy(hours="32")
    policy(world.orgs["C1"], hours="56", applies_to=PolicyApplies.SECRETARIES)
    secretary, former = world.members["A"]
    PartyPostFactory(member=secretary, post=Post.SECRETARY, start_date=dt.date(2020, 1, 1))
    PartyPostFactory(
        member=former, post=Post.COMMITTEE_MEMBER, start_date=dt.date(2018, 1, 1), end_date=dt.date(2024, 6, 30)
    )
    assert c.requirement_for(secretary, YEAR).hours == D("56")
    assert c.requirement_for(former, YEAR).hours == D("32")
    assert c.requirement_for(former, 2023).hours == D("56")  # held the post at the end of 2023


def test_validity_years_inactive_policies_and_other_subtrees_are_ignored(world):
    member = world.members["A"][0]
    policy(hours="32")
    policy(hours="60", valid_from=2020, valid_to=2022, name="旧规定")
    policy(hours="90", active=False, name="停用的规定")
    policy(world.orgs["B"], hours="70", name="兄弟支部")
    policy(world.orgs["X"], hours="80", name="临湖")
    policy(hours="50", valid_from=YEAR + 1, name="明年起")
    assert c.requirement_for(member, YEAR).hours == D("32")
    assert c.requirement_for(member, 2021).hours == D("60")
    assert c.requirement_for(member, YEAR + 1).hours == D("50")


def test_no_applicable_policy_means_zero_and_says_so(world):
    policy(world.orgs["X"], hours="32")
    req = c.requirement_for(world.members["A"][0], YEAR)
    assert req.hours == D("0") and req.policy is None
    assert "没有适用" in req.explanation


# ---------------------------------------------------------------------------------------------------------
# Pro-rating and the online cap


def test_a_member_who_joined_during_the_year_owes_the_months_from_joining(world):
    policy(hours="32", pro_rating=ProRating.MONTHS)
    member = MemberFactory(organization=world.orgs["A"], join_date=on(4), full_date=None)
    req = c.requirement_for(member, YEAR)
    assert req.months == 9
    assert req.hours == D("24.0")  # 32 × 9 / 12 = 24
    assert "2025年04月入党" in req.explanation and "9个月" in req.explanation
    assert c.requirement_for(member, YEAR + 1).hours == D("32")  # the next year is a full year


def test_pro_rating_rounds_up_to_half_hours(world):
    policy(hours="32", pro_rating=ProRating.MONTHS)
    member = MemberFactory(organization=world.orgs["A"], join_date=on(6), full_date=None)
    # 32 × 7 / 12 = 18.67 → 19.0
    assert c.requirement_for(member, YEAR).hours == D("19.0")
    assert c.prorated(D("40"), 5) == D("17.0")  # 16.67 → 17
    assert c.prorated(D("24"), 1) == D("2.0")
    assert c.prorated(D("25"), 1) == D("2.5")  # 2.083 → 2.5


@pytest.mark.parametrize("internal", [True, False], ids=["internal-transfer", "incoming-from-outside"])
def test_a_member_who_moved_in_during_the_year_owes_the_whole_year(world, internal):
    """Pro-rating is of time inside the party, never of a move between organizations (docs/rules.md)."""
    policy(hours="32", pro_rating=ProRating.MONTHS)
    member = world.members["B"][0]
    moved_in(member, 9, internal=internal)
    req = c.requirement_for(member, YEAR)
    assert (req.months, req.hours) == (12, D("32"))
    assert "转入本组织" not in req.explanation and "从系统外转入" not in req.explanation
    assert sql_row(member).required == D("32")


def test_a_full_year_member_and_the_full_mode_owe_the_whole_requirement(world):
    policy(hours="32", pro_rating=ProRating.FULL)
    joined = MemberFactory(organization=world.orgs["A"], join_date=on(8), full_date=None)
    moved_in(world.members["B"][0], 9)
    assert c.requirement_for(joined, YEAR).hours == D("32")
    assert c.requirement_for(world.members["B"][0], YEAR).hours == D("32")
    HoursPolicy.objects.update(pro_rating=ProRating.MONTHS)
    assert c.requirement_for(world.members["A"][0], YEAR).hours == D("32")  # on the roll all year


def test_a_member_who_joined_after_the_year_owes_nothing_and_is_left_out(world):
    policy(hours="32")
    late = MemberFactory(organization=world.orgs["A"], join_date=dt.date(YEAR + 1, 3, 1), full_date=None)
    assert c.requirement_for(late, YEAR).hours == D("0")
    names = {m["name"] for m in c.compliance_members(by=SYSTEM, org=world.orgs["A"], year=YEAR)}
    assert late.name not in names


def test_online_hours_beyond_the_cap_do_not_count(world):
    policy(hours="32", online_cap=D("8"))
    member = world.members["A"][0]
    credit(member, "20", HoursKind.ONLINE, on=on(3))
    credit(member, "16", HoursKind.CONCENTRATED, on=on(4))
    row = sql_row(member, today=AFTER)
    assert (row.total, row.counted, row.shortfall) == (D("36"), D("24"), D("8"))
    assert row.status == c.SHORT
    year = c.member_year(member, YEAR, today=AFTER)
    assert (year.counted, year.status) == (D("24"), c.SHORT)
    assert c.counted_hours(D("10"), D("3"), D("8")) == D("10")  # under the cap: all counts


# ---------------------------------------------------------------------------------------------------------
# Statuses and consequences


def test_statuses_met_in_progress_and_short_after_the_year(world):
    policy(hours="32")
    done, behind = world.members["A"]
    credit(done, "32", on=on(5))
    credit(behind, "10", on=on(5))
    assert sql_row(done, today=DURING).status == c.MET
    assert sql_row(behind, today=DURING).status == c.IN_PROGRESS
    short = sql_row(behind, today=AFTER)
    assert (short.status, short.shortfall, short.consequence) == (c.SHORT, D("22"), "年度考核不得评为优秀")
    assert sql_row(done, today=AFTER).consequence == ""


def test_the_last_three_years_are_shown_together(world):
    policy(hours="32")
    member = world.members["A"][0]
    credit(member, "40", on=dt.date(2023, 5, 1))
    credit(member, "12", on=dt.date(2024, 5, 1))
    credit(member, "20", on=dt.date(2025, 5, 1))
    years = c.member_years(member, last=2025, today=dt.date(2025, 11, 1))
    assert [(y.year, y.required, y.counted, y.status) for y in years] == [
        (2025, D("32"), D("20"), c.IN_PROGRESS),
        (2024, D("32"), D("12"), c.SHORT),
        (2023, D("32"), D("40"), c.MET),
    ]
    assert [y.consequence for y in years] == ["", "年度考核不得评为优秀", ""]


# ---------------------------------------------------------------------------------------------------------
# Roll-ups


def test_roll_up_per_child_and_for_the_subtree(world):
    policy(hours="10")
    a1, a2 = world.members["A"]
    credit(a1, "10", on=on(2))
    credit(a2, "4", on=on(2))
    credit(world.members["B"][0], "12", on=on(2))
    MemberFactory(organization=world.orgs["C1"], name="党委本级一")  # a member of C1 itself
    MemberFactory(organization=world.orgs["B"], status=Status.TRANSFERRED_OUT)  # not active: not counted
    report = c.compliance_children(by=SYSTEM, org=world.orgs["C1"], year=YEAR)
    by_code = {row.organization.code: (row.members, row.met, row.rate) for row in report.children}
    assert by_code == {"BJ01A": (2, 1, D("50.0")), "BJ01B": (1, 1, D("100.0"))}
    assert (report.own.members, report.own.met) == (1, 0)
    assert (report.members, report.met, report.rate) == (4, 2, D("50.0"))
    top = c.compliance_children(by=SYSTEM, org=world.orgs["R"], year=YEAR)
    assert [(r.organization.code, r.members, r.met) for r in top.children] == [("BJ01", 4, 2)]


def test_an_empty_child_has_a_zero_rate(world):
    policy(hours="10")
    OrganizationFactory(parent=world.orgs["C1"], code="BJ01C", name="高三年级党支部", kind=OrgKind.BRANCH)
    report = c.compliance_children(by=SYSTEM, org=world.orgs["C1"], year=YEAR)
    empty = next(r for r in report.children if r.organization.code == "BJ01C")
    assert (empty.members, empty.met, empty.rate) == (0, 0, D("0.0"))


def test_reports_cover_only_members_the_user_holds(world):
    policy(hours="10")
    secretary = world.user(Role.SECRETARY)
    report = c.compliance_children(by=secretary, org=world.orgs["C1"], year=YEAR)
    assert {r.organization.code: r.members for r in report.children} == {"BJ01A": 2, "BJ01B": 0}
    names = {m["name"] for m in c.compliance_members(by=secretary, org=world.orgs["C1"], year=YEAR)}
    assert names == world.member_names("A")
    assert not c.report_organizations(secretary).filter(code="BJ01B").exists()
    assert not c.report_organizations(world.user(Role.SYSTEM_ADMIN)).exists()


def test_the_branch_view_lists_who_is_behind_most_behind_first(world):
    policy(hours="20")
    a1, a2 = world.members["A"]
    extra = MemberFactory(organization=world.orgs["A"], name="吴甲三")
    credit(a1, "20", on=on(3))
    credit(a2, "15", on=on(3))
    credit(extra, "2", on=on(3))
    behind = c.compliance_members(by=world.user(Role.SECRETARY), org=world.orgs["A"], year=YEAR, behind_only=True)
    assert [(m["name"], m["shortfall"]) for m in behind] == [("吴甲三", D("18")), (a2.name, D("5"))]


# ---------------------------------------------------------------------------------------------------------
# The SQL path equals requirement_for, member by member


@pytest.fixture
def varied(world):
    """A subtree with every kind of member: flags, posts current and ended, joined or moved in during the year
    (one move at a month boundary in UTC: moves never pro-rate), online hours beyond caps, rules owned at several
    levels."""
    c1, a, b = world.orgs["C1"], world.orgs["A"], world.orgs["B"]
    d = OrganizationFactory(parent=c1, code="BJ01D", name="行政党支部", kind=OrgKind.BRANCH)
    policy(None, hours="32", name="全系统32")
    policy(c1, hours="40", applies_to=PolicyApplies.LEADERSHIP, online_cap=D("8"), pro_rating=ProRating.MONTHS)
    policy(a, hours="32", online_cap=D("10"), name="高一支部32（上限10）")
    policy(d, hours="56", applies_to=PolicyApplies.SECRETARIES, pro_rating=ProRating.MONTHS)
    policy(b, hours="48", applies_to=PolicyApplies.DISTRICT_CADRE)
    policy(world.orgs["R"], hours="36", pro_rating=ProRating.MONTHS, valid_to=2024, name="过期")
    policy(None, hours="100", active=False, name="停用")
    policy(world.orgs["X"], hours="80", name="临湖")
    people = list(world.members["A"]) + list(world.members["B"])
    people += [
        MemberFactory(organization=a, is_leadership=True, join_date=on(5), full_date=None),
        MemberFactory(organization=b, is_district_cadre=True),
        MemberFactory(organization=b, is_leadership=True, is_district_cadre=True),
        MemberFactory(organization=d, is_leadership=True),
        MemberFactory(organization=d, join_date=on(11), full_date=None),
        MemberFactory(organization=c1, is_leadership=True),
    ]
    secretary = MemberFactory(organization=d)
    PartyPostFactory(member=secretary, post=Post.SECRETARY, start_date=dt.date(2021, 3, 1))
    mover = MemberFactory(organization=d)
    PartyPostFactory(member=mover, post=Post.DEPUTY_SECRETARY, start_date=dt.date(2022, 3, 1))
    moved_in(mover, 7)
    boundary = MemberFactory(organization=d, is_leadership=True)
    MemberTransfer.objects.create(  # 2025-07-31 20:00 UTC is 1 August in Shanghai
        member=boundary,
        kind=TransferKind.INTERNAL,
        status=TransferStatus.ACCEPTED,
        to_organization=d,
        transfer_date=on(7, 31),
        decided_at=dt.datetime(YEAR, 7, 31, 20, 0, tzinfo=dt.UTC),
    )
    outsider = MemberFactory(organization=b, is_leadership=True)
    moved_in(outsider, 3, internal=False)
    ended = MemberFactory(organization=d)
    PartyPostFactory(member=ended, post=Post.COMMITTEE_MEMBER, start_date=dt.date(2019, 1, 1), end_date=on(6))
    people += [secretary, mover, boundary, outsider, ended]
    for index, member in enumerate(people):
        credit(member, str(4 + index * 2), HoursKind.CONCENTRATED, on=on(2 + index % 9))
        credit(member, str(3 + (index % 5) * 3), HoursKind.ONLINE, on=on(3 + index % 8))
    return people


def test_the_sql_path_matches_requirement_for_member_by_member(world, varied):
    rows = {m["member_id"]: m for m in c.compliance_members(by=SYSTEM, org=world.orgs["R"], year=YEAR, today=AFTER)}
    assert set(rows) == {m.pk for m in varied}
    requirements = set()
    for member in varied:
        req = c.requirement_for(member, YEAR, today=AFTER)
        kept = MemberHoursYear.objects.get(member=member, year=YEAR)
        counted = c.counted_hours(kept.total, kept.online, req.online_cap)
        row = rows[member.pk]
        assert (row["required"], row["counted"]) == (req.hours, counted), (member, req.explanation)
        assert row["shortfall"] == max(D("0"), req.hours - counted)
        requirements.add(req.hours)
    assert len(requirements) >= 5, requirements  # the fixture really is varied
    assert {D("27.0"), D("56"), D("48"), D("40"), D("32")} <= requirements
    expected_met = sum(1 for m in varied if rows[m.pk]["counted"] >= rows[m.pk]["required"])
    report = c.compliance_children(by=SYSTEM, org=world.orgs["R"], year=YEAR, today=AFTER)
    assert (report.members, report.met) == (len(varied), expected_met)
    # The same from the committee's point of view, per child of C1.
    report = c.compliance_children(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], year=YEAR, today=AFTER)
    for row in report.rows:
        ours = [m for m in varied if m.organization.path.startswith(row.organization.path)]
        if row.own:
            ours = [m for m in varied if m.organization_id == row.organization.pk]
        assert row.members == len(ours)
        assert row.met == sum(1 for m in ours if rows[m.pk]["counted"] >= rows[m.pk]["required"])


def test_moves_in_the_varied_subtree_never_pro_rate(world, varied):
    """The members who moved (an internal move at a month boundary, one in July, one from outside the system in
    March) owe their rule's whole year, on both paths."""
    mover, boundary, outsider = varied[-4], varied[-3], varied[-2]
    rows = {m["member_id"]: m for m in c.compliance_members(by=SYSTEM, org=world.orgs["R"], year=YEAR, today=AFTER)}
    for member, hours in ((mover, D("56")), (boundary, D("40")), (outsider, D("40"))):
        req = c.requirement_for(member, YEAR, today=AFTER)
        assert (req.months, req.hours, rows[member.pk]["required"]) == (12, hours, hours), req.explanation


# ---------------------------------------------------------------------------------------------------------
# Query counts, the trend, reconciliation


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as ctx:
        run()
    return len(ctx.captured_queries)


def test_the_children_report_takes_a_fixed_number_of_queries(world):
    policy(hours="32")
    policy(world.orgs["C1"], hours="56", applies_to=PolicyApplies.SECRETARIES, pro_rating=ProRating.MONTHS)
    org, user = world.orgs["R"], world.user(Role.COMMITTEE)
    access_for(user)  # the user's access is built once per request: not part of the report

    def run():
        report = c.compliance_children(by=user, org=org, year=YEAR)
        return [(r.members, r.met, r.rate) for r in report.rows]

    few = _queries(run)
    for _ in range(15):
        member = MemberFactory(organization=world.orgs["B"])
        credit(member, "8", on=on(4))
    assert _queries(run) == few <= 3


def test_the_monthly_trend_sums_the_subtree_per_month(world):
    policy(hours="32")
    credit(world.members["A"][0], "4", on=on(3))
    credit(world.members["A"][1], "2.5", on=on(3, 20))
    credit(world.members["B"][0], "6", on=on(11))
    credit(world.members["X"][0], "9", on=on(3))  # another tree
    trend = dict(c.monthly_trend(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], year=YEAR))
    assert len(trend) == 12
    assert (trend[3], trend[11], trend[1]) == (D("6.5"), D("6"), D("0"))


def test_year_end_reconciliation_per_school(world):
    school = PartySchoolFactory(organization=world.orgs["C1"], name="滨江一中业余党校")
    other = PartySchoolFactory(organization=world.orgs["XB"], name="临湖党校")
    SchoolAnnualPlan.objects.create(school=school, year=YEAR, planned_classes=3, planned_trainees=5)
    ran = TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=on(3), ends_on=on(3))
    finished = TrainingClassFactory(
        organizer=world.orgs["C1"], school=school, starts_on=on(6), ends_on=on(6), status=ClassStatus.FINISHED
    )
    TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=on(7), status=ClassStatus.DRAFT)
    TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=dt.date(YEAR - 1, 5, 1))
    s1, s2 = TrainingSessionFactory(training_class=ran), TrainingSessionFactory(training_class=finished)
    a1, a2 = world.members["A"]
    for session, member in ((s1, a1), (s1, a2), (s2, a1)):
        Attendance.objects.create(session=session, member=member, method=AttendanceMethod.MANUAL)
    rows = {s.code: s for s in c.school_reconciliation(by=world.user(Role.COMMITTEE), year=YEAR)}
    assert other.code not in rows
    row = rows[school.code]
    assert (row.planned_classes, row.actual_classes, row.classes_difference) == (3, 2, -1)
    # Person-times, like the claimed 计划培训人次: a1 and a2 in the first class, a1 again in the second.
    assert (row.planned_trainees, row.actual_trainees, row.trainees_difference) == (5, 3, -2)
    assert (row.attendance_count, row.has_plan) == (3, True)
    no_plan = c.school_reconciliation(by=SYSTEM, year=YEAR + 1).get(pk=school.pk)
    assert (no_plan.has_plan, no_plan.planned_classes, no_plan.actual_classes) == (False, 0, 0)
