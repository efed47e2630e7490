"""Hours earned elsewhere (学时导入, docs/imports.md): lists from other platforms credited to the ledger, tolerant as
the roster import, all or nothing, scoped to the uploader, and never credited twice. The files are in tests/data
(see the README of dangjian/members/tests/data): the ID-number lists name the members that excel97.xls registers.

The world (tests/scope.py): the committee user runs C1's subtree (BJ01A, BJ01B); LH01 lies outside it.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.members.imports import import_members
from dangjian.members.models import Member
from dangjian.training.models import HoursEntry, HoursKind, MemberHoursYear
from dangjian.training.services.hours_import import import_hours
from dangjian.training.services.ledger import hours_reverse

HERE = Path(__file__).parent / "data"
ROSTERS = Path(__file__).parents[2] / "members" / "tests" / "data"


@pytest.fixture
def roster(world):
    """The three members of excel97.xls (周明远, 吴静怡, 郑海涛), registered in BJ01A."""
    with (ROSTERS / "excel97.xls").open("rb") as stream:
        assert import_members(stream, name="excel97.xls", by=world.user(Role.COMMITTEE)).written
    return {m.name: m for m in Member.objects.dangerously_all().filter(name__in=["周明远", "吴静怡", "郑海涛"])}


def run(world, name: str, *, role: str = Role.COMMITTEE, **kwargs):
    with (HERE / name).open("rb") as stream:
        return import_hours(stream, name=name, by=world.user(role), **kwargs)


def totals(member) -> dict:
    return {row.year: row.total for row in MemberHoursYear.objects.filter(member=member)}


def test_an_online_academy_export_is_credited_once(world, roster):
    result = run(world, "hours_online_academy.xlsx")
    assert [str(e) for e in result.errors] == []
    assert (result.written, result.created, result.hours) == (True, 5, Decimal("10.0"))
    entries = HoursEntry.objects.filter(member__in=roster.values())
    assert set(entries.values_list("kind", "source")) == {(HoursKind.ONLINE, "省干部网络学院")}
    assert totals(roster["周明远"]) == {2026: Decimal("3.5")}
    assert totals(roster["吴静怡"]) == {2026: Decimal("4.5")}
    again = run(world, "hours_online_academy.xlsx")
    assert (again.ok, again.created, again.skipped) == (True, 0, 5)  # the same file again adds nothing
    assert entries.count() == 5


def test_a_reversed_entry_is_not_credited_again_by_the_same_file(world, roster):
    run(world, "hours_online_academy.xlsx")
    entry = HoursEntry.objects.filter(member=roster["郑海涛"]).get()
    hours_reverse(by=world.user(Role.COMMITTEE), entry=entry, reason="平台撤销")
    assert run(world, "hours_online_academy.xlsx").created == 0


def test_members_by_name_and_organization_with_a_source_for_the_file(world):
    result = run(world, "hours_by_name.csv")
    assert (result.file_error and "来源" in result.file_error) or any(e.column == "来源" for e in result.errors)
    result = run(world, "hours_by_name.csv", source="区委组织部")
    assert [str(e) for e in result.errors] == [] and result.created == 3
    entries = HoursEntry.objects.filter(source="区委组织部")
    assert set(entries.values_list("kind", flat=True)) == {HoursKind.CONCENTRATED}
    assert set(entries.values_list("date", flat=True)) == {__import__("datetime").date(2026, 7, 8)}  # the period's end
    assert sorted(entries.values_list("member__name", "hours")) == [
        ("孙乙一", Decimal("4.5")),
        ("赵甲一", Decimal("8.0")),
        ("钱甲二", Decimal("8.0")),
    ]


def test_bad_rows_refuse_the_whole_file_and_out_of_scope_reads_like_unknown(world, roster):
    # 湖畔一 (row 7) is registered in LH01, outside the committee's scope: the same message as an unknown number.
    with (ROSTERS / "lh_roster.xlsx").open("rb") as stream:
        assert import_members(stream, name="lh_roster.xlsx", by=Access.system_access()).written
    result = run(world, "hours_bad.xlsx")
    by_row = {e.row: (e.column, e.message) for e in result.errors}
    assert sorted(by_row) == [4, 5, 6, 7, 8]
    assert by_row[4] == ("学时", "学时应为数字。")
    assert by_row[5] == ("学时", "学时应为0.5的整数倍（如1、1.5、2）。")
    assert by_row[6] == by_row[7] == ("公民身份号码", "找不到该公民身份号码的党员，或该党员不在您的管理范围内。")
    assert by_row[8] == ("日期", "日期不能晚于今天。")
    assert not result.written and not HoursEntry.objects.filter(member__in=roster.values()).exists()


def test_the_same_row_twice_in_a_file_is_an_error(world, roster, tmp_path):
    row = "110101198105144013,2,线上,2026-03-15,某学院,党史\n"
    text = "身份证号码,学时,学习形式,完成时间,来源,课程名称\n" + row * 2
    path = tmp_path / "twice.csv"
    path.write_bytes(text.encode("gbk"))
    with path.open("rb") as stream:
        result = import_hours(stream, name="twice.csv", by=world.user(Role.COMMITTEE))
    assert [str(e) for e in result.errors] == ["第3行 课程名称: 与第2行重复（同一来源、党员、课程和日期）。"]


def test_a_secretary_may_not_import_hours(world):
    with pytest.raises(Exception, match="无权导入学时"):
        run(world, "hours_by_name.csv", role=Role.SECRETARY, source="x")


def test_every_run_leaves_one_audit_record_without_id_numbers(world, roster):
    before = AuditEvent.objects.filter(action=AuditAction.IMPORT).count()
    run(world, "hours_bad.xlsx")
    event = AuditEvent.objects.filter(action=AuditAction.IMPORT).order_by("-pk").first()
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == before + 1
    assert event.detail["event"] == "import_hours" and event.detail["errors"] == 5
    assert "110101" not in str(event.detail)


def test_the_command_prints_the_count_and_the_ledger_verifies(world, roster):
    out, err = io.StringIO(), io.StringIO()
    path = str(HERE / "hours_online_academy.xlsx")
    call_command("import_hours", path, "--dry-run", "--as", "world_committee", stdout=out, stderr=err)
    assert out.getvalue().strip() == "校验通过，可导入 5 条学时（未写入：--dry-run）"
    out = io.StringIO()
    call_command("import_hours", path, "--as", "world_committee", stdout=out, stderr=err)
    assert out.getvalue().strip() == "导入 5 条学时"
    out = io.StringIO()
    call_command("import_hours", path, "--as", "world_committee", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == ["导入 0 条学时", "已导入过的 5 条未重复导入。"]
    verified = io.StringIO()
    call_command("verify_hours", stdout=verified)
    assert "一致" in verified.getvalue()


def test_the_command_takes_a_source_and_lists_errors(world, roster):
    out, err = io.StringIO(), io.StringIO()
    path = str(HERE / "hours_by_name.csv")
    call_command("import_hours", path, "--source", "区委组织部", "--as", "world_committee", stdout=out, stderr=err)
    assert out.getvalue().strip() == "导入 3 条学时"
    err = io.StringIO()
    with pytest.raises(CommandError, match="共 5 处错误"):
        call_command("import_hours", str(HERE / "hours_bad.xlsx"), "--as", "world_committee", stdout=out, stderr=err)
    assert err.getvalue().splitlines()[0].startswith("第4行 学时: ")


def test_the_page_previews_then_credits(world, roster, settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    client = world.client(Role.COMMITTEE)
    assert client.get(reverse("training:hours_import")).status_code == 200
    upload = io.BytesIO((HERE / "hours_online_academy.xlsx").read_bytes())
    upload.name = "hours_online_academy.xlsx"
    body = client.post(reverse("training:hours_import"), {"file": upload}).content.decode()
    assert 'id="import-preview"' in body and "省干部网络学院" in body
    token = body.split('name="token" value="')[1].split('"')[0]
    response = client.post(reverse("training:hours_import"), {"token": token, "confirm": "1"})
    assert response.status_code == 302
    assert HoursEntry.objects.filter(source="省干部网络学院").count() == 5


def test_the_page_is_refused_to_a_member(world):
    assert world.client(Role.MEMBER).get(reverse("training:hours_import")).status_code == 403
