"""Export then import is lossless: `export_members` followed by `import_members --update` (and the page's export
followed by the import page in update mode) changes nothing and says so, for a role that sees ID numbers in full.

The roster (the world of tests/scope.py, exported from the school committee C1 by its committee user, who sees
full ID numbers) holds members with and without phone, education, unit and 转正日期; probationary members;
members holding party posts in their own organization and in another (a branch secretary who is also 委员 of the
school committee, a 委员 of two organizations); an ended post; the 班子成员 and 区管干部 flags; ethnicities; members
in the committee itself and in its branches.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.core.validators import FEMALE, MALE, add_years
from dangjian.members.imports import import_members
from dangjian.members.models import Category, Education, Member, MemberTransfer, PartyPost, Post, TransferKind
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory, make_id_number

TODAY = timezone.localdate()
EXPORT_URL = "/members/export.xlsx"


@pytest.fixture
def roster(world):
    """The world's members plus a realistic mix in C1's subtree; returns the world."""
    a, b, c1 = world.orgs["A"], world.orgs["B"], world.orgs["C1"]
    start = dt.date(2021, 3, 1)
    secretary = MemberFactory(
        name="周甲三", organization=a, phone="", education="", unit=None, ethnicity="回族", is_leadership=True
    )
    PartyPostFactory(member=secretary, organization=a, post=Post.SECRETARY, start_date=start)
    PartyPostFactory(member=secretary, organization=c1, post=Post.COMMITTEE_MEMBER, start_date=start)
    cadre = MemberFactory(
        name="吴甲四",
        organization=a,
        education=Education.POSTGRADUATE,
        unit=world.units["A"],
        is_leadership=True,
        is_district_cadre=True,
    )
    PartyPostFactory(member=cadre, organization=a, post=Post.COMMITTEE_MEMBER, start_date=start)
    PartyPostFactory(
        member=cadre, organization=a, post=Post.DEPUTY_SECRETARY, start_date=start, end_date=dt.date(2022, 1, 1)
    )
    chief = MemberFactory(name="郑委一", organization=c1, phone="010-62345678", education=Education.BACHELOR)
    PartyPostFactory(member=chief, organization=c1, post=Post.SECRETARY, start_date=start)
    double = MemberFactory(
        name="王乙二", organization=b, unit=world.units["B"], ethnicity="维吾尔族", education=Education.COLLEGE
    )
    PartyPostFactory(member=double, organization=b, post=Post.COMMITTEE_MEMBER, start_date=start)
    PartyPostFactory(member=double, organization=c1, post=Post.COMMITTEE_MEMBER, start_date=start)
    MemberFactory(name="冯甲五", organization=a, full_date=None)  # a full member whose 转正日期 is not on record
    MemberFactory(name="陈乙三", organization=b, phone="", category=Category.PROBATIONARY, full_date=None)
    # A post recorded on the member page for a probationary member (the page does not refuse it).
    fresh = MemberFactory(name="褚甲六", organization=a, category=Category.PROBATIONARY, full_date=None)
    PartyPostFactory(member=fresh, organization=a, post=Post.COMMITTEE_MEMBER, start_date=start)
    return world


def snapshot(org) -> dict:
    """Everything the roster holds for the members in `org`'s subtree: every stored field, every post (ended
    ones too), and how many history rows each has."""
    members = Member.objects.dangerously_all().filter(organization__path__startswith=org.path)
    fields = [f.attname for f in Member._meta.concrete_fields]
    data = {}
    for member in members:
        posts = sorted(
            (p.pk, p.organization_id, p.post, p.start_date, p.end_date, p.updated_at)
            for p in PartyPost.objects.filter(member=member)
        )
        post_history = PartyPost.history.filter(member_id=member.pk).count()
        data[member.pk] = (
            {name: getattr(member, name) for name in fields},
            posts,
            member.history.count(),
            post_history,
        )
    return data


def export_command(tmp_path, *, org: str = "BJ01", as_user: str = "world_committee"):
    target = tmp_path / "roster.xlsx"
    call_command(
        "export_members",
        "--org",
        org,
        "--out",
        str(target),
        "--as",
        as_user,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return target


def import_command(path, *args) -> str:
    out = io.StringIO()
    call_command("import_members", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def count(org) -> int:
    return Member.objects.dangerously_all().filter(organization__path__startswith=org.path).count()


def test_command_export_then_update_import_changes_nothing_and_says_so(roster, tmp_path):
    before = snapshot(roster.orgs["C1"])
    path = export_command(tmp_path)
    out = import_command(path, "--update", "--as", "world_committee")
    assert out == f"更新 0 人，无变化 {count(roster.orgs['C1'])} 人"
    assert snapshot(roster.orgs["C1"]) == before


def test_command_export_of_a_branch_then_update_import_changes_nothing(roster, tmp_path):
    # The branch secretary's export: 周甲三 is also 委员 of C1, an organization outside the secretary's scope.
    before = snapshot(roster.orgs["C1"])
    path = export_command(tmp_path, org="BJ01A", as_user="world_secretary")
    out = import_command(path, "--update", "--as", "world_secretary")
    assert out == f"更新 0 人，无变化 {count(roster.orgs['A'])} 人"
    assert snapshot(roster.orgs["C1"]) == before


def test_export_holds_each_posts_organization_and_the_flags(roster, tmp_path):
    ws = load_workbook(export_command(tmp_path)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = rows[0]
    assert header[:13] == [
        "姓名",
        "性别",
        "民族",
        "出生日期",
        "公民身份号码",
        "学历",
        "手机号码",
        "入党日期",
        "转正日期",
        "人员类别",
        "党组织编码",
        "工作单位",
        "党内职务",
    ]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    secretary = by_name["周甲三"]
    assert (secretary["党内职务"], secretary["党内职务所在组织编码"]) == ("书记、委员", "BJ01A、BJ01")
    assert (secretary["班子成员"], secretary["区管干部"]) == ("是", "否")
    double = by_name["王乙二"]
    assert (double["党内职务"], double["党内职务所在组织编码"]) == ("委员、委员", "BJ01B、BJ01")
    assert (by_name["吴甲四"]["班子成员"], by_name["吴甲四"]["区管干部"]) == ("是", "是")
    assert by_name["吴甲四"]["党内职务"] == "委员"  # the ended 副书记 is not current


def test_update_import_restores_posts_in_their_organizations_and_the_flags(roster, tmp_path):
    path = export_command(tmp_path)
    secretary = Member.objects.get(name="周甲三")
    double = Member.objects.get(name="王乙二")
    cadre = Member.objects.get(name="吴甲四")
    PartyPost.objects.filter(member=secretary, organization=roster.orgs["C1"]).delete()
    PartyPost.objects.filter(member=double, organization=roster.orgs["C1"]).delete()
    Member.objects.filter(pk=cadre.pk).update(is_leadership=False, is_district_cadre=False)
    out = import_command(path, "--update", "--as", "world_committee")
    assert out == f"更新 3 人，无变化 {count(roster.orgs['C1']) - 3} 人"
    held = {
        (p.organization.code, p.post, p.start_date)
        for p in PartyPost.objects.filter(member=secretary).select_related("organization")
    }
    assert held == {("BJ01A", Post.SECRETARY, dt.date(2021, 3, 1)), ("BJ01", Post.COMMITTEE_MEMBER, TODAY)}
    assert set(PartyPost.objects.filter(member=double).values_list("organization__code", "post")) == {
        ("BJ01B", Post.COMMITTEE_MEMBER),
        ("BJ01", Post.COMMITTEE_MEMBER),
    }
    cadre.refresh_from_db()
    assert (cadre.is_leadership, cadre.is_district_cadre, cadre.version) == (True, True, 1)
    # Once more: nothing left to change.
    assert (
        import_command(path, "--update", "--as", "world_committee")
        == f"更新 0 人，无变化 {count(roster.orgs['C1'])} 人"
    )


def page_export(client, **params) -> io.BytesIO:
    response = client.get(EXPORT_URL, params)
    assert response.status_code == 200
    upload = io.BytesIO(b"".join(response.streaming_content))
    upload.name = "名册.xlsx"
    return upload


def page_update_import(client, upload) -> str:
    """Upload in update mode, check the preview says 更新 0 人, confirm; the page's message after the write."""
    preview = client.post(reverse("members:import"), {"file": upload, "update": "on"})
    body = preview.content.decode()
    assert "更新 <strong>0</strong> 人" in body, body[:3000]
    token = re.search(r'name="token" value="([^"]+)"', body).group(1)
    confirmed = client.post(reverse("members:import"), {"token": token, "confirm": "1"}, follow=True)
    return confirmed.content.decode()


def test_page_export_then_page_update_import_changes_nothing(roster, settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    before = snapshot(roster.orgs["C1"])
    client = roster.client(Role.COMMITTEE)
    assert "更新 0 人" in page_update_import(client, page_export(client))
    assert snapshot(roster.orgs["C1"]) == before


def test_page_export_of_a_subtree_round_trips_while_a_member_is_on_the_way_in(roster, settings, tmp_path):
    # 李外一 is being transferred from LH01 into branch A: the committee sees them (read-only, masked) in its
    # unfiltered list and export, which therefore does not re-import; the export of its subtree (?org=BJ01,
    # what export_members --org does) holds only its own members, and round-trips.
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    MemberTransfer.objects.create(
        member=roster.members["X"][0],
        kind=TransferKind.INTERNAL,
        from_organization=roster.orgs["XB"],
        to_organization=roster.orgs["A"],
    )
    before = snapshot(roster.orgs["C1"])
    client = roster.client(Role.COMMITTEE)
    result = import_members(page_export(client), name="r.xlsx", by=roster.user(Role.COMMITTEE), update=True)
    assert {e.message for e in result.errors} >= {"公民身份号码已脱敏（含*号），不能导入：请填写完整号码。"}
    assert "更新 0 人" in page_update_import(client, page_export(client, org="BJ01"))
    assert snapshot(roster.orgs["C1"]) == before


def _row(n: int, **overrides) -> dict:
    gender = MALE if n % 2 else FEMALE
    birth = dt.date(1982, 5, 1) + dt.timedelta(days=41 * n)
    row = {
        "姓名": f"往返测试{n}",
        "性别": "男" if gender == MALE else "女",
        "民族": "汉族",
        "出生日期": birth,
        "公民身份号码": make_id_number(birth, gender, n, "320104"),
        "学历": "",
        "手机号码": "",
        "入党日期": add_years(birth, 24),
        "转正日期": add_years(birth, 25),
        "人员类别": "正式党员",
        "党组织编码": "BJ01A",
        "工作单位": "",
        "党内职务": "",
    }
    row.update(overrides)
    return row


def _xlsx(rows: list[dict], header: list[str]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append([row.get(column) for column in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


NEW_COLUMNS = ["党内职务所在组织编码", "班子成员", "区管干部"]
OLD_COLUMNS = list(_row(0))


def test_new_members_get_their_posts_organizations_and_flags(roster):
    rows = [
        _row(1, 党内职务="书记、委员", 党内职务所在组织编码="BJ01A、BJ01", 班子成员="是", 区管干部="否"),
        _row(2, 党内职务="委员", 班子成员="否", 区管干部="是"),  # no code: the member's own organization
        _row(3),
    ]
    data = _xlsx(rows, OLD_COLUMNS + NEW_COLUMNS)
    result = import_members(io.BytesIO(data), name="r.xlsx", by=roster.user(Role.COMMITTEE))
    assert result.ok, [str(e) for e in result.errors]
    first, second, third = (Member.objects.get(name=f"往返测试{n}") for n in (1, 2, 3))
    assert (first.is_leadership, first.is_district_cadre) == (True, False)
    assert (second.is_leadership, second.is_district_cadre) == (False, True)
    assert (third.is_leadership, third.is_district_cadre) == (False, False)
    assert set(first.posts.values_list("organization__code", "post")) == {
        ("BJ01A", Post.SECRETARY),
        ("BJ01", Post.COMMITTEE_MEMBER),
    }
    assert set(second.posts.values_list("organization__code", "post")) == {("BJ01A", Post.COMMITTEE_MEMBER)}


def test_an_old_file_without_the_new_columns_still_imports_and_leaves_flags_alone(roster):
    cadre = Member.objects.get(name="吴甲四")
    row = _row(0)
    row.update(
        姓名=cadre.name,
        性别=cadre.get_gender_display(),
        出生日期=cadre.birth_date,
        公民身份号码=cadre.id_number,
        入党日期=cadre.join_date,
        转正日期=cadre.full_date,
        手机号码=cadre.phone,
        学历="研究生",
        工作单位="晨曦学校",
        党内职务="委员",
    )
    result = import_members(
        io.BytesIO(_xlsx([row], OLD_COLUMNS)), name="r.xlsx", by=roster.user(Role.COMMITTEE), update=True
    )
    assert result.ok, [str(e) for e in result.errors]
    assert (result.updated, result.unchanged) == (0, 1)
    cadre.refresh_from_db()
    assert (cadre.is_leadership, cadre.is_district_cadre, cadre.version) == (True, True, 0)


@pytest.mark.parametrize(
    ("overrides", "column", "message"),
    [
        (
            {"党内职务": "书记、委员", "党内职务所在组织编码": "BJ01A、BJ01、BJ01B"},
            "党内职务所在组织编码",
            "应一一对应",
        ),
        ({"党内职务": "书记", "党内职务所在组织编码": "NOPE"}, "党内职务所在组织编码", "找不到党组织编码“NOPE”"),
        ({"党内职务": "书记", "党内职务所在组织编码": "LH01"}, "党内职务所在组织编码", "找不到党组织编码“LH01”"),
        ({"班子成员": "也许"}, "班子成员", "应为“是”或“否”"),
    ],
)
def test_bad_new_columns_are_reported_under_their_column(roster, overrides, column, message):
    data = _xlsx([_row(1, **overrides)], OLD_COLUMNS + NEW_COLUMNS)
    result = import_members(io.BytesIO(data), name="r.xlsx", by=roster.user(Role.COMMITTEE))
    assert [(e.row, e.column) for e in result.errors] == [(2, column)], [str(e) for e in result.errors]
    assert message in result.errors[0].message


def test_a_new_post_outside_the_importers_scope_is_refused_but_one_already_held_is_not(roster):
    secretary_user = roster.user(Role.SECRETARY)
    member = Member.objects.get(name="冯甲五")  # in A, holds no post
    row = {
        **_row(0),
        "姓名": member.name,
        "性别": member.get_gender_display(),
        "出生日期": member.birth_date,
        "公民身份号码": member.id_number,
        "入党日期": member.join_date,
        "转正日期": member.full_date,
        "手机号码": member.phone,
        "党内职务": "委员",
        "党内职务所在组织编码": "BJ01",
    }
    result = import_members(
        io.BytesIO(_xlsx([row], OLD_COLUMNS + NEW_COLUMNS)), name="r.xlsx", by=secretary_user, update=True
    )
    assert [(e.column, e.message) for e in result.errors] == [
        ("党内职务所在组织编码", "找不到党组织编码“BJ01”，或该组织不在您的管理范围内。")
    ]
    assert not member.posts.exists()


def test_the_template_holds_and_explains_the_added_columns(roster):
    response = roster.client(Role.SECRETARY).get(reverse("members:import_template"))
    book = load_workbook(io.BytesIO(response.content))
    sheet, notes = book.worksheets
    header = [cell.value for cell in sheet[1]]
    assert header == OLD_COLUMNS + NEW_COLUMNS
    explained = {row[0]: row[1] for row in notes.iter_rows(min_row=2, values_only=True)}
    assert set(header) <= set(explained)
    assert "一一对应" in explained["党内职务所在组织编码"]
    letters = {title: sheet.cell(row=1, column=i).column_letter for i, title in enumerate(header, start=1)}
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists[f"{letters['班子成员']}2"] == lists[f"{letters['区管干部']}2"] == '"是,否"'
    assert sheet.column_dimensions[letters["党内职务所在组织编码"]].number_format == "@"


def test_a_probationary_member_may_keep_a_post_but_gets_no_new_one(roster):
    member = Member.objects.get(name="褚甲六")
    row = {
        **_row(0),
        "姓名": member.name,
        "性别": member.get_gender_display(),
        "出生日期": member.birth_date,
        "公民身份号码": member.id_number,
        "入党日期": member.join_date,
        "转正日期": None,
        "人员类别": "预备党员",
        "手机号码": member.phone,
        "党内职务": "委员、书记",
    }
    result = import_members(
        io.BytesIO(_xlsx([row], OLD_COLUMNS)), name="r.xlsx", by=roster.user(Role.COMMITTEE), update=True
    )
    assert [(e.column, e.message) for e in result.errors] == [("党内职务", "预备党员不能担任党内职务。")]
    row["党内职务"] = "委员"
    result = import_members(
        io.BytesIO(_xlsx([row], OLD_COLUMNS)), name="r.xlsx", by=roster.user(Role.COMMITTEE), update=True
    )
    assert result.ok and (result.updated, result.unchanged) == (0, 1), [str(e) for e in result.errors]


def test_an_export_in_the_old_columns_round_trips_too(roster, tmp_path):
    # A file of the 13 original columns (an export made before the posts' organizations were written, or a
    # copy with the added columns cut off): a post given without its organization's code matches the post of
    # that name the member holds wherever it lies, and is added in their own organization only when they hold
    # none; the flags are left as they are.
    before = snapshot(roster.orgs["C1"])
    path = export_command(tmp_path)
    book = load_workbook(path)
    book.active.delete_cols(14, 3)
    book.save(path)
    assert [c.value for c in load_workbook(path).active[1]] == OLD_COLUMNS
    out = import_command(path, "--update", "--as", "world_committee")
    assert out == f"更新 0 人，无变化 {count(roster.orgs['C1'])} 人"
    assert snapshot(roster.orgs["C1"]) == before
