"""The booking services (约课 → 选课点单 → 排课派单): every transition and every refused one, the dispatcher rule,
double-booking an instructor or a venue (touching intervals are fine), the trail, and the points on completion.

The place: the world's tree (R > C1 > {A, B}, X > XB) with a district party school (区委党校) at R managed by
`district_admin`, a town school at A managed by `town_admin`, and a school at B; catalog rows owned at R.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.schools.models import (
    BookingEvent,
    BookingRequest,
    BookingStatus,
    PartySchool,
    PointEntry,
    PointEvent,
    PointRule,
    SchoolLevel,
    TargetGroup,
)
from dangjian.schools.selectors.booking import dispatcher_for, instructor_busy
from dangjian.schools.services import booking as services
from dangjian.schools.tests.factories import CourseFactory, InstructorFactory, PartySchoolFactory, SchoolVenueFactory


@dataclass
class Place:
    world: object
    district: PartySchool
    town: PartySchool
    other: PartySchool
    district_admin: object
    town_admin: object
    course: object
    instructor: object
    instructor2: object
    town_venue: object
    district_venue: object
    other_venue: object


def build_place(world) -> Place:
    r, a, b = world.orgs["R"], world.orgs["A"], world.orgs["B"]
    district = PartySchoolFactory(organization=r, level=SchoolLevel.DISTRICT, code="BJQW", name="滨江区委党校")
    town = PartySchoolFactory(organization=a, level=SchoolLevel.TOWN, code="BJ01AS", name="晨曦街道党校")
    other = PartySchoolFactory(organization=b, level=SchoolLevel.AMATEUR, code="BJ01BS", name="明德业余党校")
    return Place(
        world=world,
        district=district,
        town=town,
        other=other,
        district_admin=user_with_role(Role.SCHOOL_ADMIN, r, full_name="区委党校管理员"),
        town_admin=user_with_role(Role.SCHOOL_ADMIN, a, full_name="街道党校管理员"),
        course=CourseFactory(owner=r, title="乡村振兴思路举措"),
        instructor=InstructorFactory(owner=r, name="王讲师"),
        instructor2=InstructorFactory(owner=r, name="李讲师"),
        town_venue=SchoolVenueFactory(school=town, name="街道党群服务中心"),
        district_venue=SchoolVenueFactory(school=district, name="区委党校报告厅"),
        other_venue=SchoolVenueFactory(school=other, name="明德多功能厅"),
    )


@pytest.fixture
def place(world) -> Place:
    return build_place(world)


TODAY = timezone.localdate
SESSION_DAY_OFFSET = 20  # inside the default wanted range (today + 14 … today + 28)


def at(hour: int, minute: int = 0, *, days: int = SESSION_DAY_OFFSET) -> dt.datetime:
    """An aware time on the session day (or `days` from today), in Asia/Shanghai."""
    day = TODAY() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def request_fields(place: Place, **overrides) -> dict:
    fields = {
        "school": place.town,
        "topic": "学习贯彻党的二十大精神",
        "target_group": TargetGroup.MEMBERS,
        "headcount": 60,
        "wanted_from": TODAY() + dt.timedelta(days=14),
        "wanted_to": TODAY() + dt.timedelta(days=28),
        "venue_note": "街道党群服务中心",
        "courses": [place.course],
    }
    fields.update(overrides)
    return fields


def create(place: Place, **overrides) -> BookingRequest:
    return services.booking_create(by=place.town_admin, **request_fields(place, **overrides))


def submitted(place: Place, **overrides) -> BookingRequest:
    return services.booking_submit(by=place.town_admin, booking=create(place, **overrides))


def scheduled(place: Place, start=None, end=None, *, instructor=None, venue=None, **overrides) -> BookingRequest:
    return services.booking_schedule(
        by=place.district_admin,
        booking=submitted(place, **overrides),
        instructor=instructor or place.instructor,
        starts_at=start or at(9),
        ends_at=end or at(11),
        venue=venue or place.town_venue,
    )


def ended(booking: BookingRequest) -> BookingRequest:
    """Move a scheduled booking's session into the past (as if time had passed)."""
    start = timezone.now() - dt.timedelta(hours=3)
    BookingRequest.objects.filter(pk=booking.pk).update(starts_at=start, ends_at=start + dt.timedelta(hours=2))
    return BookingRequest.objects.get(pk=booking.pk)


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


def snapshot(booking: BookingRequest) -> tuple:
    b = BookingRequest.objects.get(pk=booking.pk)
    return (
        b.status,
        b.instructor_id,
        b.starts_at,
        b.ends_at,
        b.venue_id,
        b.returned_reason,
        b.topic,
        BookingEvent.objects.filter(booking=b).count(),
    )


# ---------------------------------------------------------------------------------------------------------
# Creating: the dispatcher, the content rules, the scope


def test_create_makes_a_draft_dispatched_by_the_district_school(place):
    booking = create(place)
    assert booking.status == BookingStatus.DRAFT
    assert booking.dispatcher == place.district
    assert list(booking.courses.all()) == [place.course]
    assert booking.created_by == place.town_admin
    (event,) = booking.events.all()
    assert (event.from_status, event.to_status, event.by) == ("", BookingStatus.DRAFT, place.town_admin)
    assert booking.history.first().history_user == place.town_admin


def test_the_nearest_active_district_school_dispatches(place):
    nearer = PartySchoolFactory(organization=place.world.orgs["C1"], level=SchoolLevel.DISTRICT, name="一中分校")
    assert create(place).dispatcher == nearer
    nearer.active = False
    nearer.save()
    assert create(place).dispatcher == place.district


def test_a_district_school_dispatches_its_own_bookings(place):
    booking = services.booking_create(by=place.district_admin, **request_fields(place, school=place.district))
    assert booking.dispatcher == place.district


def test_no_district_school_above_is_refused(place):
    lonely = PartySchoolFactory(organization=place.world.orgs["XB"], level=SchoolLevel.TOWN)
    admin = user_with_role(Role.SCHOOL_ADMIN, place.world.orgs["X"])
    course = CourseFactory(owner=place.world.orgs["X"])
    with pytest.raises(ValidationError) as exc:
        services.booking_create(by=admin, **request_fields(place, school=lonely, courses=[course]))
    assert errors_of(exc)["school"] == ["上级没有区委党校，无法派单。"]
    assert not BookingRequest.objects.filter(school=lonely).exists()


def test_a_district_school_in_another_tree_does_not_dispatch(place):
    """Only ancestors count: the district school at R does not dispatch for the X tree."""
    lonely = PartySchoolFactory(organization=place.world.orgs["XB"], level=SchoolLevel.TOWN)
    PartySchoolFactory(organization=place.world.orgs["B"], level=SchoolLevel.DISTRICT)  # a sibling, not above
    assert dispatcher_for(lonely) is None
    assert dispatcher_for(place.town) == place.district


BAD_REQUESTS = {
    "past-start": ({"wanted_from": -1}, "wanted_from", "期望开始日期不能早于今天"),
    "end-before-start": ({"wanted_from": 10, "wanted_to": 9}, "wanted_to", "期望截止日期不能早于期望开始日期。"),
    "no-headcount": ({"headcount": None}, "headcount", "请填写培训人数。"),
    "headcount-0": ({"headcount": 0}, "headcount", "培训人数须在1至10000人之间。"),
    "headcount-10001": ({"headcount": 10001}, "headcount", "培训人数须在1至10000人之间。"),
    "no-topic": ({"topic": "  "}, "topic", "请填写培训主题。"),
    "no-course": ({"courses": []}, "courses", "请至少选择一门课程。"),
    "inactive-course": ({"courses": "inactive"}, "courses", "所选课程中有已停用或不在您可选范围内的课程"),
    "course-of-another-tree": ({"courses": "foreign"}, "courses", "所选课程中有已停用或不在您可选范围内的课程"),
    "course-of-a-sibling": ({"courses": "sibling"}, "courses", "所选课程中有已停用或不在您可选范围内的课程"),
    "bad-target-group": ({"target_group": "cadres"}, "target_group", ""),
}


def _resolve(place: Place, overrides: dict) -> dict:
    resolved = dict(overrides)
    for key in ("wanted_from", "wanted_to"):
        if key in resolved:
            resolved[key] = TODAY() + dt.timedelta(days=resolved[key])
    courses = resolved.get("courses")
    if courses == "inactive":
        resolved["courses"] = [CourseFactory(owner=place.world.orgs["R"], active=False)]
    elif courses == "foreign":
        resolved["courses"] = [place.course, CourseFactory(owner=place.world.orgs["X"])]
    elif courses == "sibling":
        resolved["courses"] = [CourseFactory(owner=place.world.orgs["B"])]  # B's catalog is not shared with A
    return resolved


@pytest.mark.parametrize("overrides,field,message", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_create_with_bad_input_names_the_field_and_saves_nothing(place, overrides, field, message):
    before = BookingRequest.objects.count()
    with pytest.raises(ValidationError) as exc:
        create(place, **_resolve(place, overrides))
    errors = errors_of(exc)
    assert field in errors
    assert message in errors[field][0]
    assert BookingRequest.objects.count() == before
    assert not BookingEvent.objects.exists()


def test_create_reports_every_bad_field_at_once(place):
    with pytest.raises(ValidationError) as exc:
        create(place, topic="", headcount=0, courses=[])
    assert {"topic", "headcount", "courses"} <= set(errors_of(exc))


@pytest.mark.parametrize("who", ["secretary", "instructor", "other_school_admin"])
def test_create_by_a_non_manager_is_refused(place, who):
    user = {
        "secretary": place.world.user(Role.SECRETARY),  # sees A's schools, manages nothing
        "instructor": place.world.user(Role.INSTRUCTOR),
        "other_school_admin": user_with_role(Role.SCHOOL_ADMIN, place.world.orgs["B"]),
    }[who]
    with pytest.raises(PermissionDenied):
        services.booking_create(by=user, **request_fields(place))
    assert not BookingRequest.objects.exists()


def test_create_for_a_closed_school_is_refused(place):
    place.town.active = False
    place.town.save()
    with pytest.raises(ValidationError) as exc:
        create(place)
    assert errors_of(exc)["school"] == ["该党校已停办，不能约课。"]


# ---------------------------------------------------------------------------------------------------------
# Editing and submitting


def test_update_changes_a_draft_and_records_it(place):
    booking = create(place)
    second = CourseFactory(owner=place.world.orgs["R"], title="基层治理实务")
    fields = request_fields(place, topic="基层治理专题", headcount=80, courses=[place.course, second])
    fields.pop("school")
    services.booking_update(by=place.town_admin, booking=booking, **fields)
    booking.refresh_from_db()
    assert (booking.topic, booking.headcount) == ("基层治理专题", 80)
    assert set(booking.courses.all()) == {place.course, second}
    assert [e.note for e in booking.events.all()][-1] == "修改约课内容"


def test_update_validates_like_create(place):
    booking = create(place)
    fields = request_fields(place, wanted_from=TODAY() - dt.timedelta(days=1))
    fields.pop("school")
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_update(by=place.town_admin, booking=booking, **fields)
    assert "wanted_from" in errors_of(exc)
    assert snapshot(booking) == before


@pytest.mark.parametrize("status", [BookingStatus.SUBMITTED, BookingStatus.SCHEDULED])
def test_update_after_submitting_is_refused(place, status):
    booking = submitted(place) if status == BookingStatus.SUBMITTED else scheduled(place)
    fields = request_fields(place, topic="改个主题")
    fields.pop("school")
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_update(by=place.town_admin, booking=booking, **fields)
    assert exc.value.messages == [f"{BookingStatus(status).label}的约课不能修改。"]
    assert snapshot(booking) == before


def test_submit_sends_a_draft_to_the_dispatcher(place):
    booking = submitted(place)
    assert booking.status == BookingStatus.SUBMITTED
    event = booking.events.last()
    assert (event.from_status, event.to_status, event.by) == (
        BookingStatus.DRAFT,
        BookingStatus.SUBMITTED,
        place.town_admin,
    )


def test_submit_twice_is_refused(place):
    booking = submitted(place)
    with pytest.raises(ValidationError) as exc:
        services.booking_submit(by=place.town_admin, booking=booking)
    assert exc.value.messages == ["已提交的约课不能提交。"]


def test_submit_of_a_draft_whose_dates_passed_is_refused(place):
    booking = create(place)
    BookingRequest.objects.filter(pk=booking.pk).update(wanted_from=TODAY() - dt.timedelta(days=1))
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_submit(by=place.town_admin, booking=booking)
    assert "wanted_from" in errors_of(exc)
    assert snapshot(booking) == before


def test_submit_by_a_viewer_is_refused(place):
    booking = create(place)
    before = snapshot(booking)
    with pytest.raises(PermissionDenied):
        services.booking_submit(by=place.world.user(Role.SECRETARY), booking=booking)
    assert snapshot(booking) == before


# ---------------------------------------------------------------------------------------------------------
# Scheduling (排课派单)


def test_schedule_assigns_instructor_time_and_venue(place):
    booking = scheduled(place, at(9), at(11, 30), venue=place.district_venue)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.SCHEDULED
    assert (booking.instructor, booking.venue) == (place.instructor, place.district_venue)
    assert (booking.starts_at, booking.ends_at) == (at(9), at(11, 30))
    event = booking.events.last()
    assert (event.from_status, event.to_status, event.by) == (
        BookingStatus.SUBMITTED,
        BookingStatus.SCHEDULED,
        place.district_admin,
    )
    assert "王讲师" in event.note and "区委党校报告厅" in event.note


def test_schedule_by_the_requesting_side_is_refused(place):
    booking = submitted(place)
    before = snapshot(booking)
    with pytest.raises(PermissionDenied):
        services.booking_schedule(
            by=place.town_admin,
            booking=booking,
            instructor=place.instructor,
            starts_at=at(9),
            ends_at=at(11),
            venue=place.town_venue,
        )
    assert snapshot(booking) == before


@pytest.mark.parametrize("status", [BookingStatus.DRAFT, BookingStatus.RETURNED, BookingStatus.COMPLETED])
def test_schedule_in_the_wrong_state_is_refused(place, status):
    if status == BookingStatus.DRAFT:
        booking = create(place)
    elif status == BookingStatus.RETURNED:
        booking = services.booking_return(by=place.district_admin, booking=submitted(place), reason="主题不明确")
    else:
        booking = services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(
            by=place.district_admin,
            booking=booking,
            instructor=place.instructor,
            starts_at=at(9),
            ends_at=at(11),
            venue=place.town_venue,
        )
    phrase = {"draft": "草稿状态", "returned": "已退回", "completed": "已完成"}[status]
    assert exc.value.messages == [f"{phrase}的约课不能排课。"]
    assert snapshot(booking) == before


def _schedule_kwargs(place: Place, **overrides) -> dict:
    kwargs = {"instructor": place.instructor, "starts_at": at(9), "ends_at": at(11), "venue": place.town_venue}
    kwargs.update(overrides)
    return kwargs


def _past_start():
    now = timezone.localtime()
    return now - dt.timedelta(hours=1)


BAD_SCHEDULES = {
    "start-in-the-past": (
        lambda p: {"starts_at": _past_start(), "ends_at": _past_start() + dt.timedelta(minutes=30)},
        "starts_at",
        "开始时间须晚于当前时间。",
    ),
    "end-before-start": (lambda p: {"starts_at": at(11), "ends_at": at(9)}, "ends_at", "结束时间须晚于开始时间。"),
    "end-equals-start": (lambda p: {"starts_at": at(9), "ends_at": at(9)}, "ends_at", "结束时间须晚于开始时间。"),
    "over-midnight": (
        lambda p: {"starts_at": at(20), "ends_at": at(1, days=SESSION_DAY_OFFSET + 1)},
        "ends_at",
        "开始时间和结束时间须在同一天。",
    ),
    "before-the-wanted-range": (
        lambda p: {"starts_at": at(9, days=13), "ends_at": at(11, days=13)},
        "starts_at",
        "上课日期须在约课期望日期",
    ),
    "after-the-wanted-range": (
        lambda p: {"starts_at": at(9, days=29), "ends_at": at(11, days=29)},
        "starts_at",
        "上课日期须在约课期望日期",
    ),
    "no-instructor": (lambda p: {"instructor": None}, "instructor", "请选择授课讲师。"),
    "no-venue": (lambda p: {"venue": None}, "venue", "请选择上课场地。"),
    "no-start": (lambda p: {"starts_at": None}, "starts_at", "请填写开始时间。"),
    "instructor-not-visible": (
        lambda p: {"instructor": InstructorFactory(owner=p.world.orgs["X"], name="外县讲师")},
        "instructor",
        "该讲师不存在或不在您的师资库范围内。",
    ),
    "instructor-inactive": (
        lambda p: {"instructor": InstructorFactory(owner=p.world.orgs["R"], active=False, name="离库讲师")},
        "instructor",
        "讲师离库讲师已不在库，不能派单。",
    ),
    "appointment-ended": (
        lambda p: {
            "instructor": InstructorFactory(
                owner=p.world.orgs["R"], name="到期讲师", appointment_ends_on=TODAY() + dt.timedelta(days=15)
            )
        },
        "instructor",
        "讲师到期讲师的聘期已于",
    ),
    "venue-of-another-school": (lambda p: {"venue": p.other_venue}, "venue", "场地须是约课党校或派单党校的教学场所。"),
    "venue-inactive": (
        lambda p: {"venue": SchoolVenueFactory(school=p.town, name="旧礼堂", active=False)},
        "venue",
        "场地“旧礼堂”已停用。",
    ),
}


@pytest.mark.parametrize("overrides,field,message", BAD_SCHEDULES.values(), ids=BAD_SCHEDULES.keys())
def test_schedule_with_bad_input_names_the_field_and_changes_nothing(place, overrides, field, message):
    booking = submitted(place)
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(
            by=place.district_admin, booking=booking, **_schedule_kwargs(place, **overrides(place))
        )
    errors = errors_of(exc)
    assert field in errors, errors
    assert message in errors[field][0]
    assert snapshot(booking) == before


def test_an_instructor_appointed_until_the_session_day_may_teach(place):
    place.instructor.appointment_ends_on = TODAY() + dt.timedelta(days=SESSION_DAY_OFFSET)
    place.instructor.save()
    assert scheduled(place).status == BookingStatus.SCHEDULED


# Intervals against a first session from 09:00 to 11:00 on the same day.
OVERLAPS = {
    "same-time": ((9, 0), (11, 0), True),
    "starts-inside": ((10, 0), (12, 0), True),
    "ends-inside": ((8, 0), (9, 30), True),
    "inside": ((9, 30), (10, 30), True),
    "around": ((8, 0), (12, 0), True),
    "touches-after": ((11, 0), (12, 0), False),
    "touches-before": ((8, 0), (9, 0), False),
    "later": ((14, 0), (16, 0), False),
}


@pytest.mark.parametrize("start,end,clash", OVERLAPS.values(), ids=OVERLAPS.keys())
def test_double_booking_an_instructor(place, start, end, clash):
    first = scheduled(place, at(9), at(11), topic="第一场", venue=place.town_venue)
    second = submitted(place, topic="第二场")
    before = snapshot(second)
    kwargs = _schedule_kwargs(place, starts_at=at(*start), ends_at=at(*end), venue=place.district_venue)
    if not clash:
        services.booking_schedule(by=place.district_admin, booking=second, **kwargs)
        assert BookingRequest.objects.get(pk=second.pk).status == BookingStatus.SCHEDULED
        return
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(by=place.district_admin, booking=second, **kwargs)
    (message,) = errors_of(exc)["instructor"]
    day = f"{first.starts_at.astimezone(timezone.get_current_timezone()):%Y-%m-%d}"
    assert message == f"讲师王讲师在该时段已有排课：晨曦街道党校“第一场”（{day} 09:00至11:00）。"
    assert snapshot(second) == before


@pytest.mark.parametrize("start,end,clash", OVERLAPS.values(), ids=OVERLAPS.keys())
def test_double_booking_a_venue(place, start, end, clash):
    scheduled(place, at(9), at(11), topic="第一场", instructor=place.instructor)
    second = submitted(place, topic="第二场")
    kwargs = _schedule_kwargs(place, instructor=place.instructor2, starts_at=at(*start), ends_at=at(*end))
    if not clash:
        services.booking_schedule(by=place.district_admin, booking=second, **kwargs)
        return
    before = snapshot(second)
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(by=place.district_admin, booking=second, **kwargs)
    (message,) = errors_of(exc)["venue"]
    assert message.startswith("场地“街道党群服务中心”在该时段已有排课：晨曦街道党校“第一场”")
    assert snapshot(second) == before


def test_both_clashes_are_reported_together(place):
    scheduled(place, at(9), at(11), topic="第一场")
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(by=place.district_admin, booking=submitted(place), **_schedule_kwargs(place))
    assert {"instructor", "venue"} <= set(errors_of(exc))


def test_a_clash_outside_the_users_scope_shows_only_the_time(place):
    """A city instructor booked by another district (outside this dispatcher's scope): the time, not the name."""
    city = place.world.orgs["X"]
    other_district = PartySchoolFactory(organization=city, level=SchoolLevel.DISTRICT, name="临湖县委党校")
    x_admin = user_with_role(Role.SCHOOL_ADMIN, city)
    shared = InstructorFactory(owner=place.world.orgs["R"], name="共享讲师")
    # The X side uses the instructor (the service refuses X's admin, who cannot see R's pool: place it directly).
    BookingRequest.objects.create(
        school=other_district,
        dispatcher=other_district,
        topic="临湖专题",
        target_group=TargetGroup.MEMBERS,
        headcount=10,
        wanted_from=TODAY(),
        wanted_to=TODAY() + dt.timedelta(days=30),
        status=BookingStatus.SCHEDULED,
        instructor=shared,
        starts_at=at(9),
        ends_at=at(11),
        created_by=x_admin,
    )
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(
            by=place.district_admin, booking=submitted(place), **_schedule_kwargs(place, instructor=shared)
        )
    (message,) = errors_of(exc)["instructor"]
    assert "临湖" not in message
    assert message.startswith("讲师共享讲师在该时段已有其他约课（")


def test_a_returned_booking_frees_its_time(place):
    first = scheduled(place, at(9), at(11), topic="第一场")
    services.booking_return(by=place.district_admin, booking=first, reason="讲师临时有事")
    second = scheduled(place, at(9), at(11), topic="第二场")
    assert second.status == BookingStatus.SCHEDULED


def test_rescheduling_excludes_the_booking_itself_and_is_recorded(place):
    booking = scheduled(place, at(9), at(11))
    booking = services.booking_schedule(
        by=place.district_admin, booking=booking, **_schedule_kwargs(place, starts_at=at(10), ends_at=at(12))
    )
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at, booking.status) == (at(10), at(12), BookingStatus.SCHEDULED)
    event = booking.events.last()
    assert (event.from_status, event.to_status) == (BookingStatus.SCHEDULED, BookingStatus.SCHEDULED)
    assert event.note.startswith("改排：")


def test_rescheduling_checks_conflicts_with_others(place):
    scheduled(place, at(14), at(16), topic="下午场")
    booking = scheduled(place, at(9), at(11), topic="上午场")
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_schedule(
            by=place.district_admin, booking=booking, **_schedule_kwargs(place, starts_at=at(15), ends_at=at(17))
        )
    assert "下午场" in errors_of(exc)["instructor"][0]
    assert snapshot(booking) == before


@pytest.mark.skipif(not connection.features.has_select_for_update, reason="the database has no row locks")
def test_scheduling_locks_the_instructor_and_the_venue_rows(place):
    booking = submitted(place)
    with CaptureQueriesContext(connection) as queries:
        services.booking_schedule(by=place.district_admin, booking=booking, **_schedule_kwargs(place))
    locked = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert any('FROM "schools_instructor"' in sql for sql in locked)
    assert any('FROM "schools_schoolvenue"' in sql for sql in locked)
    assert any('FROM "schools_bookingrequest"' in sql for sql in locked)


# ---------------------------------------------------------------------------------------------------------
# Returning


def test_return_clears_the_schedule_and_keeps_the_reason(place):
    booking = services.booking_return(by=place.district_admin, booking=scheduled(place), reason="请补充培训对象名单")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.RETURNED
    assert (booking.instructor, booking.starts_at, booking.ends_at, booking.venue) == (None, None, None, None)
    assert booking.returned_reason == "请补充培训对象名单"
    event = booking.events.last()
    assert (event.from_status, event.to_status, event.by, event.note) == (
        BookingStatus.SCHEDULED,
        BookingStatus.RETURNED,
        place.district_admin,
        "请补充培训对象名单",
    )


@pytest.mark.parametrize(
    "reason,message", [("", "请填写退回原因。"), ("   ", "请填写退回原因。"), ("因" * 201, "退回原因不能超过200字")]
)
def test_return_needs_a_short_reason(place, reason, message):
    booking = submitted(place)
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_return(by=place.district_admin, booking=booking, reason=reason)
    assert message in errors_of(exc)["reason"][0]
    assert snapshot(booking) == before


def test_a_reason_of_200_characters_is_accepted(place):
    booking = services.booking_return(by=place.district_admin, booking=submitted(place), reason="因" * 200)
    assert len(booking.returned_reason) == 200


@pytest.mark.parametrize("status", [BookingStatus.DRAFT, BookingStatus.RETURNED, BookingStatus.COMPLETED])
def test_return_in_the_wrong_state_is_refused(place, status):
    if status == BookingStatus.DRAFT:
        booking = create(place)
    elif status == BookingStatus.RETURNED:
        booking = services.booking_return(by=place.district_admin, booking=submitted(place), reason="重复约课")
    else:
        booking = services.booking_complete(by=place.district_admin, booking=ended(scheduled(place)))
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_return(by=place.district_admin, booking=booking, reason="再退一次")
    phrase = {"draft": "草稿状态", "returned": "已退回", "completed": "已完成"}[status]
    assert exc.value.messages == [f"{phrase}的约课不能退回。"]
    assert snapshot(booking) == before


def test_return_by_the_requesting_side_is_refused(place):
    booking = submitted(place)
    before = snapshot(booking)
    with pytest.raises(PermissionDenied):
        services.booking_return(by=place.town_admin, booking=booking, reason="不想要了")
    assert snapshot(booking) == before


def test_a_returned_booking_is_edited_and_submitted_again(place):
    booking = services.booking_return(by=place.district_admin, booking=submitted(place), reason="请调整日期")
    fields = request_fields(place, wanted_from=TODAY() + dt.timedelta(days=15))
    fields.pop("school")
    services.booking_update(by=place.town_admin, booking=booking, **fields)
    booking = services.booking_submit(by=place.town_admin, booking=booking)
    assert booking.status == BookingStatus.SUBMITTED
    assert booking.returned_reason == ""
    assert booking.events.last().from_status == BookingStatus.RETURNED


# ---------------------------------------------------------------------------------------------------------
# Completing, and the points it credits


def test_complete_before_the_end_is_refused(place):
    booking = scheduled(place)
    before = snapshot(booking)
    with pytest.raises(ValidationError) as exc:
        services.booking_complete(by=place.town_admin, booking=booking)
    assert exc.value.messages[0].startswith("课程尚未结束（结束时间")
    assert snapshot(booking) == before


@pytest.mark.parametrize("status", [BookingStatus.DRAFT, BookingStatus.SUBMITTED, BookingStatus.RETURNED])
def test_complete_in_the_wrong_state_is_refused(place, status):
    if status == BookingStatus.DRAFT:
        booking = create(place)
    elif status == BookingStatus.SUBMITTED:
        booking = submitted(place)
    else:
        booking = services.booking_return(by=place.district_admin, booking=submitted(place), reason="重复约课")
    with pytest.raises(ValidationError) as exc:
        services.booking_complete(by=place.town_admin, booking=booking)
    phrase = {"draft": "草稿状态", "submitted": "已提交", "returned": "已退回"}[status]
    assert exc.value.messages == [f"{phrase}的约课不能确认完成。"]


def test_complete_twice_is_refused(place):
    booking = services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    with pytest.raises(ValidationError) as exc:
        services.booking_complete(by=place.district_admin, booking=booking)
    assert exc.value.messages == ["已完成的约课不能确认完成。"]


@pytest.mark.parametrize("side", ["town_admin", "district_admin"])
def test_complete_credits_the_teaching_points(place, side):
    PointRule.objects.create(owner=place.world.orgs["R"], event=PointEvent.CLASS_TAUGHT, points=Decimal("2.0"))
    booking = ended(scheduled(place, topic="党史学习教育"))
    by = getattr(place, side)
    booking = services.booking_complete(by=by, booking=booking)
    assert booking.status == BookingStatus.COMPLETED
    (entry,) = PointEntry.objects.filter(instructor=place.instructor)
    assert entry.points == Decimal("2.0")
    assert entry.event == PointEvent.CLASS_TAUGHT
    assert entry.date == timezone.localtime(booking.starts_at).date()
    assert entry.source == "约课：党史学习教育"
    event = booking.events.last()
    assert (event.from_status, event.to_status, event.by) == (BookingStatus.SCHEDULED, BookingStatus.COMPLETED, by)
    assert event.note == "讲师王讲师计授课积分2.0分"


def test_complete_without_a_points_rule_completes_and_says_so(place):
    booking = services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    assert booking.status == BookingStatus.COMPLETED
    assert not PointEntry.objects.exists()
    assert booking.events.last().note == "未配置授课积分规则，未计积分"


def test_complete_by_a_side_that_may_not_record_the_instructors_points(place):
    """A town admin completing a session taught by an instructor of a sibling's pool (B): the booking is
    completed, and the trail says why no points were recorded (the dispatcher may record them)."""
    PointRule.objects.create(owner=place.world.orgs["R"], event=PointEvent.CLASS_TAUGHT, points=Decimal("2.0"))
    sibling = InstructorFactory(owner=place.world.orgs["B"], name="明德讲师")
    booking = services.booking_complete(by=place.town_admin, booking=ended(scheduled(place, instructor=sibling)))
    assert booking.status == BookingStatus.COMPLETED
    assert not PointEntry.objects.exists()
    assert booking.events.last().note.startswith("完成人无权记录该讲师的积分，未计积分")


def test_a_completed_booking_keeps_holding_its_time(place):
    booking = services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    day = timezone.localtime(booking.starts_at).date()
    (slot,) = instructor_busy(user=place.district_admin, instructor=place.instructor, day=day)
    assert slot.booking_id == booking.pk


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR])
def test_complete_by_a_viewer_is_refused(place, role):
    booking = ended(scheduled(place))
    before = snapshot(booking)
    with pytest.raises(PermissionDenied):
        services.booking_complete(by=place.world.user(role), booking=booking)
    assert snapshot(booking) == before
    assert not PointEntry.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# The trail


def test_the_trail_names_who_and_when_for_each_step(place):
    start = timezone.now()
    booking = ended(scheduled(place))
    booking = services.booking_complete(by=place.town_admin, booking=booking)
    trail = list(booking.events.order_by("at", "pk"))
    assert [(e.from_status, e.to_status, e.by) for e in trail] == [
        ("", BookingStatus.DRAFT, place.town_admin),
        (BookingStatus.DRAFT, BookingStatus.SUBMITTED, place.town_admin),
        (BookingStatus.SUBMITTED, BookingStatus.SCHEDULED, place.district_admin),
        (BookingStatus.SCHEDULED, BookingStatus.COMPLETED, place.town_admin),
    ]
    assert all(start <= e.at <= timezone.now() for e in trail)
    assert [h.history_user for h in booking.history.order_by("history_date", "history_id")][-1] == place.town_admin
