"""The record services: who may record, the bad inputs (nothing saved), locking and the correction path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.members.models import Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife import services
from dangjian.orglife.models import ActivityAttendance, ActivityKind, ActivityRecord, RecordCorrection
from dangjian.orglife.tests.factories import ActivityRecordFactory
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def place():
    committee = OrganizationFactory(code="S1", kind=OrgKind.COMMITTEE)
    branch = OrganizationFactory(
        parent=committee, code="S1A", kind=OrgKind.BRANCH, established_on=TODAY - dt.timedelta(days=10)
    )
    other = OrganizationFactory(parent=committee, code="S1B", kind=OrgKind.BRANCH)
    secretary = UserFactory()
    grant(secretary, Role.SECRETARY, branch)
    members = [MemberFactory(organization=branch) for _ in range(3)]
    return branch, other, secretary, members


def _create(place, **kwargs):
    branch, _, secretary, members = place
    values = {
        "by": secretary,
        "organization": branch,
        "kinds": [ActivityKind.THEME_DAY, ActivityKind.GROUP_MEETING],
        "date": TODAY,
        "topic": "学习党章",
        "attendees": members[:2],
        "absentees": {members[2]: "出差"},
    }
    values.update(kwargs)
    return services.record_create(**values)


def test_the_secretary_records_a_meeting(place):
    record = _create(place)
    assert sorted(record.kinds.values_list("kind", flat=True)) == ["group_meeting", "theme_day"]
    assert record.attendances.filter(present=True).count() == 2
    assert record.attendances.get(present=False).absence_reason == "出差"
    assert record.history.count() == 1


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("future", "date"),
        ("before_established", "date"),
        ("beyond_lock", "date"),
        ("outsider", "attendees"),
        ("inactive", "attendees"),
        ("both", "absentees"),
        ("no_kinds", "kinds"),
        ("bad_kind", "kinds"),
        ("no_topic", "topic"),
    ],
)
def test_bad_inputs_save_nothing(place, case, field):
    branch, other, _, members = place
    kwargs = {
        "future": {"date": TODAY + dt.timedelta(days=1)},
        "before_established": {"date": TODAY - dt.timedelta(days=11)},
        "beyond_lock": {"date": TODAY - dt.timedelta(days=31)},
        "outsider": {"attendees": [MemberFactory(organization=other)]},
        "inactive": {"attendees": [MemberFactory(organization=branch, status=Status.TRANSFERRED_OUT)]},
        "both": {"attendees": members[:1], "absentees": {members[0]: "请假"}},
        "no_kinds": {"kinds": []},
        "bad_kind": {"kinds": ["picnic"]},
        "no_topic": {"topic": ""},
    }[case]
    if case == "beyond_lock":
        branch.established_on = None
        branch.save()
    with pytest.raises(ValidationError) as exc:
        _create(place, **kwargs)
    assert field in exc.value.message_dict
    assert not ActivityRecord.objects.exists()
    assert not ActivityAttendance.objects.exists()


def test_only_an_editor_of_the_organization_records(place):
    branch, other, secretary, _ = place
    with pytest.raises(PermissionDenied):
        services.record_create(by=secretary, organization=other, kinds=["theme_day"], date=TODAY, topic="x")
    viewer = UserFactory()
    grant(viewer, Role.INSTRUCTOR, branch)
    with pytest.raises(PermissionDenied):
        services.record_create(by=viewer, organization=branch, kinds=["theme_day"], date=TODAY, topic="x")
    assert not ActivityRecord.objects.exists()


def test_update_while_open_and_refused_once_locked(place):
    branch, _, secretary, members = place
    record = _create(place)
    services.record_update(by=secretary, record=record, topic="学习新党章", attendees=members)
    record.refresh_from_db()
    assert record.topic == "学习新党章"
    assert record.attendances.filter(present=True).count() == 3
    old = ActivityRecordFactory(organization=branch, date=TODAY - dt.timedelta(days=31), topic="旧记录")
    assert old.is_locked()
    with pytest.raises(ValidationError, match="记录已锁定，请通过更正流程修改"):
        services.record_update(by=secretary, record=old, topic="改")
    old.refresh_from_db()
    assert old.topic == "旧记录"
    assert not RecordCorrection.objects.exists()


@override_settings(DANGJIAN_ORGLIFE_LOCK_DAYS=5)
def test_the_lock_period_is_a_setting(place):
    branch, *_ = place
    assert ActivityRecordFactory(organization=branch, date=TODAY - dt.timedelta(days=6)).is_locked()
    assert not ActivityRecordFactory(organization=branch, date=TODAY - dt.timedelta(days=5)).is_locked()


def test_correction_of_a_locked_record_is_logged(place):
    branch, _, secretary, _ = place
    old = ActivityRecordFactory(organization=branch, date=TODAY - dt.timedelta(days=40), topic="旧记录")
    with pytest.raises(ValidationError):
        services.record_correct(by=secretary, record=old, reason="", topic="改")
    correction = services.record_correct(
        by=secretary, record=old, reason="主题录入有误", topic="新主题", kinds=["theme_day", "party_lecture"]
    )
    old.refresh_from_db()
    assert old.topic == "新主题"
    assert correction.changes["topic"] == ["旧记录", "新主题"]
    assert correction.changes["kinds"] == [["theme_day"], ["party_lecture", "theme_day"]]
    assert correction.corrected_by == secretary
    with pytest.raises(ValidationError):
        services.record_correct(by=secretary, record=old, reason="x", attendees=[MemberFactory()])
    assert RecordCorrection.objects.count() == 1


def test_an_attendee_who_left_the_branch_stays_on_the_record(place):
    """Bug: editing a record whose attendee had since moved to another branch dropped that attendance row."""
    _, other, secretary, members = place
    record = _create(place)
    moved = members[0]
    moved.organization = other
    moved.save()
    services.record_update(
        by=secretary, record=record, topic="学习新党章", attendees=members[:2], absentees={members[2]: "出差"}
    )
    assert set(record.attendances.filter(present=True).values_list("member_id", flat=True)) == {
        members[0].pk,
        members[1].pk,
    }
    # Someone never on the record who is not in the branch is still refused.
    with pytest.raises(ValidationError, match="在册党员"):
        services.record_update(by=secretary, record=record, attendees=[*members[:2], MemberFactory(organization=other)])


def test_editing_the_page_keeps_a_departed_attendee(place, client):
    _, other, secretary, members = place
    record = _create(place)
    moved = members[0]
    moved.organization = other
    moved.save()
    client.force_login(secretary)
    page = client.get(f"/orglife/records/{record.pk}/edit/")
    assert "已离开本组织" in page.content.decode()
    form = {
        "kinds": ["theme_day"],
        "date": TODAY.isoformat(),
        "topic": "改过的主题",
        **{f"present_{m.pk}": "on" for m in members[:2]},
        f"reason_{members[2].pk}": "出差",
    }
    response = client.post(f"/orglife/records/{record.pk}/edit/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert record.attendances.filter(member=moved, present=True).exists()
    assert record.attendances.count() == 3


def test_a_committee_meeting_is_attended_by_members_below_it(place):
    """中心组学习: a 党委's leadership members sit in the branches under it; they are not outsiders."""
    branch, other, _, members = place
    committee = Organization.objects.get(code="S1")
    leader = MemberFactory(organization=other, is_leadership=True)
    record = services.record_create(
        by=Access.system_access(),
        organization=committee,
        kinds=[ActivityKind.CENTRAL_GROUP_STUDY],
        date=TODAY,
        topic="中心组学习",
        attendees=[leader, members[0]],
    )
    assert record.attendances.count() == 2
    with pytest.raises(ValidationError, match="在册党员"):
        services.record_create(
            by=Access.system_access(),
            organization=branch,
            kinds=[ActivityKind.THEME_DAY],
            date=TODAY,
            topic="主题党日",
            attendees=[leader],  # a sibling branch's member is an outsider to the branch
        )
