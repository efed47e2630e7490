"""A class's sessions (课次): adding and editing them (hours in steps of 0.5, within the class's dates and the
session's length), each with a random short code for sign-in, and a session made from a scheduled booking (约课 →
排课派单 → 课次, Xiqing). Only a runner of the class (`classes`), and never in a finished class."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dangjian.core.services import service, set_history
from dangjian.schools.models import BookingRequest, BookingStatus, Course, Instructor
from dangjian.schools.services._common import require_manager
from dangjian.training.models import HALF, ClassStatus, SessionStatus, TrainingClass, TrainingSession
from dangjian.training.services._common import (
    NOT_RUNNER,
    local_time,
    lock_class,
    lock_session,
    save_with_history,
    status_error,
)
from dangjian.training.services.ledger import check_hours

MAX_SESSION_HOURS = Decimal("24")
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a projector
SHORT_CODE_LENGTH = 6


def _hours_text(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    return text or "0"


def _length_hours(starts_at: dt.datetime, ends_at: dt.datetime) -> Decimal:
    return Decimal(int((ends_at - starts_at).total_seconds())) / Decimal(3600)


def _check_session(
    by,
    training_class: TrainingClass,
    *,
    starts_at,
    ends_at,
    hours,
    course,
    instructor,
    check_catalog: bool = True,
) -> Decimal:
    """The session's hours as a Decimal; ValidationError naming each bad field. Rules: ends after it starts, on
    the class's dates; hours in steps of 0.5, at most 24 and at most the session's length; the catalog course and
    the instructor are ones the user sees."""
    errors: dict[str, str] = {}
    value = None
    try:
        value = check_hours(hours, field="hours", limit=MAX_SESSION_HOURS)
    except ValidationError as exc:
        errors.update({key: messages[0] for key, messages in exc.message_dict.items()})
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends_at"] = "结束时间必须晚于开始时间。"
        else:
            if (
                local_time(starts_at).date() < training_class.starts_on
                or local_time(ends_at).date() > training_class.ends_on
            ):
                errors["starts_at"] = (
                    f"课次时间应在培训班的开班日期至结班日期之间"
                    f"（{training_class.starts_on:%Y-%m-%d}至{training_class.ends_on:%Y-%m-%d}）。"
                )
            length = _length_hours(starts_at, ends_at)
            if value is not None and value > length:
                errors["hours"] = f"学时不能超过课次时长（{_hours_text(length)}小时）。"
    if check_catalog:
        if course is not None and not Course.objects.visible_to(by).filter(pk=course.pk).exists():
            errors["course"] = "找不到该课程，或该课程不在您的范围内。"
        if instructor is not None and not Instructor.objects.visible_to(by).filter(pk=instructor.pk).exists():
            errors["instructor"] = "找不到该讲师，或该讲师不在您的范围内。"
    if errors:
        raise ValidationError(errors)
    assert value is not None  # check_hours failed with an error, raised just above
    return value


def _new_short_code() -> str:
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def _insert_session(session: TrainingSession, by, reason: str) -> TrainingSession:
    """Save a new session under a fresh random short code; a code taken meanwhile by another request is drawn
    again (the unique constraint decides)."""
    for _attempt in range(10):
        session.short_code = _new_short_code()
        if TrainingSession.objects.filter(short_code=session.short_code).exists():
            continue
        session.full_clean()
        set_history(session, by, reason)
        try:
            with transaction.atomic():
                session.save()
        except IntegrityError:
            if session.booking_id and TrainingSession.objects.filter(booking_id=session.booking_id).exists():
                raise ValidationError({"booking": "该约课已生成课次。"}) from None
            continue
        return session
    raise RuntimeError("could not draw a free short code")  # pragma: no cover - 32^6 codes


def _require_sessions_editable(training_class: TrainingClass) -> None:
    if training_class.status == ClassStatus.FINISHED:
        raise status_error("已结班的培训班的课次不能修改。")


@service
def session_add(
    *,
    by,
    training_class: TrainingClass,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    hours,
    venue: str = "",
    course: Course | None = None,
    instructor: Instructor | None = None,
) -> TrainingSession:
    """Add a session (安排课次) to a class that is not finished: hours in steps of 0.5 (`ledger.check_hours`), at
    most the session's length and at most 24; an optional catalog course and instructor the user sees; a unique
    random 6-character short code (签到码) for sign-in without the QR code."""
    current = lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    _require_sessions_editable(current)
    value = _check_session(
        by, current, starts_at=starts_at, ends_at=ends_at, hours=hours, course=course, instructor=instructor
    )
    session = TrainingSession(
        training_class=current,
        title=(title or "").strip(),
        course=course,
        instructor=instructor,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=(venue or "").strip(),
        hours=value,
    )
    return _insert_session(session, by, "安排课次")


@service
def session_update(
    *,
    by,
    session: TrainingSession,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    hours,
    venue: str = "",
    course: Course | None = None,
    instructor: Instructor | None = None,
) -> TrainingSession:
    """Edit a session; same rules as `session_add`. A closed session (考勤已确认) and the sessions of a finished
    class are read-only."""
    current = lock_session(session)
    training_class = current.training_class
    require_manager(by, training_class.organizer, NOT_RUNNER)
    _require_sessions_editable(training_class)
    if current.status == SessionStatus.CLOSED:
        raise status_error("该课次已结束（考勤已确认），不能修改。")
    value = _check_session(
        by, training_class, starts_at=starts_at, ends_at=ends_at, hours=hours, course=course, instructor=instructor
    )
    current.title = (title or "").strip()
    current.starts_at = starts_at
    current.ends_at = ends_at
    current.hours = value
    current.venue = (venue or "").strip()
    current.course = course
    current.instructor = instructor
    save_with_history(current, by, "修改课次")
    return current


def _floor_half(value: Decimal) -> Decimal:
    return (value / HALF).to_integral_value(rounding=ROUND_FLOOR) * HALF


@service
def session_from_booking(*, by, booking: BookingRequest, training_class: TrainingClass) -> TrainingSession:
    """Make a session from a scheduled booking (约课 → 排课派单 → 课次, Xiqing's menu-style booking): its instructor,
    times and venue, the title of its first course (by catalog order of entry; the topic when it has none), and the
    sum of its courses' hours capped at the session's length (and 24), rounded down to 0.5. The booking must be
    已排课, seen by the user, made by a school of the organizer's subtree, and not already turned into a session."""
    current = lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    _require_sessions_editable(current)
    found = (
        BookingRequest.objects.visible_to(by)
        .select_related("school__organization", "venue", "instructor")
        .filter(pk=booking.pk)
        .first()
    )
    if found is None:
        raise ValidationError({"booking": "找不到该约课，或该约课不在您的范围内。"})
    if found.status != BookingStatus.SCHEDULED or found.starts_at is None or found.ends_at is None:
        raise ValidationError({"booking": f"只有已排课的约课可以生成课次（当前状态：{found.get_status_display()}）。"})
    if not found.school.organization.path.startswith(current.organizer.path):
        raise ValidationError({"booking": "约课党校不属于本培训班的主办党组织（或其下级组织）。"})
    if TrainingSession.objects.filter(booking=found).exists():
        raise ValidationError({"booking": "该约课已生成课次。"})
    courses = list(found.courses.order_by("pk"))
    length = _length_hours(found.starts_at, found.ends_at)
    planned = sum((c.hours for c in courses), Decimal("0")) if courses else length
    hours = _floor_half(min(planned, length, MAX_SESSION_HOURS))
    if hours < HALF:
        raise ValidationError({"booking": "约课时长不足0.5学时，不能生成课次。"})
    try:
        _check_session(
            by,
            current,
            starts_at=found.starts_at,
            ends_at=found.ends_at,
            hours=hours,
            course=None,
            instructor=None,
            check_catalog=False,
        )
    except ValidationError as exc:
        raise ValidationError({"booking": [m for messages in exc.message_dict.values() for m in messages]}) from None
    session = TrainingSession(
        training_class=current,
        title=(courses[0].title if courses else found.topic)[:100],
        course=courses[0] if courses else None,
        instructor=found.instructor,
        booking=found,
        starts_at=found.starts_at,
        ends_at=found.ends_at,
        venue=(found.venue.name if found.venue else found.venue_note)[:200],
        hours=hours,
    )
    return _insert_session(session, by, f"由约课生成课次（约课#{found.pk}）")
