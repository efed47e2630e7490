"""The roster export (导出): the filtered, in-scope rows in the import template's columns; masking by role;
no formula injection; an export by a full-view role equal to the database; every export audited; the
command."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.members.models import Category, Education, Member, Post
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory
from dangjian.orgs.tests.factories import UnitFactory

# The import template's header, written out here so that a change to either side fails a test.
COLUMNS = [
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
    "党内职务所在组织编码",
    "班子成员",
    "区管干部",
]
URL = "/members/export.xlsx"

# Which members each role's export holds (by the world's places), and whether it shows them in full.
EXPORTS = {
    Role.COMMITTEE: ({"A", "B"}, True),
    Role.SECRETARY: ({"A"}, True),
    Role.SCHOOL_ADMIN: ({"A", "B"}, False),
    Role.INSTRUCTOR: ({"B"}, False),
}


def workbook(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def sheet_rows(response) -> list[list]:
    return [list(row) for row in workbook(response).active.iter_rows(values_only=True)]


def rows_by_name(response) -> dict[str, dict]:
    rows = sheet_rows(response)
    assert rows[0] == COLUMNS
    return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}


def exports() -> int:
    return AuditEvent.objects.filter(action=AuditAction.EXPORT).count()


def as_date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def test_the_header_is_the_import_templates(world):
    assert sheet_rows(world.client(Role.COMMITTEE).get(URL))[0] == COLUMNS


@pytest.mark.parametrize("role", EXPORTS)
def test_each_role_exports_exactly_its_scope(world, role):
    places, _ = EXPORTS[role]
    rows = rows_by_name(world.client(role).get(URL))
    assert set(rows) == world.member_names(*places)
    assert "李外一" not in rows  # the other tree, nobody's scope


def test_the_member_exports_only_themself_in_full(world):
    rows = rows_by_name(world.client(Role.MEMBER).get(URL))
    me = world.self_member
    assert set(rows) == {me.name}
    assert rows[me.name]["公民身份号码"] == me.id_number


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_roles_that_do_not_see_members_get_403(world, role):
    before = exports()
    assert world.client(role).get(URL).status_code == 403
    assert exports() == before


def test_anonymous_is_sent_to_login(world):
    response = world.client(None).get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "params", "expected"),
    [
        (Role.COMMITTEE, {"org": "BJ01A"}, {"赵甲一", "钱甲二"}),
        (Role.COMMITTEE, {"org": "BJ01B"}, {"孙乙一"}),
        (Role.COMMITTEE, {"category": "probationary"}, {"钱甲二"}),
        (Role.COMMITTEE, {"org": "BJ01A", "category": "full"}, {"赵甲一"}),
        (Role.COMMITTEE, {"q": "甲"}, {"赵甲一", "钱甲二"}),
        (Role.COMMITTEE, {"status": "deceased"}, set()),
        (Role.SECRETARY, {"q": "乙"}, set()),  # 孙乙一 is in the sibling branch
        (Role.COMMITTEE, {"org": "BJ01A", "page": "2", "per_page": "1"}, {"赵甲一", "钱甲二"}),  # no paging
    ],
    ids=[
        "org-branch-a",
        "org-branch-b",
        "probationary",
        "org-and-category",
        "name",
        "deceased",
        "secretary-sibling",
        "ignores-paging",
    ],
)
def test_the_export_holds_exactly_the_filtered_rows(world, role, params, expected):
    assert set(rows_by_name(world.client(role).get(URL, params))) == expected


def test_the_export_equals_the_list_for_the_same_filters(world):
    MemberFactory.create_batch(30, organization=world.orgs["A"])
    client = world.client(Role.COMMITTEE)
    params = {"org": "BJ01", "category": "full"}
    listed = client.get("/members/", {**params, "per_page": 200}).context["page"].object_list
    rows = sheet_rows(client.get(URL, params))[1:]
    # Same rows in the same order (name, then pk).
    assert [row[4] for row in rows] == [m.id_number for m in listed]


def export_by_search(client, q: str, **filters):
    """The list's search box sent to the export (POST, so no number enters a URL), followed to the file."""
    return client.post(reverse("members:search"), {"q": q, "to": "export", **filters}, follow=True)


@pytest.mark.parametrize(
    ("q", "expected"),
    [("13800000003", {"孙乙一"}), ("13800000004", set()), ("1380000000", set())],
    ids=["phone", "phone-out-of-scope", "phone-prefix"],
)
def test_the_search_by_whole_phone_number_exports_the_match(world, q, expected):
    assert set(rows_by_name(export_by_search(world.client(Role.COMMITTEE), q))) == expected


def test_the_search_by_full_id_number_exports_the_match(world):
    target = world.members["B"][0]
    assert set(rows_by_name(export_by_search(world.client(Role.COMMITTEE), target.id_number))) == {target.name}


@pytest.mark.parametrize("code", ["LH01", "NOSUCH", "BJ01B"])
def test_a_rejected_filter_exports_nothing(world, code):
    """An organization out of scope (or unknown) is a filter error, as on the list: no file, no export."""
    before = exports()
    response = world.client(Role.SECRETARY).get(URL, {"org": code}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/members/?")
    text = response.content.decode()
    assert "未导出：" in text
    assert f"找不到党组织编码“{code}”" in text
    assert exports() == before


def test_post_is_refused(world):
    assert world.client(Role.COMMITTEE).post(URL).status_code == 405


# ---------------------------------------------------------------------------------------------------------
# Masking by role


@pytest.mark.parametrize("role", EXPORTS)
def test_id_numbers_and_phones_are_masked_unless_the_role_sees_them_in_full(world, role):
    places, full = EXPORTS[role]
    rows = rows_by_name(world.client(role).get(URL))
    for place in places:
        for member in world.members[place]:
            row = rows[member.name]
            if full:
                assert (row["公民身份号码"], row["手机号码"]) == (member.id_number, member.phone)
            else:
                assert (row["公民身份号码"], row["手机号码"]) == (
                    mask_id_number(member.id_number),
                    mask_phone(member.phone),
                )
    # No full number of anybody else (nor, masked, of anybody) anywhere in the file.
    shown = {m.id_number for place in places for m in world.members[place]} if full else set()
    cells = [str(cell) for row in sheet_rows(world.client(role).get(URL)) for cell in row]
    for ms in world.members.values():
        for member in ms:
            if member.id_number not in shown:
                assert not any(member.id_number in cell for cell in cells), member.name


def test_a_user_with_full_view_over_one_branch_only_sees_that_branch_in_full(world):
    """Full view is per member: a secretary of A who is also instructor of B sees B masked."""
    user = UserFactory()
    grant(user, Role.SECRETARY, world.orgs["A"])
    grant(user, Role.INSTRUCTOR, world.orgs["B"])
    client = world.client(None)
    client.force_login(user)
    response = client.get(URL)
    rows = rows_by_name(response)
    a, b = world.members["A"][0], world.members["B"][0]
    assert rows[a.name]["公民身份号码"] == a.id_number
    assert rows[b.name]["公民身份号码"] == mask_id_number(b.id_number)
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id").detail["masked"] is True


# ---------------------------------------------------------------------------------------------------------
# Formula injection

HOSTILE = ["=1+1", "+SUM(A1:A2)", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "=cmd|' /C calc'!A0"]


def test_cells_that_look_like_formulas_are_written_as_text(world):
    unit = UnitFactory(name='=HYPERLINK("http://evil.example","点击")', organization=world.orgs["A"])
    members = [MemberFactory(name=name, organization=world.orgs["A"], unit=unit) for name in HOSTILE]
    response = world.client(Role.SECRETARY).get(URL)
    content = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(content)).active
    by_name = {}
    for row in ws.iter_rows(min_row=2):
        by_name[row[0].value] = row
    for member in members:
        name = member.name.replace("\r", "\n")  # XML reads a bare carriage return back as a line feed
        row = by_name[name]
        for cell, expected in ((row[0], name), (row[11], unit.name)):
            assert cell.value == expected  # unchanged, so a re-import reads the same text
            assert cell.data_type == "s", (expected, cell.data_type)  # a string, not a formula ("f")
            assert cell.quotePrefix  # Excel shows it as text, even after the cell is edited
    # No formula anywhere in the sheet's XML.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet


def test_ordinary_text_carries_no_quote_prefix(world):
    ws = workbook(world.client(Role.SECRETARY).get(URL)).active
    first = next(ws.iter_rows(min_row=2))
    assert first[0].data_type == "s"
    assert not first[0].quotePrefix


# ---------------------------------------------------------------------------------------------------------
# Round trip: an export by a full-view role holds the database's values, in the template's form.


def expected_row(member: Member) -> dict:
    member = Member.objects.select_related("organization", "unit").get(pk=member.pk)
    current = [p for p in member.posts.order_by("start_date", "pk") if p.is_current]
    held = dict.fromkeys((p.organization.code, p.get_post_display()) for p in current)
    return {
        "姓名": member.name,
        "性别": member.get_gender_display(),
        "民族": member.ethnicity,
        "出生日期": member.birth_date,
        "公民身份号码": member.id_number,
        "学历": member.get_education_display() if member.education else None,
        "手机号码": member.phone or None,
        "入党日期": member.join_date,
        "转正日期": member.full_date,
        "人员类别": member.get_category_display(),
        "党组织编码": member.organization.code,
        "工作单位": member.unit.name if member.unit else None,
        "党内职务": "、".join(label for _, label in held) or None,
        "党内职务所在组织编码": "、".join(code for code, _ in held) or None,
        "班子成员": "是" if member.is_leadership else "否",
        "区管干部": "是" if member.is_district_cadre else "否",
    }


def test_round_trip_an_export_by_a_full_view_role_equals_the_database(world):
    member = world.self_member
    member.education = Education.BACHELOR
    member.unit = world.units["A"]
    member.save()
    start = member.join_date + dt.timedelta(days=800)
    PartyPostFactory(member=member, post=Post.SECRETARY, start_date=start)
    PartyPostFactory(member=member, post=Post.COMMITTEE_MEMBER, start_date=start + dt.timedelta(days=1))
    PartyPostFactory(member=member, post=Post.DEPUTY_SECRETARY, start_date=start, end_date=start + dt.timedelta(1))
    response = world.client(Role.SECRETARY).get(URL)
    ws = workbook(response).active
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == Member.objects.filter(organization=world.orgs["A"]).count()
    for cells in rows:
        row = dict(zip(COLUMNS, cells, strict=True))
        db = expected_row(Member.objects.with_id_number(row["公民身份号码"].value).get())
        values = {k: as_date(c.value) for k, c in row.items()}
        assert values == db
        for column in ("出生日期", "入党日期", "转正日期"):
            if row[column].value is not None:
                assert row[column].is_date and row[column].number_format == "yyyy-mm-dd"
    mine = next(dict(zip(COLUMNS, (c.value for c in r), strict=True)) for r in rows if r[0].value == member.name)
    assert mine["党内职务"] == "书记、委员"  # current posts only
    assert mine["工作单位"] == "晨曦学校"
    assert mine["学历"] == "大学本科"
    probationary = world.members["A"][1]
    other = next(dict(zip(COLUMNS, (c.value for c in r), strict=True)) for r in rows if r[0].value == probationary.name)
    assert other["人员类别"] == Category.PROBATIONARY.label
    assert other["转正日期"] is None


def test_queries_do_not_grow_with_the_number_of_rows(world):
    client = world.client(Role.SECRETARY)
    client.get(URL)  # warm up the session
    counts = []
    for extra in (0, 40):
        MemberFactory.create_batch(extra, organization=world.orgs["A"])
        for member in Member.objects.filter(organization=world.orgs["A"])[:extra]:
            PartyPostFactory(member=member)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL)
            b"".join(response.streaming_content)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


# ---------------------------------------------------------------------------------------------------------
# The audit trail


def test_each_export_is_audited_with_its_filter_rows_and_masking(world):
    before = exports()
    world.client(Role.COMMITTEE).get(URL, {"org": "BJ01A", "category": "full", "page": "3"})
    world.client(Role.SCHOOL_ADMIN).get(URL)
    assert exports() == before + 2
    full, masked = AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("-id")[:2][::-1]
    assert full.actor_id == world.user(Role.COMMITTEE).pk
    assert full.detail["filter"] == {"org": "BJ01A", "category": "full"}
    assert (full.detail["rows"], full.detail["masked"]) == (1, False)
    assert masked.actor_id == world.user(Role.SCHOOL_ADMIN).pk
    assert (masked.detail["rows"], masked.detail["masked"]) == (3, True)


def test_the_audit_never_holds_an_id_number_or_phone_typed_in_the_search(world):
    target = world.members["B"][0]
    export_by_search(world.client(Role.COMMITTEE), target.id_number)
    export_by_search(world.client(Role.COMMITTEE), target.phone)
    first, second = AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("-id")[:2][::-1]
    assert first.detail["filter"] == {"q": mask_id_number(target.id_number)}
    assert first.detail["rows"] == 1
    assert second.detail["filter"] == {"q": mask_phone(target.phone)}
    for event in (first, second):
        text = str(event.detail) + event.object_repr
        assert target.id_number not in text
        assert target.phone not in text


# ---------------------------------------------------------------------------------------------------------
# The command


def run_export(tmp_path, *args) -> tuple[str, str, list[list]]:
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "名册.xlsx"
    call_command("export_members", *args, "--out", str(target), stdout=out, stderr=err)
    rows = [list(r) for r in load_workbook(target).active.iter_rows(values_only=True)]
    return out.getvalue(), err.getvalue(), rows


def test_command_exports_the_subtree_in_the_users_scope(world, tmp_path):
    out, _, rows = run_export(tmp_path, "--org", "BJ01", "--as", "world_committee")
    assert out.strip() == "导出 3 人"
    assert rows[0] == COLUMNS
    assert {r[0] for r in rows[1:]} == world.member_names("A", "B")
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id")
    assert event.actor_id == world.user(Role.COMMITTEE).pk
    assert event.detail == {"filter": {"org": "BJ01"}, "rows": 3, "masked": False, "via": "export_members"}


def test_command_masks_for_a_role_without_full_view(world, tmp_path):
    out, err, rows = run_export(tmp_path, "--org", "BJ01B", "--as", "world_instructor")
    assert out.strip() == "导出 1 人"
    member = world.members["B"][0]
    assert rows[1][4] == mask_id_number(member.id_number)
    assert "脱敏" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--org", "LH01", "--as", "world_committee"],
            "找不到党组织编码“LH01”，或该组织不在用户“world_committee”的管理范围内。",
        ),
        (
            ["--org", "BJ01B", "--as", "world_secretary"],
            "找不到党组织编码“BJ01B”，或该组织不在用户“world_secretary”的管理范围内。",
        ),
        (["--org", "NOSUCH", "--as", "world_committee"], "找不到党组织编码“NOSUCH”"),
        (["--org", "BJ01", "--as", "nobody_here"], "找不到用户“nobody_here”。"),
        (["--org", "BJ01", "--as", "world_audit_admin"], "用户“world_audit_admin”的角色无权查看党员信息。"),
    ],
    ids=["other-tree", "sibling-branch", "unknown-code", "unknown-user", "admin-role"],
)
def test_command_refuses_with_a_chinese_message(world, tmp_path, args, message):
    before = exports()
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_export(tmp_path, *args)
    assert not (tmp_path / "名册.xlsx").exists()
    assert list(tmp_path.iterdir()) == []  # no half-written file either
    assert exports() == before


def test_command_defaults_to_the_system_access_and_says_so(world, tmp_path):
    out, err, rows = run_export(tmp_path, "--org", "LH")
    assert "没有超级用户" in err and "系统身份" in err
    assert out.strip() == "导出 1 人"
    assert rows[1][0] == "李外一"
    assert rows[1][4] == world.members["X"][0].id_number


def test_command_defaults_to_a_superuser(world, tmp_path):
    admin = UserFactory(username="emergency", is_superuser=True, is_staff=True)
    out, err, _ = run_export(tmp_path, "--org", "BJ")
    assert "超级用户“emergency”" in err
    assert out.strip() == "导出 3 人"
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).latest("id").actor_id == admin.pk


def test_command_refuses_an_unwritable_target(world, tmp_path):
    with pytest.raises(CommandError, match="目录不存在"):
        call_command("export_members", "--org", "BJ01", "--out", str(tmp_path / "no" / "x.xlsx"), stdout=io.StringIO())
