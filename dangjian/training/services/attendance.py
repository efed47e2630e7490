"""Attendance by the organizer (组织者标记) and closing a session (结束课次，确认考勤): closing makes attendance
final and credits the hours ledger — the attendees the session's hours, the instructor-member the teaching reward
(授课奖励, Huangpi: 上讲台 earns hours). Only a runner of the class (`classes`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from dangjian.core.services import acting_user, service, set_history
from dangjian.members.models import Member
from dangjian.schools.services._common import require_manager
from dangjian.training.models import (
    Attendance,
    AttendanceMethod,
    ClassStatus,
    Enrollment,
    HoursKind,
    SessionStatus,
    TrainingSession,
)
from dangjian.training.services._common import NOT_RUNNER, local_time, lock_session, names_text, status_error
from dangjian.training.services.ledger import Credit, hours_credit_many


def teaching_reward_hours(session: TrainingSession) -> Decimal:
    """The hours a session's instructor-member earns for teaching it (授课奖励; Huangpi: 对完成上讲台任务的领导干部给予
    学时奖励): DANGJIAN_TEACHING_REWARD_HOURS, by default the session's own hours."""
    configured = getattr(settings, "DANGJIAN_TEACHING_REWARD_HOURS", None)
    return session.hours if configured in (None, "") else Decimal(str(configured))


@service
def attendance_mark(*, by, session: TrainingSession, members, present: bool = True) -> int:
    """The organizer marks attendance by hand (组织者标记) before the session is closed: present → a manual
    attendance for each enrolled member not signed in yet; absent → their attendance is removed. Returns how many
    changed."""
    current = lock_session(session)
    training_class = current.training_class
    require_manager(by, training_class.organizer, NOT_RUNNER)
    if current.status == SessionStatus.CLOSED:
        raise status_error("该课次已结束（考勤已确认），不能修改签到。")
    if training_class.status != ClassStatus.APPROVED:
        raise status_error("该培训班不在开班期间，不能标记签到。")
    members = list(members)
    ids = {m.pk for m in members}
    if not ids:
        raise ValidationError({"members": "请选择党员。"})
    user = acting_user(by)
    if not present:
        changed = 0
        for attendance in Attendance.objects.filter(session=current, member_id__in=ids):
            set_history(attendance, by, "组织者取消签到")
            attendance.delete()
            changed += 1
        return changed
    enrolled = set(
        Enrollment.objects.active()
        .filter(training_class=training_class, member_id__in=ids)
        .values_list("member_id", flat=True)
    )
    outside = [m for m in members if m.pk not in enrolled]
    if outside:
        raise ValidationError({"members": f"{names_text(outside)}未报名该培训班，不能标记签到。"})
    signed = set(Attendance.objects.filter(session=current, member_id__in=ids).values_list("member_id", flat=True))
    new = [
        Attendance(session=current, member_id=pk, method=AttendanceMethod.MANUAL, marked_by=user)
        for pk in sorted(ids - signed)
    ]
    if new:
        bulk_create_with_history(new, Attendance, default_user=user, default_change_reason="组织者标记签到")
    return len(new)


@dataclass(frozen=True)
class ClosedSession:
    session: TrainingSession
    credited: int  # attendees credited
    instructor_member: Member | None  # credited the teaching reward, if any
    reward: Decimal | None


@service
def session_close(*, by, session: TrainingSession) -> ClosedSession:
    """Close a session (结束课次，确认考勤) once it has started: attendance becomes final and is credited to the hours
    ledger — every attendee the session's hours (集中培训, with the session, its course, the session's date), the
    instructor-member (`session.instructor.member`) the teaching reward (授课奖励, DANGJIAN_TEACHING_REWARD_HOURS,
    by default the session's hours; Huangpi: 上讲台 earns hours).

    The session is claimed with a conditional update (OPEN → CLOSED); when it matches no row the session was
    closed already ("该课次已结束"), so two organizers closing at once credit once."""
    current = TrainingSession.objects.select_related("training_class__organizer", "instructor__member").get(
        pk=session.pk
    )
    training_class = current.training_class
    require_manager(by, training_class.organizer, NOT_RUNNER)
    if training_class.status != ClassStatus.APPROVED:
        raise status_error("培训班未经备案审批（或已结班），不能结束课次。")
    now = timezone.now()
    if current.starts_at > now:
        raise status_error("课次尚未开始，不能结束。")
    user = acting_user(by)
    claimed = TrainingSession.objects.filter(pk=current.pk, status=SessionStatus.OPEN).update(
        status=SessionStatus.CLOSED, closed_at=now, closed_by=user, updated_at=now
    )
    if not claimed:
        raise status_error("该课次已结束")
    current.refresh_from_db(fields=["status", "closed_at", "closed_by", "updated_at"])
    set_history(current, by, "结束课次，确认考勤")
    current.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])  # the history row

    on = local_time(current.starts_at).date()
    source = f"{training_class.title} · {current.title}"[:200]
    attendees = list(Attendance.objects.filter(session=current).order_by("pk").values_list("member_id", flat=True))
    credits = [
        Credit(
            member_id=member_id,
            on=on,
            hours=current.hours,
            kind=HoursKind.CONCENTRATED,
            session_id=current.pk,
            course_id=current.course_id,
            document=source,
        )
        for member_id in attendees
    ]
    teacher = current.instructor.member if current.instructor is not None else None
    reward = None
    if teacher is not None:
        reward = teaching_reward_hours(current)
        credits.append(
            Credit(
                member_id=teacher.pk,
                on=on,
                hours=reward,
                kind=HoursKind.TEACHING,
                session_id=current.pk,
                course_id=current.course_id,
                document=f"授课：{source}"[:200],
            )
        )
    if credits:
        hours_credit_many(by=by, credits=credits)
    return ClosedSession(session=current, credited=len(attendees), instructor_member=teacher, reward=reward)
