"""Annotate: the import template, and the copy of a refused file with each row's errors (错误说明), both written
with openpyxl; the copy through `core.exports` (write-only mode, the formula guard)."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from dangjian.core.exports import add_sheet, xlsx_text_cell, xlsx_value
from dangjian.core.sheets import Sheet, locate_header, open_upload
from dangjian.members.imports.columns import (
    CATEGORIES,
    COLUMN_WIDTHS,
    EDUCATIONS,
    ERROR_COLUMN,
    FLAGS,
    GENDERS,
    POST_ORG_COLUMN,
    REQUIRED_COLUMNS,
    ROSTER_COLUMNS,
    TEMPLATE_COLUMNS,
)
from dangjian.members.imports.results import RowIssue


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


# The 错误说明 column: its title bold and red, its notes red.
ERROR_TITLE_FONT = Font(bold=True, color="FFC00000")
ERROR_NOTE_FONT = Font(color="FFC00000")
ERROR_COLUMN_WIDTH = 60


class _Note(str):
    """A cell of the 错误说明 column, written in `font`."""

    font: Font = ERROR_NOTE_FONT


class _Title(_Note):
    font = ERROR_TITLE_FONT


def _cell(ws, value):
    """A cell of the annotated copy: the user's values as `core.exports` writes them (text guarded, dates as
    dates), the 错误说明 column in red."""
    if not isinstance(value, _Note):
        return xlsx_value(ws, value)
    cell = xlsx_text_cell(ws, str(value))
    if isinstance(cell, str):  # plain text comes back as it is: make it a cell to style
        cell = WriteOnlyCell(ws, value=cell)
    cell.font = value.font
    return cell


def annotated_copy(
    fileobj: BinaryIO, errors: list[RowIssue], out: BinaryIO, *, name: str = "roster.xlsx", sheet: str | None = None
) -> None:
    """Write to `out` (an .xlsx, whatever the upload was: .xlsx, .xls or .csv) the user's sheet as it was read, its
    title rows above the header included, each row at its own row number and each column in its own place, with a
    错误说明 column listing that row's errors (`列名: 说明；…`)."""
    sheet_read = locate_header(open_upload(fileobj, name=name, sheet=sheet, columns=ROSTER_COLUMNS), ROSTER_COLUMNS)
    fileobj.seek(0)
    _annotate(sheet_read, errors, out)


def _annotate(sheet: Sheet, errors: list[RowIssue], out: BinaryIO) -> None:
    by_row: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        if error.row is not None:
            by_row[error.row].append(f"{error.column}: {error.message}" if error.column else error.message)
    # Every column but an earlier 错误说明 (a corrected annotated copy uploaded again gets a fresh one).
    kept = [i for i, title in enumerate(sheet.header) if title != ERROR_COLUMN]
    before = [None] * sheet.first_col  # the columns left of the sheet's first used one stay empty

    def lines():
        blank = sheet.first_row - 1 - len(sheet.above)  # empty rows above the sheet's used range
        yield from ([] for _ in range(blank))
        for title in sheet.above:  # the title rows, as they were
            yield [*before, *(title[i] if i < len(title) else None for i in kept)]
        yield [*before, *(sheet.header[i] for i in kept), _Title(ERROR_COLUMN)]
        for number, values in sheet.numbered():
            line = [*before, *(values[i] if i < len(values) else None for i in kept)]
            if number in by_row:
                line.append(_Note("；".join(by_row[number])))
            yield line

    wb = Workbook(write_only=True)
    widths = [None] * (sheet.first_col + len(kept)) + [ERROR_COLUMN_WIDTH]
    add_sheet(wb, (sheet.name or "党员名册")[:31], None, lines(), widths=widths, cell=_cell)
    wb.save(out)
