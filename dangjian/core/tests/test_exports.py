"""The export guard (core.exports): every formula trigger is neutralised in CSV (a leading apostrophe) and in .xlsx (a
string cell with the quote prefix, whose value reads back unchanged); numbers stay numbers; the audit parameters
never hold a full ID number or phone; an export nobody records is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from openpyxl import load_workbook

from dangjian.core.exports import (
    FORMULA_TRIGGERS,
    Percent,
    csv_lines,
    csv_row,
    csv_safe,
    export_done,
    record_export,
    safe_params,
    write_csv,
    write_xlsx,
)

# The probe's payloads: one per trigger (a leading tab or carriage return hides a formula behind it).
PAYLOADS = [
    '=HYPERLINK("http://127.0.0.1/x?"&A1,"点击")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1+1",
    "-1",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS = ["张三", "1", "BJ01", "a=b", "'=already quoted", "高一（1）班 - 支部"]


def test_the_triggers_are_the_owasp_set():
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}
    assert {payload[0] for payload in PAYLOADS} == set(FORMULA_TRIGGERS)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_safe_prefixes_every_trigger_with_an_apostrophe(payload):
    assert csv_safe(payload) == "'" + payload


@pytest.mark.parametrize("text", HARMLESS)
def test_csv_safe_leaves_other_text_alone(text):
    assert csv_safe(text) == text


def test_csv_numbers_stay_numbers():
    assert csv_row([-1, Decimal("-2.5"), 3.25, None, Percent("87.5"), "-1"]) == [
        "-1",
        "-2.5",
        "3.25",
        "",
        "87.5%",
        "'-1",
    ]


def test_write_csv_guards_every_text_cell_and_counts_the_rows():
    out = io.StringIO()
    rows = write_csv(out, ["名称", "数值"], [(payload, -1) for payload in PAYLOADS])
    assert rows == len(PAYLOADS)
    text = out.getvalue()
    assert "\r\n" not in text  # rows end in \n; the CR payload's \r stays inside its quoted field
    read = list(csv.reader(io.StringIO(text, newline="")))
    assert read[0] == ["名称", "数值"]
    assert [row[0] for row in read[1:]] == ["'" + payload for payload in PAYLOADS]
    assert {row[1] for row in read[1:]} == {"-1"}


def test_a_line_break_inside_a_csv_field_never_starts_a_new_row():
    out = io.StringIO()
    write_csv(out, ["名称"], [("甲\r=1+1",), ("乙\n@SUM(1)",), ("丙\r\n+1",)])
    read = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert read == [["名称"], ["甲\r=1+1"], ["乙\n@SUM(1)"], ["丙\r\n+1"]]
    assert out.getvalue().count("\n") == 6  # 4 row ends, 2 inside quoted fields


def xlsx_of(headers, lines):
    out = io.BytesIO()
    count = write_xlsx(out, title="导出", headers=headers, lines=lines)
    out.seek(0)
    return count, load_workbook(out).worksheets[0]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_xlsx_trigger_cell_is_text_with_the_quote_prefix_and_reads_back_unchanged(payload):
    count, sheet = xlsx_of(["名称"], [(payload,)])
    assert count == 1
    cell = sheet["A2"]
    assert cell.data_type == "s"  # a string, never a formula ("f")
    assert cell.quotePrefix is True
    assert cell.value == payload.replace("\r", "\n")  # XML itself reads a carriage return as a line feed


def test_xlsx_other_text_has_no_prefix_and_numbers_dates_and_rates_stay_typed():
    day = dt.date(2024, 7, 1)
    _, sheet = xlsx_of(
        ["文本", "整数", "学时", "比率", "日期", "空"], [("张三", -1, Decimal("-2.5"), Percent("87.5"), day, None)]
    )
    text, integer, hours, rate, date, empty = sheet[2]
    assert (text.value, text.quotePrefix) == ("张三", False)
    assert (integer.value, integer.data_type) == (-1, "n")
    assert (hours.value, hours.data_type, hours.number_format) == (-2.5, "n", "0.0")
    assert (rate.value, rate.number_format) == (0.875, "0.0%")
    assert (date.value.date(), date.number_format) == (day, "yyyy-mm-dd")
    assert empty.value is None


def test_xlsx_strips_the_control_characters_a_workbook_cannot_hold():
    _, sheet = xlsx_of(["名称"], [("甲\x01乙\x1f",), ("\x02=1+1",)])
    assert sheet["A2"].value == "甲乙"
    assert (sheet["A3"].value, sheet["A3"].quotePrefix) == ("=1+1", True)


def test_xlsx_column_widths_go_past_z():
    headers = [f"列{i}" for i in range(30)]
    _, sheet = xlsx_of(headers, [tuple(range(30))])
    assert sheet["AD1"].value == "列29"
    assert sheet.column_dimensions["AD"].width == 10


def test_the_audit_parameters_mask_id_numbers_and_phones_and_drop_the_format():
    params = safe_params(
        {
            "q": "张 110101199003071234 13812345678",
            "org": "BJ01A",
            "year": 2024,
            "month": "2024-06",
            "format": "xlsx",
            "page": "2",
            "empty": "",
            "long": "x" * 300,
        }
    )
    assert params == {
        "q": "张 1*************1234 138****5678",
        "org": "BJ01A",
        "year": 2024,
        "month": "2024-06",
        "long": "x" * 100,
    }


def test_an_export_nobody_records_is_refused():
    with mock.patch.object(export_done, "receivers", []), pytest.raises(ImproperlyConfigured):
        record_export(what="组织生活台账", rows=1)


def test_csv_lines_are_the_lines_write_csv_writes():
    rows = [("=1+1", 1), ("+cmd", Decimal("2.5")), ("@x\r=2", None)]
    out = io.StringIO()
    write_csv(out, ["名称", "数值"], rows, lineterminator="\r\n")
    lines = list(csv_lines(["名称", "数值"], rows, lineterminator="\r\n"))
    assert len(lines) == 4 and "".join(lines) == out.getvalue()
    assert lines[1:3] == ["'=1+1,1\r\n", "'+cmd,2.5\r\n"]


def test_times_are_written_in_the_configured_time_zone():
    import datetime as dt

    from openpyxl import load_workbook

    from dangjian.core.exports import csv_lines, write_xlsx

    moment = dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.UTC)  # 2026-01-02 00:30 in Asia/Shanghai
    assert "".join(csv_lines(["时间"], [[moment]])).splitlines()[1] == "2026-01-02 00:30"
    out = io.BytesIO()
    write_xlsx(out, title="表", headers=["时间"], lines=[[moment]])
    out.seek(0)
    cell = load_workbook(out).active["A2"]
    assert cell.value == dt.datetime(2026, 1, 2, 0, 30) and cell.number_format == "yyyy-mm-dd hh:mm"
