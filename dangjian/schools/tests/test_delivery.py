"""What a school delivered in a year (`selectors.delivery`) and the year-end reconciliation built on it (年终对账,
Xiqing: claimed quotas against classes held and person-times trained — like with like)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.schools.models import BookingStatus, PartySchool, SchoolAnnualPlan
from dangjian.schools.selectors.delivery import RAN_CLASS_STATUSES, with_delivery
from dangjian.schools.tests.factories import BookingRequestFactory, PartySchoolFactory
from dangjian.training.models import Attendance, AttendanceMethod, ClassStatus
from dangjian.training.selectors import compliance
from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory

YEAR = 2025
SYSTEM = Access.system_access()


def at(month: int, day: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(YEAR, month, day, 9, 0))


def completed_booking(school, month: int, headcount: int = 40):
    return BookingRequestFactory(
        school=school,
        status=BookingStatus.COMPLETED,
        headcount=headcount,
        wanted_from=dt.date(YEAR, month, 1),
        wanted_to=dt.date(YEAR, month, 28),
        starts_at=at(month),
        ends_at=at(month) + dt.timedelta(hours=3),
    )


def attend(session, *members):
    for member in members:
        Attendance.objects.create(session=session, member=member, method=AttendanceMethod.MANUAL)


def test_the_ran_statuses_are_the_training_apps():
    assert set(RAN_CLASS_STATUSES) == set(compliance.RAN_STATUSES)


@pytest.fixture
def school(world):
    school = PartySchoolFactory(organization=world.orgs["C1"], name="滨江一中业余党校")
    SchoolAnnualPlan.objects.create(school=school, year=YEAR, planned_classes=4, planned_trainees=100)
    return school


def test_completed_bookings_count_as_classes_held_with_their_headcount(world, school):
    # Before: a school whose training was all held through bookings showed 0 classes and 0 trainees.
    completed_booking(school, 3, headcount=30)
    completed_booking(school, 5, headcount=25)
    BookingRequestFactory(school=school, status=BookingStatus.SCHEDULED, starts_at=at(6), ends_at=at(6, 11))
    completed_booking(PartySchoolFactory(organization=world.orgs["C1"]), 4)  # another school's
    row = compliance.school_reconciliation(by=world.user(Role.COMMITTEE), year=YEAR).get(pk=school.pk)
    assert (row.planned_classes, row.actual_classes, row.classes_difference) == (4, 2, -2)
    assert (row.planned_trainees, row.actual_trainees, row.trainees_difference) == (100, 55, -45)
    assert row.attendance_count == 0


def test_person_times_count_a_member_once_per_class_attended(world, school):
    # Before: distinct persons over the whole year (a member trained in two classes counted once) were
    # subtracted from the claimed person-times.
    a1, a2 = world.members["A"]
    first = TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=dt.date(YEAR, 3, 1))
    second = TrainingClassFactory(
        organizer=world.orgs["C1"], school=school, starts_on=dt.date(YEAR, 9, 1), status=ClassStatus.FINISHED
    )
    s1, s2 = TrainingSessionFactory(training_class=first), TrainingSessionFactory(training_class=first)
    s3 = TrainingSessionFactory(training_class=second)
    attend(s1, a1, a2)
    attend(s2, a1)  # a1 again in the same class: still one person-time of that class
    attend(s3, a1)  # a1 in another class: a second person-time
    row = compliance.school_reconciliation(by=SYSTEM, year=YEAR).get(pk=school.pk)
    assert (row.actual_classes, row.actual_trainees, row.attendance_count) == (2, 3, 4)
    assert row.trainees_difference == 3 - 100


def test_a_booking_that_became_a_session_of_a_counted_class_is_counted_once(world, school):
    a1, a2 = world.members["A"]
    booking = completed_booking(school, 4, headcount=50)
    held = TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=dt.date(YEAR, 4, 1))
    session = TrainingSessionFactory(training_class=held, booking=booking)
    attend(session, a1, a2)
    completed_booking(school, 7, headcount=20)  # held apart: a class of its own
    row = compliance.school_reconciliation(by=SYSTEM, year=YEAR).get(pk=school.pk)
    assert (row.actual_classes, row.actual_trainees) == (2, 2 + 20)


def test_other_years_drafts_and_other_schools_do_not_count(world, school):
    TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=dt.date(YEAR, 5, 1), status="draft")
    TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=dt.date(YEAR - 1, 5, 1))
    BookingRequestFactory(
        school=school,
        status=BookingStatus.COMPLETED,
        wanted_from=dt.date(YEAR + 1, 1, 5),
        wanted_to=dt.date(YEAR + 1, 1, 9),
        starts_at=timezone.make_aware(dt.datetime(YEAR + 1, 1, 6, 9)),
        ends_at=timezone.make_aware(dt.datetime(YEAR + 1, 1, 6, 12)),
    )
    row = with_delivery(PartySchool.objects.filter(pk=school.pk), YEAR).get()
    assert (row.held_classes, row.person_times, row.sign_ins) == (0, 0, 0)


def test_the_reconciliation_page_and_export_name_person_times(world, school):
    import io

    from openpyxl import load_workbook

    completed_booking(school, 3, headcount=30)
    client = world.client(Role.COMMITTEE)
    page = client.get("/training/hours/reconciliation/", {"org": "BJ01", "year": YEAR})
    assert page.status_code == 200
    assert "实际人次" in page.content.decode() and "实际人数" not in page.content.decode()
    response = client.get("/training/hours/reconciliation/", {"org": "BJ01", "year": YEAR, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][3:9] == ("计划办班数", "实际办班数", "办班差额", "计划培训人次", "实际培训人次", "人次差额")
    assert rows[1][3:9] == (4, 1, -3, 100, 30, -70)
