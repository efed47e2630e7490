"""Reading an uploaded spreadsheet (.xlsx, .xls or .csv): the chosen sheet's first row, then its rows of cell values
with the row numbers a spreadsheet shows, and the cell conversions every importer needs.

`open_upload` is the one entry: it checks the file as its kind requires and opens it. An .xlsx file must have passed
`core.uploads.check_xlsx_upload` first (size, zip structure, the cells' weight): only then does python-calamine read
it. An .xls file (Excel 97–2003) is a compound document of bounded size (at most 65,536 rows of 256 columns), checked
for its size and signature; calamine reads it too. Calamine rather than openpyxl's read-only mode: it reads a roster
about 15 times faster and never expands XML entities (a sheet that uses one is refused as unreadable), and
`check_xlsx_upload` measures a file as calamine builds its cells (see docs/development.md, "Layout").

Usage (an importer):

    sheet = open_upload(fileobj, name=name, sheet=None)   # SheetError (a Chinese message); SheetChoiceNeeded
    sheet = locate_header(sheet, COLUMNS)                 # title rows above the header skipped (core.sheets.headers)
    if sheet.height - 1 > max_rows(): ...
    for number, cells in sheet.numbered():                # number: the row as Excel numbers it
        name = clean_text(cells[0])
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_MAX_ROWS = 200_000
EMPTY_SHEET_MESSAGE = "工作表是空的：第一行应为表头，其下每行一名党员。"


class SheetError(Exception):
    """The file as a whole cannot be read; the message says why, in Chinese."""


class SheetChoiceNeeded(SheetError):
    """The workbook holds several sheets with data and none was chosen: `names` lists them, in the workbook's order."""

    def __init__(self, names: list[str]):
        self.names = names
        listed = "、".join(f"“{name}”" for name in names)
        super().__init__(f"工作簿中有{len(names)}个有数据的工作表（{listed}），请选择要导入的工作表。")


def max_rows() -> int:
    """The most data rows one uploaded file may hold (DANGJIAN_IMPORT_MAX_ROWS, default 200,000)."""
    return int(getattr(settings, "DANGJIAN_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


@dataclass
class Sheet:
    header: list[str]  # the header row's cells, whitespace removed (`header_text`)
    first_row: int  # the Excel number of the header row
    first_col: int  # the 0-based column of the sheet's first used column
    rows: Iterator  # the rows below the header, in order: lists of cell values (SheetError if reading fails)
    height: int  # rows in the used range, the header included
    name: str = ""  # the worksheet's name ("" for a CSV file)
    several: bool = False  # the workbook has other sheets with data: messages name this one
    raw_header: list = field(default_factory=list)  # the header row's cells as read
    above: list[list] = field(default_factory=list)  # the rows above the header (titles), as read

    def numbered(self) -> Iterator[tuple[int, list]]:
        """(row as Excel numbers it, cells) for every row below the header, empty rows included."""
        return enumerate(self.rows, start=self.first_row + 1)

    @property
    def label(self) -> str:
        """How messages name the sheet: `工作表“名称”` when the workbook has several with data, else nothing."""
        return f"工作表“{self.name}”" if self.several and self.name else ""


# ---------------------------------------------------------------------------------------------------------
# Any upload


def open_upload(fileobj: BinaryIO, *, name: str, sheet: str | None = None, limits=None, columns=None) -> Sheet:
    """The sheet to import from an uploaded file named `name`: .xlsx (Excel, WPS, LibreOffice), .xls (Excel 97–2003)
    or .csv (UTF-8 with or without a byte-order mark, or GBK). `sheet` names the worksheet of a workbook; without it
    the one worksheet with data is read — with `columns` (core.sheets.headers.Columns), the one whose first rows name
    any of them (a sheet of instructions does not count) — and SheetChoiceNeeded lists them when there are several.

    Raises SheetError (a Chinese message) for a file that is refused or cannot be read."""
    from dangjian.core.uploads import UploadLimits, check_xlsx_upload

    limits = limits or UploadLimits.from_settings()
    suffix = PurePath(name or "").suffix.lower()
    if suffix == ".xlsx":
        try:
            check_xlsx_upload(fileobj, name=name, limits=limits)
        except ValidationError as exc:
            raise SheetError(exc.messages[0]) from None
        return open_sheet(fileobj, sheet=sheet, columns=columns)
    if suffix not in (".xls", ".csv"):
        raise SheetError("只接受 .xlsx、.xls（Excel 97–2003）或 .csv 格式的文件。")
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    if size > limits.max_bytes:
        raise SheetError(f"文件过大：不能超过 {limits.max_bytes / (1024 * 1024):.0f} MB。")
    if size == 0:
        raise SheetError(EMPTY_SHEET_MESSAGE)
    if suffix == ".csv":
        return open_csv(fileobj)
    head = fileobj.read(8)
    fileobj.seek(0)
    if head != OLE_SIGNATURE:
        if head.startswith(b"PK"):
            raise SheetError("文件扩展名为 .xls，但内容是 .xlsx 格式：请把扩展名改为 .xlsx 后重新上传。")
        raise SheetError("文件不是有效的 .xls 文件（无法按 Excel 97–2003 格式打开）。")
    return open_sheet(fileobj, sheet=sheet, columns=columns)


# An .xls file is an OLE2 compound document; these are its first eight bytes.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# ---------------------------------------------------------------------------------------------------------
# .xlsx and .xls


def _calamine():
    try:
        import python_calamine
    except ImportError:  # pragma: no cover - a missing dependency is an installation error
        raise SheetError("服务器缺少 Excel 读取组件 python-calamine，请联系系统管理员。") from None
    return python_calamine


def _reading_failed(exc: BaseException) -> SheetError:
    if isinstance(exc, KeyboardInterrupt | SystemExit | MemoryError):
        raise exc
    name = type(exc).__name__
    if name == "PasswordError":
        return SheetError("文件设置了密码保护，无法读取：请取消密码后重新上传。")
    if name == "XmlError":
        return SheetError("文件内容无法解析（含有不支持的XML内容，如实体引用），已拒绝。请用Excel另存为.xlsx后重试。")
    return SheetError("文件已损坏或不是有效的Excel工作簿，无法读取。")


def open_sheet(fileobj: BinaryIO, *, sheet: str | None = None, columns=None) -> Sheet:
    """A worksheet of an .xlsx or .xls `fileobj`: its first row and an iterator over the rows below it. `sheet` names
    it; without a name, the one visible worksheet with data (with `columns`: whose first rows name any of them),
    SheetChoiceNeeded when there are several.

    Raises SheetError for an unreadable file. A panic of the reader on a malformed file (pyo3 raises it as a
    BaseException) is answered like any unreadable file.
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
            raise SheetError("文件中没有可读取的工作表。")
        sheets = {title: workbook.get_sheet_by_name(title) for title in visible}
        filled = [title for title, each in sheets.items() if _has_data(each)]
        if columns is not None and len(filled) > 1:
            named = [title for title in filled if _names_any(sheets[title], columns)]
            filled = named or filled
        if sheet is not None:
            chosen = _chosen(sheet, visible)
        elif len(filled) > 1:
            raise SheetChoiceNeeded(filled)
        else:
            chosen = filled[0] if filled else visible[0]
        worksheet = sheets[chosen]
        start = worksheet.start
        if start is None:
            raise SheetError(EMPTY_SHEET_MESSAGE)
        rows = worksheet.iter_rows()
        header = next(rows, None)
    except SheetError:
        raise
    except BaseException as exc:  # every failure of the parser on a hostile file
        raise _reading_failed(exc) from None
    return Sheet(
        header=[header_text(value) for value in header or []],
        first_row=start[0] + 1,
        first_col=start[1],
        rows=_guarded(rows),
        height=worksheet.height,
        name=chosen,
        several=len(filled) > 1,
        raw_header=list(header or []),
    )


def _has_data(worksheet) -> bool:
    """A worksheet with at least one cell that is not empty (Excel and WPS save empty Sheet2 and Sheet3)."""
    if worksheet.start is None:
        return False
    return any(any(cell not in ("", None) for cell in cells) for cells in worksheet.iter_rows())


def _names_any(worksheet, columns, scan: int = 10) -> bool:
    """Whether any of the worksheet's first `scan` rows names two of `columns` (a header of this import's data)."""
    for index, cells in enumerate(worksheet.iter_rows()):
        if index >= scan:
            return False
        if len({columns.match(cell) for cell in cells if cell not in ("", None)} - {None}) >= 2:
            return True
    return False


def _chosen(name: str, visible: list[str]) -> str:
    if name in visible:
        return name
    for title in visible:  # as typed on a command line: without surrounding spaces
        if title.strip() == name.strip():
            return title
    listed = "、".join(f"“{title}”" for title in visible)
    raise SheetError(f"找不到工作表“{name[:50]}”：工作簿中的工作表有{listed}。")


def _guarded(rows: Iterable) -> Iterator:
    try:
        yield from rows
    except BaseException as exc:
        raise _reading_failed(exc) from None


# ---------------------------------------------------------------------------------------------------------
# .csv


def open_csv(fileobj: BinaryIO) -> Sheet:
    """A .csv `fileobj` as a sheet: UTF-8 (with or without a byte-order mark) or, failing that, GB18030 (what a
    Chinese Excel saves); the first row that is not empty is the header. Every cell is text."""
    fileobj.seek(0)
    data = fileobj.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.decode(data, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise SheetError("文件编码无法识别：请另存为UTF-8编码的CSV文件。")
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise SheetError("文件不是有效的CSV文件，无法读取。") from None
    start = next((i for i, cells in enumerate(lines) if any(cell.strip() for cell in cells)), None)
    if start is None:
        raise SheetError(EMPTY_SHEET_MESSAGE)
    return Sheet(
        header=[header_text(value) for value in lines[start]],
        first_row=start + 1,
        first_col=0,
        rows=iter(lines[start + 1 :]),
        height=len(lines) - start,
        raw_header=list(lines[start]),
    )


# ---------------------------------------------------------------------------------------------------------
# Cells


def header_text(value) -> str:
    """A header cell as text, all whitespace removed ("党组织 编码" is 党组织编码)."""
    return re.sub(r"\s+", "", cell_text(value))


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as YYYY-MM-DD, booleans as 是/否, surrounding spaces
    dropped."""
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
