"""State changes of training classes (培训班) and their filing (办班事前备案): create, edit, file, approve or
return, finish. A class's work is split by seam: this module, `enrollment` (报名/调训), `sessions` (课次), `sign_in`
(签到) and `attendance` (marking attendance and closing a session, which credits the hours ledger); what they share
(who runs a class, locking, saving with the history's reason) is in `_common`.

Who may do what:
- running a class (create, edit, sessions, enrollment, attendance, closing) needs a school-managing role
  (工委工作人员 / 党校管理员) over the organizer (`require_manager`);
- a branch secretary (支部书记) may enroll the members of their own branch into an approved class they see;
- a filing is approved or returned by a committee user (工委工作人员) whose subtree holds the organizer;
- a member user signs in themself.

Sources: the Huangpi report (《黄陂区干部教育培训办班事前备案管理办法》: classes are filed before they run, to catch
多头调训, 重复调训 and 长期漏训; leaders who teach earn hours, 上讲台学时奖励), the Xiqing report (town schools run
their classes under 班级制管理; every member at least 32 hours of concentrated study a year, which closing a session
feeds).
The sign-in rules: a QR code and a short code, a time window, and closing makes attendance final.

Every function is keyword-only, one transaction, checks scope itself and raises `ValidationError({field: 中文说明})`
for bad input (nothing saved) or `PermissionDenied` for a role that may not act.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service
from dangjian.orgs.models import Organization
from dangjian.schools.models import PartySchool
from dangjian.schools.services._common import require_manager
from dangjian.training.models import ClassStatus, SessionStatus, TrainingClass
from dangjian.training.selectors.classes import filing_warnings
from dangjian.training.services._common import NOT_RUNNER, local_time, lock_class, save_with_history, status_error

NOT_APPROVER = "只有主办党组织所在范围的工委工作人员才能审批办班备案。"


def _check_class_fields(by, *, organizer: Organization, school, starts_on, ends_on, errors: dict) -> None:
    if school is not None:
        managed = PartySchool.objects.manageable_by(by).filter(pk=school.pk).exists()
        if not managed or not school.organization.path.startswith(organizer.path):
            errors["school"] = "承办党校须是您管理的、由主办党组织（或其下级组织）主办的党校。"
        elif not school.active:
            errors["school"] = "该党校已停办，不能承办培训班。"
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "结班日期不能早于开班日期。"


@service
def class_create(
    *,
    by,
    title: str,
    organizer: Organization,
    starts_on: dt.date,
    ends_on: dt.date,
    school: PartySchool | None = None,
    target_group: str = "",
    description: str = "",
    planned_headcount: int = 0,
) -> TrainingClass:
    """Create a class (新建培训班) as a draft, organized by an organization the user manages (school-managing role),
    optionally held by a school the user manages whose organization is the organizer or lies below it."""
    require_manager(by, organizer, NOT_RUNNER)
    errors: dict[str, str] = {}
    _check_class_fields(by, organizer=organizer, school=school, starts_on=starts_on, ends_on=ends_on, errors=errors)
    if errors:
        raise ValidationError(errors)
    training_class = TrainingClass(
        title=(title or "").strip(),
        organizer=organizer,
        school=school,
        target_group=(target_group or "").strip(),
        description=description or "",
        planned_headcount=planned_headcount or 0,
        starts_on=starts_on,
        ends_on=ends_on,
        status=ClassStatus.DRAFT,
        created_by=acting_user(by),
    )
    save_with_history(training_class, by, "新建培训班")
    return training_class


@service
def class_update(
    *,
    by,
    training_class: TrainingClass,
    title: str,
    organizer: Organization,
    starts_on: dt.date,
    ends_on: dt.date,
    school: PartySchool | None = None,
    target_group: str = "",
    description: str = "",
    planned_headcount: int = 0,
) -> TrainingClass:
    """Edit a class. A finished class is read-only; the organizer changes only before filing (草稿/已退回), since
    the filing was approved for that organizer; the dates must still hold every session."""
    current = lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    if current.status == ClassStatus.FINISHED:
        raise status_error("已结班的培训班不能修改。")
    errors: dict[str, str] = {}
    if organizer.pk != current.organizer_id:
        if current.status not in (ClassStatus.DRAFT, ClassStatus.REJECTED):
            errors["organizer"] = "培训班已备案，不能更换主办党组织。"
        elif not access_for(by).can_manage_schools_in(organizer):
            errors["organizer"] = "找不到该党组织编码，或该组织不在您的管理范围内。"
    _check_class_fields(by, organizer=organizer, school=school, starts_on=starts_on, ends_on=ends_on, errors=errors)
    first = current.sessions.order_by("starts_at").first()
    last = current.sessions.order_by("-ends_at").first()
    if first is not None and starts_on and local_time(first.starts_at).date() < starts_on:
        errors.setdefault("starts_on", f"已有课次安排在{local_time(first.starts_at):%Y-%m-%d}，开班日期不能晚于该日。")
    if last is not None and ends_on and local_time(last.ends_at).date() > ends_on:
        errors.setdefault("ends_on", f"已有课次安排在{local_time(last.ends_at):%Y-%m-%d}，结班日期不能早于该日。")
    if errors:
        raise ValidationError(errors)
    current.title = (title or "").strip()
    current.organizer = organizer
    current.school = school
    current.target_group = (target_group or "").strip()
    current.description = description or ""
    current.planned_headcount = planned_headcount or 0
    current.starts_on = starts_on
    current.ends_on = ends_on
    save_with_history(current, by, "修改培训班")
    return current


@service
def class_file(*, by, training_class: TrainingClass) -> TrainingClass:
    """File a class before it runs (办班事前备案, Huangpi): 草稿/已退回 → 已备案待审批, with at least one session
    planned. Stores in `filing_warnings` what `selectors.classes.filing_warnings` finds (重复调训, 多头调训,
    长期漏训 candidates); the warnings never block the filing."""
    current = lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    if current.status not in (ClassStatus.DRAFT, ClassStatus.REJECTED):
        raise status_error(f"只有草稿或已退回的培训班可以备案（当前状态：{current.get_status_display()}）。")
    if not current.sessions.exists():
        raise status_error("请先安排至少一个课次，再办理备案。")
    current.filing_warnings = filing_warnings(current)
    current.status = ClassStatus.FILED
    current.filed_at = timezone.now()
    current.decided_by = None
    current.decided_at = None
    save_with_history(current, by, "办班事前备案")
    return current


@service
def class_approve(*, by, training_class: TrainingClass) -> TrainingClass:
    """Approve a filing (备案审批): 已备案待审批 → 已批准（报名中）; enrollment opens. By a committee user whose
    subtree holds the organizer."""
    current = lock_class(training_class)
    if not access_for(by).is_committee_over(current.organizer):
        raise PermissionDenied(NOT_APPROVER)
    if current.status != ClassStatus.FILED:
        raise status_error(f"只有已备案待审批的培训班可以审批（当前状态：{current.get_status_display()}）。")
    current.status = ClassStatus.APPROVED
    current.decided_by = acting_user(by)
    current.decided_at = timezone.now()
    current.rejection_reason = ""
    save_with_history(current, by, "备案审批通过")
    return current


@service
def class_reject(*, by, training_class: TrainingClass, reason: str) -> TrainingClass:
    """Return a filing (退回备案) with a reason: 已备案待审批 → 已退回; the organizer may edit and file again."""
    current = lock_class(training_class)
    if not access_for(by).is_committee_over(current.organizer):
        raise PermissionDenied(NOT_APPROVER)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退回原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "退回原因不能超过200字。"})
    if current.status != ClassStatus.FILED:
        raise status_error(f"只有已备案待审批的培训班可以退回（当前状态：{current.get_status_display()}）。")
    current.status = ClassStatus.REJECTED
    current.rejection_reason = reason
    current.decided_by = acting_user(by)
    current.decided_at = timezone.now()
    save_with_history(current, by, f"退回备案：{reason}")
    return current


@service
def class_finish(*, by, training_class: TrainingClass) -> TrainingClass:
    """Finish a class (结班): 已批准 → 已结班, once every session is closed (attendance confirmed and credited).
    The class and its sessions are read-only afterwards."""
    current = lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    if current.status != ClassStatus.APPROVED:
        raise status_error(f"只有已批准的培训班可以结班（当前状态：{current.get_status_display()}）。")
    sessions = current.sessions.all()
    if not sessions.exists():
        raise status_error("该培训班没有课次，不能结班。")
    still_open = sessions.filter(status=SessionStatus.OPEN).count()
    if still_open:
        raise status_error(f"还有{still_open}个课次未结束，请先结束全部课次（确认考勤）后再结班。")
    current.status = ClassStatus.FINISHED
    save_with_history(current, by, "结班")
    from dangjian.learning.services.certificates import class_certificates_issue  # learning builds on training

    class_certificates_issue(by=by, training_class=current)
    return current
