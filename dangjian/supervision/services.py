"""Writes of the off-campus institutions' party building (docs/rules.md, "Rules and numbers from the seeds"):
institutions, the grid and pairings, instructor appointments and assignments, monthly visits, clues, the three
checks, points and the red list.

Who writes. Committee staff (工委 / 民办教育机构党委 staff: the committee role) over the institution's covering or
managing organization register and update institutions, appoint and assign instructors, record checks, points and
red-list entries, and follow clues up; an instructor records the visits of the institutions assigned to them on the
visit's date, and the clues they find (which they may pass to enforcement themselves). The system access (jobs,
the demo) may do everything. Every function checks everything before writing anything (a clear Chinese message per
field, nothing saved) and is one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.services import Errors, acting_user, service
from dangjian.orgs.models import BRANCH_KINDS, Organization, Unit, UnitKind
from dangjian.supervision.models import (
    CLUE_TRANSITIONS,
    AppointmentSource,
    ApprovalStatus,
    Assignment,
    CheckKind,
    CheckResult,
    Clue,
    ClueStatus,
    ClueUpdate,
    GridCell,
    Institution,
    InstructorAppointment,
    Pairing,
    PairingActivity,
    PartyCheck,
    PointEvent,
    PointRule,
    RedListEntry,
    SubjectType,
    Visit,
    first_of_month,
    normalize_licence,
)

NOT_COMMITTEE = "您无权管理该机构的党建工作（须为其主管或所属党组织的工委工作人员）。"
NOT_COMMITTEE_ORG = "您无权以该党组织的名义进行此操作。"
INSTITUTION_FIELDS = frozenset(
    {
        "licence_no",
        "subject_type",
        "approval_status",
        "approved_on",
        "closed_on",
        "last_inspection_on",
        "staff_count",
        "area",
        "grid_cell",
    }
)
# The institution's unit: its name, codes, address and the organizations it hangs on.
UNIT_FIELDS = frozenset({"name", "credit_code", "address", "organization", "managing_organization"})


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def committee_roots(by) -> tuple[str, ...]:
    return access_for(by).roots_of({Role.COMMITTEE})


def _require_manager(by, institution: Institution) -> None:
    if not access_for(by).is_committee_over_any(*institution.supervising_organizations):
        raise PermissionDenied(NOT_COMMITTEE)


def _check_date(errors: Errors, field: str, value, today: dt.date, label: str) -> dt.date | None:
    if not isinstance(value, dt.date):
        errors.add(field, f"请填写{label}。")
        return None
    if value > today:
        errors.add(field, f"{label}不能晚于今天。")
    return value


def _full_clean(errors: Errors, obj, exclude=None, **kwargs) -> None:
    try:
        obj.full_clean(exclude=exclude, **kwargs)
    except ValidationError as exc:
        errors.merge(exc)


def _locked(model, obj):
    return model.objects.select_for_update().get(pk=obj.pk)


# ---------------------------------------------------------------------------------------------------------
# Institutions, the grid and pairings


@service
def institution_register(
    *,
    by,
    unit: Unit,
    licence_no: str,
    subject_type: str,
    approval_status: str = ApprovalStatus.PREPARING,
    approved_on: dt.date | None = None,
    last_inspection_on: dt.date | None = None,
    staff_count: int = 0,
    area: str = "",
    grid_cell: GridCell | None = None,
    today: dt.date | None = None,
) -> Institution:
    """Register a training-institution unit as an institution (机构登记): licence, subject type (学科类/非学科类),
    approval status and date, the last annual inspection (年检) before the system if any, staff count, area and grid
    cell. An institution already approved before it is
    registered is entered as 已审批 with its approval date; a new approval goes through `institution_update` and
    needs the party-building precondition (三同步, Yiyang: 党建工作纳入新机构审批前置条件)."""
    today = _today(today)
    institution = Institution(unit=unit)
    _require_manager(by, institution)
    errors = Errors()
    if unit.kind != UnitKind.TRAINING_INSTITUTION:
        errors.add("unit", "只有“校外培训机构”类型的单位才能登记为培训机构。")
    if Institution.objects.dangerously_all().filter(unit=unit).exists():
        errors.add("unit", "该单位已登记为培训机构。")
    institution.licence_no = normalize_licence(licence_no)
    institution.subject_type = subject_type
    institution.approval_status = approval_status
    institution.approved_on = approved_on
    institution.last_inspection_on = last_inspection_on
    institution.staff_count = staff_count if staff_count is not None else 0
    institution.area = (area or "").strip()
    institution.grid_cell = grid_cell
    _validate_institution(errors, institution, today, by=by)
    _full_clean(errors, institution, exclude=["unit"])
    errors.raise_if_any()
    institution.save()
    return institution


@service
def institution_create(
    *,
    by,
    name: str,
    managing_organization: Organization | None,
    licence_no: str,
    subject_type: str,
    organization: Organization | None = None,
    credit_code: str = "",
    address: str = "",
    approval_status: str = ApprovalStatus.PREPARING,
    approved_on: dt.date | None = None,
    closed_on: dt.date | None = None,
    last_inspection_on: dt.date | None = None,
    staff_count: int = 0,
    area: str = "",
    grid_cell: GridCell | None = None,
    today: dt.date | None = None,
) -> Institution:
    """Register a new training institution together with its unit (机构登记): name, unified credit code, address,
    the organization covering it (its own branch or a joint branch, Yiyang "两个全覆盖"; none while uncovered) and
    the committee managing it (民办教育机构党委, Qinhuai's three-level management), then the registration as in
    `institution_register`. Both organizations must lie in the actor's committee subtrees."""
    today = _today(today)
    if not access_for(by).is_committee_over_any(organization, managing_organization):
        raise PermissionDenied(NOT_COMMITTEE)
    errors = Errors()
    unit = Unit(kind=UnitKind.TRAINING_INSTITUTION)
    _set_unit_fields(
        unit,
        {
            "name": name,
            "credit_code": credit_code,
            "address": address,
            "organization": organization,
            "managing_organization": managing_organization,
        },
    )
    _validate_unit(errors, by, unit, UNIT_FIELDS)
    _full_clean(errors, unit, validate_constraints=False)  # the credit code's uniqueness: above, by field
    institution = Institution(
        licence_no=normalize_licence(licence_no),
        subject_type=subject_type,
        approval_status=approval_status,
        approved_on=approved_on,
        closed_on=closed_on,
        last_inspection_on=last_inspection_on,
        staff_count=staff_count if staff_count is not None else 0,
        area=(area or "").strip(),
        grid_cell=grid_cell,
    )
    _validate_institution(errors, institution, today, by=by)
    _full_clean(errors, institution, exclude=["unit"])
    errors.raise_if_any()
    _save_registration(unit, institution)
    return institution


def _set_unit_fields(unit: Unit, values: dict) -> None:
    for field, value in values.items():
        if field in ("name", "address"):
            value = (value or "").strip()
        elif field == "credit_code":
            value = (value or "").strip().upper()
        setattr(unit, field, value)


def _validate_unit(errors: Errors, by, unit: Unit, changed) -> None:
    """The unit of an institution: named, covered by a branch (单独或联合党支部) if at all, managed by a committee;
    the organizations it is given must lie in the actor's committee subtrees (an edit may not move it out of
    reach)."""
    if "name" in changed and not unit.name:
        errors.add("name", "请填写机构名称。")
    if (
        "credit_code" in changed
        and unit.credit_code
        and Unit.objects.dangerously_all().filter(credit_code=unit.credit_code).exclude(pk=unit.pk).exists()
    ):
        errors.add("credit_code", "统一社会信用代码已存在。")
    covering = unit.organization
    if "organization" in changed and covering is not None:
        if not isinstance(covering, Organization) or not access_for(by).is_committee_over(covering):
            errors.add("organization", "所属党组织不在您的管理范围内。")
        elif covering.kind not in BRANCH_KINDS:
            errors.add("organization", "培训机构应纳入单独党支部或联合党支部（请选择党支部）。")
    if "managing_organization" in changed:
        managing = unit.managing_organization
        if managing is None:
            errors.add("managing_organization", "请填写主管党组织（负责该机构党建工作的党委）。")
        elif not isinstance(managing, Organization) or not access_for(by).is_committee_over(managing):
            errors.add("managing_organization", "主管党组织不在您的管理范围内。")


def _save_registration(unit: Unit, institution: Institution) -> None:
    """Save the unit (when new or changed) and the institution; a concurrent registration of the same licence or
    credit code is answered like the checked one."""
    try:
        with transaction.atomic():
            unit.save()
            institution.unit = unit
            institution.save()
    except IntegrityError:
        if (
            Institution.objects.dangerously_all()
            .filter(licence_no=institution.licence_no)
            .exclude(pk=institution.pk)
            .exists()
        ):
            raise ValidationError({"licence_no": "该办学许可证号已登记。"}) from None
        raise ValidationError({"credit_code": "统一社会信用代码已存在。"}) from None


def _validate_institution(errors: Errors, institution: Institution, today: dt.date, *, by=None) -> None:
    if institution.subject_type not in SubjectType.values:
        errors.add("subject_type", "请选择培训类别（学科类或非学科类）。")
    if institution.approval_status not in ApprovalStatus.values:
        errors.add("approval_status", "请选择审批状态。")
    if institution.approval_status != ApprovalStatus.PREPARING and institution.approved_on is None:
        errors.add("approved_on", "已审批（或停办、注销）的机构须填写审批日期。")
    if institution.approved_on and institution.approved_on > today:
        errors.add("approved_on", "审批日期不能晚于今天。")
    if institution.approval_status in (ApprovalStatus.SUSPENDED, ApprovalStatus.CANCELLED):
        if institution.closed_on is None:
            errors.add("closed_on", "停办或注销的机构须填写停办/注销日期。")
        elif institution.approved_on and institution.closed_on < institution.approved_on:
            errors.add("closed_on", "停办/注销日期不能早于审批日期。")
    if institution.closed_on and institution.closed_on > today:
        errors.add("closed_on", "停办/注销日期不能晚于今天。")
    inspected = institution.last_inspection_on
    if inspected is not None:
        if not isinstance(inspected, dt.date):
            errors.add("last_inspection_on", "最近年检日期应为有效的日期，如2024-05-01。")
        elif inspected > today:
            errors.add("last_inspection_on", "最近年检日期不能晚于今天。")
        elif institution.approval_status == ApprovalStatus.PREPARING:
            errors.add("last_inspection_on", "筹设中的机构尚未审批，没有年检，请不要填写最近年检日期。")
        elif institution.approved_on and inspected < institution.approved_on:
            errors.add("last_inspection_on", "最近年检日期不能早于审批日期。")
        else:
            recorded = (
                institution.checks.filter(kind=CheckKind.ANNUAL)
                .order_by("-date")
                .values_list("date", flat=True)
                .first()
                if institution.pk
                else None
            )
            if recorded is not None and inspected < recorded:
                errors.add("last_inspection_on", f"最近年检日期不能早于已记录的年检检查日期（{recorded:%Y-%m-%d}）。")
    if not isinstance(institution.staff_count, int) or institution.staff_count < 0:
        errors.add("staff_count", "从业人员数应为不小于0的整数。")
    cell = institution.grid_cell
    if cell is not None and (
        not isinstance(cell, GridCell)
        or (by is not None and not GridCell.objects.visible_to(by).filter(pk=cell.pk).exists())
    ):
        errors.add("grid_cell", "找不到该网格，或该网格不在您的管理范围内。")


@service
def institution_update(*, by, institution: Institution, today: dt.date | None = None, **changes) -> Institution:
    """Change an institution's registration, and its unit's name, credit code, address and organizations
    (`UNIT_FIELDS`, checked as in `institution_create`). Approving an institution in preparation (筹设 → 已审批)
    needs its approval check (`check_record`, kind 审批) with the party-building precondition met and a passing
    result (三同步: 党的建设同步谋划、党的组织同步设置; Yiyang: party building a precondition of approval)."""
    unknown = set(changes) - INSTITUTION_FIELDS - UNIT_FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    institution = Institution.objects.select_for_update(of=("self",)).select_related("unit").get(pk=institution.pk)
    _require_manager(by, institution)
    today = _today(today)
    errors = Errors()
    unit = institution.unit
    unit_changes = {
        name: changes.pop(name)
        for name in list(changes)
        if name in UNIT_FIELDS and changes[name] != getattr(unit, name)
    }
    for name in UNIT_FIELDS & set(changes):
        changes.pop(name)  # unchanged
    _set_unit_fields(unit, unit_changes)
    if unit_changes:
        _validate_unit(errors, by, unit, set(unit_changes))
        _full_clean(errors, unit, validate_constraints=False)
    before = institution.approval_status
    for name, value in changes.items():
        if name == "licence_no":
            value = normalize_licence(value)
        if name == "area":
            value = (value or "").strip()
        setattr(institution, name, value)
    if before == ApprovalStatus.PREPARING and institution.approval_status == ApprovalStatus.APPROVED:
        check = institution.checks.filter(kind=CheckKind.APPROVAL).order_by("-date", "-pk").first()
        if check is None or not check.precondition_met or check.result != CheckResult.PASS:
            errors.add("approval_status", "新机构审批须先通过党建工作前置条件检查（三同步：审批时同步检查党建工作）。")
    if before != ApprovalStatus.PREPARING and institution.approval_status == ApprovalStatus.PREPARING:
        errors.add("approval_status", "已审批的机构不能改回筹设状态。")
    _validate_institution(errors, institution, today, by=by if "grid_cell" in changes else None)
    _full_clean(errors, institution, exclude=["unit"])
    errors.raise_if_any()
    if unit_changes:
        _save_registration(unit, institution)
    else:
        institution.save()
    return institution


@service
def grid_cell_create(*, by, name: str, school: Unit, area: str = "") -> GridCell:
    """A grid cell (网格) anchored on a public school: the school's organization guides the institutions in it
    (Yiyang: 创新“网格化”管理机制，依托公办学校实施属地指导和管理)."""
    errors = Errors()
    if school.kind != UnitKind.SCHOOL:
        errors.add("school", "网格须依托公办学校设立。")
    if school.organization_id is None:
        errors.add("school", "该学校尚未建立党组织，不能作为网格依托学校。")
    elif not access_for(by).is_committee_over_any(school.organization, school.managing_organization):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    cell = GridCell(
        name=(name or "").strip(),
        school=school,
        # None only for a school without an organization: refused above, before anything is saved.
        organization_id=school.organization_id,  # type: ignore[misc]
        area=area or "",
    )
    _full_clean(errors, cell, exclude=["organization"] if school.organization_id is None else None)
    errors.raise_if_any()
    cell.save()
    return cell


@service
def pairing_create(
    *, by, school_branch: Organization, institution_branch: Organization, start_on: dt.date, today=None
) -> Pairing:
    """Pair a public school's branch with an institution's branch (结对共建, Yiyang: 26 institution branches with 28
    school branches). The institution branch must cover at least one registered institution."""
    today = _today(today)
    if not access_for(by).is_committee_over_any(institution_branch, school_branch):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    errors = Errors()
    if school_branch.kind not in BRANCH_KINDS or not school_branch.units.filter(kind=UnitKind.SCHOOL).exists():
        errors.add("school_branch", "请选择一所公办学校的党支部。")
    if (
        institution_branch.kind not in BRANCH_KINDS
        or not Institution.objects.dangerously_all().filter(unit__organization=institution_branch).exists()
    ):
        errors.add("institution_branch", "请选择一个覆盖培训机构的党支部（单独或联合党支部）。")
    _check_date(errors, "start_on", start_on, today, "结对日期")
    if Pairing.objects.filter(school_branch=school_branch, institution_branch=institution_branch, end_on=None).exists():
        errors.add("institution_branch", "这两个党支部已经结对。")
    errors.raise_if_any()
    return Pairing.objects.create(school_branch=school_branch, institution_branch=institution_branch, start_on=start_on)


@service
def pairing_activity_record(
    *, by, pairing: Pairing, date: dt.date, title: str, participants: int = 0, note: str = "", today=None
) -> PairingActivity:
    """Record a joint activity of a pairing (结对活动)."""
    today = _today(today)
    if not access_for(by).is_committee_over_any(pairing.institution_branch, pairing.school_branch):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    errors = Errors()
    if _check_date(errors, "date", date, today, "活动日期") and date < pairing.start_on:
        errors.add("date", "活动日期不能早于结对日期。")
    activity = PairingActivity(
        pairing=pairing, date=date, title=(title or "").strip(), participants=participants or 0, note=note or ""
    )
    _full_clean(errors, activity)
    errors.raise_if_any()
    activity.save()
    return activity


# ---------------------------------------------------------------------------------------------------------
# Instructors


def _appointable(by, user) -> bool:
    from dangjian.supervision.selectors.coverage import appointable_accounts

    return appointable_accounts(by).filter(pk=user.pk).exists()


@service
def instructor_appoint(
    *,
    by,
    user,
    appointing_organization: Organization,
    source: str,
    start_on: dt.date,
    member=None,
    name: str = "",
    today: dt.date | None = None,
) -> InstructorAppointment:
    """Appoint a party-building instructor (选派党建指导员), from the education bureau or a school of the area
    (Yiyang: 187 instructors from the education administration and the area's schools). One open appointment per
    user."""
    if not access_for(by).is_committee_over(appointing_organization):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    today = _today(today)
    errors = Errors()
    if source not in AppointmentSource.values:
        errors.add("source", "请选择选派来源（教育行政部门或辖区学校）。")
    if user is None or not getattr(user, "is_active", False):
        errors.add("user", "请选择一个有效的登录账号。")
    elif not _appointable(by, user):
        errors.add("user", "该账号不在您的管理范围内。")
    elif InstructorAppointment.objects.filter(user=user, end_on=None).exists():
        errors.add("user", "该账号已是在任党建指导员。")
    if member is not None and member.user_id not in (None, getattr(user, "pk", None)):
        errors.add("member", "该党员已关联其他登录账号。")
    if isinstance(start_on, dt.date) and start_on > today + dt.timedelta(days=366):
        errors.add("start_on", "任职日期不能晚于一年以后。")
    elif not isinstance(start_on, dt.date):
        errors.add("start_on", "请填写任职日期。")
    display = (name or "").strip() or (member.name if member else "") or (user.get_full_name() if user else "")
    errors.raise_if_any()
    appointment = InstructorAppointment(
        user=user,
        member=member,
        name=display[:50],
        source=source,
        appointing_organization=appointing_organization,
        start_on=start_on,
    )
    _full_clean(errors, appointment)
    errors.raise_if_any()
    appointment.save()
    return appointment


@service
def instructor_dismiss(*, by, appointment: InstructorAppointment, end_on: dt.date) -> InstructorAppointment:
    """End an appointment (离任); its open assignments end the same day."""
    appointment = _locked(InstructorAppointment, appointment)
    if not access_for(by).is_committee_over(appointment.appointing_organization):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    if not isinstance(end_on, dt.date) or end_on < appointment.start_on:
        raise ValidationError({"end_on": "离任日期不能早于任职日期。"})
    if appointment.end_on is not None:
        raise ValidationError({"end_on": "该指导员已离任。"})
    if appointment.assignments.filter(start_on__gt=end_on, end_on=None).exists():
        raise ValidationError({"end_on": "离任日期早于其在岗派驻的开始日期，请先调整派驻。"})
    appointment.end_on = end_on
    appointment.save()
    appointment.assignments.filter(end_on=None).update(end_on=end_on)
    return appointment


@service
def institution_assign(
    *, by, institution: Institution, appointment: InstructorAppointment, start_on: dt.date, today=None
) -> Assignment:
    """Assign an instructor to an institution from `start_on` (派驻). A reassignment closes the institution's
    current assignment on the day before (history kept): from then on only the new instructor records visits."""
    institution = Institution.objects.select_for_update(of=("self",)).select_related("unit").get(pk=institution.pk)
    _require_manager(by, institution)
    today = _today(today)
    errors = Errors()
    if not isinstance(start_on, dt.date):
        errors.add("start_on", "请填写派驻日期。")
        errors.raise_if_any()
    if start_on > today + dt.timedelta(days=366):
        errors.add("start_on", "派驻日期不能晚于一年以后。")
    if not appointment.is_active(start_on):
        errors.add("appointment", "该党建指导员在派驻日期不在任。")
    if institution.approval_status in (ApprovalStatus.SUSPENDED, ApprovalStatus.CANCELLED):
        errors.add("institution", "停办或注销的机构不再派驻党建指导员。")
    current = institution.assignments.filter(end_on=None).first()
    if current is not None:
        if current.appointment_id == appointment.pk:
            errors.add("appointment", "该指导员已派驻本机构。")
        elif start_on <= current.start_on:
            errors.add("start_on", f"派驻日期须晚于现任指导员的派驻日期（{current.start_on:%Y-%m-%d}）。")
    if institution.assignments.filter(end_on__gte=start_on).exclude(end_on=None).exists():
        errors.add("start_on", "派驻日期与该机构已结束的派驻记录重叠。")
    errors.raise_if_any()
    if current is not None:
        current.end_on = start_on - dt.timedelta(days=1)
        current.save()
    return Assignment.objects.create(appointment=appointment, institution=institution, start_on=start_on)


def assignment_on(institution: Institution, day: dt.date) -> Assignment | None:
    """The institution's assignment covering `day` (at most one: assignments do not overlap)."""
    return (
        Assignment.objects.filter(institution=institution, start_on__lte=day)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
        .select_related("appointment")
        .first()
    )


# ---------------------------------------------------------------------------------------------------------
# Visits and clues


@service
def visit_record(
    *,
    by,
    institution: Institution,
    date: dt.date,
    party_lecture: bool = False,
    policy_talk: bool = False,
    hazard_check: bool = False,
    ledger_check: bool = False,
    findings: str = "",
    hazards: str = "",
    is_case_law_session: bool = False,
    is_supplement: bool = False,
    clue_description: str = "",
    appointment: InstructorAppointment | None = None,
    today: dt.date | None = None,
) -> Visit:
    """Record an instructor's monthly visit (每月上门“四个一”：上党课、讲政策、排隐患、核台账, Yiyang) with its
    findings and hazards; a "以案说法" session is marked. Only for an institution assigned to the instructor on the
    visit's date; one regular visit per institution and month, any further one only as a supplement (补充走访). A
    clue found on the visit (`clue_description`) is recorded with it, 待移交."""
    today = _today(today)
    errors = Errors()
    if not isinstance(date, dt.date):
        errors.add("date", "请填写走访日期。")
        errors.raise_if_any()
    if date > today:
        errors.add("date", "走访日期不能晚于今天。")
    assignment = assignment_on(institution, date)
    if appointment is None and not access_for(by).system:
        user = acting_user(by)
        # Every appointment names a user: without one there is none to find.
        appointment = (
            InstructorAppointment.objects.active_on(date).filter(user_id=user.pk).first() if user is not None else None
        )
        if appointment is None:
            raise PermissionDenied("您在走访日期不是在任的党建指导员。")
    if appointment is None:  # the system access: the instructor assigned on that day
        appointment = assignment.appointment if assignment else None
    if assignment is None or appointment is None or assignment.appointment_id != appointment.pk:
        errors.add("institution", "该机构在走访日期未派驻给您，不能登记走访。")
    if not any((party_lecture, policy_talk, hazard_check, ledger_check)):
        errors.add("party_lecture", "请至少勾选一项“四个一”工作（上党课、讲政策、排隐患、核台账）。")
    month = first_of_month(date)
    regular = Visit.objects.filter(institution=institution, month=month, is_supplement=False).exists()
    if regular and not is_supplement:
        errors.add("is_supplement", "该机构本月已有走访记录，再次走访请勾选“补充走访”。")
    if is_supplement and not regular:
        errors.add("is_supplement", "该机构本月尚无常规走访，请先登记常规走访（不勾选“补充走访”）。")
    errors.raise_if_any()
    visit = Visit(
        institution=institution,
        appointment=appointment,
        month=month,
        date=date,
        party_lecture=bool(party_lecture),
        policy_talk=bool(policy_talk),
        hazard_check=bool(hazard_check),
        ledger_check=bool(ledger_check),
        findings=findings or "",
        hazards=hazards or "",
        is_case_law_session=bool(is_case_law_session),
        is_supplement=bool(is_supplement),
        recorded_by=acting_user(by),
    )
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:  # a concurrent regular visit of the same month won the race
        raise ValidationError({"is_supplement": "该机构本月已有走访记录，再次走访请勾选“补充走访”。"}) from None
    if (clue_description or "").strip():
        _clue_create(by, institution, clue_description, date, visit=visit, reporter=appointment)
    return visit


def _clue_create(by, institution, description, found_on, *, visit=None, reporter=None) -> Clue:
    clue = Clue.objects.create(
        institution=institution,
        visit=visit,
        reported_by=reporter,
        found_on=found_on,
        description=description.strip(),
    )
    ClueUpdate.objects.create(
        clue=clue, date=found_on, to_status=ClueStatus.PENDING, note="发现线索", by=acting_user(by)
    )
    return clue


@service
def clue_record(
    *, by, institution: Institution, description: str, found_on: dt.date, visit: Visit | None = None, today=None
) -> Clue:
    """Record a clue of a violation (违规线索) at an institution, 待移交. By the committee or by an instructor
    assigned to the institution on the day it was found."""
    today = _today(today)
    errors = Errors()
    if _check_date(errors, "found_on", found_on, today, "发现日期") is None:
        errors.raise_if_any()
    reporter = None
    if not access_for(by).is_committee_over_any(*institution.supervising_organizations):
        assignment = assignment_on(institution, found_on)
        if assignment is None or assignment.appointment.user_id != getattr(acting_user(by), "pk", None):
            raise PermissionDenied("只有派驻该机构的党建指导员或工委工作人员可以登记线索。")
        reporter = assignment.appointment
    if not (description or "").strip():
        errors.add("description", "请填写线索内容。")
    if visit is not None and visit.institution_id != institution.pk:
        errors.add("visit", "走访记录不属于该机构。")
    errors.raise_if_any()
    return _clue_create(
        by, institution, description, found_on, visit=visit, reporter=reporter or getattr(visit, "appointment", None)
    )


@service
def clue_update_status(
    *,
    by,
    clue: Clue,
    status: str,
    date: dt.date,
    note: str = "",
    department: str = "",
    took_part: bool | None = None,
    today: dt.date | None = None,
) -> Clue:
    """Move a clue along its follow-up (跟踪办理): 待移交 → 已移交 (to a named enforcement department) → 查处中 or
    不予立案; 查处中 → 已办结. Other changes are refused; a closed or dismissed clue is final. Whether the instructor
    took part in the enforcement action (直接参与查处, Yiyang: 7 in 2023) is recorded on the way. The committee does
    it; the reporting instructor may pass their own clue."""
    clue = (
        Clue.objects.select_for_update(of=("self",)).select_related("institution__unit", "reported_by").get(pk=clue.pk)
    )
    is_reporter = clue.reported_by is not None and clue.reported_by.user_id == getattr(acting_user(by), "pk", None)
    if not access_for(by).is_committee_over_any(*clue.institution.supervising_organizations) and not (
        is_reporter and status == ClueStatus.PASSED
    ):
        raise PermissionDenied("您无权办理该线索。")
    today = _today(today)
    errors = Errors()
    if status not in ClueStatus.values:
        errors.add("status", "请选择办理状态。")
        errors.raise_if_any()
    if status not in CLUE_TRANSITIONS[clue.status]:
        allowed = "、".join(ClueStatus(s).label for s in sorted(CLUE_TRANSITIONS[clue.status])) or "无（已终结）"
        errors.add(
            "status",
            f"线索当前为“{clue.get_status_display()}”，不能改为“{ClueStatus(status).label}”（可改为：{allowed}）。",
        )
    if _check_date(errors, "date", date, today, "办理日期") and date < clue.found_on:
        errors.add("date", "办理日期不能早于线索发现日期。")
    department = (department or "").strip()
    if status == ClueStatus.PASSED and not department:
        errors.add("department", "移交线索须填写接收的执法部门。")
    errors.raise_if_any()
    previous = clue.status
    clue.status = status
    if status == ClueStatus.PASSED:
        clue.department = department[:100]
        clue.passed_on = date
    if status in (ClueStatus.CLOSED, ClueStatus.DISMISSED):
        clue.closed_on = date
    if took_part is not None:
        clue.took_part = bool(took_part)
    clue.save()
    ClueUpdate.objects.create(
        clue=clue, date=date, from_status=previous, to_status=status, note=(note or "")[:500], by=acting_user(by)
    )
    return clue


def clue_pass(*, by, clue: Clue, department: str, date: dt.date, note: str = "", today=None) -> Clue:
    """Pass a clue to the enforcement department (移交执法部门): `clue_update_status` to 已移交."""
    return clue_update_status(
        by=by, clue=clue, status=ClueStatus.PASSED, date=date, note=note, department=department, today=today
    )


# ---------------------------------------------------------------------------------------------------------
# The three checks


@service
def check_record(
    *,
    by,
    institution: Institution,
    kind: str,
    date: dt.date,
    result: str,
    precondition_met: bool | None = None,
    notes: str = "",
    today: dt.date | None = None,
) -> PartyCheck:
    """Record a party-building check (三同步, Qinhuai: 登记时同步指导、年检时同步检查、评估时同步考核): at the
    approval of an institution in preparation (whether the party-building precondition was met — not met cannot
    pass), at its annual inspection (once a year, for an approved institution; the inspection date is kept on the
    institution) or at its grading."""
    institution = Institution.objects.select_for_update(of=("self",)).select_related("unit").get(pk=institution.pk)
    _require_manager(by, institution)
    today = _today(today)
    errors = Errors()
    if kind not in CheckKind.values:
        errors.add("kind", "请选择检查环节（审批、年检或等级评估）。")
    if result not in CheckResult.values:
        errors.add("result", "请选择检查结果。")
    _check_date(errors, "date", date, today, "检查日期")
    if kind == CheckKind.APPROVAL:
        if precondition_met is None:
            errors.add("precondition_met", "审批环节须填写党建前置条件是否满足。")
        elif not precondition_met and result == CheckResult.PASS:
            errors.add("result", "党建前置条件未满足，审批检查结果不能为合格。")
        if institution.approval_status != ApprovalStatus.PREPARING:
            errors.add("kind", "只有筹设中的机构进行审批环节检查。")
    elif kind in CheckKind.values:
        precondition_met = None  # only recorded at approval
        if institution.approval_status != ApprovalStatus.APPROVED:
            errors.add("kind", "只有已审批的机构进行年检或等级评估检查。")
        if (
            kind == CheckKind.ANNUAL
            and isinstance(date, dt.date)
            and institution.checks.filter(kind=CheckKind.ANNUAL, date__year=date.year).exists()
        ):
            errors.add("date", f"该机构{date.year}年度已有年检党建检查记录。")
    errors.raise_if_any()
    check = PartyCheck.objects.create(
        institution=institution,
        kind=kind,
        date=date,
        result=result,
        precondition_met=precondition_met,
        notes=notes or "",
        recorded_by=acting_user(by),
    )
    if kind == CheckKind.ANNUAL and (institution.last_inspection_on is None or date > institution.last_inspection_on):
        institution.last_inspection_on = date
        institution.save(update_fields=["last_inspection_on", "updated_at"])
    return check


# ---------------------------------------------------------------------------------------------------------
# Points and the red list


def rule_applies(rule: PointRule, institution: Institution) -> bool:
    owner = rule.owner
    return owner is None or institution.scope_path.startswith(owner.path)


@service
def point_event_record(
    *,
    by,
    institution: Institution,
    rule: PointRule | int | None,
    date: dt.date,
    note: str = "",
    today: dt.date | None = None,
) -> PointEvent:
    """Enter points in an institution's ledger (过程监管积分, Yiyang: 党建工作纳入《过程监管积分制度》) under a rule:
    the points are copied from the rule, the year is the date's. A rule is required, active, valid that year and
    applying to the institution (owned by the system or an organization above it); only approved institutions
    score."""
    institution = Institution.objects.select_related("unit__organization", "unit__managing_organization").get(
        pk=institution.pk
    )
    _require_manager(by, institution)
    today = _today(today)
    errors = Errors()
    if _check_date(errors, "date", date, today, "记分日期") is None:
        errors.raise_if_any()
    found: PointRule | None = None
    if rule in (None, ""):
        errors.add("rule", "请选择积分细则：没有细则依据的积分不能登记。")
    else:
        pk = rule.pk if isinstance(rule, PointRule) else rule
        found = PointRule.objects.dangerously_all().select_related("owner").filter(pk=pk).first()
        if found is None or not found.active or not rule_applies(found, institution):
            errors.add("rule", "找不到该积分细则，或该细则不适用于本机构。")
        elif not (found.valid_from <= date.year and (found.valid_to is None or found.valid_to >= date.year)):
            errors.add("rule", f"该积分细则不适用于{date.year}年度。")
    if institution.approval_status != ApprovalStatus.APPROVED:
        errors.add("institution", "只有已审批的机构参与过程监管积分。")
    errors.raise_if_any()
    assert found is not None  # refused above without an applicable rule
    return PointEvent.objects.create(
        institution=institution,
        year=date.year,
        rule=found,
        points=found.points,
        date=date,
        note=(note or "").strip()[:200],
        recorded_by=acting_user(by),
    )


@service
def point_event_reverse(*, by, event: PointEvent, reason: str, today: dt.date | None = None) -> PointEvent:
    """Reverse a points entry (冲销) with a new entry of the opposite points, same rule and year; entries are never
    edited or deleted. An entry is reversed at most once; a reversal is not reversed."""
    event = PointEvent.objects.select_for_update(of=("self",)).select_related("institution__unit").get(pk=event.pk)
    _require_manager(by, event.institution)
    today = _today(today)
    reason = (reason or "").strip()
    errors = Errors()
    if not reason:
        errors.add("reason", "请填写冲销原因。")
    if event.reverses_id is not None:
        errors.add("reason", "冲销记录不能再次冲销。")
    if PointEvent.objects.filter(reverses=event).exists():
        errors.add("reason", "该积分记录已冲销。")
    errors.raise_if_any()
    return PointEvent.objects.create(
        institution=event.institution,
        year=event.year,
        rule=event.rule,
        points=-event.points,
        date=max(today, event.date) if today.year == event.year else event.date,
        note=f"冲销：{reason}"[:200],
        reverses=event,
        recorded_by=acting_user(by),
    )


@service
def red_list_request(*, by, institution: Institution, year: int, today: dt.date | None = None) -> RedListEntry:
    """Put an institution on the year's red list (列入红名单, Yiyang seed docs/rules.md: 创建“红名单”制度，入选机构
    优先进校参与课后服务), marked for after-school-service priority. Only an approved institution; refused when it has
    an open violation of that year (an open clue found in the year) or is not within the red list of its ranking
    (`selectors.points.red_list_standing`). The entry is what the reports show as the year's red list."""
    from dangjian.supervision.selectors.points import YEAR_MAX, YEAR_MIN, red_list_standing

    institution = Institution.objects.select_related("unit").get(pk=institution.pk)
    _require_manager(by, institution)
    today = _today(today)
    if not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationError({"year": f"年度应为{YEAR_MIN}到{YEAR_MAX}之间的四位数字。"})
    if RedListEntry.objects.filter(institution=institution, year=year).exists():
        raise ValidationError({"institution": "该机构已列入本年度红名单。"})
    row = red_list_standing(institution=institution, year=year, today=today)
    if row is None or institution.approval_status != ApprovalStatus.APPROVED:
        raise ValidationError({"institution": "只有已审批的机构可以列入红名单。"})
    if row.open_violations:
        raise ValidationError(
            {"institution": f"该机构{year}年度有{row.open_violations}条未办结的违规线索，不能列入红名单。"}
        )
    if not row.red_list:
        raise ValidationError(
            {"institution": f"该机构{year}年度积分{row.points}分、排名第{row.rank}名，不在红名单名额内。"}
        )
    return RedListEntry.objects.create(
        institution=institution, year=year, points=row.points, rank=row.rank, listed_on=today, listed_by=acting_user(by)
    )
