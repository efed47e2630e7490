"""Two editors of one record (core.versioning): both open the edit page of a member, an organizational-life record or
a booking; the first saves; the second save, made on the outdated copy, is refused with a message naming who saved
and when, the form comes back with the second editor's input, and the first editor's change stays.

Runs on SQLite and on PostgreSQL (the threaded race of two saves at the same moment is in tests/test_faults.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core.versioning import check_version, stale_message, version_of
from dangjian.members.models import Member
from dangjian.orglife.models import ActivityRecord, RecordCorrection
from dangjian.orglife.tests.factories import ActivityRecordFactory
from dangjian.schools.models import BookingRequest
from dangjian.schools.tests.test_booking_services import build_place, create

TODAY = timezone.localdate()


def form_data(form, **changes) -> dict:
    """What a browser posts for the form as the page rendered it (its initial values), with `changes`."""
    data: dict = {}
    for field in form:
        value = field.value()
        if field.widget_type == "checkbox":
            if value:
                data[field.name] = "on"
            continue
        if value is None:
            value = ""
        elif isinstance(value, list | tuple):
            value = [str(v) for v in value]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        data[field.name] = value
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def _two_editors(url: str, first: Client, second: Client, first_changes: dict, second_changes: dict):
    page_first, page_second = first.get(url), second.get(url)
    assert page_first.status_code == page_second.status_code == 200
    form_first, form_second = page_first.context["form"], page_second.context["form"]
    assert str(form_first.initial["version"]) and 'name="version"' in page_first.content.decode()
    saved = first.post(url, form_data(form_first, **first_changes))
    assert saved.status_code == 302, saved.context["form"].errors if saved.context else saved
    return second.post(url, form_data(form_second, **second_changes))


def test_the_second_editor_of_a_member_is_refused_and_the_first_change_stays(world):
    member = world.members["A"][1]
    url = f"/members/{member.pk}/edit/"
    history_before = member.history.count()
    refused = _two_editors(
        url,
        world.client(Role.COMMITTEE),
        world.client(Role.SECRETARY),
        {"name": "先改的名字", "organization": "BJ01A"},
        {"name": "后改的名字", "organization": "BJ01A"},
    )
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "该党员的信息已被他人修改" in page and "请刷新后重新编辑" in page
    assert world.user(Role.COMMITTEE).full_name in page  # who saved first
    assert 'value="后改的名字"' in page  # the second editor's input is kept in the form
    member = Member.objects.dangerously_all().get(pk=member.pk)
    assert member.name == "先改的名字" and member.history.count() == history_before + 1


def test_the_second_editor_of_an_activity_record_is_refused(world):
    record = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=2), topic="原主题")
    url = f"/orglife/records/{record.pk}/edit/"
    refused = _two_editors(
        url,
        world.client(Role.SECRETARY),
        world.client(Role.COMMITTEE),
        {"topic": "支部书记改的主题"},
        {"topic": "党委改的主题", "minutes": "党委写的记录"},
    )
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "该记录已被他人修改" in page and world.user(Role.SECRETARY).full_name in page
    assert "党委写的记录" in page
    record.refresh_from_db()
    assert (record.topic, record.minutes) == ("支部书记改的主题", "")


def test_the_second_corrector_of_a_locked_record_is_refused(world):
    record = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=60), topic="旧主题")
    assert record.is_locked()
    refused = _two_editors(
        f"/orglife/records/{record.pk}/edit/",
        world.client(Role.SECRETARY),
        world.client(Role.COMMITTEE),
        {"topic": "第一次更正", "reason": "笔误"},
        {"topic": "第二次更正", "reason": "另一处笔误"},
    )
    assert refused.status_code == 200 and "该记录已被他人修改" in refused.content.decode()
    record.refresh_from_db()
    assert record.topic == "第一次更正"
    assert list(RecordCorrection.objects.filter(record=record).values_list("reason", flat=True)) == ["笔误"]


def test_the_second_editor_of_a_booking_is_refused(world):
    place = build_place(world)
    booking = create(place)
    refused = _two_editors(
        f"/schools/bookings/{booking.pk}/edit/",
        _client(place.town_admin),
        _client(place.district_admin),
        {"topic": "街道改的主题"},
        {"topic": "区里改的主题"},
    )
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "该约课已被他人修改" in page and "街道党校管理员" in page
    assert BookingRequest.objects.get(pk=booking.pk).topic == "街道改的主题"


def test_an_editor_who_loaded_the_latest_version_saves(world):
    """The check refuses only an outdated copy: after refreshing, the second editor saves."""
    record = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=2), topic="原主题")
    url = f"/orglife/records/{record.pk}/edit/"
    client = world.client(Role.SECRETARY)
    for topic in ("第一次", "第二次"):
        form = client.get(url).context["form"]
        assert client.post(url, form_data(form, topic=topic)).status_code == 302
    record.refresh_from_db()
    assert record.topic == "第二次"


@pytest.mark.parametrize("version", ["2000-01-01T00:00:00+00:00", "不是版本", "x" * 40])
def test_a_forged_or_garbled_version_is_refused_and_nothing_saved(world, version):
    record = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=2), topic="原主题")
    url = f"/orglife/records/{record.pk}/edit/"
    client = world.client(Role.SECRETARY)
    form = client.get(url).context["form"]
    response = client.post(url, form_data(form, topic="新主题", version=version))
    assert response.status_code == 200 and "该记录已被他人修改" in response.content.decode()
    assert ActivityRecord.objects.get(pk=record.pk).topic == "原主题"


def test_a_too_long_version_is_a_form_error_not_a_500(world):
    record = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=2), topic="原主题")
    url = f"/orglife/records/{record.pk}/edit/"
    client = world.client(Role.SECRETARY)
    form = client.get(url).context["form"]
    response = client.post(url, form_data(form, topic="新主题", version="9" * 500))
    assert response.status_code == 200
    assert ActivityRecord.objects.get(pk=record.pk).topic == "原主题"


def test_the_check_itself(world):
    member = Member.objects.dangerously_all().get(pk=world.members["A"][0].pk)
    check_version(member, None)  # no version sent: a command or an import, not checked
    check_version(member, "")
    check_version(member, version_of(member))
    with pytest.raises(ValidationError) as refused:
        check_version(member, str(member.version + 1), what="该党员的信息")
    assert refused.value.code == "stale"
    assert refused.value.messages == [stale_message(member, what="该党员的信息")]
    record = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=2))
    assert version_of(record) == record.updated_at.isoformat()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
