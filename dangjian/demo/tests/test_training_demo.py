"""The training-class demo: classes by status, the ledger credited through the services, the member's class."""

import pytest

from dangjian.accounts.models import User
from dangjian.training.models import (
    Attendance,
    ClassStatus,
    HoursEntry,
    HoursKind,
    SessionStatus,
    TrainingClass,
)
from dangjian.training.selectors.classes import member_for, my_classes
from dangjian.training.selectors.ledger import hours_discrepancies

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(small_demo):
    return small_demo


def test_classes_by_status(demo):
    statuses = sorted(TrainingClass.objects.values_list("status", flat=True))
    assert statuses == sorted([ClassStatus.FINISHED, ClassStatus.APPROVED, ClassStatus.FILED, ClassStatus.DRAFT])
    assert demo.training["classes"] == 4
    for training_class in TrainingClass.objects.all():
        assert 2 <= training_class.sessions.count() <= 4
        assert training_class.school is not None
        assert training_class.sessions.filter(course__isnull=False).exists()
    finished = TrainingClass.objects.get(status=ClassStatus.FINISHED)
    assert 20 <= finished.enrollments.count() <= 40
    assert not finished.sessions.exclude(status=SessionStatus.CLOSED).exists()
    approved = TrainingClass.objects.get(status=ClassStatus.APPROVED)
    assert approved.sessions.filter(status=SessionStatus.CLOSED).count() == 1
    assert approved.sessions.filter(status=SessionStatus.OPEN).count() == 1


def test_finished_attendees_are_credited_and_totals_match(demo):
    finished = TrainingClass.objects.get(status=ClassStatus.FINISHED)
    for session in finished.sessions.all():
        attendees = set(Attendance.objects.filter(session=session).values_list("member_id", flat=True))
        assert attendees
        credited = set(
            HoursEntry.objects.dangerously_all()
            .filter(session=session, kind=HoursKind.CONCENTRATED, hours=session.hours)
            .values_list("member_id", flat=True)
        )
        assert credited == attendees
    assert hours_discrepancies() == []


def test_demo_member_sees_their_class(demo):
    member = member_for(User.objects.get(username="member"))
    classes = list(my_classes(member=member))
    assert [c.status for c in classes] == [ClassStatus.APPROVED]


def test_filed_class_warns(demo):
    filed = TrainingClass.objects.get(status=ClassStatus.FILED)
    warnings = filed.filing_warnings
    assert warnings["repeated"]["count"] + warnings["overlapping"]["count"] >= 1
