"""The hours reports as files: CSV and an aligned table (the `hours_report` command), .xlsx (every report page).

One line builder per report, shared by the command and the pages, so the columns never drift apart. The header
rows of the command are fixed by issue 6:
  members  → 党员姓名,公民身份号码(脱敏),所在党组织,要求学时,已完成学时,差额,状态
  children → 党组织编码,党组织名称,党员数,已达标人数,达标率
Hours are printed with one decimal (32.0), 已完成学时 is the counted hours (online beyond the cap left out), ID
numbers are always masked, 达标率 is a percentage with one decimal (87.5%, 0.0% for no members).

Formula injection (CSV/Excel injection, OWASP): a text cell starting with = + - @ (or a tab or a carriage
return) is written as text — in .xlsx as a string cell with Excel's quote prefix (as `members.exports` does), in
CSV with a leading apostrophe — so no spreadsheet evaluates it. Memory: rows are streamed from the database
(`iterator`) and openpyxl's write-only mode streams them to a temporary file.
"""

from __future__ import annotations

import csv
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import BinaryIO, TextIO

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from dangjian.training.selectors.compliance import ChildrenReport, MemberCompliance, RollupRow, hours_text

MEMBER_HEADERS: tuple[str, ...] = (
    "党员姓名",
    "公民身份号码(脱敏)",
    "所在党组织",
    "要求学时",
    "已完成学时",
    "差额",
    "状态",
)
CHILDREN_HEADERS: tuple[str, ...] = ("党组织编码", "党组织名称", "党员数", "已达标人数", "达标率")
MEMBER_DETAIL_HEADERS: tuple[str, ...] = (*MEMBER_HEADERS, "集中培训", "网络学习", "其他学时", "合计", "考核提示")
RECONCILIATION_HEADERS: tuple[str, ...] = (
    "党校编码",
    "党校名称",
    "主办党组织",
    "计划办班数",
    "实际办班数",
    "办班差额",
    "计划培训人次",
    "实际参训人数",
    "人数差额",
    "签到人次",
)
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class Percent(Decimal):
    """A rate in percent (87.5): printed as 87.5%, written to .xlsx as a number formatted as a percentage."""


# ---------------------------------------------------------------------------------------------------------
# Lines (typed values)


def member_line(row: MemberCompliance) -> tuple:
    return (
        row.name,
        row.masked_id,
        row.organization_name,
        row.required,
        row.counted,
        row.shortfall,
        row.status,
    )


def member_detail_line(row: MemberCompliance) -> tuple:
    """The member line with the completion by kind and the consequence flag (for the .xlsx of the pages)."""
    other = row.total - row.by_kind.get("concentrated", Decimal(0)) - row.by_kind.get("online", Decimal(0))
    return (
        *member_line(row),
        row.by_kind.get("concentrated", Decimal(0)),
        row.by_kind.get("online", Decimal(0)),
        other,
        row.total,
        row.consequence,
    )


def child_line(row: RollupRow) -> tuple:
    return (row.organization.code, row.organization.name, row.members, row.met, Percent(row.rate))


def children_lines(report: ChildrenReport, *, with_own_and_total: bool = False) -> list[tuple]:
    """One line per child organization; for the pages' .xlsx also the organization's own members and the total."""
    lines = [child_line(row) for row in report.children]
    if with_own_and_total:
        if report.own:
            own = report.own
            lines.insert(
                0, (own.organization.code, f"{own.organization.name}（本级）", own.members, own.met, Percent(own.rate))
            )
        lines.append(("", "合计", report.members, report.met, Percent(report.rate)))
    return lines


def reconciliation_line(school) -> tuple:
    return (
        school.code,
        school.name,
        school.organization.name,
        school.planned_classes,
        school.actual_classes,
        school.classes_difference,
        school.planned_trainees,
        school.actual_trainees,
        school.trainees_difference,
        school.attendance_count,
    )


# ---------------------------------------------------------------------------------------------------------
# Text output (the command)


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def text_of(value) -> str:
    """A value as the text reports print it: hours with one decimal, rates with one decimal and %."""
    if value is None:
        return ""
    if isinstance(value, Percent):
        return f"{hours_text(Decimal(value))}%"
    if isinstance(value, Decimal):
        return hours_text(value)
    if isinstance(value, str):
        return _safe_text(value)
    return str(value)


def write_csv(out: TextIO, headers: Sequence[str], lines: Iterable[Sequence]) -> int:
    """A header row and one row per line, with the csv module; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    count = 0
    for line in lines:
        writer.writerow([text_of(value) for value in line])
        count += 1
    return count


def display_width(text: str) -> int:
    """Columns the text takes in a terminal: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space


def write_table(out: TextIO, headers: Sequence[str], lines: Iterable[Sequence]) -> int:
    """An aligned, readable table with the same columns (numbers aligned right)."""
    lines = list(lines)
    numeric = [isinstance(value, int | Decimal) and not isinstance(value, bool) for value in lines[0]] if lines else []
    numeric += [False] * (len(headers) - len(numeric))
    rows = [[text_of(value) for value in line] for line in lines]
    widths = [display_width(h) for h in headers]
    for row in rows:
        widths = [max(w, display_width(cell)) for w, cell in zip(widths, row, strict=True)]
    out.write("  ".join(_pad(h, w, right=n) for h, w, n in zip(headers, widths, numeric, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        out.write("  ".join(_pad(c, w, right=n) for c, w, n in zip(row, widths, numeric, strict=True)).rstrip() + "\n")
    return len(rows)


# ---------------------------------------------------------------------------------------------------------
# .xlsx (the pages)


def _cell(ws, value):
    if value is None or value == "":
        return None
    if isinstance(value, Percent):
        cell = WriteOnlyCell(ws, value=float(value) / 100)
        cell.number_format = "0.0%"
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "0.0"
        return cell
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value.startswith(FORMULA_TRIGGERS):
        return value
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # a string, even though it starts with "="
    cell.quotePrefix = True
    return cell


def write_xlsx(
    out: BinaryIO | str, *, title: str, headers: Sequence[str], lines: Iterable[Sequence], widths=None
) -> int:
    """One sheet: a bold header row, then one row per line; returns the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for index, width in enumerate(widths or [max(10, display_width(h) + 2) for h in headers]):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    count = 0
    for line in lines:
        ws.append([_cell(ws, value) for value in line])
        count += 1
    wb.save(out)
    return count


def xlsx_response(
    *,
    filename: str,
    title: str,
    headers: Sequence[str],
    lines: Iterable[Sequence],
    written: Callable[[int], None] | None = None,
) -> FileResponse:
    """A one-sheet .xlsx download (`write_xlsx`), streamed from a temporary file rather than held in memory;
    `written(rows)` is called once the sheet is written (for the export's audit record)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    rows = write_xlsx(out, title=title, headers=headers, lines=lines)
    if written is not None:
        written(rows)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
