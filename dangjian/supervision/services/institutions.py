"""Registering and updating off-campus training institutions (机构登记) with their units: the registration fields
(`INSTITUTION_FIELDS`), the unit's name, codes, address and organizations (`UNIT_FIELDS`), and the approval gate of
the three checks (三同步). Committee staff over the institution's covering or managing organization write them."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, service
from dangjian.orgs.models import BRANCH_KINDS, Organization, Unit, UnitKind
from dangjian.supervision.models import (
    ApprovalStatus,
    CheckKind,
    CheckResult,
    GridCell,
    Institution,
    SubjectType,
    normalize_licence,
)
from dangjian.supervision.services._common import NOT_COMMITTEE, full_clean, local_today, require_manager

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
    today = local_today(today)
    institution = Institution(unit=unit)
    require_manager(by, institution)
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
    full_clean(errors, institution, exclude=["unit"])
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
    today = local_today(today)
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
    full_clean(errors, unit, validate_constraints=False)  # the credit code's uniqueness: above, by field
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
    full_clean(errors, institution, exclude=["unit"])
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
    require_manager(by, institution)
    today = local_today(today)
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
        full_clean(errors, unit, validate_constraints=False)
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
    full_clean(errors, institution, exclude=["unit"])
    errors.raise_if_any()
    if unit_changes:
        _save_registration(unit, institution)
    else:
        institution.save()
    return institution
