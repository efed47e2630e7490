"""State changes of the schools seam: schools, venues, joint schools' member units and the principal rotation,
annual plans, funding lines and the 六有 checklist.

Every function is keyword-only with the actor `by` (a user or an Access) first, one transaction, the scope
checked inside (`require_manager` over the school's organization), model validation before saving, and the
history row naming who and why. Writes to a school's rows lock the school first, so two requests on the same
school never interleave (no check-then-act race).
"""

from __future__ import annotations

import os
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.services import acting_user, service, set_history
from dangjian.core.uploads import check_file_upload
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Unit
from dangjian.schools.models import (
    ZERO,
    BuildMode,
    FundingLine,
    JointSchoolUnit,
    PartySchool,
    PrincipalTerm,
    SchoolAnnualPlan,
    SchoolVenue,
    StandardCheck,
    StandardItem,
    scheme_for,
)
from dangjian.schools.selectors.schools import current_secretaries
from dangjian.schools.services._common import require_manager

SCHOOL_FIELDS = frozenset(
    {
        "code",
        "name",
        "organization",
        "level",
        "build_mode",
        "parent",
        "address",
        "equipment",
        "deputy_principal",
        "liaison",
        "established_on",
        "active",
    }
)
VENUE_FIELDS = frozenset({"name", "address", "capacity", "equipment", "active"})

CODE_TAKEN_MESSAGE = "党校编码已存在，请换一个编码。"
PARENT_NOT_FOUND_MESSAGE = "找不到该上级党校，或该党校不在您的查看范围内。"
EVIDENCE_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "docx", "xlsx")


def _lock_school(school: PartySchool) -> PartySchool:
    """The school's current row, locked until the transaction ends."""
    return PartySchool.objects.select_for_update(of=("self",)).select_related("organization").get(pk=school.pk)


def _save(obj, by, reason: str, *, unique_field: str | None = None, unique_message: str = "") -> None:
    """Validate and save with the history naming who and why; a unique constraint lost to a concurrent
    request becomes the field's message, not a 500."""
    obj.full_clean()
    set_history(obj, by, reason)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        if unique_field is None:
            raise
        raise ValidationError({unique_field: unique_message}) from None


# ---------------------------------------------------------------------------------------------------------
# Schools


def _check_parent(by, school: PartySchool) -> None:
    """Huangpi's three build modes: an extended school (延伸建校) hangs under a parent school the actor sees; a
    joint (联合建校) or independent (独立建校) school has none. A school is never its own ancestor."""
    if school.build_mode != BuildMode.EXTENDED:
        if school.parent_id is not None:
            raise ValidationError({"parent": "只有延伸建校的党校才设上级党校；独立建校、联合建校请留空。"})
        return
    if school.parent_id is None:
        raise ValidationError({"parent": "延伸建校须指定上级党校。"})
    if not PartySchool.objects.visible_to(by).filter(pk=school.parent_id).exists():
        raise ValidationError({"parent": PARENT_NOT_FOUND_MESSAGE})
    ancestor, seen = school.parent, set()
    while ancestor is not None and ancestor.pk not in seen:
        if school.pk is not None and ancestor.pk == school.pk:
            raise ValidationError({"parent": "上级党校不能是本校或本校的延伸党校。"})
        seen.add(ancestor.pk)
        ancestor = ancestor.parent


def _check_school_fields(by, school: PartySchool) -> None:
    _check_parent(by, school)
    if school.established_on and school.established_on > timezone.localdate():
        raise ValidationError({"established_on": "成立日期不能晚于今天。"})
    school.code = (school.code or "").strip()
    school.name = (school.name or "").strip()
    if school.code and PartySchool.objects.exclude(pk=school.pk).filter(code__iexact=school.code).exists():
        raise ValidationError({"code": CODE_TAKEN_MESSAGE})


@service
def school_create(*, by, reason: str = "", **fields) -> PartySchool:
    """Create a party school run by an organization inside the actor's school-managing scope (工委工作人员 /
    党校管理员). The code is unique (case-insensitively); an extended school needs a parent school the actor
    sees, a joint or independent one has none (Huangpi's 独立建校 / 联合建校 / 延伸建校)."""
    unknown = set(fields) - SCHOOL_FIELDS
    if unknown:
        raise TypeError(f"school_create does not take {sorted(unknown)}")
    school = PartySchool(**fields)
    if school.organization_id is None:
        raise ValidationError({"organization": "请填写主办党组织。"})
    require_manager(by, school.organization)
    _check_school_fields(by, school)
    _save(school, by, reason or "新建党校", unique_field="code", unique_message=CODE_TAKEN_MESSAGE)
    return school


@service
def school_update(*, by, school: PartySchool, reason: str = "", **fields) -> PartySchool:
    """Change a school's record. The actor manages both its current and its new organization; the build-mode
    rules of `school_create` hold; a joint school keeps its mode while it still has member units."""
    unknown = set(fields) - SCHOOL_FIELDS
    if unknown:
        raise TypeError(f"school_update does not change {sorted(unknown)}")
    school = _lock_school(school)
    require_manager(by, school.organization)
    was_joint = school.build_mode == BuildMode.JOINT
    for name, value in fields.items():
        setattr(school, name, value)
    if school.organization_id is None:
        raise ValidationError({"organization": "请填写主办党组织。"})
    require_manager(by, school.organization)
    if was_joint and school.build_mode != BuildMode.JOINT and school.member_units.exists():
        raise ValidationError({"build_mode": "该党校仍有联合建校成员单位，请先移除成员单位再改变建校模式。"})
    _check_school_fields(by, school)
    _save(school, by, reason or "修改党校信息", unique_field="code", unique_message=CODE_TAKEN_MESSAGE)
    return school


# ---------------------------------------------------------------------------------------------------------
# Venues


VENUE_TAKEN_MESSAGE = "本校已有同名的教学场所。"


def _check_venue_name(venue: SchoolVenue) -> None:
    venue.name = (venue.name or "").strip()
    if venue.name and SchoolVenue.objects.filter(school=venue.school, name=venue.name).exclude(pk=venue.pk).exists():
        raise ValidationError({"name": VENUE_TAKEN_MESSAGE})


@service
def venue_add(*, by, school: PartySchool, **fields) -> SchoolVenue:
    """Record a venue (教学场所) of a school (Xiqing's 有场地, Huangpi's 有适宜场所); names are unique per school."""
    unknown = set(fields) - VENUE_FIELDS
    if unknown:
        raise TypeError(f"venue_add does not take {sorted(unknown)}")
    school = _lock_school(school)
    require_manager(by, school.organization)
    venue = SchoolVenue(school=school, **fields)
    _check_venue_name(venue)
    _save(venue, by, "新增教学场所", unique_field="name", unique_message=VENUE_TAKEN_MESSAGE)
    return venue


@service
def venue_update(*, by, venue: SchoolVenue, **fields) -> SchoolVenue:
    """Change a venue; a venue no longer usable is marked 不可用 (bookings keep pointing at it)."""
    unknown = set(fields) - VENUE_FIELDS
    if unknown:
        raise TypeError(f"venue_update does not change {sorted(unknown)}")
    school = _lock_school(venue.school)
    require_manager(by, school.organization)
    venue = SchoolVenue.objects.select_for_update().get(pk=venue.pk)
    for name, value in fields.items():
        setattr(venue, name, value)
    _check_venue_name(venue)
    _save(venue, by, "修改教学场所", unique_field="name", unique_message=VENUE_TAKEN_MESSAGE)
    return venue


# ---------------------------------------------------------------------------------------------------------
# Joint schools (联合建校): member units and the principal rotation


def _require_joint(school: PartySchool, field: str) -> None:
    if school.build_mode != BuildMode.JOINT:
        raise ValidationError({field: "只有联合建校的党校才有成员单位和轮值校长。"})


@service
def joint_unit_add(*, by, school: PartySchool, unit: Unit) -> JointSchoolUnit:
    """Add a member unit to a joint school (Huangpi: units with few members build one amateur school together),
    appended at the end of the rotation order. The unit is one the actor sees."""
    school = _lock_school(school)
    require_manager(by, school.organization)
    _require_joint(school, "unit")
    if unit is None or not Unit.objects.visible_to(by).filter(pk=unit.pk).exists():
        raise ValidationError({"unit": "找不到该单位，或该单位不在您的查看范围内。"})
    if school.member_units.filter(unit=unit).exists():
        raise ValidationError({"unit": f"“{unit.name}”已是本校的成员单位。"})
    last = school.member_units.aggregate(m=Max("rotation_order"))["m"] or 0
    member_unit = JointSchoolUnit(school=school, unit=unit, rotation_order=last + 1)
    _save(member_unit, by, "添加成员单位")
    return member_unit


@service
def joint_unit_remove(*, by, member_unit: JointSchoolUnit) -> None:
    """Take a unit out of a joint school. Its past principal terms stay (the history is never deleted); the
    others keep their rotation order."""
    school = _lock_school(member_unit.school)
    require_manager(by, school.organization)
    member_unit = JointSchoolUnit.objects.select_for_update().get(pk=member_unit.pk)
    set_history(member_unit, by, "移除成员单位")
    member_unit.delete()


@service
def joint_unit_move(*, by, member_unit: JointSchoolUnit, up: bool) -> None:
    """Move a member unit one place earlier (`up`) or later in the rotation order, swapping with its neighbour."""
    school = _lock_school(member_unit.school)
    require_manager(by, school.organization)
    units = list(school.member_units.select_for_update().order_by("rotation_order"))
    index = next((i for i, mu in enumerate(units) if mu.pk == member_unit.pk), None)
    if index is None:
        raise ValidationError({"member_unit": "该单位已不是本校的成员单位。"})
    other = index - 1 if up else index + 1
    if not 0 <= other < len(units):
        raise ValidationError({"member_unit": "已在轮值顺序的最前（最后），无法再移动。"})
    a, b = units[index], units[other]
    order_a, order_b = a.rotation_order, b.rotation_order
    # The order is unique per school: park one row on 0 (never a real position) while swapping.
    JointSchoolUnit.objects.filter(pk=a.pk).update(rotation_order=0)
    b.rotation_order = order_a
    set_history(b, by, "调整轮值顺序")
    b.save(update_fields=["rotation_order", "updated_at"])
    a.rotation_order = order_b
    set_history(a, by, "调整轮值顺序")
    a.save(update_fields=["rotation_order", "updated_at"])


NO_SECRETARY_MESSAGE = "没有可轮值的书记：本校成员单位的党组织均无在任书记（在任的“书记”职务且党籍状态正常）。"


@service
def principal_propose(*, by, school: PartySchool, year: int) -> PrincipalTerm:
    """Propose the principal of a joint school for `year` (Huangpi: 联合建校 — 由联建成员单位党组书记轮流担任
    业余党校校长，每届任期一年).

    The rotation: the member units in rotation order, starting after the unit of the latest earlier term
    (wrapping around; the first unit when there is none, or when that unit has left the school), skipping units
    with no eligible secretary (`selectors.current_secretaries`: an active member holding a current 书记 post in
    the unit's organization). The proposal creates or replaces the year's unconfirmed term; a confirmed term is
    never replaced, and no term is ever deleted (the history of terms is kept)."""
    school = _lock_school(school)
    require_manager(by, school.organization)
    _require_joint(school, "unit")
    _check_year(year, "year")
    existing = PrincipalTerm.objects.select_for_update().filter(school=school, year=year).first()
    if existing is not None and existing.confirmed:
        raise ValidationError({"year": f"{year}年度的校长（{existing.name}）已确认，不能重新推荐。"})
    units = list(school.member_units.select_related("unit").order_by("rotation_order"))
    if not units:
        raise ValidationError({"unit": "没有可轮值的书记：本校还没有成员单位，请先添加成员单位。"})
    previous = PrincipalTerm.objects.filter(school=school, year__lt=year, unit__isnull=False).order_by("-year").first()
    start = 0
    if previous is not None:
        index = next((i for i, mu in enumerate(units) if mu.unit_id == previous.unit_id), None)
        start = 0 if index is None else index + 1
    rotation = units[start:] + units[:start]
    secretaries = current_secretaries(mu.unit.organization_id for mu in rotation)
    chosen = next((mu for mu in rotation if secretaries.get(mu.unit.organization_id) is not None), None)
    if chosen is None:
        raise ValidationError({"unit": NO_SECRETARY_MESSAGE})
    secretary = secretaries[chosen.unit.organization_id]
    term = existing or PrincipalTerm(school=school, year=year)
    term.name, term.member, term.unit, term.confirmed = secretary.name, secretary, chosen.unit, False
    _save(term, by, f"推荐{year}年度轮值校长")
    return term


@service
def principal_confirm(*, by, term: PrincipalTerm) -> PrincipalTerm:
    """Confirm a proposed principal term (the system proposes, a person confirms). A term whose member is no
    longer 正常 is refused: propose again."""
    school = _lock_school(term.school)
    require_manager(by, school.organization)
    term = PrincipalTerm.objects.select_for_update(of=("self",)).select_related("member").get(pk=term.pk)
    if term.confirmed:
        raise ValidationError({"term": f"{term.year}年度的校长已确认。"})
    if term.member is not None and term.member.status != Status.ACTIVE:
        raise ValidationError({"term": f"{term.name}的党籍状态已不是“正常”，请重新推荐。"})
    term.confirmed = True
    _save(term, by, f"确认{term.year}年度校长")
    return term


@service
def principal_set(*, by, school: PartySchool, year: int, name: str, member: Member | None = None) -> PrincipalTerm:
    """Record the principal of a non-joint school for a year directly, confirmed (Huangpi: in 独立建校 the
    secretary of the Party (work) committee is principal; Xiqing: the committee secretary is first responsible).
    A correction overwrites the year's term; the earlier version stays in its history."""
    school = _lock_school(school)
    require_manager(by, school.organization)
    if school.build_mode == BuildMode.JOINT:
        raise ValidationError({"name": "联合建校的校长由成员单位书记轮值，请使用“推荐轮值校长”。"})
    _check_year(year, "year")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "请填写校长姓名。"})
    if member is not None:
        if not Member.objects.visible_to(by).filter(pk=member.pk).exists():
            raise ValidationError({"member": "找不到该党员，或该党员不在您的查看范围内。"})
        if member.status != Status.ACTIVE:
            raise ValidationError({"member": "该党员的党籍状态不是“正常”。"})
    term = PrincipalTerm.objects.select_for_update().filter(school=school, year=year).first()
    term = term or PrincipalTerm(school=school, year=year)
    term.name, term.member, term.unit, term.confirmed = name, member, None, True
    _save(term, by, f"登记{year}年度校长")
    return term


# ---------------------------------------------------------------------------------------------------------
# Plans, money, the 六有 checklist


def _check_year(year, field: str, *, not_future: bool = False) -> None:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError({field: "年度应在2000至2100之间。"})
    if not_future and year > timezone.localdate().year:
        raise ValidationError({field: "检查年度不能晚于今年。"})


@service
def plan_save(
    *, by, school: PartySchool, year: int, plan: str, planned_classes: int, planned_trainees: int
) -> SchoolAnnualPlan:
    """Record (or change) a school's training plan for a year with the quotas it claimed (Xiqing: at the start
    of the year each school claims its training tasks; 年终对账 reconciles them at year end). One per year."""
    school = _lock_school(school)
    require_manager(by, school.organization)
    _check_year(year, "year")
    for field, value, label in (
        ("planned_classes", planned_classes, "计划办班数"),
        ("planned_trainees", planned_trainees, "计划培训人次"),
    ):
        if value is None or value < 0:
            raise ValidationError({field: f"{label}不能为负数。"})
    row = SchoolAnnualPlan.objects.filter(school=school, year=year).first() or SchoolAnnualPlan(
        school=school, year=year
    )
    row.plan, row.planned_classes, row.planned_trainees = (plan or "").strip(), planned_classes, planned_trainees
    _save(row, by, f"保存{year}年度培训计划")
    return row


@service
def funding_save(
    *,
    by,
    school: PartySchool,
    year: int,
    purpose: str,
    allocated: Decimal,
    spent: Decimal,
    note: str = "",
) -> FundingLine:
    """Record (or change) a school's funding line of a year for one purpose (Xiqing's 三专: dedicated money,
    dedicated audit). Amounts are non-negative; spending more than was allocated needs a note saying why."""
    school = _lock_school(school)
    require_manager(by, school.organization)
    _check_year(year, "year")
    for field, value, label in (("allocated", allocated, "下拨金额"), ("spent", spent, "支出金额")):
        if value is None:
            raise ValidationError({field: f"请填写{label}。"})
        if value < ZERO:
            raise ValidationError({field: f"{label}不能为负数。"})
    note = (note or "").strip()
    if spent > allocated and not note:
        raise ValidationError({"spent": "支出金额超过下拨金额，请在“说明”中写明超支原因。"})
    line = FundingLine.objects.filter(school=school, year=year, purpose=purpose).first() or FundingLine(
        school=school, year=year, purpose=purpose
    )
    line.allocated, line.spent, line.note = allocated, spent, note
    _save(line, by, f"保存{year}年度经费")
    return line


@service
def standard_check_save(
    *,
    by,
    school: PartySchool,
    year: int,
    item: StandardItem,
    met: bool,
    note: str = "",
    evidence=None,
) -> StandardCheck:
    """Record (or change) a school's 六有 check of one item for a year (Xiqing: 有组织、有场地、有经费、有师资、
    有计划、有制度; Huangpi: 有领导机制、有适宜场所、有师资课程、有规范管理、有经费保障、有培训成效). The item is
    active and of the school's scheme (`scheme_for`); the year is not in the future; an evidence file is
    optional (PDF, JPG, PNG, DOCX, XLSX whose content is what its extension says, at most
    DANGJIAN_ATTACHMENT_MAX_BYTES, 10 MB) — without a new one the earlier evidence stays. A stored file is recorded
    in the audit trail (上传文件: its name and size)."""
    school = _lock_school(school)
    require_manager(by, school.organization)
    _check_year(year, "year", not_future=True)
    # The item as stored now; what is not a stored item finds none.
    pk = getattr(item, "pk", None)
    current = StandardItem.objects.filter(pk=pk).first() if pk is not None else None
    if current is None or not current.active or current.scheme != scheme_for(school):
        raise ValidationError({"item": "该检查项不属于本校适用的“六有”标准，或已停用。"})
    item = current
    if evidence:
        check_file_upload(evidence, field="evidence", label="佐证材料", allowed=EVIDENCE_EXTENSIONS)
    check = StandardCheck.objects.filter(school=school, year=year, item=item).first() or StandardCheck(
        school=school, year=year, item=item
    )
    check.met, check.note, check.checked_by = bool(met), (note or "").strip(), acting_user(by)
    upload = None
    if evidence:
        upload = {"filename": os.path.basename(evidence.name or ""), "size": evidence.size, "field": "evidence"}
        check.evidence = evidence
    _save(check, by, f"“六有”检查：{item.name}")
    if upload is not None:
        audit_record(action=AuditAction.UPLOAD, actor=acting_user(by), obj=check, detail=upload)
    return check
