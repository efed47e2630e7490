"""Enrollment into a training class (报名/调训): by name, by organization, from an uploaded roster (导入调训名单,
docs/imports.md), and withdrawal. A runner of the class (`classes`: school-managing role over the organizer) draws
up the planned roster before filing and enrolls anybody they see once approved; a branch secretary (支部书记) enrolls
the members of their own branches into an approved class they see. All or nothing, with a Chinese message per
refusal."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service
from dangjian.core.sheets import (
    IdNumberMangled,
    Sheet,
    SheetChoiceNeeded,
    SheetError,
    clean_name,
    clean_text,
    load_columns,
    locate_header,
    max_rows,
    open_upload,
    read_id_number,
)
from dangjian.core.validators import parse_id_number
from dangjian.members.imports import MSG_ID_AS_NUMBER, MSG_ID_MASKED
from dangjian.members.models import Category, Member, Status, id_number_digest
from dangjian.members.selectors import MemberReference, members_named
from dangjian.orgs.models import Organization
from dangjian.training.models import ClassStatus, Enrollment, EnrollmentSource, TrainingClass
from dangjian.training.services._common import lock_class, names_text, save_with_history

NOT_ENROLLER = "您的角色无权为该培训班报名：须为主办方的工委工作人员、党校管理员，或本支部的支部书记。"
ENROLLMENT_CLOSED = (
    "该培训班未在报名中：主办方可在备案前拟定调训名单，备案审批通过后各支部方可报名（当前状态：{status}）。"
)
_LOOKUP_CHUNK = 5000


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
                {field: f"您只能为您管理的党组织的党员报名：{names_text(outside)}不在其中，未报名任何人。"}
            )
    inactive = [m for m in found.values() if m.status != Status.ACTIVE]
    if inactive:
        raise ValidationError({field: f"{names_text(inactive)}的党籍状态不是“正常”，不能报名，未报名任何人。"})
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
    current = lock_class(training_class)
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
    current = lock_class(training_class)
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


ROSTER_COLUMNS = load_columns(Path(__file__).resolve().parents[1] / "data" / "class_roster_columns.toml")
ID_COLUMN = "公民身份号码"
NAME_COLUMN = "姓名"
ORG_COLUMN = "党组织"
MSG_REQUIRED = "必填，不能为空。"
MSG_NO_COLUMNS = (
    f"缺少“{ID_COLUMN}”列，或“{NAME_COLUMN}”和“{ORG_COLUMN}”两列：表头（其上方可有标题行）须有身份证号码一列，"
    f"或姓名和所在党支部两列。"
)
MSG_NO_ROWS = "文件中没有数据：表头下面的行都是空的。"


def _row_error(sheet: Sheet, row: int, column: str, message: str) -> ValidationError:
    """One row's error, `第N行 列名: 说明` (`工作表“名称”第N行 …` when the workbook has several sheets with data), with
    its parts as params for the page's error table (docs/imports.md)."""
    return ValidationError(
        "%(sheet)s第%(row)s行 %(column)s: %(message)s",
        code="row",
        params={"sheet": sheet.label, "row": row, "column": column, "message": message},
    )


def _file_error(message: str, **params) -> ValidationError:
    return ValidationError({"file": ValidationError(message, code=params.pop("code", "file"), params=params or None)})


def _open_roster(fileobj, name: str, sheet_name: str | None) -> tuple[Sheet, dict[str, int]]:
    """The roster's sheet, its header located below any title rows, and the index of each column it has: .xlsx, .xls
    or .csv (UTF-8 with or without BOM, GBK), columns and their synonyms from data/class_roster_columns.toml. The
    header must name 公民身份号码, or both 姓名 and 党组织. A workbook with several sheets of roster data is refused
    with their names (code "sheet", params["names"]) until one is chosen. docs/imports.md, "Files" and "Header"."""
    try:
        sheet = locate_header(open_upload(fileobj, name=name, sheet=sheet_name, columns=ROSTER_COLUMNS), ROSTER_COLUMNS)
    except SheetChoiceNeeded as exc:
        raise _file_error(str(exc), code="sheet", names=exc.names) from None
    except SheetError as exc:
        raise _file_error(str(exc)) from None
    raw = sheet.raw_header or sheet.header
    columns: dict[str, int] = {}
    for index, cell in enumerate(raw):
        column = ROSTER_COLUMNS.match(cell)
        if column is not None:
            columns.setdefault(column, index)  # a repeated column: the first one is read
    if ID_COLUMN not in columns and not (NAME_COLUMN in columns and ORG_COLUMN in columns):
        raise _file_error(MSG_NO_COLUMNS)
    if sheet.height - 1 > max_rows():
        raise _file_error(f"数据行数超过上限：每个文件最多 {max_rows()} 行。")
    return sheet, columns


def _read_roster(
    fileobj, name: str, sheet_name: str | None
) -> tuple[Sheet, dict[int, MemberReference], list[tuple[int, ValidationError]]]:
    """How each row names a member (row as Excel numbers it, title rows included → MemberReference), and (row, error)
    of every row that cannot name one. A row names a member by its 公民身份号码 (`read_id_number`: Excel's mangled
    numbers get their own message, a masked number its own, then `parse_id_number` for format and checksum) or, that
    cell empty, by 姓名 + 党组织; a row whose read columns are all empty is skipped. docs/imports.md, "Values" and
    "ID numbers"."""
    sheet, columns = _open_roster(fileobj, name, sheet_name)
    by_name = NAME_COLUMN in columns and ORG_COLUMN in columns
    indexes = list(columns.values())
    references: dict[int, MemberReference] = {}
    errors: list[tuple[int, ValidationError]] = []

    def cell(cells: list, column: str):
        index = columns.get(column)
        return cells[index] if index is not None and index < len(cells) else None

    try:
        for number, cells in sheet.numbered():
            if all(clean_text(cells[i] if i < len(cells) else None) == "" for i in indexes):
                continue
            try:
                id_number = read_id_number(cell(cells, ID_COLUMN))
            except IdNumberMangled as exc:
                errors.append(
                    (number, _row_error(sheet, number, ID_COLUMN, MSG_ID_AS_NUMBER.format(shown=exc.shown[:24])))
                )
                continue
            if id_number:
                if "*" in id_number:
                    errors.append((number, _row_error(sheet, number, ID_COLUMN, MSG_ID_MASKED)))
                    continue
                try:
                    parse_id_number(id_number)
                except ValidationError as exc:
                    errors.append((number, _row_error(sheet, number, ID_COLUMN, exc.messages[0])))
                    continue
                references[number] = MemberReference(digest=id_number_digest(id_number))
            elif by_name:
                references[number] = MemberReference(
                    name=clean_name(cell(cells, NAME_COLUMN)), organization=clean_text(cell(cells, ORG_COLUMN))
                )
            else:
                errors.append((number, _row_error(sheet, number, ID_COLUMN, MSG_REQUIRED)))
    except SheetError as exc:
        raise _file_error(str(exc)) from None
    if not references and not errors:
        raise _file_error(MSG_NO_ROWS)
    return sheet, references, errors


@service
def enrollment_import(*, by, training_class: TrainingClass, fileobj, name: str, sheet: str | None = None) -> int:
    """Enroll from an uploaded roster (导入调训名单): .xlsx, .xls or .csv, the header below any title rows, its columns
    in people's words (data/class_roster_columns.toml). Each row names a member by 公民身份号码, or by 姓名 within
    党组织 when that cell is empty, among the members `by` sees (`members.selectors.members_named`: one outside the
    scope reads like one who does not exist); the member must be active (正常) and, for a branch secretary, in an
    organization they may edit. All or nothing: any bad row and nobody is enrolled; every error is reported as
    `第N行 列名: 说明`. A member listed twice is enrolled once. `sheet` names the worksheet when the workbook has
    several with data (else refused, listing them). docs/imports.md."""
    current = lock_class(training_class)
    runner = _enroller(by, current)
    _require_enrollment_open(current, runner=runner)
    roster, references, errors = _read_roster(fileobj, name, sheet)
    access = access_for(by)
    found, unknown = members_named(
        references, within=Member.objects.visible_to(by), organizations=Organization.objects.visible_to(by)
    )
    for number, (column, text) in unknown.items():
        errors.append((number, _row_error(roster, number, column, text)))
    ids: list[int] = []
    for number, member in found.items():
        column = ID_COLUMN if references[number].digest else NAME_COLUMN
        message: str | None = None
        if member.status != Status.ACTIVE:
            message = f"该党员的党籍状态为“{Status(member.status).label}”，不能报名。"
        elif not runner and not access.covers(member.path, access.member_edit_roots):
            message = "该党员不在您管理的党组织中，不能为其报名。"
        if message:
            errors.append((number, _row_error(roster, number, column, message)))
        else:
            ids.append(member.pk)
    if errors:
        raise ValidationError({"file": [error for _, error in sorted(errors, key=lambda item: item[0])]})
    return _enroll(by, current, ids, EnrollmentSource.IMPORT, field="file")


@service
def enrollment_withdraw(*, by, training_class: TrainingClass, member: Member) -> Enrollment:
    """Withdraw a member from an approved class (退出): the enrollment row is kept with its withdrawal time; the
    member's attendance so far stays. Same roles as enrolling."""
    current = lock_class(training_class)
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
    save_with_history(enrollment, by, "退出培训班")
    return enrollment
