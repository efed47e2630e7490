"""Training's to-do rules (`training.todo`; docs/development.md "To-do items"), each at its boundary, read through the
whole list as the workbench assembles it.

The world (tests/scope.py): committee and school admin on 滨江一中党委 C1, secretary and member on branch A (whose two
members need 32 hours a year), branch XB in another tree. Rules that depend on the date take TODAY; sessions, which
depend on the time of day, use the real clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test.utils import override_settings
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core.todo import TodoItem
from dangjian.members.tests.factories import MemberFactory
from dangjian.training.models import Attendance, AttendanceMethod, ClassStatus, Enrollment, SessionStatus
from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory, credit
from dangjian.training.todo import hours_pace
from dangjian.workbench.selectors import todo_items

TODAY = dt.date(2026, 6, 15)


def keys_of(world, role, today=TODAY) -> set[str]:
    return {item.key for item in todo_items(user=world.user(role), today=today)}


def by_key(world, role, today=TODAY) -> dict[str, TodoItem]:
    return {item.key: item for item in todo_items(user=world.user(role), today=today)}


# ---------------------------------------------------------------------------------------------------------
# Sessions to close, filings to approve


def test_session_to_close_only_once_its_sign_in_has_closed(world):
    now = timezone.now()
    klass = TrainingClassFactory(organizer=world.orgs["A"])

    def session(ended_ago, **kwargs):
        return TrainingSessionFactory(
            training_class=klass, starts_at=now - ended_ago - dt.timedelta(hours=2), ends_at=now - ended_ago, **kwargs
        )

    late = session(dt.timedelta(minutes=31))
    grace = session(dt.timedelta(minutes=29))  # sign-in still open (DANGJIAN_SIGN_IN_LATE_MINUTES = 30)
    closed = session(dt.timedelta(hours=3), status=SessionStatus.CLOSED)
    running = session(-dt.timedelta(hours=1))
    old = session(dt.timedelta(days=2))
    items = by_key(world, Role.SCHOOL_ADMIN, timezone.localdate())
    assert f"session-close:{late.pk}" in items
    for other in (grace, closed, running):
        assert f"session-close:{other.pk}" not in items
    assert items[f"session-close:{old.pk}"].overdue
    assert items[f"session-close:{late.pk}"].url == f"/training/sessions/{late.pk}/"
    assert "待确认考勤" in items[f"session-close:{late.pk}"].title


def test_sessions_of_a_class_not_approved_are_not_to_close(world):
    now = timezone.now()
    draft = TrainingSessionFactory(
        training_class=TrainingClassFactory(organizer=world.orgs["A"], status=ClassStatus.DRAFT),
        starts_at=now - dt.timedelta(hours=5),
        ends_at=now - dt.timedelta(hours=2),
    )
    assert f"session-close:{draft.pk}" not in keys_of(world, Role.SCHOOL_ADMIN, timezone.localdate())


def test_filings_wait_for_the_committee_only(world):
    today = timezone.localdate()
    filed = TrainingClassFactory(
        organizer=world.orgs["A"],
        status=ClassStatus.FILED,
        filed_at=timezone.now(),
        starts_on=today + dt.timedelta(days=10),
    )
    starting = TrainingClassFactory(
        organizer=world.orgs["B"], status=ClassStatus.FILED, filed_at=timezone.now(), starts_on=today
    )
    items = by_key(world, Role.COMMITTEE, today)
    assert not items[f"class-filing:{filed.pk}"].overdue
    assert items[f"class-filing:{starting.pk}"].overdue
    assert items[f"class-filing:{filed.pk}"].period == f"{today:%Y-%m-%d}"
    assert items[f"class-filing:{filed.pk}"].url == f"/training/classes/{filed.pk}/filing/"
    for role in (Role.SCHOOL_ADMIN, Role.SECRETARY):
        assert f"class-filing:{filed.pk}" not in keys_of(world, role, today)


# ---------------------------------------------------------------------------------------------------------
# Hours behind


def test_behind_is_below_the_pro_rata_share_of_the_months_elapsed(world):
    # 15 June: five full months → 32 × 5/12 = 13.33 hours expected by now.
    ahead, behind = world.members["A"]
    credit(ahead, hours="13.5", on=dt.date(2026, 3, 1))
    credit(behind, hours="13", on=dt.date(2026, 3, 1))
    item = by_key(world, Role.SECRETARY)[f"hours-behind:{world.orgs['A'].pk}"]
    assert item.title == "高一年级党支部：1名党员学时进度落后（按进度应完成全年要求的42%）"
    assert item.url == f"/training/hours/branch/?org={world.orgs['A'].code}&year=2026"
    assert item.period == "2026-06"
    assert f"my-hours:{ahead.pk}" not in keys_of(world, Role.MEMBER)


def test_nobody_is_behind_in_january(world):
    keys = keys_of(world, Role.COMMITTEE, dt.date(2026, 1, 20)) | keys_of(world, Role.MEMBER, dt.date(2026, 1, 20))
    assert not [k for k in keys if k.startswith(("hours-behind:", "my-hours:"))]


def test_committee_counts_per_child_organization(world):
    MemberFactory.create_batch(3, organization=world.orgs["B"])
    items = by_key(world, Role.COMMITTEE)
    assert items[f"hours-behind:{world.orgs['A'].pk}"].title.startswith("高一年级党支部：2名党员")
    assert items[f"hours-behind:{world.orgs['B'].pk}"].title.startswith("高二年级党支部：4名党员")


@override_settings(DANGJIAN_HOURS_BEHIND_PACE_PERCENT=50)
def test_the_pace_is_a_setting(world):
    credit(world.members["A"][0], hours="7", on=dt.date(2026, 3, 1))  # 32 × 5/12 × 50% = 6.67
    assert hours_pace(TODAY) == Decimal(5) / Decimal(12) / Decimal(2)
    item = by_key(world, Role.SECRETARY)[f"hours-behind:{world.orgs['A'].pk}"]
    assert item.title.startswith("高一年级党支部：1名党员学时进度落后")


# ---------------------------------------------------------------------------------------------------------
# The member's own sessions


def test_member_is_reminded_of_todays_session_until_signed_in(world):
    now = timezone.now()
    klass = TrainingClassFactory(organizer=world.orgs["C1"], title="全体党员专题培训")
    Enrollment.objects.create(training_class=klass, member=world.self_member, source="manual")
    # Ten minutes ago, but never before local midnight: just after it, ten minutes ago was yesterday.
    local_now = timezone.localtime(now)
    start = max(local_now - dt.timedelta(minutes=10), local_now.replace(hour=0, minute=0, second=0, microsecond=0))
    today_session = TrainingSessionFactory(training_class=klass, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    tomorrow = TrainingSessionFactory(training_class=klass, starts_at=now + dt.timedelta(days=1, hours=1))
    today = timezone.localdate()
    items = by_key(world, Role.MEMBER, today)
    assert items[f"sign-in:{today_session.pk}"].url == "/training/sign-in/"
    assert f"sign-in:{tomorrow.pk}" not in items
    Attendance.objects.create(session=today_session, member=world.self_member, method=AttendanceMethod.CODE)
    assert f"sign-in:{today_session.pk}" not in keys_of(world, Role.MEMBER, today)
