"""Organization setup: each flag at its threshold and one step short of it, thresholds from policy rows (a scope's
row over the system's), the quarterly / half-year report and the to-do items."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.committees import exports, services
from dangjian.committees.models import Position, VacateReason
from dangjian.committees.selectors.setup import FlagRule, ReportPeriod, setup_flags, setup_report
from dangjian.committees.selectors.todo import committee_todo_items
from dangjian.committees.tests.factories import SetupPolicyFactory, elect, full_members
from dangjian.members.models import Category, Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory

pytestmark = pytest.mark.django_db
SYSTEM = Access.system_access()
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def committee():
    return OrganizationFactory(kind=OrgKind.COMMITTEE, code="C1", name="一中党委")


def _branch(parent, **kwargs):
    return OrganizationFactory(parent=parent, kind=kwargs.pop("kind", OrgKind.BRANCH), **kwargs)


def _flags(root=None, rule=None):
    flags = setup_flags(by=SYSTEM, root=root, today=TODAY)
    return [(f.organization.code, f.value, f.threshold) for f in flags if rule is None or f.rule == rule]


def test_too_few_full_members(committee):
    three = _branch(committee, code="B3")
    full_members(three, 3)
    two = _branch(committee, code="B2")
    full_members(two, 2)
    # Probationary and departed members do not count.
    MemberFactory(organization=two, category=Category.PROBATIONARY, full_date=None)
    MemberFactory(organization=two, status=Status.TRANSFERRED_OUT)
    empty = _branch(committee, code="B0")
    assert _flags(committee, FlagRule.TOO_FEW_FULL) == [("B2", 2, 3), ("B0", 0, 3)]
    assert empty.code in {code for code, *_ in _flags(committee)}
    assert "B3" not in {code for code, *_ in _flags(committee)}


def test_committee_needed_from_seven_full_members(committee):
    seven = _branch(committee, code="B7")
    full_members(seven, 7)
    six = _branch(committee, code="B6")
    full_members(six, 6)
    MemberFactory(organization=six, category=Category.PROBATIONARY, full_date=None)  # 7 members, 6 full
    assert _flags(committee, FlagRule.NEEDS_COMMITTEE) == [("B7", 7, 7)]
    elect(seven, list(seven.members.all()[:3]))
    assert _flags(committee, FlagRule.NEEDS_COMMITTEE) == []


def test_branch_over_fifty_members(committee):
    fifty = _branch(committee, code="B50")
    full_members(fifty, 50)
    fifty_one = _branch(committee, code="B51")
    full_members(fifty_one, 50)
    MemberFactory(organization=fifty_one, category=Category.PROBATIONARY, full_date=None)  # all active count
    assert _flags(committee, FlagRule.TOO_MANY_MEMBERS) == [("B51", 51, 50)]


def test_joint_branch_over_five_units(committee):
    five = _branch(committee, code="J5", kind=OrgKind.JOINT_BRANCH)
    six = _branch(committee, code="J6", kind=OrgKind.JOINT_BRANCH)
    plain = _branch(committee, code="P6")  # not a joint branch: the unit rule does not apply
    for org, n in ((five, 5), (six, 6), (plain, 6)):
        full_members(org, 3)
        for _ in range(n):
            UnitFactory(organization=org)
    assert _flags(committee, FlagRule.TOO_MANY_UNITS) == [("J6", 6, 5)]


def test_committees_are_not_flagged_as_branches(committee):
    general = _branch(committee, code="G1", kind=OrgKind.GENERAL_BRANCH)
    assert general.code not in {code for code, *_ in _flags()}
    assert committee.code not in {code for code, *_ in _flags()}


def test_thresholds_from_the_most_specific_policy(committee):
    other = OrganizationFactory(kind=OrgKind.COMMITTEE, code="C2")
    here = _branch(committee, code="H")
    there = _branch(other, code="T")
    for org in (here, there):
        full_members(org, 5)
    SetupPolicyFactory(owner=committee, min_full_members=6, committee_required_at=5, max_members=4)
    assert _flags(committee) == [("H", 5, 6), ("H", 5, 5), ("H", 5, 4)]
    assert _flags(other) == []  # the system's defaults
    # An inactive or expired row does not apply.
    SetupPolicyFactory(owner=here, min_full_members=10, active=False)
    SetupPolicyFactory(owner=here, min_full_members=10, valid_from=2018, valid_to=2020)
    assert _flags(committee, FlagRule.TOO_FEW_FULL) == [("H", 5, 6)]


def test_flags_are_scoped_and_take_fixed_queries(committee, django_assert_max_num_queries):
    for i in range(5):
        org = _branch(committee, code=f"B{i}", kind=OrgKind.JOINT_BRANCH)
        full_members(org, i)
        for _ in range(i + 3):
            UnitFactory(organization=org)
    with django_assert_max_num_queries(5):
        flags = setup_flags(by=SYSTEM, today=TODAY)
    assert len(flags) == 3 + 2  # B0-B2 too few; B3, B4 over five units
    secretary = UserFactory()
    grant(secretary, Role.SECRETARY, Organization.objects.get(code="B1"))
    assert [f.organization.code for f in setup_flags(by=secretary, today=TODAY)] == ["B1"]


# ---------------------------------------------------------------------------------------------------------
# Report


def test_report_period_bounds():
    assert ReportPeriod.bounds(2026, "Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert ReportPeriod.bounds(2026, "H1") == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert ReportPeriod.title(2026, "Q2") == "2026年第二季度组织设置排查"
    assert ReportPeriod.title(2026, "H2") == "2026年下半年组织设置情况报告"
    assert ReportPeriod.current(dt.date(2026, 11, 30)) == "Q4"


def test_setup_report_contents(committee):
    branch = _branch(committee, code="BA", name="甲支部")
    a, b, c, d = full_members(branch, 4)
    old = elect(branch, [a, b, c], elected_on=dt.date(2023, 5, 1))
    elect(branch, [b, a, c], elected_on=dt.date(2026, 7, 15))  # in Q3: ends the old term
    term = branch.committee_terms.get(status="current")
    seat = term.holdings.get(member=c)
    services.seat_vacate(by=SYSTEM, seat=seat, date=dt.date(2026, 8, 1), reason=VacateReason.RETIRED, today=TODAY)
    services.seat_by_election(by=SYSTEM, term=term, member=d, date=dt.date(2026, 9, 1), seat=seat, today=TODAY)
    small = _branch(committee, code="BS", name="乙支部")
    full_members(small, 2)
    MemberFactory(organization=small, category=Category.PROBATIONARY, full_date=None)

    report = setup_report(by=SYSTEM, root=committee, start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30), today=TODAY)
    assert dict(report.orgs_by_kind)["党支部"] == 2 and report.organizations == 3
    assert (report.members_active, report.members_full, report.members_probationary) == (7, 6, 1)
    assert report.terms_in_office == 1
    assert [t.organization.code for t in report.elections] == ["BA"] and report.elections[0].elected == 3
    assert [(s.member, s.position) for s in report.by_elections] == [(d, Position.MEMBER)]
    assert [s.member for s in report.vacated] == [c]  # a seat ended by the re-election is not a vacancy
    assert report.terms_ended == [old]
    assert {(f.organization.code, f.rule) for f in report.flags} == {("BS", FlagRule.TOO_FEW_FULL)}
    # Organization history: the three organizations were created now (the history's date), outside the period.
    assert report.org_changes == []
    now = timezone.localdate()
    created = setup_report(by=SYSTEM, root=committee, start=now, end=now, today=now).org_changes
    assert sorted((c.code, c.kind) for c in created) == [("BA", "新建"), ("BS", "新建"), ("C1", "新建")]
    # The first half-year: the old term was in office at its end, nothing happened.
    first = setup_report(by=SYSTEM, root=committee, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30), today=TODAY)
    assert first.terms_in_office == 1 and first.elections == [] and first.terms_ended == []


def test_report_workbook_has_every_section(committee):
    branch = _branch(committee, code="BA", name="=甲支部")  # a formula-looking name stays text
    full_members(branch, 2)
    report = setup_report(by=SYSTEM, root=committee, start=dt.date(2026, 10, 1), end=dt.date(2026, 12, 31), today=TODAY)
    out = io.BytesIO()
    exports.write_report_xlsx(out, report)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    assert wb.sheetnames == ["概况", "设置问题", "换届选举", "补选", "委员离任", "任期结束", "党组织变动"]
    flags = list(wb["设置问题"].values)
    assert flags[0] == exports.FLAG_HEADERS
    assert flags[1][1] == "=甲支部" and wb["设置问题"]["B2"].data_type == "s"
    summary = dict(list(wb["概况"].values))
    assert summary["在册党员（当前）"] == 2


# ---------------------------------------------------------------------------------------------------------
# To-do items


def test_todo_items_per_role(committee):
    branch = _branch(committee, code="BA", name="甲支部")
    full_members(branch, 2)  # with the three elected below: five full members, no flag
    ending = elect(branch, elected_on=dt.date(2024, 2, 1))  # ends 2027-01-31: within 6 months
    late = _branch(committee, code="BL", name="乙支部")
    overdue = elect(late, elected_on=dt.date(2023, 3, 1))  # ended 2026-02-28
    small = _branch(committee, code="BS", name="丙支部")
    full_members(small, 1)

    staff = UserFactory()
    grant(staff, Role.COMMITTEE, committee)
    items = committee_todo_items(user=staff, today=TODAY)
    keys = [item["key"] for item in items]
    assert keys[:2] == [f"term-overdue:{overdue.pk}", f"term-missing:{committee.pk}"]
    assert f"term-ending:{ending.pk}" in keys
    assert f"setup:{small.pk}:{FlagRule.TOO_FEW_FULL}" in keys
    by_key = {item["key"]: item for item in items}
    assert by_key[f"term-ending:{ending.pk}"]["period"] == "2027-01"
    assert by_key[f"term-ending:{ending.pk}"]["overdue"] is False
    assert by_key[f"term-overdue:{overdue.pk}"]["overdue"] is True
    assert by_key[f"term-overdue:{overdue.pk}"]["since"] == dt.date(2026, 3, 1)
    assert by_key[f"setup:{small.pk}:{FlagRule.TOO_FEW_FULL}"]["period"] == "2026-Q4"
    assert set(items[0]) == {"kind", "title", "url", "key", "period", "since", "overdue", "due"}
    assert by_key[f"term-ending:{ending.pk}"]["url"] == f"/committees/org/{branch.pk}/"

    secretary = UserFactory()
    grant(secretary, Role.SECRETARY, small)
    assert [i["key"] for i in committee_todo_items(user=secretary, today=TODAY)] == [
        f"setup:{small.pk}:{FlagRule.TOO_FEW_FULL}"
    ]
    # Roles that see but do not act on the organization, and the admins, get none.
    for role, org in ((Role.INSTRUCTOR, branch), (Role.SCHOOL_ADMIN, committee), (Role.SYSTEM_ADMIN, None)):
        user = UserFactory()
        grant(user, role, org)
        assert committee_todo_items(user=user, today=TODAY) == []


def test_report_takes_a_fixed_number_of_queries(committee, django_assert_max_num_queries):
    def build(n):
        for _ in range(n):
            org = _branch(committee)
            elect(org, elected_on=dt.date(2026, 8, 1))

    build(2)
    with django_assert_max_num_queries(16) as small:
        setup_report(by=SYSTEM, root=committee, start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30), today=TODAY)
    build(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        report = setup_report(
            by=SYSTEM, root=committee, start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30), today=TODAY
        )
    assert len(report.elections) == 8
