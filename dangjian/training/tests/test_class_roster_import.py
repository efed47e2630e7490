"""The class roster upload (导入调训名单, `enrollment_import`) reads the spreadsheets people have (docs/imports.md):
.xlsx with a title row and the header in people's words, .xls, GBK CSV; members by ID number or by name within their
branch; every error as `第N行 列名: 说明`, nothing enrolled while one remains; a workbook with several sheets of data
asks which one."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from dangjian.accounts.roles import Role
from dangjian.members.imports import MSG_ID_AS_NUMBER, import_members
from dangjian.orgs.selectors import MSG_ORG_UNKNOWN
from dangjian.training.models import ClassStatus, Enrollment, EnrollmentSource, TrainingClass
from dangjian.training.services.enrollment import enrollment_import
from dangjian.training.tests.factories import TrainingClassFactory

DATA = Path(__file__).parent / "data"
MEMBERS_DATA = Path(__file__).resolve().parents[2] / "members" / "tests" / "data"
EXCEL97_NAMES = {"周明远", "吴静怡", "郑海涛"}


def make_class(world) -> TrainingClass:
    return TrainingClassFactory(
        organizer=world.orgs["C1"],
        status=ClassStatus.APPROVED,
        starts_on=timezone.localdate() - dt.timedelta(days=2),
        ends_on=timezone.localdate() + dt.timedelta(days=5),
    )


def register_excel97(world) -> None:
    """The three members `excel97.xls` registers (dangjian/members/tests/data/README.md)."""
    with (MEMBERS_DATA / "excel97.xls").open("rb") as handle:
        result = import_members(handle, name="excel97.xls", by=world.user(Role.COMMITTEE))
    assert not result.errors, result.errors


def upload(world, fileobj, name: str, *, sheet: str | None = None, role: str = Role.SCHOOL_ADMIN):
    return enrollment_import(
        by=world.user(role), training_class=make_class(world), fileobj=fileobj, name=name, sheet=sheet
    )


def errors_of(world, fileobj, name: str, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        upload(world, fileobj, name, **kwargs)
    assert not Enrollment.objects.exists()
    return caught.value.message_dict["file"]


def enrolled() -> set[str]:
    return set(Enrollment.objects.values_list("member__name", flat=True))


def xlsx(*sheets: tuple[str, list[list]]) -> io.BytesIO:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_the_committed_roster_enrolls_by_id_number_and_by_name(world):
    register_excel97(world)
    with (DATA / "class_roster.xlsx").open("rb") as handle:
        assert upload(world, handle, "class_roster.xlsx") == 4
    assert enrolled() == EXCEL97_NAMES | {"孙乙一"}
    assert set(Enrollment.objects.values_list("source", flat=True)) == {EnrollmentSource.IMPORT}


def test_an_xls_roster_of_id_numbers(world):
    register_excel97(world)
    with (MEMBERS_DATA / "excel97.xls").open("rb") as handle:
        assert upload(world, handle, "名单.xls") == 3
    assert enrolled() == EXCEL97_NAMES


def test_a_gbk_csv_names_members_by_name_and_branch(world):
    text = (
        "序号,学员姓名,所在党支部\r\n1,赵甲一,高一年级党支部\r\n,,\r\n2,钱　甲二, 高一年级党支部 \r\n3,孙乙一,BJ01B\r\n"
    )
    assert upload(world, io.BytesIO(text.encode("gbk")), "名单.csv") == 3
    assert enrolled() == {"赵甲一", "钱甲二", "孙乙一"}


def test_a_utf8_csv_with_bom_and_title_row(world):
    zhao = world.members["A"][0]
    text = f"2026年度培训班名单,,\n姓名,身份证号码,党组织\n赵甲一,{zhao.id_number},\n赵甲一,{zhao.id_number},\n"
    assert upload(world, io.BytesIO(text.encode("utf-8-sig")), "名单.csv") == 1  # listed twice, enrolled once
    assert enrolled() == {"赵甲一"}


def test_unknown_names_and_out_of_scope_organizations_are_row_errors(world):
    rows = [
        ["2026年度党支部书记培训班学员名单"],
        ["姓名", "所在支部"],
        ["赵甲一", "高一年级党支部"],  # row 3: fine
        ["查无此人", "高一年级党支部"],  # row 4: no such name in the branch
        ["李外一", "临湖实验小学党支部"],  # row 5: a branch outside the scope
        ["王五", "不存在的党支部"],  # row 6: a branch that does not exist
    ]
    errors = errors_of(world, xlsx(("Sheet1", rows)), "名单.xlsx")
    assert len(errors) == 3
    assert errors[0] == (
        "第4行 姓名: 在党组织“高一年级党支部”中找不到姓名为“查无此人”的党员，或该党员不在您的管理范围内。"
    )
    assert errors[1].startswith("第5行 党组织: " + MSG_ORG_UNKNOWN.format(text="临湖实验小学党支部"))
    assert errors[2].startswith("第6行 党组织: " + MSG_ORG_UNKNOWN.format(text="不存在的党支部"))
    assert "临湖" not in errors[1].split("？")[0].replace("“临湖实验小学党支部”", "")  # no word of what exists outside


def test_a_numeric_id_number_gets_the_excel_message(world):
    rows = [["学员名单"], ["姓名", "身份证号"], ["周明远", 110101198105144013]]
    errors = errors_of(world, xlsx(("Sheet1", rows)), "名单.xlsx")
    assert len(errors) == 1
    assert errors[0].startswith("第3行 公民身份号码: " + MSG_ID_AS_NUMBER.split("（")[0])


def test_a_header_without_a_way_to_name_members_is_refused(world):
    rows = [["姓名", "单位"], ["赵甲一", "晨曦学校"]]  # 单位 is not a party organization
    errors = errors_of(world, xlsx(("Sheet1", rows)), "名单.xlsx")
    assert errors == [
        "缺少“公民身份号码”列，或“姓名”和“党组织”两列：表头（其上方可有标题行）须有身份证号码一列，或姓名和所在党支部两列。"
    ]


def two_sheets() -> io.BytesIO:
    return xlsx(
        ("高一", [["姓名", "党支部"], ["赵甲一", "高一年级党支部"], ["钱甲二", "高一年级党支部"]]),
        ("高二", [["姓名", "党支部"], ["孙乙一", "高二年级党支部"]]),
        ("Sheet3", []),
    )


def test_a_workbook_with_two_sheets_asks_which_one(world):
    errors = errors_of(world, two_sheets(), "名单.xlsx")
    assert len(errors) == 1 and "“高一”" in errors[0] and "“高二”" in errors[0] and "Sheet3" not in errors[0]
    assert upload(world, two_sheets(), "名单.xlsx", sheet="高二") == 1
    assert enrolled() == {"孙乙一"}


def test_a_row_error_of_a_chosen_sheet_names_the_sheet(world):
    book = xlsx(
        ("高一", [["姓名", "党支部"], ["查无此人", "高一年级党支部"]]),
        ("高二", [["姓名", "党支部"], ["孙乙一", "BJ01B"]]),
    )
    errors = errors_of(world, book, "名单.xlsx", sheet="高一")
    assert errors[0].startswith("工作表“高一”第2行 姓名: ")


def test_a_secretary_enrolls_only_their_branch(world):
    sun = world.members["B"][0]
    text = f"姓名,身份证号\n孙乙一,{sun.id_number}\n"
    errors = errors_of(world, io.BytesIO(text.encode()), "名单.csv", role=Role.SECRETARY)
    assert len(errors) == 1 and errors[0].startswith("第2行 公民身份号码: ")
    text = "姓名,党组织\n赵甲一,高一年级党支部\n"
    assert upload(world, io.BytesIO(text.encode()), "名单.csv", role=Role.SECRETARY) == 1


def test_the_page_offers_a_choice_of_sheet(world):
    training_class = make_class(world)
    client = world.client(Role.SCHOOL_ADMIN)
    url = reverse("training:enrollment_import", args=[training_class.pk])
    book = two_sheets()
    book.name = "名单.xlsx"
    response = client.post(url, {"file": book})
    assert response.status_code == 200
    page = response.content.decode()
    assert '<select name="sheet"' in page and '<option value="高二">高二</option>' in page
    book = two_sheets()
    book.name = "名单.xlsx"
    response = client.post(url, {"file": book, "sheet": "高二"})
    assert response.status_code == 302
    assert enrolled() == {"孙乙一"}
