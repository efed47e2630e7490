"""Compliance follows the rules as written: 支委会 only where a committee must exist (a branch of 7 or more full
members, counted at each period's end, the threshold a field of the duty); the leaders' yearly lecture for every
organization with a committee; attendance minimums against who should have attended (the roster of the record's
date, the leadership list for 中心组学习) with the reason shown; the duties' sources naming their documents."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.members.models import Category, MemberTransfer, Status, TransferKind, TransferStatus
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife.models import ActivityKind as K
from dangjian.orglife.models import Duty, DutyApplies
from dangjian.orglife.selectors.compliance import ComplianceStatus as S
from dangjian.orglife.selectors.compliance import compliance_for, leadership_lectures
from dangjian.orglife.tests.factories import ActivityRecordFactory, DutyFactory
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Access.system_access()
AFTER_2024 = dt.date(2025, 1, 10)
OLD = {"join_date": dt.date(2010, 3, 1), "full_date": dt.date(2011, 3, 1)}


@pytest.fixture
def root():
    return OrganizationFactory(code="R1", name="县教育工委", kind=OrgKind.WORK_COMMITTEE)


def _members(org, n, **kwargs):
    return [MemberFactory(organization=org, **{**OLD, **kwargs}) for _ in range(n)]


def _rows(report, org, kind, *, per_member=False):
    return [
        r
        for r in report.rows
        if r.organization.pk == org.pk and r.duty.kind == kind and r.duty.per_member == per_member
    ]


def _row(report, org, kind, *, per_member=False):
    rows = _rows(report, org, kind, per_member=per_member)
    assert len(rows) == 1, rows
    return rows[0]


# ---------------------------------------------------------------------------------------------------------
# 1. 支委会 only where a committee must exist


def test_a_small_joint_branch_owes_no_committee_meeting(root):
    joint = OrganizationFactory(parent=root, code="R1J", name="培训机构联合党支部", kind=OrgKind.JOINT_BRANCH)
    _members(joint, 3)
    report = compliance_for(by=SYSTEM, org=root, year=2024, today=AFTER_2024)
    assert _rows(report, joint, K.COMMITTEE_MEETING) == []
    assert _row(report, joint, K.THEME_DAY).required == 12  # its other duties stay
    assert not [r for r in report.rollup if r.kind == K.COMMITTEE_MEETING]


def test_the_committee_threshold_counts_full_members_only(root):
    branch = OrganizationFactory(parent=root, code="R1B", kind=OrgKind.BRANCH)
    _members(branch, 6)
    _members(branch, 3, category=Category.PROBATIONARY, full_date=None)  # 9 members, 6 of them full
    report = compliance_for(by=SYSTEM, org=branch, year=2024, today=AFTER_2024)
    assert _rows(report, branch, K.COMMITTEE_MEETING) == []
    _members(branch, 1)  # the seventh full member: the branch elects a committee
    report = compliance_for(by=SYSTEM, org=branch, year=2024, today=AFTER_2024)
    row = _row(report, branch, K.COMMITTEE_MEETING)
    assert (row.required, row.status) == (12, S.MISSED)


def test_the_committee_threshold_is_counted_at_each_periods_end(root):
    branch = OrganizationFactory(parent=root, code="R1B", kind=OrgKind.BRANCH)
    _members(branch, 5)
    # Full from 15 June (转正): counted from June's end.
    _members(branch, 1, join_date=dt.date(2023, 6, 15), full_date=dt.date(2024, 6, 15))
    # Suspended on 1 October: counted until September's end.
    _members(branch, 1, status=Status.SUSPENDED, status_changed_on=dt.date(2024, 10, 1))
    # Joined after the year: never counted in it.
    _members(branch, 1, join_date=dt.date(2025, 1, 5), full_date=None, category=Category.PROBATIONARY)
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, today=AFTER_2024), branch, K.COMMITTEE_MEETING)
    assert [p.first_month for p in row.unmet] == [6, 7, 8, 9]
    assert row.required == 4  # June to September: 7 full members


def test_the_threshold_is_data_on_the_duty(root):
    joint = OrganizationFactory(parent=root, code="R1J", kind=OrgKind.JOINT_BRANCH)
    _members(joint, 3)
    system = Duty.objects.get(kind=K.COMMITTEE_MEETING, owner=None)
    assert system.min_members == 7
    DutyFactory(kind=K.COMMITTEE_MEETING, owner=root, applies_to=DutyApplies.BRANCHES, min_members=3)
    row = _row(compliance_for(by=SYSTEM, org=root, year=2024, today=AFTER_2024), joint, K.COMMITTEE_MEETING)
    assert row.required == 12


# ---------------------------------------------------------------------------------------------------------
# 2. The leaders' yearly lecture for every organization with a committee


def test_the_leaders_of_a_branch_with_a_committee_give_a_lecture_a_year(root):
    big = OrganizationFactory(parent=root, code="R1S", name="城关小学党支部", kind=OrgKind.BRANCH)
    leaders = _members(big, 2, is_leadership=True)
    _members(big, 5)
    small = OrganizationFactory(parent=root, code="R1T", name="村小党支部", kind=OrgKind.BRANCH)
    _members(small, 1, is_leadership=True)
    _members(small, 2)
    ActivityRecordFactory(organization=big, date=dt.date(2024, 4, 2), kinds=[K.PARTY_LECTURE], lecturer=leaders[0])
    report = compliance_for(by=SYSTEM, org=root, year=2024, today=AFTER_2024)
    row = _row(report, big, K.PARTY_LECTURE, per_member=True)
    assert (row.required, row.done, row.periods_met, row.status) == (2, 1, 1, S.MISSED)
    assert row.reason == "2024年：1名班子成员未完成（每人至少1次，共2人）"
    assert _row(report, big, K.PARTY_LECTURE).required == 4  # the branch's own quarterly 党课 stays
    # A branch of 3 has a secretary, not a committee: no leadership team to check.
    assert _rows(report, small, K.PARTY_LECTURE, per_member=True) == []
    lectures = leadership_lectures(by=SYSTEM, org=big, year=2024)
    assert sorted((r.member_id, r.lectures) for r in lectures) == sorted([(leaders[0].pk, 1), (leaders[1].pk, 0)])
    assert leadership_lectures(by=SYSTEM, org=small, year=2024) == []


def test_under_a_party_committee_the_leaders_still_answer_to_it(root):
    committee = OrganizationFactory(parent=root, code="R1C", kind=OrgKind.COMMITTEE)
    big = OrganizationFactory(parent=committee, code="R1C1", kind=OrgKind.BRANCH)
    _members(big, 2, is_leadership=True)
    _members(big, 6)
    report = compliance_for(by=SYSTEM, org=root, year=2024, today=AFTER_2024)
    assert _row(report, committee, K.PARTY_LECTURE, per_member=True).periods == 2
    assert _rows(report, big, K.PARTY_LECTURE, per_member=True) == []
    # The same when the branch is reported alone: the 党委 above it is looked up.
    alone = compliance_for(by=SYSTEM, org=big, year=2024, today=AFTER_2024)
    assert _rows(alone, big, K.PARTY_LECTURE, per_member=True) == []


# ---------------------------------------------------------------------------------------------------------
# 3. Attendance against who should have attended


def test_a_self_study_listing_one_of_twenty_members_does_not_meet_the_month(root):
    branch = OrganizationFactory(parent=root, code="R1B", kind=OrgKind.BRANCH)
    members = _members(branch, 20)
    ActivityRecordFactory(
        organization=branch, date=dt.date(2024, 1, 9), kinds=[K.SELF_STUDY], attendance=[(members[0], True)]
    )
    row = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=1, today=AFTER_2024), branch, K.SELF_STUDY)
    assert (row.attendance_rate, row.present, row.expected) == (Decimal("5.0"), 1, 20)
    assert row.status == S.MISSED
    assert row.shortfalls[0] == "2024年1月：出席率 5%（1/20），低于95%"
    assert row.reason.startswith("2024年1月：出席率 5%（1/20），低于95%；2024年2月：未开展（要求1次）")


def test_the_roster_is_the_one_of_the_records_date(root):
    branch = OrganizationFactory(parent=root, code="R1B", kind=OrgKind.BRANCH)
    other = OrganizationFactory(parent=root, code="R1O", kind=OrgKind.BRANCH)
    staying = _members(branch, 18)
    late = _members(branch, 1, join_date=dt.date(2024, 3, 1), full_date=None, category=Category.PROBATIONARY)[0]
    _members(branch, 1, status=Status.SUSPENDED, status_changed_on=dt.date(2024, 2, 1))  # left in February
    arrived = _members(branch, 1)[0]  # from the other branch, accepted on 10 March
    gone = _members(other, 1)[0]  # to the other branch, accepted on 10 March
    accepted = timezone.make_aware(dt.datetime(2024, 3, 10, 9, 30))
    for member, origin, target in ((arrived, other, branch), (gone, branch, other)):
        MemberTransfer.objects.create(
            member=member,
            kind=TransferKind.INTERNAL,
            status=TransferStatus.ACCEPTED,
            from_organization=origin,
            to_organization=target,
            transfer_date=dt.date(2024, 3, 1),
            decided_at=accepted,
        )
    everyone = [(m, True) for m in staying]
    ActivityRecordFactory(organization=branch, date=dt.date(2024, 1, 15), kinds=[K.SELF_STUDY], attendance=everyone)
    ActivityRecordFactory(
        organization=branch,
        date=dt.date(2024, 4, 15),
        kinds=[K.SELF_STUDY],
        attendance=[*everyone, (late, True), (arrived, True)],
    )
    january = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=1, today=AFTER_2024), branch, K.SELF_STUDY)
    assert (january.present, january.expected) == (18, 20)  # 18 stayers, the one who left, the one who moved away
    april = _row(compliance_for(by=SYSTEM, org=branch, year=2024, quarter=2, today=AFTER_2024), branch, K.SELF_STUDY)
    assert (april.present, april.expected) == (20, 20)  # 18 stayers, the new member, the one who moved in
    # The member who moved away counted in the other branch from 10 March; the one who moved in before it.
    ActivityRecordFactory(organization=other, date=dt.date(2024, 3, 9), kinds=[K.SELF_STUDY])
    ActivityRecordFactory(organization=other, date=dt.date(2024, 3, 11), kinds=[K.SELF_STUDY])
    march = _row(compliance_for(by=SYSTEM, org=root, year=2024, quarter=1, today=AFTER_2024), other, K.SELF_STUDY)
    assert march.expected == 2  # arrived on the 9th, gone on the 11th


def test_central_group_study_is_measured_against_the_leadership(root):
    committee = OrganizationFactory(parent=root, code="R1C", kind=OrgKind.COMMITTEE)
    branch = OrganizationFactory(parent=committee, code="R1C1", kind=OrgKind.BRANCH)
    leaders = _members(branch, 10, is_leadership=True)
    others = _members(branch, 5)
    for month in range(1, 7):
        ActivityRecordFactory(
            organization=committee,
            date=dt.date(2024, month, 10),
            kinds=[K.CENTRAL_GROUP_STUDY],
            attendance=[(leaders[0], True), (leaders[1], True), *[(m, True) for m in others]],
        )
    row = _row(compliance_for(by=SYSTEM, org=root, year=2024, today=AFTER_2024), committee, K.CENTRAL_GROUP_STUDY)
    assert (row.done, row.present, row.expected, row.attendance_rate) == (6, 12, 60, Decimal("20.0"))
    assert row.status == S.MISSED
    assert row.reason == "2024年：出席率 20%（12/60），低于90%"


def test_the_compliance_page_shows_the_rate_and_the_reason(world):
    a = world.orgs["A"]
    present = world.members["A"][0]
    ActivityRecordFactory(organization=a, date=dt.date(2024, 1, 9), kinds=[K.SELF_STUDY], attendance=[(present, True)])
    response = world.client(Role.COMMITTEE).get("/orglife/compliance/", {"org": a.code, "year": 2024})
    body = response.content.decode()
    assert "2024年1月：出席率 50%（1/2），低于95%" in body
    assert "（1/2，≥95.0%）" in body


def test_queries_stay_fixed_with_transfers_and_leaders(root, django_assert_max_num_queries):
    committee = OrganizationFactory(parent=root, code="R1C", kind=OrgKind.COMMITTEE)
    branches = [OrganizationFactory(parent=committee, code=f"R1C{i}", kind=OrgKind.BRANCH) for i in range(4)]
    for i, branch in enumerate(branches):
        _members(branch, 8)
        _members(branch, 1, is_leadership=True)
        member = _members(branch, 1)[0]
        MemberTransfer.objects.create(
            member=member,
            kind=TransferKind.INTERNAL,
            status=TransferStatus.ACCEPTED,
            from_organization=branches[i - 1],
            to_organization=branch,
            transfer_date=dt.date(2024, 5, 1),
            decided_at=timezone.make_aware(dt.datetime(2024, 5, 2)),
        )
        ActivityRecordFactory(organization=branch, date=dt.date(2024, 6, 3), kinds=[K.SELF_STUDY, K.THEME_DAY])
    # organizations, duties, records, attendance, rosters, transfers, lectures
    with django_assert_max_num_queries(7):
        report = compliance_for(by=SYSTEM, org=root, year=2024, today=AFTER_2024)
    assert _row(report, branches[0], K.SELF_STUDY).expected == 10


# ---------------------------------------------------------------------------------------------------------
# 4. The sources name their documents

JIANGSU = "江苏省委教育工委《关于加强教育系统学习型、服务型、创新型党组织建设的意见》"
JIANSHI = "建始县教育局党委《关于做好2020年全县教育系统党建工作的通知》（建教党〔2020〕9号）"


def _source(kind, per_member=False):
    return Duty.objects.get(kind=kind, owner=None, per_member=per_member).source


def test_each_duty_names_its_document():
    for kind in (K.CENTRAL_GROUP_STUDY, K.SELF_STUDY):
        assert _source(kind).startswith(JIANGSU), kind
    for kind in (K.PARTY_WORK_STUDY, K.IDEOLOGY_RISK, K.IDEOLOGY_STUDY, K.IDEOLOGY_BRIEFING):
        assert _source(kind).startswith(JIANSHI), kind
    assert _source(K.PARTY_LECTURE, per_member=True).startswith(JIANSHI)
    assert "90%" in _source(K.CENTRAL_GROUP_STUDY) and "95%" in _source(K.SELF_STUDY)
    assert "正式党员7人以上" in _source(K.COMMITTEE_MEETING)
    lecture = Duty.objects.get(kind=K.PARTY_LECTURE, owner=None, per_member=True)
    assert (lecture.applies_to, lecture.min_members) == (DutyApplies.COMMITTEES, 7)


def test_the_data_migration_corrects_existing_rows():
    migration = importlib.import_module("dangjian.orglife.migrations.0006_duty_thresholds_and_sources")
    Duty.objects.filter(owner=None).delete()
    for (kind, per_member), (old, _new) in migration.SOURCES.items():
        DutyFactory(
            kind=kind,
            per_member=per_member,
            source=old,
            applies_to=DutyApplies.LEADERSHIP if per_member else DutyApplies.BRANCHES,
        )
    kept = DutyFactory(kind=K.SELF_STUDY, owner=OrganizationFactory(), source="本县自定")
    migration.forward(django_apps, None)
    for (kind, per_member), (_old, new) in migration.SOURCES.items():
        assert _source(kind, per_member) == new
    assert _source(K.CENTRAL_GROUP_STUDY).startswith(JIANGSU)
    assert _source(K.IDEOLOGY_RISK).startswith(JIANSHI)
    assert Duty.objects.get(kind=K.COMMITTEE_MEETING, owner=None).min_members == 7
    lecture = Duty.objects.get(kind=K.PARTY_LECTURE, owner=None, per_member=True)
    assert (lecture.applies_to, lecture.min_members) == (DutyApplies.COMMITTEES, 7)
    assert Duty.objects.get(kind=K.CENTRAL_GROUP_STUDY, owner=None).attendance_base == "leadership"
    kept.refresh_from_db()
    assert kept.source == "本县自定"
