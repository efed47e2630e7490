"""The party schools' to-do rules (`schools.todo`; docs/development.md "To-do items"), read through the whole list as
the workbench assembles it; the 上讲台 items are tested in test_lecture_duty.py. The world is tests/scope.py's (school
admin on 滨江一中党委 C1); bookings depend on the time of day and use the real clock."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.schools.models import BookingStatus
from dangjian.schools.tests.factories import BookingRequestFactory, PartySchoolFactory
from dangjian.workbench.selectors import todo_items


def keys_of(world, role, today) -> set[str]:
    return {item.key for item in todo_items(user=world.user(role), today=today)}


def test_ended_booking_waits_to_be_completed(world):
    now = timezone.now()
    school = PartySchoolFactory(organization=world.orgs["A"])
    ended = BookingRequestFactory(
        school=school,
        status=BookingStatus.SCHEDULED,
        starts_at=now - dt.timedelta(hours=3),
        ends_at=now - dt.timedelta(hours=1),
    )
    coming = BookingRequestFactory(
        school=school,
        status=BookingStatus.SCHEDULED,
        starts_at=now + dt.timedelta(hours=3),
        ends_at=now + dt.timedelta(hours=5),
    )
    keys = keys_of(world, Role.SCHOOL_ADMIN, timezone.localdate())
    assert f"booking-complete:{ended.pk}" in keys
    assert f"booking-complete:{coming.pk}" not in keys
