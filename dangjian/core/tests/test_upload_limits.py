"""Uploaded spreadsheets are bounded in memory before any parser runs (core.uploads.check_xlsx_upload): the size of
each part, the longest cell, a worksheet's text with its shared strings filled in, the rectangle of cells the reader
allocates, and parts whose content is larger than the zip directory says.

The limits are settings; the tests lower them so that small files show what a large crafted file would do."""

from __future__ import annotations

import io
import secrets
import struct
import zipfile
import zlib
from unittest import mock

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from python_calamine import CalamineWorkbook

from dangjian.accounts.roles import Role
from dangjian.core import uploads
from dangjian.core.uploads import check_xlsx_upload

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    b' Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0"?><workbook xmlns="' + MAIN.encode() + b'" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
    b' Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
    b' Target="sharedStrings.xml"/></Relationships>'
)


def sheet_xml(rows: bytes, *, around: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="'
        + MAIN.encode()
        + b'">'
        + around
        + (b"<sheetData>" + rows + b"</sheetData></worksheet>")
    )


def strings_xml(*texts: str | bytes) -> bytes:
    items = b"".join(t if isinstance(t, bytes) else b"<si><t>" + t.encode() + b"</t></si>" for t in texts)
    return b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="' + MAIN.encode() + b'">' + items + b"</sst>"


def book(rows: bytes = b"", *strings: str | bytes, sheet: bytes | None = None, extra: dict | None = None) -> io.BytesIO:
    """A minimal workbook the reader opens: one worksheet with `rows`, shared `strings`, `extra` parts (name: data;
    data stored uncompressed, to pad the file with incompressible bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/sharedStrings.xml", strings_xml(*strings))
        archive.writestr("xl/worksheets/sheet1.xml", sheet if sheet is not None else sheet_xml(rows))
        for name, data in (extra or {}).items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    buffer.seek(0)
    return buffer


def refused(fileobj) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check_xlsx_upload(fileobj, name="名册.xlsx")
    assert fileobj.tell() == 0
    return caught.value


def shared_row(row: int, cells: int, index: int = 0) -> bytes:
    letters = [chr(65 + i) for i in range(cells)]
    return (
        b'<row r="%d">' % row
        + b"".join(b'<c r="%s%d" t="s"><v>%d</v></c>' % (c.encode(), row, index) for c in letters)
        + (b"</row>")
    )


def padding(size: int) -> dict:
    return {"xl/media/padding.bin": secrets.token_bytes(size)}


@pytest.fixture
def small(settings):
    """Limits a small file can reach (the defaults are sized for a 200,000-row roster)."""
    settings.DANGJIAN_UPLOAD_MAX_PART_BYTES = 256 * 1024
    settings.DANGJIAN_UPLOAD_MAX_CELL_CHARS = 1000
    settings.DANGJIAN_UPLOAD_MAX_CELLS = 10_000
    return settings


# ---------------------------------------------------------------------------------------------------------
# The reported file: one huge text cell in sharedStrings, the ratio brought under the cap with random padding.


def test_the_reported_file_is_refused_by_the_size_of_its_shared_strings(small):
    # 1 MB of one text cell (the report: 390 MB) plus incompressible padding: ratio and total are within the limits.
    upload = book(shared_row(1, 1), "党" * (1024 * 1024 // 3), extra=padding(64 * 1024))
    with zipfile.ZipFile(upload) as archive:
        unpacked = sum(e.file_size for e in archive.infolist())
        packed = sum(e.compress_size for e in archive.infolist())
    assert unpacked < small.DANGJIAN_UPLOAD_MAX_UNPACKED_BYTES and unpacked / packed < 100
    error = refused(upload)
    assert error.code == "part_too_large"
    assert error.messages == ["文件中的内部部件“xl/sharedStrings.xml”解压后超过 0 MB（疑似恶意构造的文件），已拒绝。"]


def test_the_reported_file_as_a_page_upload_gets_a_message_and_never_reaches_the_reader(
    world, small, settings, tmp_path
):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    upload = book(shared_row(1, 1), "党" * (1024 * 1024 // 3), extra=padding(64 * 1024))
    upload.name = "名册.xlsx"
    with mock.patch("dangjian.core.sheets.reading.open_sheet") as reader:
        response = world.client(Role.SECRETARY).post(reverse("members:import"), {"file": upload})
    assert response.status_code == 200
    assert "解压后超过" in response.content.decode()
    reader.assert_not_called()


def test_the_unpacked_total_default_is_sized_for_a_200000_row_roster(settings):
    # Measured: a 200,000-row roster written by openpyxl (as the export writes it) unpacks to 135 MB.
    assert 135 * 1024 * 1024 < settings.DANGJIAN_UPLOAD_MAX_UNPACKED_BYTES <= 256 * 1024 * 1024
    assert settings.DANGJIAN_UPLOAD_MAX_PART_BYTES == 64 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------------
# One cell.


def test_a_shared_string_longer_than_a_cell_may_be_is_refused(small):
    error = refused(book(shared_row(1, 1), "党" * 1001))
    assert error.code == "cell_too_large"
    assert error.messages == ["文件中有单元格的内容超过 1000 个字符（疑似恶意构造的文件），已拒绝。"]


def test_the_cell_limit_counts_characters_not_bytes(small):
    check_xlsx_upload(book(shared_row(1, 1), "党" * 1000), name="名册.xlsx")  # 3,000 bytes, 1,000 characters


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(b'<c r="A1" t="inlineStr"><is><t>' + b"x" * 1001 + b"</t></is></c>", id="inline"),
        pytest.param(
            b'<c r="A1" t="inlineStr"><is>' + (b"<r><t>" + b"x" * 600 + b"</t></r>") * 2 + b"</is></c>", id="rich-runs"
        ),
        pytest.param(b'<c r="A1" t="str"><v>' + b"x" * 1001 + b"</v></c>", id="formula-string"),
        pytest.param(b'<c r="A1" t="inlineStr"><is><t>' + b"&#x4E00;" * 1001 + b"</t></is></c>", id="references"),
    ],
)
def test_a_worksheet_cell_longer_than_a_cell_may_be_is_refused(small, cell):
    assert refused(book(b'<row r="1">' + cell + b"</row>")).code == "cell_too_large"


def test_a_shared_string_of_many_rich_runs_is_one_cell(small):
    rich = b"<si>" + (b"<r><t>" + b"x" * 600 + b"</t></r>") * 2 + b"</si>"
    assert refused(book(shared_row(1, 1), rich)).code == "cell_too_large"


def test_a_huge_tag_is_refused_before_the_xml_parser_buffers_it(small):
    sheet = sheet_xml(b'<row r="1"><c r="A1" foo="' + b"x" * 20_000 + b'"><v>1</v></c></row>')
    assert refused(book(sheet=sheet)).code == "cell_too_large"


# ---------------------------------------------------------------------------------------------------------
# A short string used by many cells: the reader copies it into every one.


def test_a_string_copied_into_many_cells_is_refused_by_the_text_it_expands_to(small):
    # 500 bytes x 600 cells = 300 KB of text from a sharedStrings part of 500 bytes.
    rows = b"".join(shared_row(r, 6) for r in range(1, 101))
    error = refused(book(rows, "x" * 500))
    assert error.code == "text_too_large"
    assert "共享字符串按引用次数展开后" in error.messages[0]


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(b'<c r="A%d" t="s"><v>&#48;</v></c>', id="character-reference"),
        pytest.param(b'<c r="A%d" t="s" ><v>0</v></c>', id="not-as-programs-write-it"),
        pytest.param(b'<x:c xmlns:x="' + MAIN.encode() + b'" r="A%d" t="s"><x:v>0</x:v></x:c>', id="prefixed"),
        pytest.param(b'<c r="A%d" t="s"><v>+0</v></c>', id="plus-sign"),
        pytest.param(b'<c t="s"><v>0</v></c>', id="no-reference"),
    ],
)
def test_the_expansion_is_counted_however_the_cells_are_written(small, cell):
    rows = b"".join(b'<row r="%d">' % r + (cell % r if b"%d" in cell else cell) * 6 + b"</row>" for r in range(1, 101))
    assert refused(book(rows, "x" * 500)).code == "text_too_large"


def test_empty_shared_strings_do_not_shift_the_count(small):
    # The reader skips an <si> without text when it numbers the strings; the check counts both ways.
    rows = b"".join(shared_row(r, 6) for r in range(1, 101))
    assert refused(book(rows, b"<si/>", b"<si></si>", "x" * 500)).code == "text_too_large"
    rows = b"".join(shared_row(r, 6, index=2) for r in range(1, 101))
    assert refused(book(rows, b"<si/>", b"<si></si>", "x" * 500)).code == "text_too_large"


# ---------------------------------------------------------------------------------------------------------
# Cells far apart: the reader allocates the whole rectangle from A1.


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(
            b'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
            id="corners",
        ),
        pytest.param(
            b'<row r="1"><c r="A1"><v>1</v></c><c r="ZZ1"><v>1</v></c></row>'
            b'<row r="500"><c r="A500"><v>1</v></c></row>',
            id="wide",
        ),
        pytest.param(b'<row r="20000"><c><v>1</v></c></row>', id="row-without-cell-references"),
        pytest.param(b'<row r="1"><c r="A1"><v>1</v></c><c r="AAAAAAAAAA1"><v>1</v></c></row>', id="beyond-any-sheet"),
    ],
)
def test_cells_far_apart_are_refused(small, rows):
    error = refused(book(rows))
    assert error.code == "too_many_cells"
    assert "请删除数据区域之外的内容" in error.messages[0]


def test_empty_styled_cells_far_away_do_not_count(small):
    # Excel writes formatted empty cells as <c r=… s=…/>; the reader keeps nothing of them.
    check_xlsx_upload(
        book(b'<row r="1"><c r="A1"><v>1</v></c></row><row r="9999"><c r="ZZ9999" s="1"/></row>'), name="x.xlsx"
    )


# ---------------------------------------------------------------------------------------------------------
# The zip directory must tell the truth.


def _patch_sizes(data: bytes, name: bytes, size: int, crc: int) -> bytes:
    """Rewrite the uncompressed size and checksum `name`'s local header and directory entry state."""
    out = bytearray(data)
    local = out.find(b"PK\x03\x04")
    while local >= 0:
        name_length = struct.unpack("<H", out[local + 26 : local + 28])[0]
        if out[local + 30 : local + 30 + name_length] == name:
            out[local + 14 : local + 18] = struct.pack("<I", crc)
            out[local + 22 : local + 26] = struct.pack("<I", size)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central >= 0:
        name_length = struct.unpack("<H", out[central + 28 : central + 30])[0]
        if out[central + 46 : central + 46 + name_length] == name:
            out[central + 16 : central + 20] = struct.pack("<I", crc)
            out[central + 24 : central + 28] = struct.pack("<I", size)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def test_a_part_larger_than_its_directory_entry_says_is_refused(small):
    strings = strings_xml("x" * 500)
    data = book(shared_row(1, 1), "x" * 500).getvalue()
    stated = strings[:100]  # the directory claims 100 bytes, with their checksum: zipfile alone would believe it
    lying = io.BytesIO(_patch_sizes(data, b"xl/sharedStrings.xml", len(stated), zlib.crc32(stated)))
    with zipfile.ZipFile(lying) as archive:
        assert archive.read("xl/sharedStrings.xml") == stated
    lying.seek(0)
    error = refused(lying)
    assert error.code == "not_xlsx" and "无法读取" in error.messages[0]


def test_entries_differing_only_in_case_are_refused(small):
    upload = book(shared_row(1, 1), "甲", extra={"XL/SharedStrings.xml": strings_xml("x" * 5000)})
    assert refused(upload).code == "duplicate_entries"


def test_entity_references_are_refused_with_the_readers_message(small):
    sheet = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]><worksheet xmlns="'
        + MAIN.encode()
        + b'"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&a;</t></is></c></row></sheetData></worksheet>'
    )
    error = refused(book(sheet=sheet))
    assert error.code == "entity" and "无法解析" in error.messages[0]


# ---------------------------------------------------------------------------------------------------------
# Ordinary files pass, with the settings' limits and with the small ones.


def _saved(workbook: openpyxl.Workbook) -> io.BytesIO:
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


HEADER = ["姓名", "性别", "公民身份号码", "出生日期", "党组织编码", "工作单位"]


def values(n: int) -> list:
    return [f"党员{n}", "男" if n % 2 else "女", f"11010519790504{n:04d}", 28000 + n, "LH01", "龙华街道第一中学"]


def roster(rows: int) -> io.BytesIO:
    """As openpyxl writes it (and the roster export): strings inline in the worksheet."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("党员名册")
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append(values(n))
    return _saved(workbook)


def excel_roster(rows: int) -> io.BytesIO:
    """As Excel writes it: strings in sharedStrings, rows with spans and a prefixed attribute, styled cells."""
    strings: dict[str, int] = {}
    lines = []
    for r, row in enumerate([HEADER, *(values(n) for n in range(rows))], start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(value, str):
                cells.append(f'<c r="{ref}" s="1" t="s"><v>{strings.setdefault(value, len(strings))}</v></c>')
            else:
                cells.append(f'<c r="{ref}" s="2"><v>{value}</v></c>')
        lines.append(f'<row r="{r}" spans="1:6" x14ac:dyDescent="0.25">{"".join(cells)}</row>')
    return book("".join(lines).encode(), *strings)


@pytest.mark.parametrize("build", [roster, excel_roster], ids=["openpyxl", "excel"])
def test_an_ordinary_roster_passes(build, small):
    upload = build(300)
    check_xlsx_upload(upload, name="名册.xlsx")
    assert upload.tell() == 0
    sheet = CalamineWorkbook.from_filelike(upload).get_sheet_by_index(0)
    assert sheet.height == 301 and sheet.width == 6


@pytest.mark.parametrize("build", [roster, excel_roster], ids=["openpyxl", "excel"])
def test_an_ordinary_roster_passes_with_the_default_limits(build):
    check_xlsx_upload(build(3000), name="名册.xlsx")


def test_rich_text_and_a_doctype_without_references_pass(small):
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = CellRichText("党员", TextBlock(InlineFont(b=True), "名册"))
    workbook.active["B1"] = "普通文字"
    check_xlsx_upload(_saved(workbook), name="名册.xlsx")
    doctype = b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "x">]>'
    sheet = doctype + sheet_xml(shared_row(1, 3)).partition(b"?>")[2]
    check_xlsx_upload(book(b"", "甲", sheet=sheet), name="名册.xlsx")


@pytest.mark.parametrize("build", [roster, excel_roster], ids=["openpyxl", "excel"])
def test_the_fast_and_the_careful_walk_measure_alike(build, small):
    """A worksheet laid out as programs write it is measured by regular expressions; anything else by expat. Both
    must measure the same: text, shared strings filled in, last row and column."""
    upload = build(200)
    limits = uploads.UploadLimits.from_settings()
    with zipfile.ZipFile(upload) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    strings = uploads._SharedStrings(limits)
    if "xl/sharedStrings.xml" in infos:
        uploads._scan_xml(uploads._unpacked(upload, infos["xl/sharedStrings.xml"]), strings, limits)
        fast_strings = uploads._SharedStrings(limits)
        assert uploads._plain_shared_strings(uploads._unpacked(upload, infos["xl/sharedStrings.xml"]), fast_strings)
        assert fast_strings.lengths() == strings.lengths()
    fast = uploads._PlainWorksheet(limits, strings)
    assert fast.scan(uploads._unpacked(upload, infos["xl/worksheets/sheet1.xml"]))
    careful = uploads._Worksheet(limits, strings)
    uploads._scan_xml(uploads._unpacked(upload, infos["xl/worksheets/sheet1.xml"]), careful, limits)
    careful.finish()
    assert (fast.last_row, fast.last_col) == (careful.last_row, careful.last_col) == (200, 5)
    assert fast.sheet.text_bytes == careful.text_bytes > 0
