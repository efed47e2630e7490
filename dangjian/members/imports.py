"""The member roster from an .xlsx file (党员名册导入): the template, the checks, and the all-or-nothing write.

One engine serves the page (`import_views`) and the command (`import_members`), so both check and write the
same way:

1. The file: `core.uploads.check_xlsx_upload` first (extension, size, zip structure, zip bombs), then
   python-calamine reads the first visible worksheet (about 15 times faster than openpyxl's read-only mode,
   and it never expands XML entities: a sheet that uses one is refused as unreadable). More data rows than
   DANGJIAN_IMPORT_MAX_ROWS (default 200,000) are refused before any row is looked at.
2. The header: the template's columns in any order; an unknown column is ignored with a warning, a missing
   required column is an error.
3. The rows, in two passes. The first parses every cell (dates as Excel dates or YYYY-MM-DD text, labels as
   the template writes them). Then the lookups run in bulk, a fixed number of queries whatever the file's
   size: every ID number's blind index at once, every organization code at once (inside the importer's
   editable scope: a code outside it gets the same message as one that does not exist), every unit name at
   once. The second pass checks each row with the model's own rules, `Member.clean_fields()` and
   `Member.clean()`, the same rules as a single edit.
4. All or nothing: any error and nothing is written; every error is reported at once, as (row as Excel
   numbers it, column, message). Otherwise everything is written in one transaction: new members and their
   "created" history rows (reason "Excel导入", the importer as the user) with bulk statements (on PostgreSQL
   queued in pipeline mode while the rows below are still being checked, see `_MemberPipeline`), updated
   members with `bulk_update` and their "changed" history rows, posts (党内职务) with theirs.
5. Every run, dry or not, written or refused, leaves one IMPORT audit record with the counts (never an ID number).
   Its ID numbers count against the importer's daily lookups (members.lookups: a file over the limit is refused
   whole); a number registered outside the importer's scope gets only the neutral UNREGISTRABLE_ID_MESSAGE (the
   precise duplicate message is kept for members the importer can see), and many of them raise a security alert.

Speed (bench/import_bench.py): 100,000 rows in about 15 s on PostgreSQL, most of it the server's work on the
two tables' indexes and Python's per-row checks, with a peak of under 300 MB.

Update mode matches existing members by ID number (its blind index) and changes only the fields that differ,
only for the columns the file has; a row whose ID number is not registered yet is a new member. Posts are matched
by (organization, post): one the member holds is left as it is (wherever it lies, even outside the importer's
scope), one they do not hold yet is added from today, in the organization 党内职务所在组织编码 names for it (the
member's own without a code, unless they hold a post of that name anywhere: an older file does not double a
post it cannot place), which must lie in the importer's editable scope.

The columns: the 13 of the original template first and in order, then 党内职务所在组织编码, 班子成员 and 区管干部
(是/否), which are read when present and ignored when absent, so older files import as before. An export by a
role that sees ID numbers in full, imported again in update mode, changes nothing (tests/test_round_trip.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import json
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record

# The fast multi-row insert (COPY on PostgreSQL): the values it stores are exactly the ORM's (encrypted fields
# through their own get_db_prep_save, blind indexes through their pre_save).
from dangjian.core.bulk import insert_rows as _insert
from dangjian.core.crypto import encrypt
from dangjian.core.uploads import UploadLimits, check_xlsx_upload
from dangjian.core.validators import mask_id_number, normalize_id_number
from dangjian.members.lookups import LookupLimitExceeded, counted_user, foreign_hits_record, id_lookups_reserve
from dangjian.members.models import (
    DUPLICATE_ID_MESSAGE,
    ETHNIC_GROUPS,
    UNREGISTRABLE_ID_MESSAGE,
    Category,
    Education,
    Flag,
    Gender,
    Member,
    MemberFlagChange,
    MemberTransfer,
    PartyPost,
    Post,
    Status,
    id_number_digest,
    phone_digest,
)
from dangjian.orgs.models import Organization, Unit, subtree_q

# The template's header, in order (issue 4, "Excel import"). The export writes the same columns.
TEMPLATE_COLUMNS: tuple[str, ...] = (
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "公民身份号码",
    "学历",
    "手机号码",
    "入党日期",
    "转正日期",
    "人员类别",
    "党组织编码",
    "工作单位",
    "党内职务",
    # Added at the end, so that the first 13 stay as they were; a file without them imports as before.
    "党内职务所在组织编码",
    "班子成员",
    "区管干部",
)
REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {"姓名", "性别", "出生日期", "公民身份号码", "入党日期", "人员类别", "党组织编码"}
)
# The column the annotated copy of a refused file adds; a corrected copy may be uploaded with it still there.
ERROR_COLUMN = "错误说明"
COLUMN_WIDTHS = (10, 6, 8, 12, 22, 12, 15, 12, 12, 10, 14, 24, 16, 22, 10, 10)
# 党内职务所在组织编码: the organization of each post of 党内职务, in the same order; empty: the member's own.
POST_ORG_COLUMN = "党内职务所在组织编码"
POSTS_COLUMN = "党内职务"
IMPORT_REASON = "Excel导入"
PREVIEW_ROWS = 20
DEFAULT_MAX_ROWS = 200_000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Model field → template column.
FIELD_COLUMNS: dict[str, str] = {
    "name": "姓名",
    "gender": "性别",
    "ethnicity": "民族",
    "birth_date": "出生日期",
    "id_number": "公民身份号码",
    "education": "学历",
    "phone": "手机号码",
    "join_date": "入党日期",
    "full_date": "转正日期",
    "category": "人员类别",
    "organization": "党组织编码",
    "unit": "工作单位",
    "is_leadership": "班子成员",
    "is_district_cadre": "区管干部",
}
COLUMN_FIELDS = {column: name for name, column in FIELD_COLUMNS.items()}
# The fields whose values come from the file and that the model's field validation checks.
_CHECKED_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "phone",
    "education",
    "join_date",
    "full_date",
    "category",
)
_NOT_CHECKED = tuple(f.name for f in Member._meta.fields if f.name not in _CHECKED_FIELDS)
# The fields update mode compares and may change, in the template's order.
_UPDATABLE = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "education",
    "phone",
    "join_date",
    "full_date",
    "category",
    "organization",
    "unit",
    "is_leadership",
    "is_district_cadre",
)

GENDERS = {label: value for value, label in Gender.choices}
CATEGORIES = {label: value for value, label in Category.choices}
EDUCATIONS = {label: value for value, label in Education.choices}
POSTS = {label: value for value, label in Post.choices}
POST_LABELS = dict(Post.choices)
ETHNICITIES = frozenset(ETHNIC_GROUPS)
_POST_SPLIT = re.compile(r"[、,，;；/\s]+")
_CODE_SPLIT = re.compile(r"[、,，;；\s]+")
FLAGS = {"是": True, "否": False}
_TEXT_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_EXCEL_SERIAL = 2_958_465  # 9999-12-31

MSG_REQUIRED = "必填，不能为空。"
MSG_DATE = "日期格式不正确：应为Excel日期或“YYYY-MM-DD”格式的文本（如2021-07-01）。"
MSG_ID_AS_NUMBER = "公民身份号码被存成了数字，末几位已丢失：请把该列设为“文本”格式后重新填写。"
MSG_ID_MASKED = "公民身份号码已脱敏（含*号），不能导入：请填写完整号码。"
MSG_ORG = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"
MSG_FLAG = "应为“是”或“否”。"
MSG_POST_ORG_COUNT = (
    "党内职务所在组织编码有{codes}个，党内职务有{posts}个：应一一对应（按顺序，用“、”分隔），或整格不填。"
)
MSG_NOT_EDITABLE = "该党员不在您可以修改的范围内（只能查看），不能在此更新。"


def max_rows() -> int:
    """The most data rows one file may hold (DANGJIAN_IMPORT_MAX_ROWS, default 200,000)."""
    return int(getattr(settings, "DANGJIAN_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


# ---------------------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class RowIssue:
    """An error or a warning: the row as Excel numbers it (the header is row 1; None: the whole file), the
    column, and a Chinese message."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"第{self.row}行 {self.column}: {self.message}" if self.column else f"第{self.row}行: {self.message}"


@dataclass
class PreviewRow:
    row: int
    name: str
    masked_id_number: str
    gender: str
    organization: str
    category: str
    action: str  # 新增 / 更新 / 无变化
    changes: list[str]


@dataclass
class ImportResult:
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    rows: int = 0  # data rows read (empty rows not counted)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    posts: int = 0
    preview: list[PreviewRow] = field(default_factory=list)
    update_mode: bool = False
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_error(self) -> str | None:
        """The message of an error about the whole file (not an xlsx, too big, too many rows …)."""
        return next((e.message for e in self.errors if e.row is None), None)

    def summary(self) -> str:
        """`导入 N 人` / `更新 N 人`, both when both happened."""
        parts = []
        if self.created or not self.update_mode:
            parts.append(f"导入 {self.created} 人")
        if self.update_mode:
            parts.append(f"更新 {self.updated} 人")
            if self.unchanged:
                parts.append(f"无变化 {self.unchanged} 人")
        return "，".join(parts)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


# ---------------------------------------------------------------------------------------------------------
# Reading the sheet


@dataclass
class Sheet:
    header: list[str]
    first_row: int  # the Excel number of the header row
    first_col: int  # the 0-based column of the sheet's first used column
    rows: object  # iterator of cell lists, the header's following rows in order
    height: int


def _calamine():
    try:
        import python_calamine
    except ImportError:  # pragma: no cover - a missing dependency is an installation error
        raise ImportFileError("服务器缺少 Excel 读取组件 python-calamine，请联系系统管理员。") from None
    return python_calamine


def _reading_failed(exc: BaseException) -> ImportFileError:
    if isinstance(exc, KeyboardInterrupt | SystemExit | MemoryError):
        raise exc
    name = type(exc).__name__
    if name == "PasswordError":
        return ImportFileError("文件设置了密码保护，无法读取：请取消密码后重新上传。")
    if name == "XmlError":
        return ImportFileError(
            "文件内容无法解析（含有不支持的XML内容，如实体引用），已拒绝。请用Excel另存为.xlsx后重试。"
        )
    return ImportFileError("文件已损坏或不是有效的Excel工作簿，无法读取。")


def open_sheet(fileobj: BinaryIO) -> Sheet:
    """The first visible worksheet of `fileobj`: its header row and an iterator over the rows below it.

    Raises ImportFileError for an unreadable file. A panic of the reader on a malformed file (pyo3 raises it
    as a BaseException) is answered like any unreadable file.
    """
    calamine = _calamine()
    fileobj.seek(0)
    try:
        workbook = calamine.CalamineWorkbook.from_filelike(fileobj)
        visible = [
            meta.name
            for meta in workbook.sheets_metadata
            if meta.visible == calamine.SheetVisibleEnum.Visible and meta.typ == calamine.SheetTypeEnum.WorkSheet
        ]
        if not visible:
            raise ImportFileError("文件中没有可读取的工作表。")
        sheet = workbook.get_sheet_by_name(visible[0])
        start = sheet.start
        if start is None:
            raise ImportFileError("工作表是空的：第一行应为表头，其下每行一名党员。")
        rows = sheet.iter_rows()
        header = next(rows, None)
    except ImportFileError:
        raise
    except BaseException as exc:  # every failure of the parser on a hostile file
        raise _reading_failed(exc) from None
    return Sheet(
        header=[_header_text(value) for value in header or []],
        first_row=start[0] + 1,
        first_col=start[1],
        rows=_guarded(rows),
        height=sheet.height,
    )


def _guarded(rows):
    try:
        yield from rows
    except BaseException as exc:
        raise _reading_failed(exc) from None


def _header_text(value) -> str:
    return re.sub(r"\s+", "", _text(value))


def _text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as YYYY-MM-DD, surrounding spaces dropped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value) -> dt.date | None:
    """An Excel date cell, an Excel serial number, or YYYY-MM-DD text (also with / or . and as YYYYMMDD).

    Raises ValueError when the value is none of these."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = int(value)
        if 19000101 <= number <= 99991231 and value == number:  # 20210701 typed as a number
            return _date(str(number))
        if 1 <= value <= _MAX_EXCEL_SERIAL:
            return _EXCEL_EPOCH + dt.timedelta(days=number)
        raise ValueError(value)
    text = str(value).strip()
    match = _TEXT_DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        # A datetime typed as text ("2021-07-01 00:00:00"): its date part.
        head = text.split(" ", 1)[0].split("T", 1)[0]
        if head != text:
            return _date(head)
        raise ValueError(value)
    return dt.date(*(int(part) for part in match.groups()))


# ---------------------------------------------------------------------------------------------------------
# Lookups in bulk: one query each, whatever the number of values.


def _values_table(values: list, sql_type: str = "text") -> RawSQL:
    """A subquery yielding `values`, bound as ONE parameter, a JSON array (on PostgreSQL and SQLite alike), so
    that a lookup of 100,000 values is one short query rather than 100,000 placeholders."""
    data = json.dumps(list(values), ensure_ascii=False)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT (jsonb_array_elements_text(%s::jsonb))::{sql_type}", (data,))
    return RawSQL("SELECT value FROM json_each(%s)", (data,))


# ---------------------------------------------------------------------------------------------------------
# The engine


@dataclass(slots=True)
class _Row:
    number: int
    values: dict  # field name → parsed value, for the columns the file has and whose cell parsed
    digest: str = ""
    org_code: str = ""
    unit_name: str = ""
    posts: tuple[str, ...] = ()  # the posts of 党内职务, in order (repeats kept: each pairs with a code)
    post_orgs: tuple[str, ...] = ()  # the codes of 党内职务所在组织编码, in order
    errors: list | None = None  # (column, message)
    warnings: list | None = None
    existing: tuple | None = None  # update mode: the registered member's values (see _EXISTING_FIELDS)
    changes: tuple[str, ...] = ()
    new_posts: tuple[tuple[int, str], ...] = ()  # (organization id, post) of the posts to add

    def error(self, column: str, message: str) -> None:
        if self.errors is None:
            self.errors = []
        self.errors.append((column, message))

    def warn(self, column: str, message: str) -> None:
        if self.warnings is None:
            self.warnings = []
        self.warnings.append((column, message))

    def has_error(self, column: str) -> bool:
        return self.errors is not None and any(c == column for c, _ in self.errors)


# What update mode reads of each registered member (one query, no decryption: the ID number is the key).
# `organization` and `unit` come as their ids.
_EXISTING_FIELDS = ("pk", "id_number_digest", "organization__path", *_UPDATABLE)
_EXISTING_INDEX = {name: i for i, name in enumerate(_EXISTING_FIELDS)}
_PATH = _EXISTING_INDEX["organization__path"]


def _existing_value(existing: tuple, name: str):
    return existing[_EXISTING_INDEX[name]]


class _Importer:
    def __init__(self, *, by, actor, update: bool, via: str):
        self.access = access_for(by)
        self.by = by
        self.actor = actor if actor is not None else (None if hasattr(by, "view_roots") else by)
        self.update = update
        self.via = via
        self.today = timezone.localdate()
        self.now = timezone.now()
        # Who the history rows name: the user behind the import, if any (not for the system access).
        self.user_id = self.actor.pk if getattr(self.actor, "is_authenticated", False) else None
        self.result = ImportResult(update_mode=update)
        # Whose lookups of ID numbers are counted and limited (None: the system access, which sees everyone).
        self.counted_user = counted_user(by, actor)
        self.lookups = 0  # distinct ID numbers checked against the registry
        self.foreign = 0  # rows whose ID number is registered outside the importer's scope
        self.audited = False
        self.rows: list[_Row] = []
        self.columns: dict[str, int] = {}
        self.orgs: dict[str, tuple[int, str, str]] = {}  # code → (id, path, name)

    # -- header ----------------------------------------------------------------------------------------

    def read_header(self, sheet: Sheet) -> bool:
        result, header_row = self.result, sheet.first_row
        for index, name in enumerate(sheet.header):
            if not name or name == ERROR_COLUMN:
                continue
            if name in TEMPLATE_COLUMNS:
                if name in self.columns:
                    result.errors.append(RowIssue(header_row, name, "列名重复：同一列只能出现一次。"))
                else:
                    self.columns[name] = index
            else:
                result.warnings.append(RowIssue(header_row, name, "不是模板中的列，已忽略。"))
        for name in TEMPLATE_COLUMNS:
            if name in REQUIRED_COLUMNS and name not in self.columns:
                result.errors.append(RowIssue(header_row, name, "缺少必填列。"))
        return not result.errors

    # -- pass 1: parse ---------------------------------------------------------------------------------

    def parse_rows(self, sheet: Sheet) -> None:
        parsers = [
            (column, index, column in REQUIRED_COLUMNS, _column_field(column), self._parser(column))
            for column, index in self.columns.items()
        ]
        indexes = list(self.columns.values())
        width = max(indexes) + 1
        number = sheet.first_row
        rows = self.rows
        for cells in sheet.rows:
            number += 1
            if len(cells) < width:
                cells = [*cells, *[""] * (width - len(cells))]
            if all(cells[i] == "" or cells[i] is None for i in indexes):
                continue  # an empty row
            row = _Row(number=number, values={})
            values = row.values
            for column, index, required, name, parse in parsers:
                try:
                    value = parse(row, cells[index])
                except ValueError:
                    row.error(column, MSG_DATE)
                    continue
                if value is _SKIP:
                    continue
                if required and (value is None or value == ""):
                    row.error(column, MSG_REQUIRED)
                elif name == "organization":
                    row.org_code = value
                elif name == "unit":
                    row.unit_name = value
                elif name == "posts":
                    row.posts = value
                elif name == "post_orgs":
                    row.post_orgs = value
                else:
                    values[name] = value
            rows.append(row)
        self.result.rows = len(rows)

    def _parser(self, column: str):
        """The function (row, cell) → value for `column`: _SKIP after recording an error on the row; raises
        ValueError for a cell that is not a date in a date column."""
        name = COLUMN_FIELDS.get(column)
        if name in ("birth_date", "join_date", "full_date"):
            return lambda row, raw: _date(raw)
        if name == "id_number":
            return self._parse_id_number
        if name == "gender":
            return self._choice(column, GENDERS, "性别应为“男”或“女”。")
        if name == "category":
            return self._choice(column, CATEGORIES, "人员类别应为“正式党员”或“预备党员”。")
        if name == "education":
            return self._choice(column, EDUCATIONS, f"学历应为以下之一：{'、'.join(EDUCATIONS)}。")
        if name == "ethnicity":
            return self._parse_ethnicity
        if name == "phone":
            return lambda row, raw: _text(raw).replace(" ", "")
        if name in ("is_leadership", "is_district_cadre"):
            return self._flag(column)
        if column == POST_ORG_COLUMN:
            return lambda row, raw: tuple(code for code in _CODE_SPLIT.split(_text(raw)) if code)
        if name is None:
            return self._parse_posts
        return lambda row, raw: _text(raw)  # 姓名, 党组织编码, 工作单位

    @staticmethod
    def _parse_id_number(row: _Row, raw):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            row.error("公民身份号码", MSG_ID_AS_NUMBER)
            return _SKIP
        number = normalize_id_number(_text(raw))
        if "*" in number:
            row.error("公民身份号码", MSG_ID_MASKED)
            return _SKIP
        if number:
            row.digest = id_number_digest(number)
        return number

    @staticmethod
    def _choice(column: str, choices: dict, message: str):
        def parse(row: _Row, raw):
            text = _text(raw)
            if not text or text in choices:
                return choices.get(text, "")
            row.error(column, message)
            return _SKIP

        return parse

    def _flag(self, column: str):
        """是/否 (an Excel TRUE/FALSE reads the same); empty: left as it is (update mode), or 否."""

        def parse(row: _Row, raw):
            text = _text(raw)
            if not text:
                return _SKIP if self.update else False
            if text in FLAGS:
                return FLAGS[text]
            row.error(column, MSG_FLAG)
            return _SKIP

        return parse

    def _parse_ethnicity(self, row: _Row, raw):
        text = _text(raw)
        if not text:
            return _SKIP if self.update else "汉族"  # left as it is, or the model's default
        if text not in ETHNICITIES and text + "族" in ETHNICITIES:
            text += "族"
        if text not in ETHNICITIES:
            row.error("民族", f"民族“{text[:20]}”不是56个民族的规范名称（如“汉族”“回族”）。")
            return _SKIP
        return text

    @staticmethod
    def _parse_posts(row: _Row, raw) -> tuple[str, ...]:
        posts = []
        for label in _POST_SPLIT.split(_text(raw)):
            if not label:
                continue
            if label not in POSTS:
                row.error("党内职务", f"党内职务“{label[:20]}”无法识别：应为书记、副书记或委员，多个职务用“、”分隔。")
                return _SKIP
            posts.append(POSTS[label])
        return tuple(posts)

    # -- lookups ---------------------------------------------------------------------------------------

    def look_up(self, *, lock: bool) -> None:
        codes = sorted({row.org_code for row in self.rows if row.org_code})
        orgs = Organization.objects.all()
        if not self.access.system:
            orgs = orgs.filter(subtree_q(self.access.member_edit_roots))
        if codes:
            orgs = orgs.filter(code__in=_values_table(codes)).values_list("code", "pk", "path", "name")
            self.orgs = {code: (pk, path, name) for code, pk, path, name in orgs}

        # The organizations of the posts: looked up everywhere, as a post the member already holds may lie
        # outside the importer's scope (a branch secretary who is also 委员 of the committee above); only a
        # post to add must lie inside it, and any other code gets the message of an unknown one.
        self.post_orgs: dict[str, tuple[int, bool]] = {}  # code → (id, editable)
        post_codes = sorted({code for row in self.rows for code in row.post_orgs})
        if post_codes:
            found = Organization.objects.dangerously_all().filter(code__in=_values_table(post_codes))
            found = found.values_list("code", "pk", "path")
            roots = self.access.member_edit_roots
            self.post_orgs = {code: (pk, self.access.covers(path, roots)) for code, pk, path in found}

        self.units: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        names = sorted({row.unit_name for row in self.rows if row.unit_name})
        if names:
            units = (
                Unit.objects.visible_to(self.access)
                .filter(name__in=_values_table(names))
                .values_list("name", "pk", "organization__path", "managing_organization__path")
            )
            for name, pk, path, managing in units:
                self.units[name].append((pk, path or "", managing or ""))

        digests = sorted({row.digest for row in self.rows if row.digest})
        self.existing: dict[str, tuple] = {}
        self.pending: set[int] = set()
        self.current_posts: dict[int, set[tuple[int, str]]] = defaultdict(set)
        if not digests:
            return
        registered = Member.objects.dangerously_all().filter(id_number_digest__in=_values_table(digests))
        self.visible: set[str] = set()
        if not self.update:
            self.existing = dict.fromkeys(registered.values_list("id_number_digest", flat=True), ())
            self._look_up_visible()
            return
        if lock:
            # The rows stay as read until the import commits: nobody changes them in between.
            registered = registered.select_for_update(of=("self",))
        self.existing = {values[1]: values for values in registered.values_list(*_EXISTING_FIELDS)}
        self._look_up_visible()
        by_digest = Q(member__id_number_digest__in=_values_table(digests))
        self.pending = set(MemberTransfer.objects.pending().filter(by_digest).values_list("member_id", flat=True))
        current = PartyPost.objects.filter(by_digest).filter(Q(end_date__isnull=True) | Q(end_date__gte=self.today))
        for member_id, org_id, post in current.values_list("member_id", "organization_id", "post"):
            self.current_posts[member_id].add((org_id, post))

    def _look_up_visible(self) -> None:
        """Which of the registered numbers belong to members the importer can see (one query): only for those
        may a row say that the number is registered; any other gets the neutral UNREGISTRABLE_ID_MESSAGE."""
        if not self.existing:
            return
        if self.access.system:
            self.visible = set(self.existing)
            return
        seen = Member.objects.visible_to(self.access).filter(id_number_digest__in=_values_table(sorted(self.existing)))
        self.visible = set(seen.values_list("id_number_digest", flat=True))

    # -- pass 2: check ---------------------------------------------------------------------------------

    def mark_duplicates(self) -> None:
        """The same ID number twice in the file: an error on both rows."""
        first_of: dict[str, _Row] = {}
        for row in self.rows:
            if row.digest:
                first = first_of.setdefault(row.digest, row)
                if first is not row:
                    row.error("公民身份号码", f"与第{first.number}行的公民身份号码重复。")
                    first.error("公民身份号码", f"与第{row.number}行的公民身份号码重复。")

    def has_errors(self) -> bool:
        return bool(self.result.errors) or any(row.errors for row in self.rows)

    def new_count(self) -> int:
        """How many rows will be new members (those whose ID number is not registered)."""
        return sum(1 for row in self.rows if row.digest not in self.existing)

    def check_rows(self, stream: _MemberPipeline | None = None) -> None:
        """Check every row; while no row has failed, hand each new member to `stream` (if any) as soon as it
        is checked."""
        self.has_unit = "工作单位" in self.columns
        probe = Member()  # one instance checks every row: the model's own rules, without a constructor per row
        # Names and phones hardly repeat: not worth remembering.
        self._checked_fields = [(n, Member._meta.get_field(n), n not in ("name", "phone")) for n in _CHECKED_FIELDS]
        self._passed: set[tuple[str, object]] = set()
        for row in self.rows:
            self.check_row(row, probe)
            if stream is not None:
                if row.errors:
                    stream = None  # nothing more is sent: the transaction will be rolled back
                elif row.existing is None:
                    stream.add(row)

    def check_row(self, row: _Row, probe: Member) -> None:
        values = row.values
        org = None
        if row.org_code:
            org = self.orgs.get(row.org_code)
            if org is None:
                row.error("党组织编码", MSG_ORG.format(code=row.org_code[:32]))
            else:
                values["organization"] = org[0]

        existing = None
        if row.digest and row.digest in self.existing:
            if row.digest not in self.visible:
                # Registered outside the importer's scope: one neutral answer, with or without update mode.
                row.error("公民身份号码", UNREGISTRABLE_ID_MESSAGE)
                self.foreign += 1
            elif not self.update:
                row.error("公民身份号码", DUPLICATE_ID_MESSAGE + "如需更新已登记党员的信息，请选择“更新已有党员”。")
            else:
                existing = self.existing[row.digest]
                if not self.access.covers(existing[_PATH], self.access.member_edit_roots):
                    row.error("公民身份号码", MSG_NOT_EDITABLE)
                    existing = None
                else:
                    row.existing = existing

        if self.has_unit:
            self._resolve_unit(row, org)

        # The record as it will be: the file's values over the registered ones (update mode).
        record = {name: _existing_value(existing, name) for name in _UPDATABLE} if existing else {}
        record.update(values)
        record.setdefault("ethnicity", "汉族")
        for name in ("education", "phone"):
            record.setdefault(name, "")
        record.setdefault("full_date", None)
        record.setdefault("unit", None)

        if existing is not None:
            if (
                "organization" in values
                and values["organization"] != _existing_value(existing, "organization")
                and existing[0] in self.pending
            ):
                row.error("党组织编码", "该党员的组织关系正在转接中，请等待接收方接收或退回后再调整所在党组织。")
            row.changes = tuple(
                name for name in _UPDATABLE if name in values and values[name] != _existing_value(existing, name)
            )

        if row.post_orgs and not row.has_error(POSTS_COLUMN) and len(row.post_orgs) != len(row.posts):
            row.error(POST_ORG_COLUMN, MSG_POST_ORG_COUNT.format(codes=len(row.post_orgs), posts=len(row.posts)))
        elif row.posts and (org is not None or existing is not None):
            row.new_posts = self._new_posts(row, record["organization"], existing)
            # A post is refused to a probationary member when it is given, not when it is already held (the
            # member page records one without asking): an export of such a member re-imports unchanged.
            if row.new_posts and record.get("category") == Category.PROBATIONARY:
                row.error("党内职务", "预备党员不能担任党内职务。")
                row.new_posts = ()

        self._clean(row, record, probe)

    def _new_posts(self, row: _Row, own: int, existing) -> tuple[tuple[int, str], ...]:
        """The (organization, post) pairs of the row the member does not hold yet, each once: a post is in the
        organization its code names. Without codes (an older file), a post matches the post of that name the
        member holds wherever it lies, and is added in their own organization `own` when they hold none. A post
        already held is matched even outside the importer's scope; one to add must lie in its editable scope."""
        held = self.current_posts.get(existing[0], set()) if existing else set()
        held_anywhere = {post for _, post in held}
        new = []
        for index, post in enumerate(row.posts):
            if row.post_orgs:
                code = row.post_orgs[index]
                org_id, editable = self.post_orgs.get(code, (None, False))
            elif post in held_anywhere:
                continue
            else:
                code, org_id, editable = "", own, True
            if org_id is not None and (org_id, post) in held:
                continue
            if not editable:
                message = MSG_ORG.format(code=code[:32])
                if (POST_ORG_COLUMN, message) not in (row.errors or ()):
                    row.error(POST_ORG_COLUMN, message)
                continue
            new.append((org_id, post))
        return tuple(dict.fromkeys(new))

    def _resolve_unit(self, row: _Row, org) -> None:
        if not row.unit_name:
            row.values["unit"] = None
            return
        candidates = self.units.get(row.unit_name, [])
        if len(candidates) > 1 and org is not None:
            path = org[1]
            candidates = [c for c in candidates if (c[1] and path.startswith(c[1])) or (c[2] and path.startswith(c[2]))]
        if len(candidates) == 1:
            row.values["unit"] = candidates[0][0]
            return
        if candidates:
            row.warn("工作单位", f"名称为“{row.unit_name[:50]}”的单位不止一个，无法确定，未关联工作单位。")
        else:
            row.warn("工作单位", f"找不到名称为“{row.unit_name[:50]}”的单位（或不在您的管理范围内），未关联工作单位。")
        if not self.update:
            row.values["unit"] = None

    def _clean(self, row: _Row, record: dict, probe: Member) -> None:
        """The model's rules on the record, Member.clean_fields() and Member.clean(), their errors under the
        columns' names (except where the cell already has an error of its own)."""
        state = probe.__dict__
        for name in _CHECKED_FIELDS:
            state[name] = record.get(name)
        state["id_number"] = record.get("id_number") or ""
        state["status_changed_on"] = None
        errors = self._clean_fields(probe)
        try:
            probe.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for name, field_errors in errors.items():
            column = FIELD_COLUMNS.get(name, "") if name != NON_FIELD_ERRORS else ""
            if column and row.has_error(column):
                continue  # the cell's own error says it first
            for message in dict.fromkeys(m for error in field_errors for m in ValidationError(error).messages):
                row.error(column, message)

    def _clean_fields(self, probe: Member) -> dict:
        """Member.clean_fields() on the checked fields, with its very loop (blank fields skipped, each field's
        own clean: to_python, choices, validators), remembering the values that passed: a field's validation
        depends on its value alone, and most values (genders, categories, dates) repeat down the sheet."""
        errors: dict = {}
        passed = self._passed
        for name, model_field, remember in self._checked_fields:
            value = probe.__dict__[name]
            if model_field.blank and value in model_field.empty_values:
                continue
            if remember and (name, value) in passed:
                continue
            try:
                model_field.clean(value, probe)
            except ValidationError as exc:
                errors[name] = exc.error_list
            else:
                if remember:
                    passed.add((name, value))
        return errors

    # -- the audit trail -------------------------------------------------------------------------------

    def audit(self, *, dry_run: bool) -> None:
        """The one IMPORT record of this run (dry run or not, written or refused): counts only, never an ID
        number nor a name."""
        result = self.result
        audit_record(
            action=AuditAction.IMPORT,
            result=AuditResult.SUCCESS if result.ok else AuditResult.FAILURE,
            actor=self.actor,
            object_type=Member._meta.label_lower,
            object_repr="党员名册导入",
            detail={
                "event": "import",
                "via": self.via,
                "mode": "update" if self.update else "create",
                "dry_run": dry_run,
                "written": result.written,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "posts": result.posts,
                "errors": len(result.errors),
                "warnings": len(result.warnings),
                "lookups": self.lookups,
                "out_of_scope": self.foreign,
            },
        )
        self.audited = True

    # -- results ---------------------------------------------------------------------------------------

    def collect(self) -> None:
        result, order = self.result, {name: i for i, name in enumerate(TEMPLATE_COLUMNS)}
        for row in self.rows:
            if row.errors:
                for column, message in sorted(row.errors, key=lambda e: order.get(e[0], -1)):
                    result.errors.append(RowIssue(row.number, column, message))
            if row.warnings:
                result.warnings.extend(RowIssue(row.number, column, message) for column, message in row.warnings)
            if row.existing is None:
                result.created += 1
            elif row.changes or row.new_posts:
                result.updated += 1
            else:
                result.unchanged += 1
            result.posts += len(row.new_posts)
        if result.errors:
            result.created = result.updated = result.unchanged = result.posts = 0
            return
        names = {pk: (code, name) for code, (pk, _path, name) in self.orgs.items()}
        for row in self.rows[:PREVIEW_ROWS]:
            values = row.values
            org_id = values.get("organization") or _existing_value(row.existing, "organization")
            code, org_name = names.get(org_id, ("", ""))
            category = values.get("category") or _existing_value(row.existing, "category")
            gender = values.get("gender") or _existing_value(row.existing, "gender")
            if row.existing is None:
                action, changes = "新增", []
            elif row.changes or row.new_posts:
                action = "更新"
                changes = [FIELD_COLUMNS[name] for name in row.changes] + (["党内职务"] if row.new_posts else [])
            else:
                action, changes = "无变化", []
            result.preview.append(
                PreviewRow(
                    row=row.number,
                    name=values.get("name") or _existing_value(row.existing, "name"),
                    masked_id_number=mask_id_number(values.get("id_number", "")),
                    gender=Gender(gender).label if gender else "",
                    organization=f"{org_name}（{code}）" if code else "",
                    category=Category(category).label if category else "",
                    action=action,
                    changes=changes,
                )
            )

    # -- writing ---------------------------------------------------------------------------------------

    def write(self, stream: _MemberPipeline | None = None) -> None:
        """Write what was checked: the new members (already sent by `stream`, on PostgreSQL), the updates,
        their history rows, the posts, and the audit event."""
        now = self.now
        user_id = self.user_id
        new_rows = [row for row in self.rows if row.existing is None]
        changed = [row for row in self.rows if row.existing is not None and (row.changes or row.new_posts)]
        if stream is not None:
            stream.close()  # the members and their history rows are written
        elif new_rows:
            _insert_members(new_rows, now=now)
            _history_from_rows(
                Member, "id_number_digest", [row.digest for row in new_rows], "+", now=now, user_id=user_id
            )
        posts: list[PartyPost] = []
        with_posts = [row for row in new_rows if row.new_posts]
        if with_posts:
            members = Member.objects.dangerously_all().filter(
                id_number_digest__in=_values_table([row.digest for row in with_posts])
            )
            keys = dict(members.values_list("id_number_digest", "pk"))
            posts.extend(
                PartyPost(member_id=keys[row.digest], organization_id=org_id, post=post, start_date=self.today)
                for row in with_posts
                for org_id, post in row.new_posts
            )
        updated: list[int] = []
        for start in range(0, len(changed), _CHUNK):
            updated.extend(self._update(changed[start : start + _CHUNK], now=now, posts=posts))
        if updated:
            _history_from_rows(Member, "id", updated, "~", now=now, user_id=user_id)
        insert_with_history(PartyPost, posts, now=now, reason=IMPORT_REASON, user_id=user_id)
        self.result.written = True
        self.audit(dry_run=False)  # in the import's transaction: written with the rows, or not at all

    def _update(self, rows: list[_Row], *, now, posts: list) -> list[int]:
        """Change the fields that differ (the rows are locked since they were read); the keys of the members
        changed. The ID number is the key the row was matched by: it never changes, and is never decrypted."""
        members = Member.objects.dangerously_all().defer("id_number").in_bulk([row.existing[0] for row in rows])
        fields: set[str] = set()
        touched = []
        flag_changes: list[MemberFlagChange] = []
        for row in rows:
            member = members[row.existing[0]]
            flag_changes.extend(
                MemberFlagChange(
                    member=member, flag=flag, was=getattr(member, flag), changed_at=now, changed_by_id=self.user_id
                )
                for flag in Flag.values
                if flag in row.changes and bool(row.values[flag]) != getattr(member, flag)
            )
            for name in row.changes:
                setattr(member, Member._meta.get_field(name).attname, row.values[name])
                fields.add(name)
            if "phone" in row.changes:
                # bulk_update runs no pre_save: the blind index follows the number here (the number itself is
                # encrypted by its field on the way to the database).
                member.phone_digest = phone_digest(member.phone)
                fields.add("phone_digest")
            if row.changes:
                member.version += 1
                member.updated_at = now
                touched.append(member)
            posts.extend(
                PartyPost(member_id=member.pk, organization_id=org_id, post=post, start_date=self.today)
                for org_id, post in row.new_posts
            )
        if touched:
            Member.objects.bulk_update(touched, [*sorted(fields), "version", "updated_at"], batch_size=1000)
        # Re-categorizations keep the old flag, so a closed year's reports read the flags of the time.
        MemberFlagChange.objects.bulk_create(flag_changes, batch_size=1000)
        return [member.pk for member in touched]


_SKIP = object()
_CHUNK = 5000


def _column_field(column: str) -> str:
    """What a column's parsed value is: a model field's name, or "posts" / "post_orgs"."""
    if column == POST_ORG_COLUMN:
        return "post_orgs"
    return COLUMN_FIELDS.get(column, "posts")


# ---------------------------------------------------------------------------------------------------------
# Bulk writes with history (what simple_history's bulk_history_create writes, at COPY speed)


def _member_defaults(now) -> dict:
    """Every field of a new member at the model's default (so `version` and the flags are the model's)."""
    defaults = {f.attname: f.get_default() for f in Member._meta.concrete_fields if not f.primary_key}
    defaults.update(created_at=now, updated_at=now, status=Status.ACTIVE)
    return defaults


# The fields of a new member that come from its row, in the order of `_member_values`; every other field
# is the model's default (`_member_defaults`).
_ROW_FIELDS = (
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_number",
    "id_number_digest",
    "phone",
    "phone_digest",
    "education",
    "join_date",
    "full_date",
    "category",
    "organization_id",
    "unit_id",
    "is_leadership",
    "is_district_cadre",
)


def _member_values(row: _Row) -> tuple:
    """A new member's values from its row, as stored: the ID number and the phone encrypted here, with their
    blind indexes (the ID number's was computed when the row was read)."""
    values = row.values
    phone = values.get("phone", "")
    return (
        values["name"],
        values["gender"],
        values.get("ethnicity") or "汉族",
        values["birth_date"],
        encrypt(values["id_number"]),
        row.digest,
        encrypt(phone) if phone else "",
        phone_digest(phone),
        values.get("education", ""),
        values["join_date"],
        values.get("full_date"),
        values["category"],
        values["organization"],
        values.get("unit"),
        values.get("is_leadership", False),
        values.get("is_district_cadre", False),
    )


def _member_record(row: _Row, defaults: dict) -> dict:
    """A new member's stored values (attname → value), the row's over the defaults."""
    record = dict(defaults)
    record.update(zip(_ROW_FIELDS, _member_values(row), strict=True))
    return record


class _MemberPipeline:
    """PostgreSQL: the new members and their "created" history rows go to the database while the rows below are
    still being checked.

    Most of an import's database time is the server's (the two tables' indexes, the write-ahead log). Each
    batch of checked rows is one statement, `WITH new AS (INSERT INTO member … RETURNING *) INSERT INTO
    history … SELECT … FROM new`, its rows bound as one JSON parameter, queued in libpq's pipeline mode: the
    server works through the queue while Python checks the next rows, instead of after them. Nothing is
    visible to anybody before the transaction commits, and a failed row (or any error) rolls it all back.
    """

    BATCH = 2000

    def __init__(self, *, now, user_id: int | None):
        defaults = _member_defaults(now)
        fields = {f.attname: f for f in Member._meta.concrete_fields}
        rest = [name for name in defaults if name not in _ROW_FIELDS]
        ops = connection.ops
        quote = ops.quote_name

        def item(index: int, name: str) -> str:
            field = fields[name]
            if isinstance(field, models.CharField | models.TextField):
                return f"e->>{index}"  # text: stored through the column's own length check
            return f"CAST(e->>{index} AS {field.db_type(connection)})"

        member_columns = ", ".join(quote(fields[name].column) for name in (*_ROW_FIELDS, *rest))
        member_items = ", ".join([*(item(i, name) for i, name in enumerate(_ROW_FIELDS)), *["%s"] * len(rest)])
        history = Member.history.model
        extra = {
            "history_date": now,
            "history_change_reason": IMPORT_REASON,
            "history_type": "+",
            "history_user_id": user_id,
        }
        history_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
        history_columns = ", ".join(quote(f.column) for f in history_fields)
        history_items = ", ".join(
            "%s" if f.attname in extra else "new." + quote(fields[f.attname].column) for f in history_fields
        )
        self._sql = (
            f"WITH new AS (INSERT INTO {quote(Member._meta.db_table)} ({member_columns}) "
            f"SELECT {member_items} FROM jsonb_array_elements(%s::jsonb) AS e RETURNING *) "
            f"INSERT INTO {quote(history._meta.db_table)} ({history_columns}) SELECT {history_items} FROM new"
        )
        self._before = [_plain(defaults[name]) for name in rest]
        self._after = [extra[f.attname] for f in history_fields if f.attname in extra]
        self._batch: list[list] = []
        connection.ensure_connection()
        self._pipeline = connection.connection.pipeline()
        self._pipeline.__enter__()
        self._cursor = connection.connection.cursor()  # the driver's own: no per-query logging
        self._open = True

    def add(self, row: _Row) -> None:
        values = list(_member_values(row))
        for index in _DATE_INDEXES:
            if values[index] is not None:
                values[index] = values[index].isoformat()
        self._batch.append(values)
        if len(self._batch) >= self.BATCH:
            self._send()

    def _send(self) -> None:
        if self._batch:
            data = json.dumps(self._batch, ensure_ascii=False)
            self._batch = []
            self._cursor.execute(self._sql, [*self._before, data, *self._after])

    def close(self, exc: BaseException | None = None, *, send: bool = True) -> None:
        """Send what is left (unless not `send`: the import failed) and wait for the server to finish the
        queue, raising its error if any; with `exc`, abandon it."""
        if not self._open:
            return
        self._open = False
        try:
            if exc is None:
                if send:
                    self._send()
                self._pipeline.__exit__(None, None, None)
            else:
                self._pipeline.__exit__(type(exc), exc, exc.__traceback__)
        finally:
            self._cursor.close()


_DATE_INDEXES = tuple(i for i, name in enumerate(_ROW_FIELDS) if name in ("birth_date", "join_date", "full_date"))


def _plain(value):
    """A value as the driver binds it: a choice as its plain string."""
    return str(value) if isinstance(value, str) else value


_SEALED_FIELDS = ("id_number", "id_number_digest", "phone", "phone_digest")


def _stored_as_is(field):
    """A stand-in for `field` whose value the fast insert binds as it is: the encrypted ID number and phone and
    their blind indexes, computed once per row here rather than by the fields' own pre_save."""
    stand_in = models.TextField() if isinstance(field, models.TextField) else models.CharField(max_length=64)
    stand_in.name, stand_in.attname, stand_in.column = field.name, field.attname, field.column
    return stand_in


def _insert_members(rows: list[_Row], *, now) -> None:
    """Other databases (and PostgreSQL without a stream): insert the new members, multi-row INSERTs."""
    fields = [
        _stored_as_is(f) if f.attname in _SEALED_FIELDS else f
        for f in Member._meta.concrete_fields
        if not f.primary_key
    ]
    defaults = _member_defaults(now)
    for start in range(0, len(rows), _CHUNK):
        records = [SimpleNamespace(**_member_record(row, defaults)) for row in rows[start : start + _CHUNK]]
        _insert(Member, fields, records, returning=False)


def _history_from_rows(model, key: str, values: list, history_type: str, *, now, user_id: int | None) -> None:
    """The history rows of the `model` rows whose `key` is among `values`: one INSERT … SELECT, so the
    database copies each row as stored (simple_history's layout: every field, then when, why, what, who)."""
    history = model.history.model
    ops = connection.ops
    source = {f.attname: f.column for f in model._meta.concrete_fields}
    extra = {
        "history_date": ops.adapt_datetimefield_value(now),
        "history_change_reason": IMPORT_REASON,
        "history_type": history_type,
        "history_user_id": user_id,
    }
    fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    targets = ", ".join(ops.quote_name(f.column) for f in fields)
    selected = ", ".join("%s" if f.attname in extra else ops.quote_name(source[f.attname]) for f in fields)
    params = [extra[f.attname] for f in fields if f.attname in extra]
    subquery = _values_table(values, "bigint" if key == "id" else "text")
    subsql, subparams = subquery.sql, list(subquery.params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ops.quote_name(history._meta.db_table)} ({targets}) "
            f"SELECT {selected} FROM {ops.quote_name(model._meta.db_table)} "
            f"WHERE {ops.quote_name(source[key])} IN ({subsql})",
            [*params, *subparams],
        )


def insert_with_history(model, objs: list, *, now, reason: str, user_id: int | None) -> None:
    """Insert `objs` (new instances of `model`) and their "created" history rows, named with `reason` and
    the user. Like `bulk_create`: no save(), no signal; the instances get their keys."""
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objs:
        for attname in stamped:
            setattr(obj, attname, now)
    ids = _insert(model, fields, objs, returning=True)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    extra = {
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    history = model.history.model
    history_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    # Plain rows rather than model instances (a fraction of the cost): the value getters only read attributes.
    rows = [
        SimpleNamespace(
            **{f.attname: extra[f.attname] if f.attname in extra else getattr(obj, f.attname) for f in history_fields}
        )
        for obj in objs
    ]
    _insert(history, history_fields, rows, returning=False)


def _database_integrity_errors() -> tuple[type[BaseException], ...]:
    # The fast insert runs on the driver's own cursor: its IntegrityError is the driver's, not Django's.
    return (IntegrityError, connection.Database.IntegrityError)


def import_members(
    fileobj: BinaryIO,
    *,
    name: str,
    by,
    update: bool = False,
    dry_run: bool = False,
    actor=None,
    via: str = "page",
    limits: UploadLimits | None = None,
) -> ImportResult:
    """Check the roster in `fileobj` (an .xlsx named `name`) and, unless `dry_run` or on any error, write it.

    `by` is the importer (a user, or an Access for a command run; `actor` then names the user for the history
    and the audit trail). Scope: every organization named and every member updated must lie in `by`'s
    editable subtrees. Raises PermissionDenied when `by` may edit no members at all.
    """
    access = access_for(by)
    if not access.can_edit_members:
        raise PermissionDenied("您的角色无权导入党员信息。")
    importer = _Importer(by=by, actor=actor, update=update, via=via)
    with _without_cyclic_gc():
        _run(importer, fileobj, name=name, dry_run=dry_run, limits=limits)
    # Outside the import's transaction, so that a refused (rolled back) import is counted and recorded too.
    foreign_hits_record(user=importer.counted_user, hits=importer.foreign, via=via)
    if not importer.audited:
        importer.audit(dry_run=dry_run)
    return importer.result


@contextlib.contextmanager
def _without_cyclic_gc():
    """Pause Python's cyclic garbage collector for the import. It allocates hundreds of thousands of small
    objects that live until it ends, none of them in a reference cycle; the collector would walk them again and
    again as they grow (a third of the run time at 100,000 rows). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(importer: _Importer, fileobj: BinaryIO, *, name: str, dry_run: bool, limits: UploadLimits | None) -> None:
    result = importer.result
    try:
        check_xlsx_upload(fileobj, name=name, limits=limits)
        sheet = open_sheet(fileobj)
        limit = max_rows()
        if sheet.height - 1 > limit:
            raise ImportFileError(f"数据行数超过上限：每个文件最多 {limit} 行，请拆分后分批导入。")
        if not importer.read_header(sheet):
            return
        importer.parse_rows(sheet)
    except ValidationError as exc:
        result.errors.append(RowIssue(None, "", exc.messages[0]))
        return
    except ImportFileError as exc:
        result.errors.append(RowIssue(None, "", str(exc)))
        return
    finally:
        fileobj.seek(0)
    if not importer.rows:
        result.errors.append(RowIssue(None, "", "文件中没有党员数据：表头下面的行都是空的。"))
        return
    # Every ID number of the file is about to be checked against the whole registry: counted per user and day,
    # and refused whole over the daily limit (members.lookups), before any lookup and outside the transaction.
    importer.lookups = len({row.digest for row in importer.rows if row.digest})
    try:
        id_lookups_reserve(user=importer.counted_user, count=importer.lookups, via=importer.via)
    except LookupLimitExceeded as exc:
        result.errors.append(RowIssue(None, "", str(exc)))
        return
    if dry_run:
        importer.look_up(lock=False)
        importer.mark_duplicates()
        importer.check_rows()
        importer.collect()
        return
    try:
        with transaction.atomic():
            importer.look_up(lock=True)
            importer.mark_duplicates()
            stream = None
            if connection.vendor == "postgresql" and not importer.has_errors() and importer.new_count():
                stream = _MemberPipeline(now=importer.now, user_id=importer.user_id)
            try:
                importer.check_rows(stream)
                importer.collect()
                if result.ok:
                    importer.write(stream)
            except BaseException as exc:
                if stream is not None:
                    stream.close(exc)
                raise
            if not result.ok:
                if stream is not None:
                    stream.close(send=False)
                transaction.set_rollback(True)  # rows sent before the first error are taken back
    except _database_integrity_errors():
        result.errors = [
            RowIssue(None, "", "导入期间有其他人登记了相同公民身份号码的党员，未写入任何数据。请重新导入。")
        ]
        result.written = False
        result.created = result.updated = result.unchanged = result.posts = 0
        result.preview = []
        importer.audited = False  # its record went with the rolled-back transaction


# ---------------------------------------------------------------------------------------------------------
# The template and the annotated copy of a refused file


def template_workbook() -> bytes:
    """The import template: the header (bold, frozen), column widths, text format for the number and code
    columns, drop-down lists for 性别, 人员类别, 学历, 班子成员 and 区管干部, and a sheet of instructions."""
    wb = Workbook()
    ws = wb.active
    ws.title = "党员名册"
    ws.append(list(TEMPLATE_COLUMNS))
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FDE9E7")
    for index, (title, width) in enumerate(zip(TEMPLATE_COLUMNS, COLUMN_WIDTHS, strict=True), start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
        if title in REQUIRED_COLUMNS:
            cell.fill = fill
        ws.column_dimensions[cell.column_letter].width = width
    last = 10001
    letters = {title: ws.cell(row=1, column=i).column_letter for i, title in enumerate(TEMPLATE_COLUMNS, start=1)}
    for title, choices in (
        ("性别", GENDERS),
        ("人员类别", CATEGORIES),
        ("学历", EDUCATIONS),
        ("班子成员", FLAGS),
        ("区管干部", FLAGS),
    ):
        validation = DataValidation(
            type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, showErrorMessage=True
        )
        validation.error = f"请从下拉列表中选择{title}。"
        validation.errorTitle = title
        validation.add(f"{letters[title]}2:{letters[title]}{last}")
        ws.add_data_validation(validation)
    # Column formats: ID numbers, phones and codes as text (a number would lose the ID number's last digits),
    # dates as dates.
    for title in ("公民身份号码", "手机号码", "党组织编码", POST_ORG_COLUMN):
        ws.column_dimensions[letters[title]].number_format = "@"
    for title in ("出生日期", "入党日期", "转正日期"):
        ws.column_dimensions[letters[title]].number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"

    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 90
    notes.append(["列", "填写要求"])
    notes["A1"].font = notes["B1"].font = bold
    for row in (
        ("总体", "第一行为表头（可调整列的顺序），其下每行一名党员。带底色的列为必填列。导入时全部校验通过才会写入。"),
        ("姓名", "必填，不超过50个字。"),
        ("性别", "必填：男 或 女，须与公民身份号码一致。"),
        ("民族", "如“汉族”“回族”；不填视为汉族。"),
        ("出生日期", "必填：Excel日期或“YYYY-MM-DD”文本，须与公民身份号码一致。"),
        ("公民身份号码", "必填：18位，以文本格式填写；同一文件内、系统内不能重复（更新模式按此号码匹配已有党员）。"),
        ("学历", "研究生、大学本科、大学专科、中专、高中、初中及以下，可不填。"),
        ("手机号码", "11位手机号码或带区号的固定电话，可不填。"),
        ("入党日期", "必填：不早于年满十八周岁之日，不晚于今天。"),
        ("转正日期", "须晚于入党日期；预备党员不填。"),
        ("人员类别", "必填：正式党员 或 预备党员。"),
        ("党组织编码", "必填：您管理范围内的党组织编码。"),
        ("工作单位", "单位的完整名称；找不到时给出警告，不关联工作单位。"),
        (
            "党内职务",
            "书记、副书记、委员，可不填；多个职务用“、”分隔。新的职务自导入之日起任职，"
            "在“党内职务所在组织编码”所填的党组织；已担任的职务不重复登记。"
            "不填组织编码时，已在任何党组织担任的同名职务视为已担任，其余在所在党组织任职。",
        ),
        (
            POST_ORG_COLUMN,
            "可不填（见“党内职务”）。填写时与党内职务按顺序一一对应，用“、”分隔，"
            "如党内职务“书记、委员”对应“BJ01A、BJ01”；新增职务的党组织须在您的管理范围内。",
        ),
        ("班子成员", "是 或 否；不填视为否（更新模式下不填则保持不变）。"),
        ("区管干部", "是 或 否；不填视为否（更新模式下不填则保持不变）。"),
    ):
        notes.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# The annotated copy is written by hand (a minimal SpreadsheetML package: one sheet, inline strings, a few
# styles): openpyxl's writer, without lxml, needs 40 seconds for 100,000 rows, this about 3.
_PACKAGE = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="党员名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    ),
    # Styles: 0 default, 1 date, 2 date and time, 3 bold red (the 错误说明 title), 4 red (its notes),
    # 5 text with Excel's quote prefix (text that looks like a formula).
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
        '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
        '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/></font>'
        '<font><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _xml_text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_cell(ref: str, value, style: int = 0) -> str:
    """One cell of the annotated copy ("" for an empty one). Text is always an inline string, never a
    formula; text that Excel would read as a formula when edited carries the quote prefix."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if style == 0 and value.startswith(_FORMULA_TRIGGERS):
            style = 5
        styled = f' s="{style}"' if style else ""
        return f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">{_xml_text(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        return f'<c r="{ref}" s="2"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="1"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    return _xml_cell(ref, str(value), style)  # times and durations, as text


def annotated_copy(fileobj: BinaryIO, errors: list[RowIssue], out: BinaryIO) -> None:
    """Write to `out` the user's sheet as it was read, each row at its own row number and each column in its
    own place, with a 错误说明 column listing that row's errors (`列名: 说明；…`)."""
    sheet = open_sheet(fileobj)
    by_row: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        if error.row is not None:
            by_row[error.row].append(f"{error.column}: {error.message}" if error.column else error.message)
    # Every column but an earlier 错误说明 (a corrected annotated copy uploaded again gets a fresh one).
    kept = [i for i, title in enumerate(sheet.header) if title != ERROR_COLUMN]
    letters = [_letter(sheet.first_col + position) for position in range(len(kept) + 1)]
    note_letter = letters[-1]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in _PACKAGE.items():
            package.writestr(name, text)
        with package.open("xl/worksheets/sheet1.xml", "w") as part:
            part.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            column = sheet.first_col + len(kept) + 1
            part.write(f'<cols><col min="{column}" max="{column}" width="60" customWidth="1"/></cols>'.encode())
            part.write(b"<sheetData>")
            number = sheet.first_row
            cells = [_xml_cell(f"{letters[p]}{number}", sheet.header[i]) for p, i in enumerate(kept)]
            cells.append(_xml_cell(f"{note_letter}{number}", ERROR_COLUMN, 3))
            part.write(f'<row r="{number}">{"".join(cells)}</row>'.encode())
            chunk = []
            for values in sheet.rows:
                number += 1
                cells = [
                    _xml_cell(f"{letters[p]}{number}", values[i] if i < len(values) else None)
                    for p, i in enumerate(kept)
                ]
                if number in by_row:
                    cells.append(_xml_cell(f"{note_letter}{number}", "；".join(by_row[number]), 4))
                chunk.append(f'<row r="{number}">{"".join(cells)}</row>')
                if len(chunk) >= 1000:
                    part.write("".join(chunk).encode())
                    chunk = []
            part.write("".join(chunk).encode())
            part.write(b"</sheetData></worksheet>")


def _letter(index: int) -> str:
    """The column letters of a 0-based column index: 0 → A, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters
