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


# ---------------------------------------------------------------------------------------------------------
# Real-world values (docs/imports.md)

from dangjian.core.sheets import (  # noqa: E402
    CodeList,
    Columns,
    DateError,
    IdNumberMangled,
    clean_name,
    clean_text,
    locate_header,
    read_date,
    read_id_number,
    read_period,
)


@pytest.mark.parametrize(
    "value", ["2020-05-01", "2020/5/1", "2020.05.01", "2020年5月1日", "20200501", "２０２０-０５-０１"]
)
def test_every_listed_date_shape_reads(value):
    assert read_date(value) == dt.date(2020, 5, 1)


@pytest.mark.parametrize(
    "value, message",
    [
        ("20/5/1", "年份只有两位"),
        ("5/1/20", "年份只有两位"),
        ("20-5", "年份只有两位"),
        ("2020-05", "只写到月"),
        ("2020年5月", "只写到月"),
        ("2020-02-30", "不是存在的日期"),
        ("明天", "不是日期"),
    ],
)
def test_dates_that_are_not_a_day_say_why(value, message):
    with pytest.raises(DateError, match=message):
        read_date(value)


def test_a_year_and_month_is_a_whole_month_where_the_field_allows_it():
    assert read_period("2026年2月", month_ok=True) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert read_period(202602, month_ok=True) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert read_period("2026-02-03", month_ok=True) == (dt.date(2026, 2, 3), dt.date(2026, 2, 3))


def test_values_are_trimmed_and_full_width_letters_and_digits_are_half_width():
    assert clean_text("\u3000 １３９ＡＢ\t\n") == "139AB"
    assert clean_text("高一（3）班") == "高一（3）班"  # full-width brackets are how names are written
    assert clean_name("张\u3000伟") == "张伟" and clean_name("John Smith") == "John Smith"


@pytest.mark.parametrize(
    "raw, shown",
    [
        (110101198806213000.0, "110101198806213000"),
        ("1.10101199003077E+17", "1.10101199003077E+17"),
        ("110101197512084000", "110101197512084000"),  # 18 digits ending in 000, check digit wrong
    ],
)
def test_id_numbers_excel_rounded_are_recognized(raw, shown):
    with pytest.raises(IdNumberMangled) as caught:
        read_id_number(raw)
    assert caught.value.shown == shown


def test_a_lower_case_x_and_spaces_in_an_id_number_are_accepted():
    assert read_id_number(" 11010519491231002x ") == "11010519491231002X"


def test_code_lists_resolve_synonyms_and_codes_and_suggest_the_closest():
    codes = CodeList.from_table(
        "民族",
        {"values": [{"label": "汉族", "codes": ["01"], "synonyms": ["汉"]}, {"label": "黎族", "codes": ["19"]}]},
    )
    assert codes.resolve("汉") == codes.resolve("01") == codes.resolve("1") == codes.resolve(" 汉 族") == "汉族"
    assert codes.resolve("汗族") is None and codes.suggest("汗族") == "汉族"  # a tie goes to the first listed
    assert codes.unknown_message("xyz") == "民族“xyz”无法识别。可填：汉族、黎族。"


def test_the_header_is_found_below_title_rows():
    columns = Columns.from_mapping({"姓名": ["党员姓名"], "公民身份号码": ["身份证号码"]})
    cells = {"A1": "党员花名册", "A2": "填报单位：某党委", "A3": "序号", "B3": "*党员姓名"}
    cells.update({"C3": "身份证号码\n（18位）", "B4": "张三", "C4": "x"})
    sheet = locate_header(open_sheet(xlsx(cells)), columns)
    assert (sheet.first_row, sheet.header, [columns.match(c) for c in sheet.raw_header]) == (
        3,
        ["序号", "*党员姓名", "身份证号码（18位）"],
        [None, "姓名", "公民身份号码"],
    )
    assert [row[0] for row in sheet.above] == ["党员花名册", "填报单位：某党委"]
    assert [number for number, _ in sheet.numbered()] == [4]
