"""Hours earned elsewhere (学时导入): a list from another platform — 省干部网络学院, an online academy, a training run
by another department — uploaded by a committee or party-school admin and credited to the hours ledger.

Rules (docs/imports.md; docs/rules.md, "Rules and numbers from the seeds"):
- The file is read as every import reads one (core.sheets: .xlsx/.xls/.csv, title rows, the header in the exporters'
  words — training/data/hours_columns.toml —, values trimmed, the listed date shapes, Excel-rounded ID numbers named).
- A row names a member by ID number, or by name with an organization (code, name or 名称（编码）), inside the uploader's
  scope (the subtrees where they run party schools: 工委工作人员, 党校管理员); a member outside it reads like an
  unknown one. Only active members are credited.
- Each row: hours in steps of 0.5 (the ledger's rule), 类型 网络学习 or 集中培训 (training/data/hours_kinds.toml), a
  date or a period (开始日期/结束日期, or a month where the field allows it: credited on its last day, or today if
  the month is running), 来源 (the column, or the source given for the whole file), 课程名称.
- A row already credited — same source, member, course and date — is recognized and skipped, so importing the same
  file twice adds nothing; the same row twice in one file is an error. Members' rows are locked while this is checked.
- All or nothing, every error at once as `第N行 列名: 说明`; a year the committee has closed takes no entry.
- Every run (dry or not, written or refused) leaves one IMPORT audit record with counts, never an ID number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record
from dangjian.core.sheets import (
    DateError,
    IdNumberMangled,
    SheetChoiceNeeded,
    SheetError,
    clean_name,
    clean_text,
    load_code_lists,
    load_columns,
    locate_header,
    max_rows,
    open_upload,
    read_id_number,
    read_period,
)
from dangjian.core.validators import parse_id_number
from dangjian.members.imports.columns import MSG_ID_AS_NUMBER, MSG_ID_MASKED
from dangjian.members.imports.results import RowIssue
from dangjian.members.models import Member, Status, id_number_digest
from dangjian.members.selectors import MemberReference, members_named
from dangjian.orgs.models import Organization, subtree_q
from dangjian.training.models import HoursEntry, HoursKind
from dangjian.training.services.ledger import Credit, check_hours, hours_credit_many

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
HOURS_COLUMNS = load_columns(DATA_DIR / "hours_columns.toml")
KINDS = load_code_lists(DATA_DIR / "hours_kinds.toml")["类型"]
KIND_VALUES = {"网络学习": HoursKind.ONLINE, "集中培训": HoursKind.CONCENTRATED}
NOT_IMPORTER = "您的角色无权导入学时：须为工委工作人员或党校管理员。"
MSG_REQUIRED = "必填，不能为空。"
MSG_NO_MEMBER_COLUMNS = "缺少识别党员的列：应有“公民身份号码”列，或同时有“姓名”和“党组织”列。"
MSG_NO_DATE_COLUMNS = "缺少日期列：应有“日期”（或“完成时间”）列，或“结束日期”列。"
MSG_NO_SOURCE = "缺少“来源”：请在文件中填写“来源”列（如“省干部网络学院”），或导入时指定来源。"
PREVIEW_ROWS = 20
_HOURS_SUFFIXES = ("学时", "小时", "课时", "h", "H")


@dataclass
class HoursRow:
    number: int
    reference: MemberReference
    hours: Decimal | None = None
    kind: str = ""
    on: dt.date | None = None
    source: str = ""
    title: str = ""
    member_id: int | None = None
    member_name: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class PreviewLine:
    row: int
    name: str
    title: str
    kind: str
    hours: Decimal
    on: dt.date
    source: str
    action: str  # 导入 / 已导入过


@dataclass
class HoursImportResult:
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    skipped: int = 0  # rows credited by an earlier import of the same list
    hours: Decimal = Decimal("0")
    written: bool = False
    sheet: str = ""
    sheet_names: list[str] = field(default_factory=list)
    header_row: int = 0
    mapping: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    normalized: dict[tuple[str, str, str], int] = field(default_factory=dict)
    preview: list[PreviewLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_error(self) -> str | None:
        return next((e.message for e in self.errors if e.row is None), None)

    @property
    def renamed(self) -> list[tuple[str, str]]:
        return [(shown, column) for shown, column in self.mapping if shown != column]

    @property
    def normalized_values(self) -> list[tuple[str, str, str, int]]:
        return sorted(((*key, count) for key, count in self.normalized.items()), key=lambda v: (v[0], -v[3], v[1]))

    def summary(self) -> str:
        return f"导入 {self.created} 条学时"


def import_roots(access) -> tuple[str, ...]:
    """Where an uploader may credit hours from elsewhere: the subtrees they run party schools in (committee staff and
    party-school admins)."""
    return access.school_manage_roots


def import_hours(
    fileobj: BinaryIO,
    *,
    name: str,
    by,
    actor=None,
    source: str = "",
    sheet: str | None = None,
    dry_run: bool = False,
    via: str = "page",
) -> HoursImportResult:
    """Check the list in `fileobj` (named `name`) and, unless `dry_run` or on any error, credit it to the ledger in one
    transaction. `by` is the uploader (a user, or an Access for a command, `actor` then naming the user); `source`
    fills the 来源 of rows that give none. Raises PermissionDenied for a role that may not import hours."""
    access = access_for(by)
    if not (access.system or import_roots(access)):
        raise PermissionDenied(NOT_IMPORTER)
    actor = actor if actor is not None else (None if hasattr(by, "view_roots") else by)
    run = _HoursImport(by=by, access=access, source=clean_text(source)[:100], name=name)
    try:
        run.read(fileobj, sheet=sheet)
        if run.result.ok:
            if dry_run:
                run.check(lock=False)
            else:
                with transaction.atomic():
                    run.check(lock=True)
                    if run.result.ok:
                        run.write(actor)
    except SheetChoiceNeeded as exc:
        run.result.sheet_names = exc.names
        run.result.errors.append(RowIssue(None, "", str(exc)))
    except SheetError as exc:
        run.result.errors.append(RowIssue(None, "", str(exc)))
    finally:
        fileobj.seek(0)
    run.finish()
    _audit(run.result, actor=actor, via=via, dry_run=dry_run)
    return run.result


class _HoursImport:
    def __init__(self, *, by, access, source: str, name: str):
        self.by, self.access, self.source, self.name = by, access, source, name
        self.result = HoursImportResult()
        self.rows: list[HoursRow] = []
        self.columns: dict[str, int] = {}
        self.today = timezone.localdate()
        self.sheet_label = ""

    # -- read ----------------------------------------------------------------------------------------------

    def read(self, fileobj: BinaryIO, *, sheet: str | None) -> None:
        result = self.result
        book = open_upload(fileobj, name=self.name, sheet=sheet, columns=HOURS_COLUMNS)
        book = locate_header(book, HOURS_COLUMNS)
        result.sheet, result.header_row, self.sheet_label = book.name, book.first_row, book.label
        if book.height - 1 > max_rows():
            raise SheetError(f"数据行数超过上限：每个文件最多 {max_rows()} 行，请拆分后分批导入。")
        raw = book.raw_header or book.header
        for index, shown in enumerate(book.header):
            if not shown:
                continue
            column = HOURS_COLUMNS.match(raw[index] if index < len(raw) else shown)
            if column is None:
                result.ignored.append(shown)
            elif column in self.columns:
                result.errors.append(RowIssue(book.first_row, shown, f"与另一列都表示“{column}”：同一列只能出现一次。"))
            else:
                self.columns[column] = index
                result.mapping.append((shown, column))
        self._check_header(book.first_row)
        if not result.ok:
            return
        width = max(self.columns.values()) + 1
        for number, cells in book.numbered():
            if len(cells) < width:
                cells = [*cells, *[""] * (width - len(cells))]
            if all(cells[i] in ("", None) for i in self.columns.values()):
                continue
            self.rows.append(self._parse(number, cells))
        result.rows = len(self.rows)
        if not self.rows:
            result.errors.append(RowIssue(None, "", "文件中没有学时数据：表头下面的行都是空的。"))

    def _check_header(self, row: int) -> None:
        columns, errors = self.columns, self.result.errors
        if "公民身份号码" not in columns and not ("姓名" in columns and "党组织" in columns):
            errors.append(RowIssue(row, "公民身份号码", MSG_NO_MEMBER_COLUMNS))
        for name in ("学时", "类型", "课程名称"):
            if name not in columns:
                errors.append(RowIssue(row, name, "缺少必填列。"))
        if "日期" not in columns and "结束日期" not in columns:
            errors.append(RowIssue(row, "日期", MSG_NO_DATE_COLUMNS))
        if "来源" not in columns and not self.source:
            errors.append(RowIssue(row, "来源", MSG_NO_SOURCE))

    def _cell(self, cells: list, column: str):
        index = self.columns.get(column)
        return None if index is None else cells[index]

    def _parse(self, number: int, cells: list) -> HoursRow:
        row = HoursRow(number=number, reference=MemberReference())
        digest, name, org = "", clean_name(self._cell(cells, "姓名")), clean_text(self._cell(cells, "党组织"))
        if "公民身份号码" in self.columns:
            digest = self._digest(row, self._cell(cells, "公民身份号码"))
        if not row.errors:
            row.reference = MemberReference(digest=digest, name=name, organization=org)
        row.hours = self._hours(row, self._cell(cells, "学时"))
        row.kind = self._kind(row, self._cell(cells, "类型"))
        row.on = self._date(row, cells)
        row.source = clean_text(self._cell(cells, "来源"))[:100] or self.source
        if not row.source:
            row.errors.append(("来源", MSG_REQUIRED))
        row.title = clean_text(self._cell(cells, "课程名称"))[:200]
        if not row.title:
            row.errors.append(("课程名称", MSG_REQUIRED))
        return row

    @staticmethod
    def _digest(row: HoursRow, raw) -> str:
        try:
            number = read_id_number(raw)
        except IdNumberMangled as exc:
            row.errors.append(("公民身份号码", MSG_ID_AS_NUMBER.format(shown=exc.shown[:24])))
            return ""
        if not number:
            return ""  # named by 姓名 and 党组织, when the file has them
        if "*" in number:
            row.errors.append(("公民身份号码", MSG_ID_MASKED))
            return ""
        try:
            parse_id_number(number)
        except ValidationError as exc:
            row.errors.append(("公民身份号码", exc.messages[0]))
            return ""
        return id_number_digest(number)

    @staticmethod
    def _hours(row: HoursRow, raw) -> Decimal | None:
        text = clean_text(raw)
        for suffix in _HOURS_SUFFIXES:
            text = text.removesuffix(suffix).strip()
        if not text:
            row.errors.append(("学时", MSG_REQUIRED))
            return None
        try:
            return check_hours(text)
        except ValidationError as exc:
            row.errors.append(("学时", exc.messages[0]))
            return None

    def _kind(self, row: HoursRow, raw) -> str:
        text = clean_text(raw)
        if not text:
            row.errors.append(("类型", MSG_REQUIRED))
            return ""
        label = KINDS.resolve(text)
        if label is None:
            row.errors.append(("类型", KINDS.unknown_message(text)))
            return ""
        if text != label:
            key = ("类型", text[:20], label)
            self.result.normalized[key] = self.result.normalized.get(key, 0) + 1
        return KIND_VALUES[label]

    def _date(self, row: HoursRow, cells: list) -> dt.date | None:
        """The day the hours are credited on: the date, or the period's last day (a month: its last day, or today
        while it runs); a period's start may not lie after its end."""
        column = "日期" if "日期" in self.columns and self._cell(cells, "日期") not in ("", None) else "结束日期"
        try:
            period = read_period(self._cell(cells, column), month_ok=True)
            start = read_period(self._cell(cells, "开始日期"), month_ok=True) if "开始日期" in self.columns else None
        except DateError as exc:
            row.errors.append((column, exc.message))
            return None
        if period is None:
            row.errors.append(("日期" if "日期" in self.columns else "结束日期", MSG_REQUIRED))
            return None
        first, last = period
        if start is not None and start[0] > last:
            row.errors.append(("开始日期", "开始日期不能晚于结束日期。"))
            return None
        on = min(last, self.today) if first <= self.today else last
        if on > self.today:
            row.errors.append((column, "日期不能晚于今天。"))
            return None
        return on

    # -- check ---------------------------------------------------------------------------------------------

    def check(self, *, lock: bool) -> None:
        roots = import_roots(self.access)
        members = Member.objects.visible_to(self.by)
        organizations = Organization.objects.all()
        if not self.access.system:
            members = members.filter(organization__in=Organization.objects.filter(subtree_q(roots)).values("pk"))
            organizations = organizations.filter(subtree_q(roots))
        references = {row.number: row.reference for row in self.rows if not row.errors}
        found, missing = members_named(references, within=members, organizations=organizations)
        for row in self.rows:
            if row.number in missing:
                column, message = missing[row.number]
                row.errors.append((column, message))
            member = found.get(row.number)
            if member is None:
                continue
            if member.status != Status.ACTIVE:
                row.errors.append(("姓名", f"该党员的党籍状态为“{Status(member.status).label}”，不能登记学时。"))
                continue
            row.member_id, row.member_name = member.pk, member.name
        ready = [row for row in self.rows if not row.errors]
        member_ids = sorted({row.member_id for row in ready if row.member_id is not None})
        if lock and member_ids:
            # The members' rows stay locked until the import commits: two uploads of one list cannot both credit it.
            list(Member.objects.dangerously_all().select_for_update().filter(pk__in=member_ids).values_list("pk"))
        credited = set(
            HoursEntry.objects.filter(
                member_id__in=member_ids, source__in=sorted({row.source for row in ready}), reverses__isnull=True
            ).values_list("source", "member_id", "title", "date")
        )
        first_of: dict[tuple, int] = {}
        self.to_credit: list[HoursRow] = []
        for row in ready:
            key = (row.source, row.member_id, row.title, row.on)
            if key in first_of:
                row.errors.append(("课程名称", f"与第{first_of[key]}行重复（同一来源、党员、课程和日期）。"))
                continue
            first_of[key] = row.number
            if key in credited:
                self.result.skipped += 1
            else:
                self.to_credit.append(row)
        self._collect()

    def _collect(self) -> None:
        result = self.result
        for row in self.rows:
            for column, message in row.errors:
                result.errors.append(RowIssue(row.number, column, message))
        if result.errors:
            result.skipped = 0
            return
        result.created = len(self.to_credit)
        result.hours = sum((row.hours or Decimal("0") for row in self.to_credit), Decimal("0"))
        new = {row.number for row in self.to_credit}
        for row in self.rows[:PREVIEW_ROWS]:
            assert row.hours is not None and row.on is not None  # a row without errors has both
            result.preview.append(
                PreviewLine(
                    row=row.number,
                    name=row.member_name,
                    title=row.title,
                    kind=HoursKind(row.kind).label,
                    hours=row.hours,
                    on=row.on,
                    source=row.source,
                    action="导入" if row.number in new else "已导入过",
                )
            )

    # -- write ---------------------------------------------------------------------------------------------

    def write(self, actor) -> None:
        credits = [
            Credit(
                member_id=row.member_id,
                on=row.on,
                hours=row.hours,
                kind=row.kind,
                document=f"学时导入：{self.name}"[:200],
                source=row.source,
                title=row.title,
            )
            for row in self.to_credit
            if row.member_id is not None and row.on is not None and row.hours is not None
        ]
        try:
            hours_credit_many(by=actor if actor is not None else self.by, credits=credits)
        except ValidationError as exc:  # a closed year (学时年度关账), named with its organization
            self.result.errors.append(RowIssue(None, "", exc.messages[0]))
            self.result.created = self.result.skipped = 0
            transaction.set_rollback(True)
            return
        self.result.written = True

    def finish(self) -> None:
        result = self.result
        if self.sheet_label:
            result.errors = [_named(e, self.sheet_label) for e in result.errors]
        if not result.ok:
            result.created = result.skipped = 0
            result.hours = Decimal("0")
            result.preview = []


def _named(issue: RowIssue, label: str) -> RowIssue:
    return replace(issue, sheet=label) if issue.row is not None else issue


def _audit(result: HoursImportResult, *, actor, via: str, dry_run: bool) -> None:
    audit_record(
        action=AuditAction.IMPORT,
        result=AuditResult.SUCCESS if result.ok else AuditResult.FAILURE,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        object_type=HoursEntry._meta.label_lower,
        object_repr="学时导入",
        detail={
            "event": "import_hours",
            "via": via,
            "dry_run": dry_run,
            "written": result.written,
            "rows": result.rows,
            "created": result.created,
            "skipped": result.skipped,
            "hours": str(result.hours),
            "errors": len(result.errors),
        },
    )
