"""Hours for a premium course and for a lecture (Huangpi: 区内教师入选精品课程的，奖励培训学时;
对完成上讲台任务的领导干部给予学时奖励).

A selected course credits each in-district instructor (linked to a member) the round's reward hours through the
ledger, once per member, course and year; an instructor outside the district gets points only. A lecture — a
completed booking or a closed session taught by a member-instructor — is credited once, also when a booking became
a session."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.members.models import Status
from dangjian.schools.models import (
    DEFAULT_PREMIUM_REWARD_HOURS,
    BookingRequest,
    BookingStatus,
    CourseCategory,
    PointEntry,
    PointEvent,
    PointRule,
    PremiumRound,
)
from dangjian.schools.services import booking as booking_services
from dangjian.schools.services.catalog import (
    premium_entry_add,
    premium_round_close,
    premium_round_create,
    premium_score,
)
from dangjian.schools.tests.factories import CourseFactory, InstructorFactory
from dangjian.schools.tests.test_booking_services import build_place, ended, scheduled
from dangjian.training.models import HoursEntry, HoursKind, MemberHoursYear

THEORY = CourseCategory.POLITICAL_THEORY


def admin(world):
    return world.user(Role.SCHOOL_ADMIN)


def this_year() -> int:
    return timezone.localdate().year


def close_with(world, course, *, year=None, category=THEORY, owner="C1", reward_hours=None, by=None):
    by = by or admin(world)
    round = premium_round_create(
        by=by,
        owner=world.orgs[owner],
        year=year or this_year(),
        category=category,
        quota=1,
        reward_hours=reward_hours,
    )
    entry = premium_entry_add(by=by, round=round, course=course)
    premium_score(by=by, entry=entry, score=Decimal("90"))
    return premium_round_close(by=by, round=round)


def premium_hours(member) -> Decimal:
    row = MemberHoursYear.objects.filter(member=member, year=this_year()).first()
    return row.premium if row else Decimal("0")


def test_a_selected_course_credits_its_in_district_instructor_the_round_s_hours_once(world):
    member = world.members["A"][0]
    local = InstructorFactory(owner=world.orgs["C1"], name="区内讲师", member=member)
    outside = InstructorFactory(owner=world.orgs["C1"], name="区外讲师")
    PointRule.objects.create(owner=world.orgs["C1"], event=PointEvent.PREMIUM_SELECTED, points=Decimal("5"))
    course = CourseFactory(owner=world.orgs["C1"], title="奋斗百年路", instructors=[local, outside])

    result = close_with(world, course)

    (entry,) = HoursEntry.objects.filter(kind=HoursKind.PREMIUM)
    assert (entry.member, entry.hours, entry.course, entry.year) == (
        member,
        DEFAULT_PREMIUM_REWARD_HOURS,
        course,
        this_year(),
    )
    assert result.hours_credited == [entry]
    assert premium_hours(member) == Decimal("4")
    # Both instructors get their points; the one outside the district (no member) gets no hours.
    assert PointEntry.objects.filter(event=PointEvent.PREMIUM_SELECTED).count() == 2
    assert not HoursEntry.objects.exclude(member=member).exists()

    # A second round of the same year (another owner) selecting the same course does not credit twice.
    district_admin = user_with_role(Role.SCHOOL_ADMIN, world.orgs["R"])
    again = close_with(world, course, owner="R", by=district_admin)
    assert again.hours_credited == []
    assert [(i.name, why) for _c, i, why in again.hours_not_credited] == [
        ("区内讲师", f"该课程{this_year()}年度已计过精品课程奖励学时")
    ]
    assert HoursEntry.objects.filter(kind=HoursKind.PREMIUM).count() == 1
    assert premium_hours(member) == Decimal("4")


def test_a_re_close_is_refused_and_credits_nothing(world):
    member = world.members["A"][0]
    course = CourseFactory(
        owner=world.orgs["C1"], instructors=[InstructorFactory(owner=world.orgs["C1"], member=member)]
    )
    close_with(world, course, reward_hours=Decimal("2.5"))
    round = PremiumRound.objects.get()
    with pytest.raises(ValidationError):
        premium_round_close(by=admin(world), round=round)
    assert premium_hours(member) == Decimal("2.5")


def test_two_instructors_linked_to_the_same_member_credit_once(world):
    member = world.members["A"][0]
    course = CourseFactory(
        owner=world.orgs["C1"],
        instructors=[InstructorFactory(owner=world.orgs["C1"], member=member) for _ in range(2)],
    )
    close_with(world, course)
    assert HoursEntry.objects.filter(kind=HoursKind.PREMIUM, member=member).count() == 1


def test_no_hours_for_a_member_off_the_rolls_or_a_round_without_hours(world):
    gone = world.members["B"][0]
    gone.status = Status.TRANSFERRED_OUT
    gone.save()
    course = CourseFactory(
        owner=world.orgs["C1"], instructors=[InstructorFactory(owner=world.orgs["C1"], name="转出讲师", member=gone)]
    )
    result = close_with(world, course)
    assert [why for _c, _i, why in result.hours_not_credited] == ["对应党员党籍状态为转出，未计学时"]
    member = world.members["A"][0]
    course = CourseFactory(
        owner=world.orgs["C1"],
        category=CourseCategory.LAW,
        instructors=[InstructorFactory(owner=world.orgs["C1"], member=member)],
    )
    result = close_with(world, course, reward_hours=Decimal("0"), category=CourseCategory.LAW)
    assert [why for _c, _i, why in result.hours_not_credited] == ["本次评选未设奖励学时"]
    assert not HoursEntry.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "区内讲师奖励学时应为数字。"),
        ("-1", "区内讲师奖励学时应在0到200之间。"),
        ("1.3", "区内讲师奖励学时须为0.5的整数倍（如0、1、1.5、4）。"),
    ],
)
def test_bad_reward_hours_are_refused_with_the_field_named(world, value, message):
    with pytest.raises(ValidationError) as exc:
        premium_round_create(
            by=admin(world), owner=world.orgs["C1"], year=2025, category=THEORY, quota=1, reward_hours=value
        )
    assert exc.value.message_dict["reward_hours"] == [message]
    assert not PremiumRound.objects.exists()


def test_the_create_page_takes_the_reward_hours_and_refuses_bad_ones(world):
    client = world.client(Role.SCHOOL_ADMIN)
    form = {"owner": "BJ01", "year": "2025", "category": THEORY, "quota": "3", "reward_hours": "x"}
    response = client.post(reverse("schools:premium_create"), form)
    assert response.status_code == 200
    assert "区内讲师奖励学时" in response.content.decode()
    assert not PremiumRound.objects.exists()
    response = client.post(reverse("schools:premium_create"), {**form, "reward_hours": "6"})
    assert response.status_code == 302
    assert PremiumRound.objects.get().reward_hours == Decimal("6")


# ---------------------------------------------------------------------------------------------------------
# A lecture (上讲台) is credited once


def teaching_entries(member):
    return list(HoursEntry.objects.filter(member=member, kind=HoursKind.TEACHING))


def test_a_completed_booking_credits_the_member_instructor_the_lecture_once(world):
    place = build_place(world)
    member = world.members["A"][0]
    place.instructor.member = member
    place.instructor.save()
    booking = booking_services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    (entry,) = teaching_entries(member)
    assert entry.hours == Decimal("2")  # the booking's two hours (its course has 4)
    assert entry.document.startswith(f"授课：约课#{booking.pk}")
    assert "计授课学时2学时" in booking.events.last().note
    with pytest.raises(ValidationError):
        booking_services.booking_complete(by=place.district_admin, booking=booking)
    assert len(teaching_entries(member)) == 1


def test_a_booking_that_became_a_session_is_credited_once_by_the_session(world):
    """The bug guard: a booking made into a session (课次), then completed, then the session closed — one lecture,
    one 授课奖励 entry (the session's), whatever the order of completing and closing."""
    from dangjian.training.models import ClassStatus
    from dangjian.training.services.attendance import session_close
    from dangjian.training.services.sessions import session_from_booking
    from dangjian.training.tests.factories import TrainingClassFactory

    place = build_place(world)
    member = world.members["A"][0]
    place.instructor.member = member
    place.instructor.save()
    booking = ended(scheduled(place))
    today = timezone.localdate()
    training_class = TrainingClassFactory(
        organizer=world.orgs["A"],
        status=ClassStatus.APPROVED,
        starts_on=today - dt.timedelta(days=2),
        ends_on=today + dt.timedelta(days=2),
    )
    session = session_from_booking(by=place.town_admin, booking=booking, training_class=training_class)
    booking = booking_services.booking_complete(by=place.town_admin, booking=booking)
    assert booking.status == BookingStatus.COMPLETED
    assert teaching_entries(member) == []
    assert "由课次" in booking.events.last().note
    session_close(by=place.town_admin, session=session)
    (entry,) = teaching_entries(member)
    assert entry.session == session
    assert MemberHoursYear.objects.get(member=member, year=entry.year).teaching == entry.hours


def test_a_completed_booking_cannot_become_a_session_so_it_is_not_credited_again(world):
    from dangjian.training.models import ClassStatus
    from dangjian.training.services.sessions import session_from_booking
    from dangjian.training.tests.factories import TrainingClassFactory

    place = build_place(world)
    member = world.members["A"][0]
    place.instructor.member = member
    place.instructor.save()
    booking = booking_services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    training_class = TrainingClassFactory(organizer=world.orgs["A"], status=ClassStatus.APPROVED)
    with pytest.raises(ValidationError):
        session_from_booking(by=place.town_admin, booking=booking, training_class=training_class)
    assert len(teaching_entries(member)) == 1
    assert BookingRequest.objects.get(pk=booking.pk).status == BookingStatus.COMPLETED


def test_no_teaching_hours_for_an_instructor_without_a_member(world):
    place = build_place(world)
    booking_services.booking_complete(by=place.town_admin, booking=ended(scheduled(place)))
    assert not HoursEntry.objects.exists()


def test_the_close_page_says_who_was_credited_hours(world):
    member = world.members["A"][0]
    course = CourseFactory(
        owner=world.orgs["C1"], instructors=[InstructorFactory(owner=world.orgs["C1"], name="区内讲师", member=member)]
    )
    round = premium_round_create(
        by=admin(world), owner=world.orgs["C1"], year=this_year(), category=THEORY, quota=1, reward_hours=Decimal("3")
    )
    entry = premium_entry_add(by=admin(world), round=round, course=course)
    premium_score(by=admin(world), entry=entry, score=Decimal("88"))
    client = world.client(Role.SCHOOL_ADMIN)
    response = client.post(reverse("schools:premium_close", args=[round.pk]), follow=True)
    body = response.content.decode()
    assert "1名区内讲师各计精品课程奖励学时3学时。" in body
    assert "区内讲师奖励学时：3" in body
    assert premium_hours(member) == Decimal("3")
