"""State changes of the classes seam: classes (培训班) and their filing (办班事前备案), enrollment (报名/调训),
sessions (课次), sign-in (签到) and closing a session, which credits the hours ledger.

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
import re
import secrets
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service, set_history
from dangjian.core.uploads import check_xlsx_upload
from dangjian.core.validators import normalize_id_number, parse_id_number
from dangjian.members.imports import MSG_ID_AS_NUMBER, MSG_ID_MASKED, ImportFileError, max_rows, open_sheet
from dangjian.members.models import Category, Member, Status, id_number_digest
from dangjian.orgs.models import Organization
from dangjian.schools.models import BookingRequest, BookingStatus, Course, Instructor, PartySchool
from dangjian.schools.services._common import require_manager
from dangjian.training.models import (
    HALF,
    Attendance,
    AttendanceMethod,
    ClassStatus,
    Enrollment,
    EnrollmentSource,
    HoursKind,
    SessionStatus,
    TrainingClass,
    TrainingSession,
)
from dangjian.training.selectors.classes import (
    filing_warnings,
    member_for,
    sign_in_early_minutes,
    sign_in_late_minutes,
)
from dangjian.training.services.ledger import Credit, check_hours, hours_credit_many

NOT_RUNNER = "您的角色无权管理该培训班：须为主办党组织范围内的工委工作人员或党校管理员。"
NOT_APPROVER = "只有主办党组织所在范围的工委工作人员才能审批办班备案。"
NOT_ENROLLER = "您的角色无权为该培训班报名：须为主办方的工委工作人员、党校管理员，或本支部的支部书记。"
ENROLLMENT_CLOSED = (
    "该培训班未在报名中：主办方可在备案前拟定调训名单，备案审批通过后各支部方可报名（当前状态：{status}）。"
)
MAX_SESSION_HOURS = Decimal("24")
SIGN_IN_SALT = "dangjian.training.sign-in"
SHORT_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a projector
SHORT_CODE_LENGTH = 6
_CODE_PATTERN = re.compile(r"^[0-9A-Z]{4,8}$")
NAMES_SHOWN = 10
_LOOKUP_CHUNK = 5000
ALREADY_SIGNED = "您已签到"


# ---------------------------------------------------------------------------------------------------------
# Settings and small helpers


def teaching_reward_hours(session: TrainingSession) -> Decimal:
    """The hours a session's instructor-member earns for teaching it (授课奖励; Huangpi: 对完成上讲台任务的领导干部给予
    学时奖励): DANGJIAN_TEACHING_REWARD_HOURS, by default the session's own hours."""
    configured = getattr(settings, "DANGJIAN_TEACHING_REWARD_HOURS", None)
    return session.hours if configured in (None, "") else Decimal(str(configured))


def sign_in_window(session: TrainingSession) -> tuple[dt.datetime, dt.datetime]:
    """When a session's sign-in opens and closes."""
    return (
        session.starts_at - dt.timedelta(minutes=sign_in_early_minutes()),
        session.ends_at + dt.timedelta(minutes=sign_in_late_minutes()),
    )


def _names(members) -> str:
    names = sorted({m.name for m in members})
    shown = "、".join(names[:NAMES_SHOWN])
    return f"{shown}等{len(names)}人" if len(names) > NAMES_SHOWN else shown


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


def _hours_text(value: Decimal) -> str:
    text = f"{value.quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    return text or "0"


def _save(obj, by, reason: str) -> None:
    """Model validation, who and why on the history row, then save."""
    obj.full_clean()
    set_history(obj, by, reason)
    obj.save()


def _lock_class(training_class: TrainingClass) -> TrainingClass:
    """The class's current row, locked until the transaction ends (its organizer read along, not locked)."""
    return (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organizer", "school")
        .get(pk=training_class.pk)
    )


def _lock_session(session: TrainingSession) -> TrainingSession:
    return (
        TrainingSession.objects.select_for_update(of=("self",))
        .select_related("training_class__organizer", "course", "instructor__member")
        .get(pk=session.pk)
    )


def _status_error(message: str) -> ValidationError:
    return ValidationError({"status": message})


# ---------------------------------------------------------------------------------------------------------
# Classes


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
    _save(training_class, by, "新建培训班")
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
    current = _lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    if current.status == ClassStatus.FINISHED:
        raise _status_error("已结班的培训班不能修改。")
    errors: dict[str, str] = {}
    if organizer.pk != current.organizer_id:
        if current.status not in (ClassStatus.DRAFT, ClassStatus.REJECTED):
            errors["organizer"] = "培训班已备案，不能更换主办党组织。"
        elif not access_for(by).can_manage_schools_in(organizer):
            errors["organizer"] = "找不到该党组织编码，或该组织不在您的管理范围内。"
    _check_class_fields(by, organizer=organizer, school=school, starts_on=starts_on, ends_on=ends_on, errors=errors)
    first = current.sessions.order_by("starts_at").first()
    last = current.sessions.order_by("-ends_at").first()
    if first is not None and starts_on and _local(first.starts_at).date() < starts_on:
        errors.setdefault("starts_on", f"已有课次安排在{_local(first.starts_at):%Y-%m-%d}，开班日期不能晚于该日。")
    if last is not None and ends_on and _local(last.ends_at).date() > ends_on:
        errors.setdefault("ends_on", f"已有课次安排在{_local(last.ends_at):%Y-%m-%d}，结班日期不能早于该日。")
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
    _save(current, by, "修改培训班")
    return current


@service
def class_file(*, by, training_class: TrainingClass) -> TrainingClass:
    """File a class before it runs (办班事前备案, Huangpi): 草稿/已退回 → 已备案待审批, with at least one session
    planned. Stores in `filing_warnings` what `selectors.classes.filing_warnings` finds (重复调训, 多头调训,
    长期漏训 candidates); the warnings never block the filing."""
    current = _lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    if current.status not in (ClassStatus.DRAFT, ClassStatus.REJECTED):
        raise _status_error(f"只有草稿或已退回的培训班可以备案（当前状态：{current.get_status_display()}）。")
    if not current.sessions.exists():
        raise _status_error("请先安排至少一个课次，再办理备案。")
    current.filing_warnings = filing_warnings(current)
    current.status = ClassStatus.FILED
    current.filed_at = timezone.now()
    current.decided_by = None
    current.decided_at = None
    _save(current, by, "办班事前备案")
    return current


@service
def class_approve(*, by, training_class: TrainingClass) -> TrainingClass:
    """Approve a filing (备案审批): 已备案待审批 → 已批准（报名中）; enrollment opens. By a committee user whose
    subtree holds the organizer."""
    current = _lock_class(training_class)
    if not access_for(by).is_committee_over(current.organizer):
        raise PermissionDenied(NOT_APPROVER)
    if current.status != ClassStatus.FILED:
        raise _status_error(f"只有已备案待审批的培训班可以审批（当前状态：{current.get_status_display()}）。")
    current.status = ClassStatus.APPROVED
    current.decided_by = acting_user(by)
    current.decided_at = timezone.now()
    current.rejection_reason = ""
    _save(current, by, "备案审批通过")
    return current


@service
def class_reject(*, by, training_class: TrainingClass, reason: str) -> TrainingClass:
    """Return a filing (退回备案) with a reason: 已备案待审批 → 已退回; the organizer may edit and file again."""
    current = _lock_class(training_class)
    if not access_for(by).is_committee_over(current.organizer):
        raise PermissionDenied(NOT_APPROVER)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退回原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "退回原因不能超过200字。"})
    if current.status != ClassStatus.FILED:
        raise _status_error(f"只有已备案待审批的培训班可以退回（当前状态：{current.get_status_display()}）。")
    current.status = ClassStatus.REJECTED
    current.rejection_reason = reason
    current.decided_by = acting_user(by)
    current.decided_at = timezone.now()
    _save(current, by, f"退回备案：{reason}")
    return current


@service
def class_finish(*, by, training_class: TrainingClass) -> TrainingClass:
    """Finish a class (结班): 已批准 → 已结班, once every session is closed (attendance confirmed and credited).
    The class and its sessions are read-only afterwards."""
    current = _lock_class(training_class)
    require_manager(by, current.organizer, NOT_RUNNER)
    if current.status != ClassStatus.APPROVED:
        raise _status_error(f"只有已批准的培训班可以结班（当前状态：{current.get_status_display()}）。")
    sessions = current.sessions.all()
    if not sessions.exists():
        raise _status_error("该培训班没有课次，不能结班。")
    still_open = sessions.filter(status=SessionStatus.OPEN).count()
    if still_open:
        raise _status_error(f"还有{still_open}个课次未结束，请先结束全部课次（确认考勤）后再结班。")
    current.status = ClassStatus.FINISHED
    _save(current, by, "结班")
    return current


# ---------------------------------------------------------------------------------------------------------
# Enrollment (报名/调训)


# Before filing, the class's runners draw up its planned roster (拟调训名单) — that is what the filing checks for
# 重复调训 and 多头调训; during review the roster is frozen; once approved, enrollment opens to the branches too.
ROSTER_STATES = frozenset({ClassStatus.DRAFT, ClassStatus.REJECTED, ClassStatus.APPROVED})


def _require_enrollment_open(training_class: TrainingClass, *, runner: bool) -> None:
    open_states = ROSTER_STATES if runner else {ClassStatus.APPROVED}
    if training_class.status not in open_states:
        raise ValidationError({"training_class": ENROLLMENT_CLOSED.format(status=training_class.get_status_display())})


def _enroller(by, training_class: TrainingClass) -> bool:
    """True for a runner of the class; False for a member editor (a branch secretary) who sees the class and may
    enroll the members they may edit; PermissionDenied for anybody else."""
    if access_for(by).can_manage_schools_in(training_class.organizer):
        return True
    access = access_for(by)
    if access.can_edit_members and TrainingClass.objects.visible_to(by).filter(pk=training_class.pk).exists():
        return False
    raise PermissionDenied(NOT_ENROLLER)


def _chunks(values: list, size: int = _LOOKUP_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _enroll(by, training_class: TrainingClass, member_ids, source: str, *, field: str = "members") -> int:
    """Enroll members (by id) into a locked, open class: each visible to `by`, active, and (for a branch secretary)
    in an organization they may edit. Already enrolled members are skipped, withdrawn ones re-activated; all or
    nothing. Returns how many are newly enrolled (re-activated included)."""
    runner = _enroller(by, training_class)
    _require_enrollment_open(training_class, runner=runner)
    if source not in EnrollmentSource.values:
        raise ValidationError({"source": "报名方式无效。"})
    ids = sorted({int(pk) for pk in member_ids})
    if not ids:
        raise ValidationError({field: "请选择要报名的党员。"})
    access = access_for(by)
    found: dict[int, Member] = {}
    for chunk in _chunks(ids):
        for member in Member.objects.visible_to(by).filter(pk__in=chunk).select_related("organization"):
            found[member.pk] = member
    missing = len(ids) - len(found)
    if missing:
        raise ValidationError({field: f"所选党员中有{missing}人不在您的管理范围内，未报名任何人。"})
    if not runner:
        outside = [m for m in found.values() if not access.can_edit_member_in(m.organization)]
        if outside:
            raise ValidationError(
                {field: f"您只能为您管理的党组织的党员报名：{_names(outside)}不在其中，未报名任何人。"}
            )
    inactive = [m for m in found.values() if m.status != Status.ACTIVE]
    if inactive:
        raise ValidationError({field: f"{_names(inactive)}的党籍状态不是“正常”，不能报名，未报名任何人。"})
    existing: dict[int, Enrollment] = {}
    for chunk in _chunks(ids):
        for enrollment in Enrollment.objects.filter(training_class=training_class, member_id__in=chunk):
            existing[enrollment.member_id] = enrollment
    user = acting_user(by)
    now = timezone.now()
    label = EnrollmentSource(source).label
    new = [
        Enrollment(training_class=training_class, member_id=pk, source=source, enrolled_by=user)
        for pk in ids
        if pk not in existing
    ]
    revived = [e for e in existing.values() if e.withdrawn_at is not None]
    for enrollment in revived:
        enrollment.withdrawn_at = None
        enrollment.source = source
        enrollment.enrolled_by = user
        enrollment.updated_at = now
    if new:
        bulk_create_with_history(new, Enrollment, default_user=user, default_change_reason=f"报名（{label}）")
    if revived:
        bulk_update_with_history(
            revived,
            Enrollment,
            ["withdrawn_at", "source", "enrolled_by", "updated_at"],
            default_user=user,
            default_change_reason=f"重新报名（{label}）",
        )
    return len(new) + len(revived)


@service
def enrollment_add(*, by, training_class: TrainingClass, members, source: str = EnrollmentSource.MANUAL) -> int:
    """Enroll members into an approved class (报名), in one transaction: every member must be visible to `by`
    (`Member.objects.visible_to`) and active (正常). A runner of the class (school-managing role over the
    organizer) enrolls anybody they see; a branch secretary who sees the class enrolls the members of the
    organizations they may edit (the hours seam's one-click enrollment). Members already enrolled are skipped, a
    withdrawn one is re-activated. Returns the count newly enrolled. Enrollment is open only while the class is
    已批准 (办班事前备案 first, Huangpi)."""
    current = _lock_class(training_class)
    return _enroll(by, current, [m.pk for m in members], source)


@service
def enrollment_add_by_organization(
    *,
    by,
    training_class: TrainingClass,
    organization: Organization,
    category: str | None = None,
    leadership: bool = False,
) -> int:
    """Enroll by organization (按组织报名): every active member of the organization's subtree whom `by` sees,
    optionally only one category (正式党员/预备党员) and only leadership-team members (班子成员). Same rules as
    `enrollment_add`."""
    current = _lock_class(training_class)
    _require_enrollment_open(current, runner=_enroller(by, current))
    if not Organization.objects.visible_to(by).filter(pk=organization.pk).exists():
        raise ValidationError({"organization": "找不到该党组织编码，或该组织不在您的管理范围内。"})
    members = Member.objects.visible_to(by).active().in_subtree(organization)
    if category:
        if category not in Category.values:
            raise ValidationError({"category": "人员类别无效。"})
        members = members.filter(category=category)
    if leadership:
        members = members.filter(is_leadership=True)
    ids = list(members.values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"organization": "该党组织（含下级组织）没有符合条件的正常党员。"})
    return _enroll(by, current, ids, EnrollmentSource.ORGANIZATION, field="organization")


ID_COLUMN = "公民身份号码"


def _row_error(row: int, message: str) -> ValidationError:
    return ValidationError(
        "第%(row)s行 %(column)s: %(message)s", code="row", params={"row": row, "column": ID_COLUMN, "message": message}
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _read_id_numbers(fileobj, name: str) -> tuple[list[tuple[int, str]], list[tuple[int, ValidationError]]]:
    """(row as Excel numbers it, ID number's blind index) of every readable row, and (row, error) of every row
    whose ID number is unusable; ValidationError({"file": …}) for a file that cannot be read at all."""
    try:
        check_xlsx_upload(fileobj, name=name)
        sheet = open_sheet(fileobj)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages[0]}) from None
    except ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    header = ["".join(str(h).split()) for h in sheet.header]
    if ID_COLUMN not in header:
        raise ValidationError({"file": f"缺少“{ID_COLUMN}”列：第一行应为表头，其中一列为“{ID_COLUMN}”。"})
    if sheet.height - 1 > max_rows():
        raise ValidationError({"file": f"数据行数超过上限：每个文件最多 {max_rows()} 行。"})
    index = header.index(ID_COLUMN)
    rows: list[tuple[int, str]] = []
    errors: list[tuple[int, ValidationError]] = []
    number = sheet.first_row
    try:
        for cells in sheet.rows:
            number += 1
            if all(_cell_text(c) == "" for c in cells):
                continue
            raw = cells[index] if index < len(cells) else None
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                errors.append((number, _row_error(number, MSG_ID_AS_NUMBER)))
                continue
            text = normalize_id_number(_cell_text(raw))
            if not text:
                errors.append((number, _row_error(number, "必填，不能为空。")))
                continue
            if "*" in text:
                errors.append((number, _row_error(number, MSG_ID_MASKED)))
                continue
            try:
                parse_id_number(text)
            except ValidationError as exc:
                errors.append((number, _row_error(number, exc.messages[0])))
                continue
            rows.append((number, id_number_digest(text)))
    except ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from None
    if not rows and not errors:
        raise ValidationError({"file": "文件中没有数据：表头下面的行都是空的。"})
    return rows, errors


@service
def enrollment_import(*, by, training_class: TrainingClass, fileobj, name: str) -> int:
    """Enroll from an .xlsx list (导入名单): a 公民身份号码 column (any other columns are ignored), each row matched
    by the ID number's blind index among the members `by` sees. All or nothing: any bad row and nobody is enrolled;
    every error is reported as `第N行 公民身份号码: 说明`. A number listed twice is enrolled once."""
    current = _lock_class(training_class)
    runner = _enroller(by, current)
    _require_enrollment_open(current, runner=runner)
    rows, errors = _read_id_numbers(fileobj, name)
    access = access_for(by)
    by_digest: dict[str, tuple[int, str, str]] = {}
    digests = sorted({digest for _, digest in rows})
    for chunk in _chunks(digests):
        members = Member.objects.visible_to(by).filter(id_number_digest__in=chunk)
        for pk, digest, status, path in members.values_list("pk", "id_number_digest", "status", "organization__path"):
            by_digest[digest] = (pk, status, path)
    ids: list[int] = []
    for number, digest in rows:
        found = by_digest.get(digest)
        message = None
        if found is None:
            message = "找不到该公民身份号码的党员，或该党员不在您的管理范围内。"
        elif found[1] != Status.ACTIVE:
            message = f"该党员的党籍状态为“{Status(found[1]).label}”，不能报名。"
        elif not runner and not access.covers(found[2], access.member_edit_roots):
            message = "该党员不在您管理的党组织中，不能为其报名。"
        if message:
            errors.append((number, _row_error(number, message)))
        else:
            assert found is not None  # no message: the member was found
            ids.append(found[0])
    if errors:
        raise ValidationError({"file": [error for _, error in sorted(errors, key=lambda item: item[0])]})
    return _enroll(by, current, ids, EnrollmentSource.IMPORT, field="file")


@service
def enrollment_withdraw(*, by, training_class: TrainingClass, member: Member) -> Enrollment:
    """Withdraw a member from an approved class (退出): the enrollment row is kept with its withdrawal time; the
    member's attendance so far stays. Same roles as enrolling."""
    current = _lock_class(training_class)
    runner = _enroller(by, current)
    _require_enrollment_open(current, runner=runner)
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("member__organization")
        .filter(training_class=current, member_id=member.pk, withdrawn_at__isnull=True)
        .first()
    )
    if enrollment is None or not Member.objects.visible_to(by).filter(pk=member.pk).exists():
        raise ValidationError({"member": "该党员未报名该培训班（或已退出）。"})
    if not runner and not access_for(by).can_edit_member_in(enrollment.member.organization):
        raise ValidationError({"member": "您只能为您管理的党组织的党员办理退出。"})
    enrollment.withdrawn_at = timezone.now()
    _save(enrollment, by, "退出培训班")
    return enrollment


# ---------------------------------------------------------------------------------------------------------
# Sessions (课次)


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
            if _local(starts_at).date() < training_class.starts_on or _local(ends_at).date() > training_class.ends_on:
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
        raise _status_error("已结班的培训班的课次不能修改。")


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
    current = _lock_class(training_class)
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
    current = _lock_session(session)
    training_class = current.training_class
    require_manager(by, training_class.organizer, NOT_RUNNER)
    _require_sessions_editable(training_class)
    if current.status == SessionStatus.CLOSED:
        raise _status_error("该课次已结束（考勤已确认），不能修改。")
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
    _save(current, by, "修改课次")
    return current


def _floor_half(value: Decimal) -> Decimal:
    return (value / HALF).to_integral_value(rounding=ROUND_FLOOR) * HALF


@service
def session_from_booking(*, by, booking: BookingRequest, training_class: TrainingClass) -> TrainingSession:
    """Make a session from a scheduled booking (约课 → 排课派单 → 课次, Xiqing's menu-style booking): its instructor,
    times and venue, the title of its first course (by catalog order of entry; the topic when it has none), and the
    sum of its courses' hours capped at the session's length (and 24), rounded down to 0.5. The booking must be
    已排课, seen by the user, made by a school of the organizer's subtree, and not already turned into a session."""
    current = _lock_class(training_class)
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


# ---------------------------------------------------------------------------------------------------------
# Sign-in (签到)


def sign_in_token(session: TrainingSession) -> str:
    """The signed token the session's QR code carries (django.core.signing with this seam's salt)."""
    return signing.dumps({"s": session.pk}, salt=SIGN_IN_SALT)


INVALID_TOKEN = "签到二维码无效（可能已被篡改或不完整），请重新扫码，或输入签到码。"


def session_for_token(token: str) -> TrainingSession:
    """The session a QR token names; ValidationError({"token": …}) for a forged or malformed token."""
    try:
        payload = signing.loads(str(token or "")[:500], salt=SIGN_IN_SALT)
    except signing.BadSignature:
        raise ValidationError({"token": INVALID_TOKEN}) from None
    session_id = payload.get("s") if isinstance(payload, dict) else None
    session = (
        TrainingSession.objects.dangerously_all().filter(pk=session_id).select_related("training_class").first()
        if isinstance(session_id, int)
        else None
    )
    if session is None:
        raise ValidationError({"token": INVALID_TOKEN})
    return session


def normalize_code(code: str) -> str:
    return "".join(str(code or "").split()).upper()


def session_for_code(code: str) -> TrainingSession:
    """The session a short code (签到码) names; ValidationError({"code": …}) for an unknown code."""
    value = normalize_code(code)
    if not value:
        raise ValidationError({"code": "请输入签到码。"})
    session = None
    if _CODE_PATTERN.match(value):
        session = (
            TrainingSession.objects.dangerously_all().filter(short_code=value).select_related("training_class").first()
        )
    if session is None:
        raise ValidationError({"code": "签到码不存在，请核对后重新输入。"})
    return session


@service
def session_sign_in(*, by, session: TrainingSession | None = None, token: str | None = None, code: str | None = None):
    """A member signs in to a session (签到), themself (the Member linked to `by`): by the QR code's signed token
    (扫码签到) or by the short code (签到码; with `session` given, the code must be that session's). Refused, with a
    Chinese message and nothing written: a forged or malformed token, an unknown code, a closed session, a class
    not running, a member not enrolled, a second sign-in ("您已签到"), or outside the window (from
    DANGJIAN_SIGN_IN_EARLY_MINUTES before the start to DANGJIAN_SIGN_IN_LATE_MINUTES after the end). The session
    row is locked meanwhile, so a sign-in never slips past a concurrent close uncredited."""
    member = member_for(by)
    if member is None:
        raise PermissionDenied("您的账号未关联党员信息，不能签到。")
    if token:
        field, method, target = "token", AttendanceMethod.QR, session_for_token(token)
    elif code:
        field, method, target = "code", AttendanceMethod.CODE, session_for_code(code)
        if session is not None and session.pk != target.pk:
            raise ValidationError({"code": "签到码与该课次不符，请核对后重新输入。"})
    else:
        raise ValidationError({"code": "请扫描课次的签到二维码，或输入签到码。"})
    current = TrainingSession.objects.select_for_update(of=("self",)).select_related("training_class").get(pk=target.pk)
    if current.status == SessionStatus.CLOSED:
        raise ValidationError({field: "该课次已结束（考勤已确认），不能再签到。"})
    if current.training_class.status != ClassStatus.APPROVED:
        raise ValidationError({field: "该培训班不在开班期间，不能签到。"})
    if not Enrollment.objects.active().filter(training_class_id=current.training_class_id, member=member).exists():
        raise ValidationError({field: "您未报名该培训班，不能签到。"})
    already = Attendance.objects.filter(session=current, member=member).first()
    if already is not None:
        raise ValidationError({field: f"{ALREADY_SIGNED}（{_local(already.signed_at):%H:%M}），无需重复签到。"})
    opens, closes = sign_in_window(current)
    now = timezone.now()
    if now < opens:
        raise ValidationError(
            {field: f"签到尚未开始：签到时间为{_local(opens):%m月%d日 %H:%M}至{_local(closes):%H:%M}。"}
        )
    if now > closes:
        raise ValidationError({field: f"签到已结束：签到截止于{_local(closes):%m月%d日 %H:%M}。"})
    attendance = Attendance(session=current, member=member, method=method)
    attendance.full_clean(validate_unique=False)
    set_history(attendance, by, AttendanceMethod(method).label)
    try:
        with transaction.atomic():
            attendance.save()
    except IntegrityError:
        raise ValidationError({field: f"{ALREADY_SIGNED}，无需重复签到。"}) from None
    return attendance


# ---------------------------------------------------------------------------------------------------------
# Attendance by the organizer, and closing a session


@service
def attendance_mark(*, by, session: TrainingSession, members, present: bool = True) -> int:
    """The organizer marks attendance by hand (组织者标记) before the session is closed: present → a manual
    attendance for each enrolled member not signed in yet; absent → their attendance is removed. Returns how many
    changed."""
    current = _lock_session(session)
    training_class = current.training_class
    require_manager(by, training_class.organizer, NOT_RUNNER)
    if current.status == SessionStatus.CLOSED:
        raise _status_error("该课次已结束（考勤已确认），不能修改签到。")
    if training_class.status != ClassStatus.APPROVED:
        raise _status_error("该培训班不在开班期间，不能标记签到。")
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
        raise ValidationError({"members": f"{_names(outside)}未报名该培训班，不能标记签到。"})
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
        raise _status_error("培训班未经备案审批（或已结班），不能结束课次。")
    now = timezone.now()
    if current.starts_at > now:
        raise _status_error("课次尚未开始，不能结束。")
    user = acting_user(by)
    claimed = TrainingSession.objects.filter(pk=current.pk, status=SessionStatus.OPEN).update(
        status=SessionStatus.CLOSED, closed_at=now, closed_by=user, updated_at=now
    )
    if not claimed:
        raise _status_error("该课次已结束")
    current.refresh_from_db(fields=["status", "closed_at", "closed_by", "updated_at"])
    set_history(current, by, "结束课次，确认考勤")
    current.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])  # the history row

    on = _local(current.starts_at).date()
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
