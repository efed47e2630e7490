"""Rosters as people really have them (docs/imports.md): files saved by Excel, WPS and LibreOffice, .xls, CSV in GBK
and UTF-8, title rows above the header, the header's own words, values written otherwise than the template writes them,
ID numbers that Excel turned into numbers, several sheets. Every file is in tests/data (made by make_files.py there;
its README lists each file's quirks and the outcome expected here).

The world (tests/scope.py): the committee user edits C1's subtree (BJ01A 高一年级党支部, BJ01B 高二年级党支部).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.members.imports import import_members
from dangjian.members.models import Category, Education, Gender, Member

DATA = Path(__file__).parent / "data"


def run(world, name: str, *, role: str = Role.COMMITTEE, **kwargs):
    with (DATA / name).open("rb") as stream:
        return import_members(stream, name=name, by=world.user(role), **kwargs)


def lines(result) -> list[str]:
    return [str(error) for error in result.errors]


@pytest.mark.parametrize(
    "name, count",
    [
        ("excel_title_rows.xlsx", 7),
        ("wps_style.xlsx", 5),
        ("libreoffice_saved.xlsx", 4),
        ("libreoffice_dates.xlsx", 4),
        ("excel97.xls", 3),
        ("gbk.csv", 4),
        ("utf8_bom.csv", 3),
        ("utf8_no_bom.csv", 3),
    ],
)
def test_real_world_rosters_import_whole(world, name, count):
    result = run(world, name)
    assert lines(result) == []
    assert (result.written, result.created) == (True, count)
    assert Member.objects.dangerously_all().filter(organization__code__in=["BJ01A", "BJ01B"]).count() >= count


def test_a_hand_kept_excel_roster_is_understood_and_the_preview_says_how(world):
    result = run(world, "excel_title_rows.xlsx", dry_run=True)
    assert result.ok and result.header_row == 3  # two title rows (merged across the columns) skipped
    assert dict(result.renamed) == {
        "*姓名": "姓名",
        "出生日期（yyyy-mm-dd）": "出生日期",
        "＊身份证号码": "公民身份号码",
        "文化程度": "学历",
        "联系电话": "手机号码",
        "入党时间": "入党日期",
        "转正时间": "转正日期",
        "党员类别": "人员类别",
        "所在党支部": "党组织编码",
    }
    assert result.ignored == ["序号", "备注"]
    read_as = {(column, written): label for column, written, label, _ in result.normalized_values}
    assert read_as[("学历", "本科")] == "大学本科"
    assert read_as[("学历", "大专")] == "大学专科"
    assert read_as[("学历", "硕士研究生")] == read_as[("学历", "博士研究生")] == "研究生"
    assert read_as[("民族", "汉")] == "汉族" and read_as[("民族", "回")] == "回族"
    assert read_as[("性别", "男性")] == "男"
    assert read_as[("人员类别", "正式")] == "正式党员" and read_as[("人员类别", "预备")] == "预备党员"


def test_the_values_written_are_the_normalized_ones(world):
    run(world, "excel_title_rows.xlsx")
    members = Member.objects.dangerously_all().filter(organization__code__in=["BJ01A", "BJ01B"])
    by_name = {member.name: member for member in members}
    assert "张伟" in by_name  # 张　伟, aligned with a full-width space, is 张伟
    assert all(" " not in name and "\u3000" not in name for name in by_name)
    imported = [m for m in members if m.education]
    assert {m.education for m in imported} <= set(Education.values)
    assert Education.POSTGRADUATE in {m.education for m in imported}
    phones = {m.phone for m in members}
    assert "13912345678" in phones  # typed with full-width digits and spaces
    assert any(m.id_number.endswith("X") for m in members)  # typed with a lower-case x


def test_wps_values_and_posts_in_common_spellings(world):
    result = run(world, "wps_style.xlsx")
    assert result.written and result.posts == 3
    read_as = {(column, written): label for column, written, label, _ in result.normalized_values}
    assert read_as[("性别", "M")] == "男" and read_as[("性别", "F")] == "女"
    assert read_as[("学历", "大学")] == "大学本科" and read_as[("学历", "初中")] == "初中及以下"
    assert read_as[("党内职务", "支部书记")] == "书记" and read_as[("党内职务", "组织委员")] == "委员"


def test_a_workbook_with_several_sheets_asks_which_one(world):
    result = run(world, "two_sheets.xlsx")
    assert not result.written and result.sheet_names == ["在职党员", "离退休党员"]  # the empty Sheet3 is not offered
    assert "在职党员" in result.file_error and "离退休党员" in result.file_error
    chosen = run(world, "two_sheets.xlsx", sheet="离退休党员")
    assert (chosen.written, chosen.created, chosen.sheet) == (True, 2, "离退休党员")


def test_errors_in_a_workbook_of_several_sheets_name_the_sheet(world):
    # The secretary edits BJ01A only: the rows of BJ01B are refused, each line naming the sheet.
    result = run(world, "two_sheets.xlsx", role=Role.SECRETARY, sheet="在职党员")
    assert result.errors and all(line.startswith("工作表“在职党员”第") for line in lines(result))


def test_an_unknown_sheet_is_named_with_the_sheets_there_are(world):
    result = run(world, "two_sheets.xlsx", sheet="党员")
    assert result.file_error == "找不到工作表“党员”：工作簿中的工作表有“在职党员”、“离退休党员”、“Sheet3”。"


def test_id_numbers_excel_stored_as_numbers_say_so_not_checksum(world):
    result = run(world, "numeric_ids.xlsx")
    assert [(e.row, e.column) for e in result.errors] == [(3, "公民身份号码"), (4, "公民身份号码"), (5, "公民身份号码")]
    assert all("被Excel存成了数字，只保留了前15位有效数字" in e.message for e in result.errors)
    assert "110101198806213000" in result.errors[0].message  # shown as Excel shows it
    assert "1.10101199003077E+17" in result.errors[1].message
    assert not any("校验位" in e.message for e in result.errors)
    assert not result.written


def test_unknown_values_are_errors_with_the_closest_known_value(world):
    result = run(world, "bad_values.xlsx")
    assert lines(result) == [
        "第4行 学历: 学历“本料”无法识别，是否为“大学本科”？可填：研究生、大学本科、大学专科、中专、高中、初中及以下。",
        "第5行 民族: 民族“汗族”无法识别，是否为“汉族”？应为56个民族的规范名称（如“汉族”“回族”）。",
        "第6行 性别: 性别“男的”无法识别，是否为“男”？可填：男、女。",
        "第7行 党组织编码: 找不到党组织“高一年级支部”（按编码或名称），或该组织不在您的管理范围内。"
        "是否为“高一年级党支部（BJ01A）”、“高二年级党支部（BJ01B）”？",
        "第8行 转正日期: “20/5/1”的年份只有两位，无法确定年代：请写四位年份，如2020-05-01。",
        "第9行 入党日期: “2020-05”只写到月：该列须写到日，如2020-05-01。",
    ]
    assert not result.written and not Member.objects.dangerously_all().filter(name__in=["本料"]).exists()


def test_names_outside_the_scope_are_never_suggested(world):
    # LH01 lies outside the committee's scope: the message is the one of an unknown code, with no guess from there.
    result = run(world, "lh_roster.xlsx")
    assert lines(result) == [
        "第2行 党组织编码: 找不到党组织“LH01”（按编码或名称），或该组织不在您的管理范围内。",
        "第3行 党组织编码: 找不到党组织“LH01”（按编码或名称），或该组织不在您的管理范围内。",
    ]


def test_organizations_by_name_and_by_name_with_code(world):
    result = run(world, "excel_title_rows.xlsx")
    assert result.written
    codes = set(Member.objects.dangerously_all().filter(name="张伟").values_list("organization__code", flat=True))
    assert codes <= {"BJ01A", "BJ01B"} and codes


def test_the_command_takes_a_sheet_and_prints_the_count(world, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="--sheet"):
        call_command("import_members", str(DATA / "two_sheets.xlsx"), "--as", "world_committee", stdout=out, stderr=err)
    call_command(
        "import_members",
        str(DATA / "two_sheets.xlsx"),
        "--sheet",
        "在职党员",
        "--as",
        "world_committee",
        stdout=out,
        stderr=err,
    )
    assert out.getvalue().strip() == "导入 3 人"


def test_the_command_lists_real_world_errors_as_row_column_message(world):
    err = io.StringIO()
    with pytest.raises(CommandError, match="共 3 处错误"):
        path = str(DATA / "numeric_ids.xlsx")
        call_command("import_members", path, "--as", "world_committee", stdout=io.StringIO(), stderr=err)
    assert [line.split(":")[0] for line in err.getvalue().splitlines()] == [
        "第3行 公民身份号码",
        "第4行 公民身份号码",
        "第5行 公民身份号码",
    ]


# ---------------------------------------------------------------------------------------------------------
# The page


@pytest.fixture
def import_dir(settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    return settings.DANGJIAN_IMPORT_DIR


def _upload(client, name: str):
    upload = io.BytesIO((DATA / name).read_bytes())
    upload.name = name
    return client.post(reverse("members:import"), {"file": upload})


def _token(body: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', body)
    assert match, body[:2000]
    return match.group(1)


def test_the_page_previews_what_it_understood(world, import_dir):
    response = _upload(world.client(Role.COMMITTEE), "excel_title_rows.xlsx")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="import-preview"' in body
    assert "表头在第 3 行" in body and "“文化程度”→学历" in body and "未读取的列：序号、备注" in body
    assert "学历：“本科”按“大学本科”导入" in body


def test_the_page_asks_for_the_sheet_then_imports_it(world, import_dir):
    client = world.client(Role.COMMITTEE)
    body = _upload(client, "two_sheets.xlsx").content.decode()
    assert 'id="sheet-form"' in body and "<option>离退休党员</option>" in body
    token = _token(body)
    body = client.post(reverse("members:import"), {"token": token, "sheet": "离退休党员"}).content.decode()
    assert 'id="import-preview"' in body and "工作表“离退休党员”" in body
    response = client.post(reverse("members:import"), {"token": token, "confirm": "1"})
    assert response.status_code == 302
    assert Member.objects.dangerously_all().filter(name__in=["蔡国庆", "田淑珍"]).count() == 2


def test_an_xls_and_a_gbk_csv_upload_on_the_page(world, import_dir):
    client = world.client(Role.COMMITTEE)
    for name in ("excel97.xls", "gbk.csv"):
        body = _upload(client, name).content.decode()
        assert 'id="import-preview"' in body, name
        assert client.post(reverse("members:import"), {"token": _token(body), "confirm": "1"}).status_code == 302


def test_the_annotated_copy_keeps_the_title_rows_and_the_rows_in_place(world, import_dir):
    client = world.client(Role.COMMITTEE)
    body = _upload(client, "bad_values.xlsx").content.decode()
    token = re.search(r"token=([A-Za-z0-9_-]+)", body).group(1)
    response = client.get(reverse("members:import_errors"), {"token": token})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][0] == "党员信息采集表"  # the title row, where it was
    assert rows[1][-1] == "错误说明"
    assert rows[3][-1].startswith("学历: 学历“本料”无法识别")  # row 4, as Excel numbers it
    assert rows[2][-1] is None


def test_probationary_and_gender_come_through(world):
    members = Member.objects.dangerously_all().filter(organization__code__in=["BJ01A", "BJ01B"])
    before = members.filter(category=Category.PROBATIONARY).count()
    run(world, "excel_title_rows.xlsx")
    assert members.filter(category=Category.PROBATIONARY).count() == before + 2
    assert set(members.values_list("gender", flat=True)) <= {Gender.MALE, Gender.FEMALE}


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("名册.xls", b"PK\x03\x04" + b"\0" * 100, "内容是 .xlsx 格式"),
        ("名册.xls", b"<html><body>not a workbook</body></html>", "不是有效的 .xls 文件"),
        ("名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600, "文件已损坏"),
        ("名册.txt", b"a,b\n", "只接受 .xlsx、.xls（Excel 97–2003）或 .csv"),
        ("名册.csv", b"", "工作表是空的"),
    ],
)
def test_files_that_are_not_what_they_say_are_refused_with_a_message(world, name, data, message):
    result = import_members(io.BytesIO(data), name=name, by=world.user(Role.COMMITTEE))
    assert message in (result.file_error or ""), result.errors
    assert not result.written


def test_a_csv_over_the_size_limit_is_refused_before_it_is_read(world, settings):
    settings.DANGJIAN_UPLOAD_MAX_BYTES = 1024
    result = import_members(io.BytesIO(b"x" * 2048), name="名册.csv", by=world.user(Role.COMMITTEE))
    assert "文件过大" in result.file_error
