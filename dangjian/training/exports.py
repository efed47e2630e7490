"""The hours reports as files: CSV and an aligned table (the `hours_report` command), .xlsx (every report page).

One line builder per report, shared by the command and the pages, so the columns never drift apart. The header
rows of the command are fixed (the CSV columns scripts read, documented in the README):
  members  → 党员姓名,公民身份号码(脱敏),所在党组织,要求学时,已完成学时,差额,状态
  children → 党组织编码,党组织名称,党员数,已达标人数,达标率
Hours are printed with one decimal (32.0), 已完成学时 is the counted hours (online beyond the cap left out), ID
numbers are always masked, 达标率 is a percentage with one decimal (87.5%, 0.0% for no members).

Formula injection (CSV/Excel injection, OWASP) and the audit record: the CSV and .xlsx writers are
`core.exports` (`write_csv` here only adds the reports' number formats), so every text cell goes through the one
guard; the pages download through `core.exports.xlsx_response`, which records the export. Memory: rows are streamed
from the database (`iterator`) and openpyxl's write-only mode streams them to a temporary file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TextIO

from dangjian.core import exports as core_exports
from dangjian.core.exports import Percent, csv_safe, display_width
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
MEMBER_DETAIL_HEADERS: tuple[str, ...] = (
    *MEMBER_HEADERS,
    "集中培训",
    "网络学习",
    "网络学习计入",
    "其他学时",
    "合计",
    "考核提示",
)
RECONCILIATION_HEADERS: tuple[str, ...] = (
    "党校编码",
    "党校名称",
    "主办党组织",
    "计划办班数",
    "实际办班数",
    "办班差额",
    "计划培训人次",
    "实际培训人次",
    "人次差额",
    "签到人次",
)


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
    """The member line with the completion by kind — how much of the online hours counted, and the other kinds
    (授课奖励, 精品课程奖励, 外部认定, 手工补录), which all count — and the consequence flag (the pages' .xlsx)."""
    other = row.total - row.by_kind.get("concentrated", Decimal(0)) - row.by_kind.get("online", Decimal(0))
    return (
        *member_line(row),
        row.by_kind.get("concentrated", Decimal(0)),
        row.by_kind.get("online", Decimal(0)),
        row.online_counted,
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


def text_of(value) -> str:
    """A value as the text reports print it: hours with one decimal, rates with one decimal and %."""
    if value is None:
        return ""
    if isinstance(value, Percent):
        return f"{hours_text(Decimal(value))}%"
    if isinstance(value, Decimal):
        return hours_text(value)
    if isinstance(value, str):
        return csv_safe(value)
    return str(value)


def write_csv(out: TextIO, headers: Sequence[str], lines: Iterable[Sequence]) -> int:
    """A header row and one row per line (`core.exports.write_csv`: text guarded, numbers in the reports' formats);
    returns the number of rows."""
    return core_exports.write_csv(out, headers, lines, text_of=text_of)


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
