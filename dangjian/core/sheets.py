"""Reading an uploaded spreadsheet (.xlsx or .csv): the sheet's header row, then its rows of cell values with the
row numbers a spreadsheet shows, and the cell conversions every importer needs.

An .xlsx file must have passed `core.uploads.check_xlsx_upload` first (size, zip structure, the cells' weight):
only then does python-calamine read it. Calamine rather than openpyxl's read-only mode: it reads a roster about 15
times faster and never expands XML entities (a sheet that uses one is refused as unreadable), and
`check_xlsx_upload` measures a file as calamine builds its cells (see docs/development.md, "Layout").

Usage (an importer):

    check_xlsx_upload(fileobj, name=name)
    sheet = open_sheet(fileobj)            # SheetError (a Chinese message) for an unreadable file
    if sheet.height - 1 > max_rows(): ...
    for number, cells in sheet.numbered():  # number: the row as Excel numbers it
        name = cell_text(cells[0])
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

DEFAULT_MAX_ROWS = 200_000
EMPTY_SHEET_MESSAGE = "工作表是空的：第一行应为表头，其下每行一名党员。"


class SheetError(Exception):
    """The file as a whole cannot be read; the message says why, in Chinese."""


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

    def numbered(self) -> Iterator[tuple[int, list]]:
        """(row as Excel numbers it, cells) for every row below the header, empty rows included."""
        return enumerate(self.rows, start=self.first_row + 1)


# ---------------------------------------------------------------------------------------------------------
# .xlsx


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


def open_sheet(fileobj: BinaryIO) -> Sheet:
    """The first visible worksheet of an .xlsx `fileobj`: its header row and an iterator over the rows below it.

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
        sheet = workbook.get_sheet_by_name(visible[0])
        start = sheet.start
        if start is None:
            raise SheetError(EMPTY_SHEET_MESSAGE)
        rows = sheet.iter_rows()
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
        height=sheet.height,
    )


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


_TEXT_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_EPOCH = dt.date(1899, 12, 30)
_MAX_EXCEL_SERIAL = 2_958_465  # 9999-12-31


def cell_date(value) -> dt.date | None:
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
            return cell_date(str(number))
        if 1 <= value <= _MAX_EXCEL_SERIAL:
            return EXCEL_EPOCH + dt.timedelta(days=number)
        raise ValueError(value)
    text = str(value).strip()
    match = _TEXT_DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        # A datetime typed as text ("2021-07-01 00:00:00"): its date part.
        head = text.split(" ", 1)[0].split("T", 1)[0]
        if head != text:
            return cell_date(head)
        raise ValueError(value)
    return dt.date(*(int(part) for part in match.groups()))
