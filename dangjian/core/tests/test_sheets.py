"""Reading uploaded sheets (core.sheets): the header row where it is, rows numbered as a spreadsheet numbers them,
cells as text and dates, and a Chinese message for a file that cannot be read."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from dangjian.core.sheets import SheetError, cell_date, cell_text, header_text, max_rows, open_csv, open_sheet


def xlsx(rows: dict[str, object]) -> io.BytesIO:
    wb = Workbook()
    for ref, value in rows.items():
        wb.active[ref] = value
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def test_the_header_is_the_first_row_and_rows_keep_their_numbers():
    cells = {"B1": " 姓 名 ", "C1": "出生日期", "B2": " 张三 ", "C2": dt.date(1980, 1, 2), "B4": "李四"}
    sheet = open_sheet(xlsx(cells))
    assert (sheet.header, sheet.first_row, sheet.first_col, sheet.height) == (["姓名", "出生日期"], 1, 1, 4)
    rows = list(sheet.numbered())
    assert [number for number, _ in rows] == [2, 3, 4]
    assert cell_text(rows[0][1][0]) == "张三" and cell_date(rows[0][1][1]) == dt.date(1980, 1, 2)
    assert all(cell in ("", None) for cell in rows[1][1])  # an empty row in between is kept, so numbers stay right
    assert cell_text(rows[2][1][0]) == "李四"


def test_an_empty_sheet_and_a_broken_file_have_a_message():
    with pytest.raises(SheetError, match="工作表是空的"):
        open_sheet(xlsx({}))
    with pytest.raises(SheetError, match="文件已损坏"):
        open_sheet(io.BytesIO(b"PK\x03\x04 not a workbook"))


def test_a_csv_in_utf8_or_gb18030_reads_like_a_sheet():
    text = "\n姓名,公民身份号码\n张三, 110101198001011234 \n"
    for data in (("\ufeff" + text).encode("utf-8"), text.encode("gb18030")):
        sheet = open_csv(io.BytesIO(data))
        assert (sheet.header, sheet.first_row, sheet.height) == (["姓名", "公民身份号码"], 2, 2)
        assert [(n, [cell_text(c) for c in cells]) for n, cells in sheet.numbered()] == [
            (3, ["张三", "110101198001011234"])
        ]
    with pytest.raises(SheetError, match="工作表是空的"):
        open_csv(io.BytesIO(b"\n,\n"))


@pytest.mark.parametrize(
    "value, text",
    [(None, ""), (" 甲 ", "甲"), (True, "是"), (3.0, "3"), (2.5, "2.5"), (dt.datetime(2021, 7, 1), "2021-07-01")],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_header_text_drops_every_space():
    assert header_text(" 党组织\n编码 ") == "党组织编码"


@pytest.mark.parametrize(
    "value", ["2021-07-01", "2021/7/1", "2021年7月1日", "20210701", 20210701, 44378, "2021-07-01 00:00:00"]
)
def test_cell_date_reads_every_way_a_date_is_typed(value):
    assert cell_date(value) == dt.date(2021, 7, 1)


def test_cell_date_refuses_what_is_not_a_date():
    assert cell_date("") is None
    with pytest.raises(ValueError):
        cell_date("明天")


def test_max_rows_reads_the_setting(settings):
    settings.DANGJIAN_IMPORT_MAX_ROWS = 7
    assert max_rows() == 7
