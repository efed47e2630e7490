"""Members absent from organizational life for N consecutive months (连续未参加组织生活): the window's boundaries, who
joined or moved in too recently, attendance elsewhere, absent-with-reason, scope and the setting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.members.models import MemberTransfer, Status, TransferKind, TransferStatus
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife.selectors.absence import absence_window_start, absent_members
from dangjian.orglife.tests.factories import ActivityRecordFactory
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

TODAY = dt.date(2026, 6, 15)
START = dt.date(2025, 12, 1)  # six full months before June: December to May, and June so far
LONG_AGO = dt.date(2010, 7, 1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch():
    committee = OrganizationFactory(code="AB01", name="缺席测试党委", kind=OrgKind.COMMITTEE)
    return OrganizationFactory(parent=committee, code="AB01A", name="缺席测试支部", kind=OrgKind.BRANCH)


def member(org, **kwargs):
    kwargs.setdefault("join_date", LONG_AGO)
    return MemberFactory(organization=org, **kwargs)


def attended(org, who, on: dt.date, present: bool = True):
    return ActivityRecordFactory(organization=org, date=on, attendance=[(who, present)])


def flagged(org, today=TODAY, by=None, **kwargs) -> set[str]:
    return {m.name for m in absent_members(by=by or Access.system_access(), org=org, today=today, **kwargs)}


def test_window_is_six_full_months_and_the_current_one():
    assert absence_window_start(TODAY, 6) == START
    assert absence_window_start(dt.date(2026, 1, 31), 6) == dt.date(2025, 7, 1)
    assert absence_window_start(dt.date(2026, 7, 1), 6) == dt.date(2026, 1, 1)


def test_presence_on_the_first_day_of_the_window_clears_the_member(branch):
    at_start = member(branch, name="窗口首日")
    attended(branch, at_start, START)
    assert "窗口首日" not in flagged(branch)


def test_last_presence_the_day_before_the_window_is_six_months_absent(branch):
    before = member(branch, name="窗口前一日")
    attended(branch, before, START - dt.timedelta(days=1))
    assert flagged(branch) == {"窗口前一日"}


def test_presence_this_month_counts(branch):
    this_month = member(branch, name="本月出席")
    attended(branch, this_month, TODAY)
    assert flagged(branch) == set()


def test_absent_with_reason_is_not_present(branch):
    excused = member(branch, name="请假党员")
    attended(branch, excused, dt.date(2026, 3, 10), present=False)
    assert flagged(branch) == {"请假党员"}


def test_never_attended_is_flagged(branch):
    member(branch, name="从未参加")
    assert flagged(branch) == {"从未参加"}


def test_a_member_who_joined_two_months_ago_is_not_flagged(branch):
    member(branch, name="新党员", join_date=dt.date(2026, 4, 10))
    assert flagged(branch) == set()


def test_joining_on_the_window_start_is_a_whole_window(branch):
    member(branch, name="窗口首日入党", join_date=START)
    member(branch, name="次日入党", join_date=START + dt.timedelta(days=1))
    assert flagged(branch) == {"窗口首日入党"}


def test_a_member_who_moved_in_recently_is_not_flagged(branch):
    other = OrganizationFactory(code="AB02", name="原支部", kind=OrgKind.BRANCH)
    internal = member(branch, name="系统内转入")
    MemberTransfer.objects.create(
        member=internal,
        kind=TransferKind.INTERNAL,
        status=TransferStatus.ACCEPTED,
        from_organization=other,
        to_organization=branch,
        transfer_date=dt.date(2026, 3, 1),
        started_at=timezone.make_aware(dt.datetime(2026, 2, 20, 9)),
        decided_at=timezone.make_aware(dt.datetime(2026, 3, 1, 9)),
    )
    incoming = member(branch, name="系统外转入")
    MemberTransfer.objects.create(
        member=incoming,
        kind=TransferKind.INCOMING,
        status=TransferStatus.COMPLETED,
        to_organization=branch,
        external_organization="外省某党支部",
        letter_number="JS2026-001",
        transfer_date=dt.date(2026, 5, 1),
    )
    earlier = member(branch, name="早已转入")
    MemberTransfer.objects.create(
        member=earlier,
        kind=TransferKind.INCOMING,
        status=TransferStatus.COMPLETED,
        to_organization=branch,
        external_organization="外省某党支部",
        letter_number="JS2024-009",
        transfer_date=dt.date(2024, 5, 1),
    )
    assert flagged(branch) == {"早已转入"}


def test_attendance_at_another_organizations_activity_does_not_count(branch):
    other = OrganizationFactory(code="AB03", name="别的支部", kind=OrgKind.BRANCH)
    visitor = member(branch, name="外出参加")
    attended(other, visitor, dt.date(2026, 2, 1))
    assert flagged(branch) == {"外出参加"}


def test_only_active_members_are_flagged(branch):
    member(branch, name="已转出", status=Status.TRANSFERRED_OUT)
    member(branch, name="已去世", status=Status.DECEASED)
    assert flagged(branch) == set()


@override_settings(DANGJIAN_ORGLIFE_ABSENCE_MONTHS=3)
def test_months_come_from_the_setting(branch):
    recent = member(branch, name="四个月前出席")
    attended(branch, recent, dt.date(2026, 2, 10))
    assert flagged(branch) == {"四个月前出席"}
    assert flagged(branch, months=6) == set()


def test_subtree_and_scope(branch):
    parent = Organization.objects.get(code="AB01")
    sibling = OrganizationFactory(parent=parent, code="AB01B", name="兄弟支部", kind=OrgKind.BRANCH)
    member(branch, name="本支部缺席")
    member(sibling, name="兄弟支部缺席")
    assert flagged(parent) == {"本支部缺席", "兄弟支部缺席"}
    secretary = user_with_role(Role.SECRETARY, branch)
    assert flagged(parent, by=secretary) == {"本支部缺席"}
    assert flagged(branch, by=user_with_role(Role.SECRETARY, sibling)) == set()


def test_one_query_whatever_the_number_of_members(branch):
    for n in range(5):
        someone = member(branch)
        attended(branch, someone, dt.date(2025, 1 + n, 3))
    with CaptureQueriesContext(connection) as queries:
        assert len(flagged(branch)) == 5
    assert len(queries.captured_queries) == 1
