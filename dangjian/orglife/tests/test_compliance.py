"""Duties and compliance: which duties apply, each default duty's period logic at month, quarter and year
boundaries, multi-kind records, attendance thresholds, the roll-up and the fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dangjian.accounts.access import Access
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife.models import ActivityKind as K
from dangjian.orglife.models import DutyApplies
from dangjian.orglife.selectors.compliance import ComplianceStatus as S
from dangjian.orglife.selectors.compliance import compliance_for, duties_for, leadership_lectures, periods_for
from dangjian.orglife.tests.factories import ActivityRecordFactory, DutyFactory
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Access.system_access()
BRANCH_KINDS = [
    K.GENERAL_MEETING,
    K.COMMITTEE_MEETING,
    K.GROUP_MEETING,
    K.PARTY_LECTURE,
    K.THEME_DAY,
    K.LIFE_MEETING,
    K.MEMBER_EVALUATION,
    K.SELF_STUDY,
    K.PARTY_WORK_STUDY,
    K.IDEOLOGY_RISK,
    K.IDEOLOGY_STUDY,
    K.IDEOLOGY_BRIEFING,
]


@pytest.fixture
def tree():
    committee = OrganizationFactory(code="T1", name="实验中学党委", kind=OrgKind.COMMITTEE)
    branch = OrganizationFactory(parent=committee, code="T1A", name="初一党支部", kind=OrgKind.BRANCH)
    other = OrganizationFactory(parent=committee, code="T1B", name="初二党支部", kind=OrgKind.BRANCH)
    return committee, branch, other


def _row(report, org, kind):
    rows = [r for r in report.rows if r.organization.pk == org.pk and r.duty.kind == kind]
    assert len(rows) == 1, (org, kind, rows)
    return rows[0]


def _committee(branch, n=7):
    """Give a branch `n` full members: from 7 it elects a committee and owes the monthly 支委会."""
    return [MemberFactory(organization=branch) for _ in range(n)]


def _records(org, kind, dates, **kwargs):
    for date in dates:
        ActivityRecordFactory(organization=org, date=date, kinds=[kind], **kwargs)


def test_default_duties_apply_by_kind_of_organization(tree):
    committee, branch, _ = tree
    # A branch may owe the per-member lecture too: when it has a committee (7 or more full members, per period).
    branch_duties = duties_for(branch, 2024)
    assert [d.kind for d in branch_duties if not d.per_member] == BRANCH_KINDS
    assert [(d.kind, d.min_members) for d in branch_duties if d.per_member] == [(K.PARTY_LECTURE, 7)]
    assert [d.kind for d in duties_for(committee, 2024)] == [
        K.PARTY_LECTURE,  # per leadership-team member
        K.CENTRAL_GROUP_STUDY,
        K.PARTY_WORK_STUDY,
        K.IDEOLOGY_RISK,
        K.IDEOLOGY_STUDY,
        K.IDEOLOGY_BRIEFING,
    ]
    central = next(d for d in duties_for(committee, 2024) if d.kind == K.CENTRAL_GROUP_STUDY)
    assert (central.min_count, central.min_attendance, central.frequency) == (6, Decimal("90.0"), "year")


def test_most_specific_owner_wins_per_kind(tree):
    committee, branch, _ = tree
    DutyFactory(kind=K.PARTY_LECTURE, frequency="month", owner=committee, applies_to=DutyApplies.BRANCHES)
    lecture = next(d for d in duties_for(branch, 2024) if d.kind == K.PARTY_LECTURE)
    assert lecture.frequency == "month"
    DutyFactory(kind=K.THEME_DAY, owner=committee, valid_from=2030)  # not valid yet
    assert next(d for d in duties_for(branch, 2024) if d.kind == K.THEME_DAY).owner_path is None


@pytest.mark.parametrize(
    ("frequency", "quarter", "expected"),
    [
        ("month", None, 12),
        ("month", 2, 3),
        ("quarter", None, 4),
        ("quarter", 3, 1),
        ("half_year", None, 2),
        ("half_year", 3, 1),
        ("year", None, 1),
        ("year", 4, 1),
    ],
)
def test_periods_in_the_window(frequency, quarter, expected):
    assert len(periods_for(frequency, 2024, quarter)) == expected


MONTH_KINDS = [K.COMMITTEE_MEETING, K.GROUP_MEETING, K.THEME_DAY, K.IDEOLOGY_RISK]
QUARTER_KINDS = [K.GENERAL_MEETING, K.PARTY_LECTURE]
YEAR_KINDS = [K.LIFE_MEETING, K.MEMBER_EVALUATION, K.IDEOLOGY_BRIEFING]


@pytest.mark.parametrize("kind", MONTH_KINDS)
def test_month_duties_count_per_month_at_the_boundaries(tree, kind):
    _, branch, _ = tree
    _committee(branch)
    # the last day of every month but February; 1 March counts for March, not February
    dates = [dt.date(2024, m, 28 if m == 2 else 30) for m in range(1, 13) if m != 2] + [dt.date(2024, 3, 1)]
    _records(branch, kind, dates)
    report = compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2025, 1, 10))
    row = _row(report, branch, kind)
    assert (row.required, row.done, row.periods_met, row.status) == (12, 12, 11, S.MISSED)
    q1 = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=1, today=dt.date(2025, 1, 10)), branch, kind)
    assert (q1.required, q1.done, q1.status) == (3, 3, S.MISSED)
    q2 = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=2, today=dt.date(2025, 1, 10)), branch, kind)
    assert (q2.required, q2.done, q2.status) == (3, 3, S.DONE)


@pytest.mark.parametrize("kind", MONTH_KINDS)
def test_a_month_duty_in_the_running_month_is_in_progress(tree, kind):
    _, branch, _ = tree
    _committee(branch)
    _records(branch, kind, [dt.date(2024, m, 15) for m in range(1, 6)])
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2024, 6, 20)), branch, kind)
    assert (row.required, row.done, row.status) == (12, 5, S.IN_PROGRESS)
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2024, 7, 1)), branch, kind)
    assert row.status == S.MISSED  # June ended short


@pytest.mark.parametrize("kind", QUARTER_KINDS)
def test_quarter_duties_count_per_quarter_at_the_boundaries(tree, kind):
    _, branch, _ = tree
    _records(branch, kind, [dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2024, 9, 30)])
    report = compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2024, 11, 5))
    row = _row(report, branch, kind)
    assert (row.required, row.done, row.periods_met, row.status) == (4, 3, 3, S.IN_PROGRESS)
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2025, 1, 1)), branch, kind)
    assert row.status == S.MISSED
    q4 = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=4, today=dt.date(2025, 1, 1)), branch, kind)
    assert (q4.required, q4.done, q4.status) == (1, 0, S.MISSED)


@pytest.mark.parametrize("kind", YEAR_KINDS)
def test_year_duties_at_the_year_boundary(tree, kind):
    _, branch, _ = tree
    _records(branch, kind, [dt.date(2023, 12, 31), dt.date(2025, 1, 1)])
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2024, 12, 31)), branch, kind)
    assert (row.required, row.done, row.status) == (1, 0, S.IN_PROGRESS)
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2025, 1, 1)), branch, kind)
    assert row.status == S.MISSED
    _records(branch, kind, [dt.date(2024, 12, 31)])
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=1, today=dt.date(2025, 1, 1)), branch, kind)
    assert (row.required, row.done, row.status) == (1, 1, S.DONE)  # counted over its whole year


@pytest.mark.parametrize("kind", [K.PARTY_WORK_STUDY, K.IDEOLOGY_STUDY])
def test_twice_a_year_duties(tree, kind):
    committee, _, _ = tree
    _records(committee, kind, [dt.date(2024, 1, 1)])
    row = _row(compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2025, 1, 1)), committee, kind)
    assert (row.required, row.done, row.status) == (2, 1, S.MISSED)
    _records(committee, kind, [dt.date(2024, 12, 31)])
    row = _row(compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2025, 1, 1)), committee, kind)
    assert row.status == S.DONE


def test_central_group_study_needs_six_with_ninety_percent(tree):
    committee, _, _ = tree
    members = [MemberFactory(organization=committee) for _ in range(10)]
    for month in range(1, 7):
        absent = 1 if month < 6 else 2  # 90% five times, 80% once: 58 of 60 = 96.7% overall
        ActivityRecordFactory(
            organization=committee,
            date=dt.date(2024, month, 10),
            kinds=[K.CENTRAL_GROUP_STUDY],
            attendance=[(m, i >= absent) for i, m in enumerate(members)],
        )
    row = _row(
        compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2025, 1, 1)), committee, K.CENTRAL_GROUP_STUDY
    )
    assert (row.required, row.done, row.attendance_rate, row.status) == (6, 6, Decimal("88.3"), S.MISSED)


def test_self_study_attendance_threshold_per_month(tree):
    _, branch, _ = tree
    members = [MemberFactory(organization=branch) for _ in range(20)]
    for month in range(1, 13):
        absent = 1 if month != 7 else 2  # 95% every month but July (90%)
        ActivityRecordFactory(
            organization=branch,
            date=dt.date(2024, month, 5),
            kinds=[K.SELF_STUDY],
            attendance=[(m, i >= absent) for i, m in enumerate(members)],
        )
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=dt.date(2025, 1, 1)), branch, K.SELF_STUDY)
    assert (row.done, row.periods_met, row.status) == (12, 11, S.MISSED)
    row = _row(
        compliance_for(by=SYSTEM, org=branch, year=2024, quarter=1, today=dt.date(2025, 1, 1)), branch, K.SELF_STUDY
    )
    assert (row.attendance_rate, row.status) == (Decimal("95.0"), S.DONE)


def test_a_multi_kind_record_counts_for_each_kind(tree):
    _, branch, _ = tree
    ActivityRecordFactory(organization=branch, date=dt.date(2024, 5, 8), kinds=[K.THEME_DAY, K.GROUP_MEETING])
    report = compliance_for(by=SYSTEM, org=branch, year=2024, quarter=2, today=dt.date(2024, 5, 9))
    assert _row(report, branch, K.THEME_DAY).done == 1
    assert _row(report, branch, K.GROUP_MEETING).done == 1
    assert not [r for r in report.rows if r.duty.kind == K.COMMITTEE_MEETING]  # no members: no committee


def test_periods_before_the_organization_existed_are_not_required(tree):
    committee, _, _ = tree
    young = OrganizationFactory(parent=committee, code="T1C", kind=OrgKind.BRANCH, established_on=dt.date(2024, 10, 15))
    row = _row(compliance_for(by=SYSTEM, org=young, year=2024, today=dt.date(2025, 1, 1)), young, K.THEME_DAY)
    assert row.required == 3  # October to December


def test_rollup_and_fixed_queries(tree, django_assert_num_queries):
    committee, branch, other = tree
    _records(branch, K.LIFE_MEETING, [dt.date(2024, 6, 1)])
    for i in range(5):
        OrganizationFactory(parent=committee, code=f"T1X{i}", kind=OrgKind.BRANCH)
    with django_assert_num_queries(5):  # organizations, duties, records, attendance, leadership members
        report = compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2025, 1, 1))
    life = next(r for r in report.rollup if r.kind == K.LIFE_MEETING)
    assert (life.organizations, life.met, life.rate) == (7, 1, Decimal("14.3"))
    assert {r.organization.pk for r in report.rows} >= {committee.pk, branch.pk, other.pk}


def _lecture_row(report, org):
    rows = [r for r in report.rows if r.organization.pk == org.pk and r.duty.per_member]
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_each_leadership_member_gives_a_lecture_a_year(tree, django_assert_max_num_queries):
    """Jiangsu seed: 班子成员每年带头讲党课至少1次以上 — counted per lecturer, wherever the lecture was given, for
    the leadership organization above the member's own branch."""
    committee, branch, other = tree
    leaders = [MemberFactory(organization=branch, is_leadership=True) for _ in range(2)]
    MemberFactory(organization=branch)  # not a leadership member: not required
    ActivityRecordFactory(organization=other, date=dt.date(2024, 3, 5), kinds=[K.PARTY_LECTURE], lecturer=leaders[0])
    ActivityRecordFactory(organization=branch, date=dt.date(2023, 12, 30), kinds=[K.PARTY_LECTURE], lecturer=leaders[1])
    with django_assert_max_num_queries(6):
        report = compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2024, 6, 1))
    row = _lecture_row(report, committee)
    assert (row.required, row.done, row.periods, row.periods_met, row.status) == (2, 1, 2, 1, S.IN_PROGRESS)
    assert row.duty.label == "党课（每名班子成员）"
    assert _lecture_row(report, branch) is None  # branches keep their own quarterly 党课 duty instead
    late = compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2025, 1, 1))
    assert _lecture_row(late, committee).status == S.MISSED
    ActivityRecordFactory(organization=branch, date=dt.date(2024, 11, 5), kinds=[K.PARTY_LECTURE], lecturer=leaders[1])
    done = compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2025, 1, 1))
    assert _lecture_row(done, committee).status == S.DONE
    rollup = next(r for r in done.rollup if r.label == "党课（每名班子成员）")
    assert (rollup.organizations, rollup.met) == (1, 1)


def test_a_leadership_member_counts_for_the_nearest_leadership_organization(tree):
    committee, branch, _ = tree
    general = OrganizationFactory(parent=committee, code="T1G", kind=OrgKind.GENERAL_BRANCH)
    under = OrganizationFactory(parent=general, code="T1G1", kind=OrgKind.BRANCH)
    MemberFactory(organization=under, is_leadership=True)
    MemberFactory(organization=branch, is_leadership=True)
    report = compliance_for(by=SYSTEM, org=committee, year=2024, today=dt.date(2024, 6, 1))
    assert _lecture_row(report, general).periods == 1
    assert _lecture_row(report, committee).periods == 1
    # A committee without leadership members on the roster has no per-member row (nothing to require).
    assert _lecture_row(compliance_for(by=SYSTEM, org=under, year=2024), under) is None


def test_the_leadership_lectures_member_by_member(tree):
    committee, branch, other = tree
    leader, idle = (
        MemberFactory(organization=branch, is_leadership=True, name=n) for n in ("讲过的书记", "没讲的委员")
    )
    ActivityRecordFactory(organization=other, date=dt.date(2024, 4, 1), kinds=[K.PARTY_LECTURE], lecturer=leader)
    rows = leadership_lectures(by=SYSTEM, org=committee, year=2024)
    assert {(r.name, r.lectures) for r in rows} == {("讲过的书记", 1), ("没讲的委员", 0)}
    assert leadership_lectures(by=SYSTEM, org=branch, year=2024) == []
    assert idle.pk in {r.member_id for r in rows}
