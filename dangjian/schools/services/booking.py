"""State changes of the booking seam: menu-style booking (约课 → 选课点单 → 排课派单).

Xiqing: a street/town school fills in a 约课邀请函 with its needs and picks courses from the catalog (选课点单);
the district party school (区委党校) schedules it and dispatches the instructor (排课派单). States:
草稿 → 已提交 → 已排课 → 已完成, or 已退回 with a reason; every step is a BookingEvent (from, to, who, when, note).
Completing a booking credits the instructor the teaching points (Huangpi 积分管理).

The requesting school's managers create, edit and submit; the dispatcher's managers schedule and return; either
side completes. Scheduling locks the instructor's and the venue's rows, so two dispatchers scheduling at once
cannot double-book either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service, set_history
from dangjian.core.versioning import check_version
from dangjian.members.models import Status
from dangjian.schools.models import (
    BookingEvent,
    BookingRequest,
    BookingStatus,
    Course,
    Instructor,
    PartySchool,
    PointEvent,
    SchoolVenue,
)
from dangjian.schools.selectors.booking import (
    EDITABLE_STATUSES,
    HOLDING_STATUSES,
    RETURNABLE_STATUSES,
    SCHEDULABLE_STATUSES,
    dispatcher_for,
)
from dangjian.schools.services._common import require_manager

HALF = Decimal("0.5")
HEADCOUNT_MAX = 10000
REASON_MAX = 200
NO_DISPATCHER_MESSAGE = "上级没有区委党校，无法派单。"
NO_POINTS_RULE_NOTE = "未配置授课积分规则，未计积分"
NOT_DISPATCHER_MESSAGE = "只有派单的区委党校的管理人员才能排课或退回。"
NOT_EITHER_SIDE_MESSAGE = "只有约课党校或派单党校的管理人员才能确认完成。"

# How the messages name a booking's current state ("已完成的约课不能退回").
_STATE_PHRASE = {
    BookingStatus.DRAFT: "草稿状态",
    BookingStatus.SUBMITTED: "已提交",
    BookingStatus.SCHEDULED: "已排课",
    BookingStatus.COMPLETED: "已完成",
    BookingStatus.RETURNED: "已退回",
}


def _lock(booking: BookingRequest) -> BookingRequest:
    """The booking's current row, locked until the transaction ends (two requests never interleave)."""
    return (
        BookingRequest.objects.select_for_update(of=("self",))
        .select_related("school__organization", "dispatcher__organization")
        .get(pk=booking.pk)
    )


def _require_status(booking: BookingRequest, allowed: Iterable[str], verb: str) -> None:
    if booking.status not in allowed:
        raise ValidationError(
            "%(state)s的约课不能%(verb)s。",
            code="invalid_state",
            params={"state": _STATE_PHRASE[BookingStatus(booking.status)], "verb": verb},
        )


def _record(booking: BookingRequest, by, from_status: str, note: str = "") -> BookingEvent:
    return BookingEvent.objects.create(
        booking=booking, from_status=from_status, to_status=booking.status, by=acting_user(by), note=(note or "")[:200]
    )


def _fmt(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _span(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    return f"{_fmt(starts_at)}至{timezone.localtime(ends_at):%H:%M}"


def _scheduled_time(booking: BookingRequest) -> tuple[dt.datetime, dt.datetime]:
    """The time of a scheduled or completed booking: scheduling sets both ends, and only a return clears them."""
    assert booking.starts_at is not None and booking.ends_at is not None
    return booking.starts_at, booking.ends_at


def _scheduled_instructor(booking: BookingRequest) -> Instructor:
    """The instructor of a scheduled or completed booking: scheduling sets it, and only a return clears it."""
    assert booking.instructor is not None
    return booking.instructor


# ---------------------------------------------------------------------------------------------------------
# The requesting side: 约课邀请函 and 选课点单


def _check_request(*, by, topic, headcount, wanted_from, wanted_to, courses, errors: dict[str, str]) -> list[Course]:
    """The rules of a booking request's content; fills `errors` (field → message), returns the courses."""
    if not (topic or "").strip():
        errors["topic"] = "请填写培训主题。"
    if headcount is None:
        errors["headcount"] = "请填写培训人数。"
    elif not 1 <= headcount <= HEADCOUNT_MAX:
        errors["headcount"] = f"培训人数须在1至{HEADCOUNT_MAX}人之间。"
    today = timezone.localdate()
    if wanted_from is None:
        errors["wanted_from"] = "请填写期望开始日期。"
    elif wanted_from < today:
        errors["wanted_from"] = f"期望开始日期不能早于今天（{today:%Y-%m-%d}）。"
    if wanted_to is None:
        errors["wanted_to"] = "请填写期望截止日期。"
    elif wanted_from is not None and wanted_to < wanted_from:
        errors["wanted_to"] = "期望截止日期不能早于期望开始日期。"
    ids = {getattr(c, "pk", c) for c in courses or ()}
    if not ids:
        errors["courses"] = "请至少选择一门课程。"
        return []
    # Catalog rows are shared downwards: a town school picks from its own and its ancestors' catalogs.
    chosen = list(Course.objects.visible_to(by).filter(pk__in=ids, active=True).order_by("pk"))
    if len(chosen) != len(ids):
        errors["courses"] = "所选课程中有已停用或不在您可选范围内的课程，请重新选择。"
    return chosen


def _finish_request(booking: BookingRequest, errors: dict[str, str]) -> None:
    """Run the model's validation too, and raise everything found at once (nothing is saved)."""
    try:
        booking.full_clean(exclude=["courses"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, messages[0])
    if errors:
        raise ValidationError(errors)


@service
def booking_create(
    *,
    by,
    school: PartySchool,
    topic: str,
    target_group: str,
    headcount: int | None,
    wanted_from: dt.date | None,
    wanted_to: dt.date | None,
    venue_note: str = "",
    courses: Iterable[Course],
) -> BookingRequest:
    """File a booking request (约课邀请函, Xiqing 菜单式约课) for a school, as a draft (草稿).

    `by` manages the school's organization. The dispatcher is the district party school found by
    `dispatcher_for` (never sent by the client); with none above: an error on `school`. At least one course,
    each active and visible to `by` (选课点单 from the shared catalog); the wanted dates not in the past and in
    order; 1-10000 trainees. The same request sent again by its author while the first is still a draft (a double
    click, two requests at the same moment) files nothing new: the first draft is returned."""
    require_manager(by, school.organization)
    errors: dict[str, str] = {}
    dispatcher = dispatcher_for(school)
    if not school.active:
        errors["school"] = "该党校已停办，不能约课。"
    elif dispatcher is None:
        errors["school"] = NO_DISPATCHER_MESSAGE
    chosen = _check_request(
        by=by,
        topic=topic,
        headcount=headcount,
        wanted_from=wanted_from,
        wanted_to=wanted_to,
        courses=courses,
        errors=errors,
    )
    # A missing headcount or date is reported by _check_request and full_clean before anything is saved.
    booking = BookingRequest(  # type: ignore[misc]
        school=school,
        dispatcher=dispatcher or school,
        topic=(topic or "").strip(),
        target_group=target_group,
        headcount=headcount,
        wanted_from=wanted_from,
        wanted_to=wanted_to,
        venue_note=(venue_note or "").strip(),
        status=BookingStatus.DRAFT,
        created_by=acting_user(by),
    )
    _finish_request(booking, errors)
    # _finish_request raised on a missing dispatcher (the error on "school").
    assert dispatcher is not None
    same = _same_draft(booking, chosen)
    if same is not None:
        return same
    set_history(booking, by, "填写约课邀请函")
    booking.save()
    booking.courses.set(chosen)
    _record(booking, by, "", f"约课邀请函：{len(chosen)}门课程，派单党校{dispatcher.name}")
    return booking


def _same_draft(booking: BookingRequest, chosen: list[Course]) -> BookingRequest | None:
    """The draft `booking`'s author already filed with exactly this content (the form sent twice: a double click,
    a retried request), found with the school's row locked so that two such requests at the same moment see each
    other: the second gets the first one's draft instead of filing another."""
    PartySchool.objects.select_for_update().filter(pk=booking.school_id).values_list("pk", flat=True).get()
    if booking.created_by_id is None:
        return None
    wanted = sorted(course.pk for course in chosen)
    candidates = BookingRequest.objects.filter(
        school_id=booking.school_id,
        dispatcher_id=booking.dispatcher_id,
        created_by_id=booking.created_by_id,
        status=BookingStatus.DRAFT,
        topic=booking.topic,
        target_group=booking.target_group,
        headcount=booking.headcount,
        wanted_from=booking.wanted_from,
        wanted_to=booking.wanted_to,
        venue_note=booking.venue_note,
    ).prefetch_related("courses")
    for candidate in candidates:
        if sorted(course.pk for course in candidate.courses.all()) == wanted:
            return candidate
    return None


@service
def booking_update(
    *,
    by,
    booking: BookingRequest,
    topic: str,
    target_group: str,
    headcount: int | None,
    wanted_from: dt.date | None,
    wanted_to: dt.date | None,
    venue_note: str = "",
    courses: Iterable[Course],
    expected_version: str | None = None,
) -> BookingRequest:
    """Change a draft or returned booking's content (same rules as `booking_create`); the dispatcher is found
    again, in case the organization tree changed. Recorded on the trail. A booking saved by someone else since the
    editor loaded it (`expected_version`) is refused (`core.versioning`)."""
    booking = _lock(booking)
    require_manager(by, booking.school.organization)
    _require_status(booking, EDITABLE_STATUSES, "修改")
    check_version(booking, expected_version, what="该约课")
    errors: dict[str, str] = {}
    dispatcher = dispatcher_for(booking.school)
    if dispatcher is None:
        errors["school"] = NO_DISPATCHER_MESSAGE
    chosen = _check_request(
        by=by,
        topic=topic,
        headcount=headcount,
        wanted_from=wanted_from,
        wanted_to=wanted_to,
        courses=courses,
        errors=errors,
    )
    booking.dispatcher = dispatcher or booking.dispatcher
    booking.topic = (topic or "").strip()
    booking.target_group = target_group
    # A missing value is reported by _check_request and full_clean before anything is saved.
    booking.headcount = headcount  # type: ignore[assignment]
    booking.wanted_from = wanted_from  # type: ignore[assignment]
    booking.wanted_to = wanted_to  # type: ignore[assignment]
    booking.venue_note = (venue_note or "").strip()
    _finish_request(booking, errors)
    set_history(booking, by, "修改约课")
    booking.save()
    booking.courses.set(chosen)
    _record(booking, by, booking.status, "修改约课内容")
    return booking


@service
def booking_submit(*, by, booking: BookingRequest) -> BookingRequest:
    """Send a draft or returned booking to the district party school (草稿/已退回 → 已提交). The wanted start date
    must still lie ahead and at least one chosen course still be active."""
    booking = _lock(booking)
    require_manager(by, booking.school.organization)
    _require_status(booking, EDITABLE_STATUSES, "提交")
    if booking.wanted_from < timezone.localdate():
        raise ValidationError({"wanted_from": "期望开始日期已过，请先修改约课日期再提交。"})
    if not booking.courses.filter(active=True).exists():
        raise ValidationError({"courses": "约课没有可用的课程，请先修改约课、选择课程再提交。"})
    before = booking.status
    booking.status = BookingStatus.SUBMITTED
    booking.returned_reason = ""
    booking.full_clean(exclude=["courses"])
    set_history(booking, by, "提交约课")
    booking.save()
    _record(booking, by, before, "重新提交" if before == BookingStatus.RETURNED else "提交区委党校排课")
    return booking


# ---------------------------------------------------------------------------------------------------------
# The dispatcher's side: 排课派单


def _check_schedule_fields(
    booking: BookingRequest, instructor, starts_at, ends_at, venue, errors: dict[str, str]
) -> dt.date | None:
    """The rules of a session's time (future, in order, one day, inside the wanted dates); returns its date."""
    if instructor is None:
        errors["instructor"] = "请选择授课讲师。"
    if venue is None:
        errors["venue"] = "请选择上课场地。"
    if starts_at is None:
        errors["starts_at"] = "请填写开始时间。"
    if ends_at is None:
        errors["ends_at"] = "请填写结束时间。"
    if starts_at is None or ends_at is None:
        return None
    if starts_at <= timezone.now():
        errors["starts_at"] = "开始时间须晚于当前时间。"
    if ends_at <= starts_at:
        errors["ends_at"] = "结束时间须晚于开始时间。"
    day = timezone.localtime(starts_at).date()
    if timezone.localtime(ends_at).date() != day:
        errors.setdefault("ends_at", "开始时间和结束时间须在同一天。")
    if not booking.wanted_from <= day <= booking.wanted_to:
        errors.setdefault(
            "starts_at",
            f"上课日期须在约课期望日期{booking.wanted_from:%Y-%m-%d}至{booking.wanted_to:%Y-%m-%d}之内。",
        )
    return day


def _check_instructor(by, instructor: Instructor, day: dt.date | None, errors: dict[str, str]) -> None:
    """The instructor is in the pool the dispatcher's manager sees, active, and appointed on that day."""
    if not Instructor.objects.visible_to(by).filter(pk=instructor.pk).exists():
        errors["instructor"] = "该讲师不存在或不在您的师资库范围内。"
    elif not instructor.active:
        errors["instructor"] = f"讲师{instructor.name}已不在库，不能派单。"
    elif day is not None and instructor.appointment_ends_on and instructor.appointment_ends_on < day:
        errors["instructor"] = f"讲师{instructor.name}的聘期已于{instructor.appointment_ends_on:%Y-%m-%d}截止。"
    elif day is not None and instructor.appointed_on and instructor.appointed_on > day:
        errors["instructor"] = f"讲师{instructor.name}的聘期自{instructor.appointed_on:%Y-%m-%d}开始。"


def _check_venue(booking: BookingRequest, venue: SchoolVenue, errors: dict[str, str]) -> None:
    """A venue of the requesting school or of the dispatcher school, still in use."""
    if venue.school_id not in (booking.school_id, booking.dispatcher_id):
        errors["venue"] = "场地须是约课党校或派单党校的教学场所。"
    elif not venue.active:
        errors["venue"] = f"场地“{venue.name}”已停用。"


def _clash_message(by, other: BookingRequest, what: str) -> str:
    """Name the other booking and its time; a booking outside `by`'s scope is named by its time only."""
    span = _span(*_scheduled_time(other))
    if BookingRequest.objects.visible_to(by).filter(pk=other.pk).exists():
        return f"{what}在该时段已有排课：{other.school.name}“{other.topic}”（{span}）。"
    return f"{what}在该时段已有其他约课（{span}）。"


def _check_conflicts(by, booking, instructor, venue, starts_at, ends_at, errors: dict[str, str]) -> None:
    """No other scheduled or completed booking overlaps the time with the same instructor or venue. Intervals
    that only touch (one ends when the other starts) do not overlap."""
    overlapping = (
        BookingRequest.objects.dangerously_all()
        .filter(status__in=HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .exclude(pk=booking.pk)
        .select_related("school")
        .order_by("starts_at", "pk")
    )
    other = overlapping.filter(instructor=instructor).first()
    if other is not None:
        errors["instructor"] = _clash_message(by, other, f"讲师{instructor.name}")
    other = overlapping.filter(venue=venue).first()
    if other is not None:
        errors["venue"] = _clash_message(by, other, f"场地“{venue.name}”")


def _refuse_if_in_a_class(booking: BookingRequest, verb: str) -> None:
    """A booking that became a training session (课次) is what that class's attendance and hours hang on: returning
    or re-timing it here would leave the session teaching at a time or by an instructor the booking no longer says.
    The reverse one-to-one is read through the model, so schools does not import training (which builds on it)."""
    try:
        session = booking.training_session
    except ObjectDoesNotExist:
        return
    raise ValidationError(
        {
            "booking": f"该约课已生成培训课次（{session.training_class.title}），不能{verb}；"
            "如需调整，请由培训班主办方修改该课次。"
        }
    )


@service
def booking_schedule(
    *,
    by,
    booking: BookingRequest,
    instructor: Instructor | None,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    venue: SchoolVenue | None,
) -> BookingRequest:
    """Schedule a submitted booking (已提交 → 已排课, Xiqing 排课派单), or re-schedule a scheduled one, by a manager
    of the dispatcher's organization: an instructor, a time and a venue.

    The time lies ahead, ends after it starts on the same day, inside the wanted dates. The instructor is in
    the pool `by` sees, active, appointed on that day; the venue belongs to the requesting or the dispatcher
    school and is in use. Neither the instructor nor the venue may be held by another scheduled or completed
    booking at an overlapping time (touching is fine). The instructor's and the venue's rows are locked
    before the check, so concurrent schedulings are serialized and cannot double-book. The same schedule sent
    again (a second click, or two dispatchers at the same moment) changes nothing and records no second step."""
    booking = _lock(booking)
    require_manager(by, booking.dispatcher.organization, NOT_DISPATCHER_MESSAGE)
    _require_status(booking, SCHEDULABLE_STATUSES, "排课")
    if booking.status == BookingStatus.SCHEDULED and (
        booking.instructor_id,
        booking.starts_at,
        booking.ends_at,
        booking.venue_id,
    ) == (getattr(instructor, "pk", None), starts_at, ends_at, getattr(venue, "pk", None)):
        return booking
    if booking.status == BookingStatus.SCHEDULED:
        _refuse_if_in_a_class(booking, "改排")
    errors: dict[str, str] = {}
    day = _check_schedule_fields(booking, instructor, starts_at, ends_at, venue, errors)
    if instructor is not None:
        instructor = Instructor.objects.select_for_update().get(pk=instructor.pk)
        _check_instructor(by, instructor, day, errors)
    if venue is not None:
        venue = SchoolVenue.objects.select_for_update().get(pk=venue.pk)
        _check_venue(booking, venue, errors)
    if not errors:
        _check_conflicts(by, booking, instructor, venue, starts_at, ends_at, errors)
    if errors:
        raise ValidationError(errors)
    # _check_schedule_fields refused a missing instructor, time or venue.
    assert instructor is not None and starts_at is not None and ends_at is not None
    before = booking.status
    booking.status = BookingStatus.SCHEDULED
    booking.instructor = instructor
    booking.starts_at = starts_at
    booking.ends_at = ends_at
    booking.venue = venue
    booking.full_clean(exclude=["courses"])
    set_history(booking, by, "改排" if before == BookingStatus.SCHEDULED else "排课派单")
    booking.save()
    verb = "改排" if before == BookingStatus.SCHEDULED else "排课"
    _record(booking, by, before, f"{verb}：{_span(starts_at, ends_at)}，讲师{instructor.name}，场地{venue}")
    return booking


@service
def booking_return(*, by, booking: BookingRequest, reason: str) -> BookingRequest:
    """Return a submitted or scheduled booking to the requesting school (→ 已退回), by the dispatcher's side,
    with a reason (required, at most 200 characters). The schedule is cleared: the instructor and the venue
    are free again at that time."""
    booking = _lock(booking)
    require_manager(by, booking.dispatcher.organization, NOT_DISPATCHER_MESSAGE)
    _require_status(booking, RETURNABLE_STATUSES, "退回")
    _refuse_if_in_a_class(booking, "退回")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退回原因。"})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"退回原因不能超过{REASON_MAX}字（现有{len(reason)}字）。"})
    before = booking.status
    booking.status = BookingStatus.RETURNED
    booking.returned_reason = reason
    booking.instructor = None
    booking.starts_at = None
    booking.ends_at = None
    booking.venue = None
    booking.full_clean(exclude=["courses"])
    set_history(booking, by, f"退回：{reason}")
    booking.save()
    _record(booking, by, before, reason)
    return booking


def _is_no_rule(exc: ValidationError) -> bool:
    errors = [e for es in exc.error_dict.values() for e in es] if hasattr(exc, "error_dict") else exc.error_list
    return getattr(exc, "code", None) == "no_rule" or any(e.code == "no_rule" for e in errors)


def _award_points(by, booking: BookingRequest) -> str:
    """Credit the instructor the teaching points (Huangpi 积分管理) through the catalog seam; returns the note
    for the trail. With no points rule, or when `by` may not record the instructor's points, the booking is
    completed anyway and the trail says why no points were recorded."""
    from dangjian.schools.services.catalog import instructor_points_award

    try:
        with transaction.atomic():
            entry = instructor_points_award(
                by=by,
                instructor=_scheduled_instructor(booking),
                event=PointEvent.CLASS_TAUGHT,
                on=timezone.localtime(booking.starts_at).date(),
                source=f"约课：{booking.topic}",
            )
    except ValidationError as exc:
        if not _is_no_rule(exc):
            raise
        return NO_POINTS_RULE_NOTE
    except PermissionDenied:
        return "完成人无权记录该讲师的积分，未计积分（可由派单党校补记）"
    return f"讲师{_scheduled_instructor(booking).name}计授课积分{entry.points}分"


def booking_teaching_hours(booking: BookingRequest) -> Decimal:
    """The hours a booking's instructor-member earns for the lecture (授课奖励): DANGJIAN_TEACHING_REWARD_HOURS when
    set, else what a session made from the booking would carry — the sum of its courses' hours (its length when it
    has none), capped at its length and 24, rounded down to 0.5 (as `training.services.sessions` does)."""
    configured = getattr(settings, "DANGJIAN_TEACHING_REWARD_HOURS", None)
    if configured not in (None, ""):
        return Decimal(str(configured))
    starts_at, ends_at = _scheduled_time(booking)
    length = Decimal((ends_at - starts_at).total_seconds()) / Decimal(3600)
    courses = list(booking.courses.all())
    planned = sum((c.hours for c in courses), Decimal("0")) if courses else length
    value = min(planned, length, Decimal("24"))
    return (value / HALF).to_integral_value(rounding=ROUND_FLOOR) * HALF


def _credit_teaching_hours(by, booking: BookingRequest) -> str:
    """Credit the lecture (上讲台) to the instructor's member through the hours ledger (授课奖励), unless the booking
    became a training session (课次): closing that session credits the same lecture (`session_close`), so a lecture
    is credited once. A booking can only become a session while it is 已排课 (`session_from_booking`), so once it is
    completed here no session can be made from it later. Returns the note for the trail ("" when nothing to say).
    Schools does not import training at load time (training builds on schools): the ledger is reached at run time."""
    instructor = booking.instructor
    member = instructor.member if instructor is not None else None
    if member is None:
        return ""
    try:
        session = booking.training_session
    except ObjectDoesNotExist:
        session = None
    if session is not None:
        return f"已生成课次，授课学时由课次（{session.training_class.title}）结束时计入"
    if member.status != Status.ACTIVE:
        return f"讲师对应党员党籍状态为{member.get_status_display()}，未计授课学时"
    hours = booking_teaching_hours(booking)
    if hours < HALF:
        return "授课时长不足0.5学时，未计授课学时"
    from dangjian.training.services.ledger import Credit, hours_credit_many  # the only writer of hours

    courses = list(booking.courses.order_by("pk").values_list("pk", flat=True))
    hours_credit_many(
        by=by,
        credits=[
            Credit(
                member_id=member.pk,
                on=timezone.localtime(booking.starts_at).date(),
                hours=hours,
                kind="teaching",  # training.models.HoursKind.TEACHING
                course_id=courses[0] if courses else None,
                document=f"授课：约课#{booking.pk} {booking.topic}"[:200],
            )
        ],
    )
    assert instructor is not None  # the member came from it
    return f"讲师{instructor.name}计授课学时{hours.normalize():f}学时"


@service
def booking_complete(*, by, booking: BookingRequest) -> BookingRequest:
    """Mark a scheduled booking as held (已排课 → 已完成) once its end time has passed, by a manager of either
    side; the instructor is credited the teaching points (积分, `instructor_points_award` with 授课) and, when the
    instructor is a member (上讲台), the teaching hours through the ledger — unless the booking became a session,
    whose closing credits them (`_credit_teaching_hours`: one lecture, one credit)."""
    booking = _lock(booking)
    if not (
        access_for(by).can_manage_schools_in(booking.school.organization)
        or access_for(by).can_manage_schools_in(booking.dispatcher.organization)
    ):
        raise PermissionDenied(NOT_EITHER_SIDE_MESSAGE)
    _require_status(booking, (BookingStatus.SCHEDULED,), "确认完成")
    _starts_at, ends_at = _scheduled_time(booking)
    if ends_at > timezone.now():
        raise ValidationError(
            "课程尚未结束（结束时间%(end)s），结束后才能确认完成。",
            code="not_ended",
            params={"end": _fmt(ends_at)},
        )
    before = booking.status
    booking.status = BookingStatus.COMPLETED
    booking.full_clean(exclude=["courses"])
    set_history(booking, by, "确认完成")
    booking.save()
    note = _award_points(by, booking)
    hours_note = _credit_teaching_hours(by, booking)
    _record(booking, by, before, "；".join(n for n in (note, hours_note) if n)[:200])
    return booking
