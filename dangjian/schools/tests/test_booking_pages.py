"""The booking pages: the list (filters, paging, query count), a new booking and its bad input, the detail page's
actions per role (a non-manager gets 403 and nothing changes), scheduling with a clash shown beside its field,
returning without a reason, and the district school's board (the month grid, the waiting list, query count)."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.schools.models import BookingEvent, BookingRequest, BookingStatus, SchoolLevel
from dangjian.schools.tests.factories import PartySchoolFactory
from dangjian.schools.tests.test_booking_services import (
    TODAY,
    Place,
    at,
    build_place,
    create,
    ended,
    scheduled,
    snapshot,
    submitted,
)


@pytest.fixture
def place(world) -> Place:
    return build_place(world)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> str:
    return response.content.decode()


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def new_booking_data(place: Place, **overrides) -> dict:
    data = {
        "school": place.town.pk,
        "topic": "学习贯彻党的二十大精神",
        "target_group": "members",
        "headcount": "60",
        "wanted_from": (TODAY() + dt.timedelta(days=14)).isoformat(),
        "wanted_to": (TODAY() + dt.timedelta(days=28)).isoformat(),
        "venue_note": "",
        "courses": [place.course.pk],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------------------------------------------------
# New booking


def test_create_page_files_a_draft(place):
    client = client_of(place.town_admin)
    assert client.get(reverse("schools:booking_create")).status_code == 200
    response = client.post(reverse("schools:booking_create"), new_booking_data(place))
    booking = BookingRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == booking.get_absolute_url()
    assert (booking.school, booking.dispatcher, booking.status) == (place.town, place.district, BookingStatus.DRAFT)


BAD_PAGE_INPUT = {
    "past-date": ({"wanted_from": "yesterday"}, "期望开始日期：期望开始日期不能早于今天"),
    "headcount-0": ({"headcount": "0"}, "培训人数：培训人数须在1至10000人之间。"),
    "no-course": ({"courses": None}, "所选课程：请至少选择一门课程。"),
    "foreign-school": ({"school": "other"}, "约课党校："),
    "no-topic": ({"topic": ""}, "培训主题："),
}


@pytest.mark.parametrize("overrides,shown", BAD_PAGE_INPUT.values(), ids=BAD_PAGE_INPUT.keys())
def test_create_page_with_bad_input_rerenders_with_the_message(place, overrides, shown):
    overrides = dict(overrides)
    if overrides.get("wanted_from") == "yesterday":
        overrides["wanted_from"] = (TODAY() - dt.timedelta(days=1)).isoformat()
    if overrides.get("school") == "other":
        x_school = PartySchoolFactory(organization=place.world.orgs["XB"])
        overrides["school"] = x_school.pk  # an id the user does not manage
    response = client_of(place.town_admin).post(reverse("schools:booking_create"), new_booking_data(place, **overrides))
    assert response.status_code == 200
    assert shown in body(response)
    assert not BookingRequest.objects.exists()


def test_create_page_without_a_district_school_above(place):
    lonely = PartySchoolFactory(organization=place.world.orgs["B"], level=SchoolLevel.TOWN)
    place.district.active = False
    place.district.save()
    response = client_of(place.world.user(Role.SCHOOL_ADMIN)).post(
        reverse("schools:booking_create"), new_booking_data(place, school=lonely.pk)
    )
    assert response.status_code == 200
    assert "约课党校：上级没有区委党校，无法派单。" in body(response)
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_create_page_is_for_managers_only(place, role):
    client = place.world.client(role)
    assert client.get(reverse("schools:booking_create")).status_code == 403
    assert client.post(reverse("schools:booking_create"), new_booking_data(place)).status_code == 403
    assert not BookingRequest.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# The list


def test_list_shows_the_bookings_in_scope_with_filters(place):
    draft = create(place, topic="草稿约课")
    sent = submitted(place, topic="已提交约课")
    x_school = PartySchoolFactory(organization=place.world.orgs["XB"], name="临湖某党校")
    BookingRequest.objects.create(
        school=x_school,
        dispatcher=x_school,
        topic="外县约课",
        target_group="members",
        headcount=5,
        wanted_from=TODAY(),
        wanted_to=TODAY(),
    )
    client = client_of(place.town_admin)
    page = body(client.get(reverse("schools:booking_list")))
    assert "草稿约课" in page and "已提交约课" in page and "外县约课" not in page

    response = client.get(reverse("schools:booking_list"), {"status": "submitted"})
    assert [b.pk for b in response.context["page"]] == [sent.pk]
    response = client.get(reverse("schools:booking_list"), {"school": place.town.pk})
    assert {b.pk for b in response.context["page"]} == {draft.pk, sent.pk}
    month = (TODAY() + dt.timedelta(days=14)).strftime("%Y-%m")
    response = client.get(reverse("schools:booking_list"), {"month": month})
    assert {b.pk for b in response.context["page"]} == {draft.pk, sent.pk}
    far = (TODAY() + dt.timedelta(days=400)).strftime("%Y-%m")
    assert not list(client.get(reverse("schools:booking_list"), {"month": far}).context["page"])


def test_list_month_filter_follows_the_session_once_scheduled(place):
    booking = scheduled(place, at(9), at(11))
    month = timezone.localtime(booking.starts_at).strftime("%Y-%m")
    response = client_of(place.town_admin).get(reverse("schools:booking_list"), {"month": month})
    assert [b.pk for b in response.context["page"]] == [booking.pk]


@pytest.mark.parametrize("value", ["2025-13", "abc", "1999-01"])
def test_list_with_a_bad_month_shows_the_error(place, value):
    create(place)
    response = client_of(place.town_admin).get(reverse("schools:booking_list"), {"month": value})
    assert response.status_code == 200
    assert "月份：月份格式应为“年-月”" in body(response)
    assert not list(response.context["page"])


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_list_is_closed_to_roles_without_school_data(place, role):
    assert place.world.client(role).get(reverse("schools:booking_list")).status_code == 403


def _queries_for(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_rows(place):
    client = client_of(place.town_admin)
    for hour in (6, 7):
        scheduled(place, at(hour), at(hour + 1), topic=f"场次{hour}")
    few = _queries_for(client, reverse("schools:booking_list"))
    for hour in range(10, 18):
        scheduled(place, at(hour), at(hour + 1), topic=f"场次{hour}")
        create(place)
    assert _queries_for(client, reverse("schools:booking_list")) == few


# ---------------------------------------------------------------------------------------------------------
# The detail page and its actions


def test_detail_shows_the_trail_and_the_requesters_actions(place):
    booking = create(place)
    page = body(client_of(place.town_admin).get(booking.get_absolute_url()))
    assert "提交区委党校排课" in page
    assert reverse("schools:booking_edit", args=[booking.pk]) in page
    assert "街道党校管理员" in page and "约课邀请函：1门课程" in page
    assert 'id="schedule-form"' not in page


def test_detail_shows_the_dispatchers_actions(place):
    booking = submitted(place)
    page = body(client_of(place.district_admin).get(booking.get_absolute_url()))
    assert 'id="schedule-form"' in page and 'id="return-form"' in page
    assert 'type="datetime-local"' in page
    response = client_of(place.town_admin).get(booking.get_absolute_url())
    assert 'id="schedule-form"' not in body(response)
    assert not response.context["actions"].any


def test_a_viewer_sees_the_booking_but_no_actions(place):
    booking = submitted(place)
    response = place.world.client(Role.SECRETARY).get(booking.get_absolute_url())
    assert response.status_code == 200
    assert not response.context["actions"].any


def test_detail_of_a_booking_out_of_scope_is_404(place):
    booking = create(place)
    other_admin = place.world.user(Role.INSTRUCTOR)  # sees B only
    assert client_of(other_admin).get(booking.get_absolute_url()).status_code == 404


def test_submit_page(place):
    booking = create(place)
    response = client_of(place.town_admin).post(reverse("schools:booking_submit", args=[booking.pk]))
    assert response.status_code == 302
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.SUBMITTED
    response = client_of(place.town_admin).post(reverse("schools:booking_submit", args=[booking.pk]), follow=True)
    assert "约课未提交：已提交的约课不能提交。" in body(response)


def test_schedule_page_schedules(place):
    booking = submitted(place)
    data = {
        "instructor": place.instructor.pk,
        "starts_at": local(at(9)),
        "ends_at": local(at(11)),
        "venue": place.district_venue.pk,
    }
    response = client_of(place.district_admin).post(reverse("schools:booking_schedule", args=[booking.pk]), data)
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.starts_at, booking.venue) == (BookingStatus.SCHEDULED, at(9), place.district_venue)


def test_schedule_page_shows_a_double_booking_beside_the_field(place):
    scheduled(place, at(9), at(11), topic="第一场")
    booking = submitted(place, topic="第二场")
    before = snapshot(booking)
    data = {
        "instructor": place.instructor.pk,
        "starts_at": local(at(10)),
        "ends_at": local(at(12)),
        "venue": place.district_venue.pk,
    }
    response = client_of(place.district_admin).post(reverse("schools:booking_schedule", args=[booking.pk]), data)
    assert response.status_code == 200
    assert "授课讲师：讲师王讲师在该时段已有排课：晨曦街道党校“第一场”" in body(response)
    # The busy list for the posted instructor and day is shown too.
    assert 'id="busy-slots"' in body(response) and "09:00–11:00" in body(response)
    assert snapshot(booking) == before


def test_schedule_page_refuses_a_venue_of_another_school(place):
    booking = submitted(place)
    data = {
        "instructor": place.instructor.pk,
        "starts_at": local(at(9)),
        "ends_at": local(at(11)),
        "venue": place.other_venue.pk,
    }
    response = client_of(place.district_admin).post(reverse("schools:booking_schedule", args=[booking.pk]), data)
    assert response.status_code == 200
    assert "上课场地：" in body(response)
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.SUBMITTED


def test_schedule_page_with_a_past_time(place):
    booking = submitted(place)
    past = timezone.now() - dt.timedelta(hours=2)
    data = {
        "instructor": place.instructor.pk,
        "starts_at": local(past),
        "ends_at": local(past + dt.timedelta(hours=1)),
        "venue": place.town_venue.pk,
    }
    response = client_of(place.district_admin).post(reverse("schools:booking_schedule", args=[booking.pk]), data)
    assert response.status_code == 200
    assert "开始时间：开始时间须晚于当前时间。" in body(response)


def test_busy_slots_of_an_instructor_for_a_day(place):
    scheduled(place, at(14), at(16), topic="下午场")
    booking = submitted(place)
    day = (TODAY() + dt.timedelta(days=20)).isoformat()
    response = client_of(place.district_admin).get(
        booking.get_absolute_url(), {"busy_instructor": place.instructor.pk, "busy_day": day}
    )
    page = body(response)
    assert "14:00–16:00 已排" in page and "下午场" in page
    response = client_of(place.district_admin).get(
        booking.get_absolute_url(), {"busy_instructor": place.instructor2.pk, "busy_day": day}
    )
    assert "全天空闲" in body(response)


def test_return_page_needs_a_reason(place):
    booking = submitted(place)
    url = reverse("schools:booking_return", args=[booking.pk])
    response = client_of(place.district_admin).post(url, {"reason": ""})
    assert response.status_code == 200
    assert "退回原因：请填写退回原因。" in body(response)
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.SUBMITTED
    response = client_of(place.district_admin).post(url, {"reason": "请补充培训对象"})
    assert response.status_code == 302
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.RETURNED
    page = body(client_of(place.town_admin).get(booking.get_absolute_url()))
    assert "退回原因：请补充培训对象" in page


def test_complete_page(place):
    booking = ended(scheduled(place))
    page = body(client_of(place.town_admin).get(booking.get_absolute_url()))
    assert "确认完成" in page
    response = client_of(place.town_admin).post(reverse("schools:booking_complete", args=[booking.pk]), follow=True)
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.COMPLETED
    assert "未配置授课积分规则，未计积分" in body(response)


def test_complete_page_before_the_end(place):
    booking = scheduled(place)
    response = client_of(place.town_admin).post(reverse("schools:booking_complete", args=[booking.pk]), follow=True)
    assert "未能确认完成：课程尚未结束" in body(response)
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.SCHEDULED


def _action_posts(place: Place):
    """Each POST action with a booking in the state it applies to, and valid data."""
    return {
        "submit": (lambda: create(place), {}),
        "schedule": (
            lambda: submitted(place),
            {
                "instructor": place.instructor.pk,
                "starts_at": local(at(9)),
                "ends_at": local(at(11)),
                "venue": place.town_venue.pk,
            },
        ),
        "return": (lambda: submitted(place), {"reason": "不合适"}),
        "complete": (lambda: ended(scheduled(place)), {}),
        "edit": (lambda: create(place), {**new_booking_data(place), "topic": "改过的主题"}),
    }


NON_MANAGER_CASES = [
    *[
        (action, who)
        for action in ("submit", "schedule", "return", "complete", "edit")
        for who in ("secretary", "guide")
    ],
    # The requesting side may not do the dispatcher's part.
    ("schedule", "requester"),
    ("return", "requester"),
]


@pytest.mark.parametrize("action,who", NON_MANAGER_CASES, ids=[f"{a}-by-{w}" for a, w in NON_MANAGER_CASES])
def test_a_non_manager_gets_403_and_nothing_changes(place, action, who):
    make, data = _action_posts(place)[action]
    booking = make()
    user = {
        "secretary": lambda: place.world.user(Role.SECRETARY),  # sees A's bookings, manages nothing
        "guide": lambda: user_with_role(Role.INSTRUCTOR, place.world.orgs["A"]),  # 党建指导员 of A
        "requester": lambda: place.town_admin,
    }[who]()
    before = snapshot(booking)
    events_before = BookingEvent.objects.count()
    response = client_of(user).post(reverse(f"schools:booking_{action}", args=[booking.pk]), data)
    assert response.status_code == 403
    assert snapshot(booking) == before
    assert BookingEvent.objects.count() == events_before


def test_the_dispatcher_manager_may_also_edit_when_they_manage_the_school(place):
    """The district admin at R manages the town school's organization too: they may edit its draft."""
    booking = create(place)
    data = {**new_booking_data(place), "topic": "区里改的主题"}
    data.pop("school")
    response = client_of(place.district_admin).post(reverse("schools:booking_edit", args=[booking.pk]), data)
    assert response.status_code == 302
    assert BookingRequest.objects.get(pk=booking.pk).topic == "区里改的主题"


def test_edit_of_a_submitted_booking_redirects_with_a_message(place):
    booking = submitted(place)
    response = client_of(place.town_admin).get(reverse("schools:booking_edit", args=[booking.pk]), follow=True)
    assert "已提交的约课不能修改。" in body(response)


def test_edit_page_with_bad_input(place):
    booking = create(place)
    data = {**new_booking_data(place), "wanted_to": (TODAY() + dt.timedelta(days=1)).isoformat()}
    data.pop("school")
    response = client_of(place.town_admin).post(reverse("schools:booking_edit", args=[booking.pk]), data)
    assert response.status_code == 200
    assert "期望截止日期：期望截止日期不能早于期望开始日期。" in body(response)


# ---------------------------------------------------------------------------------------------------------
# The board


def test_board_month_grid_and_waiting_list(place):
    session = scheduled(place, at(9), at(11), topic="排好的课")
    waiting = submitted(place, topic="等待排课")
    day = timezone.localtime(session.starts_at).date()
    response = client_of(place.district_admin).get(reverse("schools:booking_board"), {"month": f"{day:%Y-%m}"})
    assert response.status_code == 200
    board = response.context["board"]
    assert board.dispatcher == place.district
    weeks = calendar.Calendar().monthdatescalendar(day.year, day.month)
    assert [[d.date for d in week] for week in board.weeks] == weeks
    assert all(len(week) == 7 and week[0].date.weekday() == 0 for week in board.weeks)
    cells = {d.date: d for week in board.weeks for d in week}
    assert [s.pk for s in cells[day].sessions] == [session.pk]
    assert sum(len(d.sessions) for d in cells.values()) == 1
    assert [b.pk for b in response.context["page"]] == [waiting.pk]
    page = body(response)
    assert "09:00–11:00" in page and "王讲师" in page and "等待排课" in page
    assert 'id="board-days"' in page  # the per-day list for small screens
    previous = (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert f"?month={previous}&amp;school={place.district.pk}" in page


def test_board_shows_only_its_own_month(place):
    session = scheduled(place, at(9), at(11))
    day = timezone.localtime(session.starts_at).date()
    later = (day.replace(day=1) + dt.timedelta(days=70)).strftime("%Y-%m")
    response = client_of(place.district_admin).get(reverse("schools:booking_board"), {"month": later})
    assert not response.context["board"].days_with_sessions


def test_board_with_a_bad_month_shows_the_error_and_this_month(place):
    response = client_of(place.district_admin).get(reverse("schools:booking_board"), {"month": "2025-99"})
    assert response.status_code == 200
    assert "月份：月份格式应为“年-月”" in body(response)
    assert response.context["board"].month == TODAY().replace(day=1)


def test_board_without_a_district_school_in_scope(place):
    response = place.world.client(Role.SECRETARY).get(reverse("schools:booking_board"))
    assert response.status_code == 200
    assert "您的范围内没有区委党校" in body(response)


def test_board_refuses_a_school_out_of_scope(place):
    foreign = PartySchoolFactory(organization=place.world.orgs["X"], level=SchoolLevel.DISTRICT, name="临湖县委党校")
    response = client_of(place.district_admin).get(reverse("schools:booking_board"), {"school": foreign.pk})
    assert response.status_code == 200
    assert response.context["dispatcher"] == place.district
    assert "临湖县委党校" not in body(response)


def test_board_query_count_does_not_grow_with_sessions(place):
    client = client_of(place.district_admin)
    month = f"{TODAY() + dt.timedelta(days=20):%Y-%m}"
    scheduled(place, at(8), at(9))
    submitted(place)
    few = _queries_for(client, reverse("schools:booking_board"), {"month": month})
    for hour in range(9, 17):
        scheduled(place, at(hour), at(hour + 1), topic=f"场次{hour}")
        submitted(place)
    assert _queries_for(client, reverse("schools:booking_board"), {"month": month}) == few
