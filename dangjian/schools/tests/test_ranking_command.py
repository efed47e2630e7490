"""python manage.py rank_schools --year YYYY [--org CODE] [--format csv] [--as USERNAME] [--publish]: the CSV
output exactly, the readable table, the scope, publication, and every error (a Chinese CommandError)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.schools.models import RectificationTask, SchoolEvaluation, SchoolRanking
from dangjian.schools.tests.factories import PartySchoolFactory, ranked_schools

YEAR = timezone.localdate().year - 1
HEADER = "学校编码,学校名称,综合得分,名次,等次"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rank_schools", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def five(world):
    names = ["东湖业余党校", "西湖业余党校", "南湖业余党校", "北湖业余党校", "中湖业余党校"]
    return ranked_schools(world.orgs["A"], YEAR, ["91.5", "88", "86.25", "80", "70"], names=names)


def test_csv_output_is_exactly_the_header_and_one_row_per_school(world, five):
    out, _ = run("--year", str(YEAR), "--format", "csv")
    c = [s.code for s in five]
    assert out.splitlines() == [
        HEADER,
        f"{c[0]},东湖业余党校,91.50,1,示范",
        f"{c[1]},西湖业余党校,88.00,2,示范",
        f"{c[2]},南湖业余党校,86.25,3,示范",
        f"{c[3]},北湖业余党校,80.00,4,优秀",
        f"{c[4]},中湖业余党校,70.00,5,不合格",
    ]
    assert out.endswith("\n") and "\r" not in out


def test_csv_is_quoted_by_the_csv_module_and_ties_share_a_place(world):
    schools = ranked_schools(
        world.orgs["A"], YEAR, [90, 80, 80, 70], field=[90, 60, 65, 70], names=["甲校", "乙校,分校", "丙校", "丁校"]
    )
    out, _ = run("--year", str(YEAR), "--org", "BJ01", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == HEADER.split(",")
    assert rows[1:] == [
        [schools[0].code, "甲校", "90.00", "1", "示范"],
        [schools[2].code, "丙校", "80.00", "2", "示范"],  # equal composites share the place, whatever the field check
        [schools[1].code, "乙校,分校", "80.00", "2", "示范"],
        [schools[3].code, "丁校", "70.00", "4", "不合格"],
    ]


def test_the_default_output_is_a_table_with_subsidy_and_tie_notes(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 80, 60], field=[90, 85, 70, 75, 60], names=list("甲乙丙丁戊"))
    out, err = run("--year", str(YEAR))
    lines = out.splitlines()
    assert lines[0] == f"{YEAR}年度党校考评排名（全部范围，5所党校）"
    assert lines[3].split() == ["学校编码", "学校名称", "综合得分", "名次", "等次", "补助（元）", "并列说明"]
    assert "20000.00" in lines[4]
    # 丙 and 丁 tie on 80 across the 示范/优秀 boundary: the same place, grade 待定, the committee to decide.
    assert lines[6].split()[1:6] == ["丁", "80.00", "3", "待定（示范/优秀）", "待定"]  # listed by name
    assert lines[7].split()[1:6] == ["丙", "80.00", "3", "待定（示范/优秀）", "待定"]
    assert "与丁并列第3名，示范/优秀分界落在并列之间（示范1所，优秀1所），待工委会议决定" in out
    assert "按实地检查得分排序" not in out
    assert lines[-1] == "合计：示范2所，优秀0所，合格0所，不合格1所，待定2所；补助合计40000.00元。"
    assert "并列待决定：第3名丁、丙（综合得分80.00）并列于示范/优秀分界" in err


def test_publishing_an_undecided_tie_is_a_command_error(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 80, 60], names=list("甲乙丙丁戊"))
    with pytest.raises(CommandError, match="须由工委会议决定各校等次并记录理由后才能发布"):
        run("--year", str(YEAR), "--org", "BJ01", "--publish")
    assert not SchoolRanking.objects.exists()


def test_org_limits_the_ranking_to_its_subtree(world, five):
    in_b = ranked_schools(world.orgs["B"], YEAR, [99])
    out, _ = run("--year", str(YEAR), "--org", "BJ01B", "--format", "csv")
    assert out.splitlines() == [HEADER, f"{in_b[0].code},{in_b[0].name},99.00,1,示范"]
    out, _ = run("--year", str(YEAR), "--org", "BJ01", "--format", "csv")
    assert len(out.splitlines()) == 7


def test_as_a_user_ranks_within_their_scope(world, five):
    ranked_schools(world.orgs["B"], YEAR, [99])
    out, _ = run("--year", str(YEAR), "--format", "csv", "--as", world.user(Role.SECRETARY).username)
    assert [line.split(",")[0] for line in out.splitlines()[1:]] == [s.code for s in five]


def test_incomplete_evaluations_are_reported_on_stderr_only(world, five):
    pending = PartySchoolFactory(organization=world.orgs["A"], name="待录入党校")
    SchoolEvaluation.objects.create(school=pending, year=YEAR)
    out, err = run("--year", str(YEAR), "--format", "csv")
    assert len(out.splitlines()) == 6
    assert "待录入党校" not in out
    assert "另有1所党校考评尚未录入完整，未参加排名：待录入党校" in err


def test_publish_writes_the_ranking(world, five):
    _, err = run("--year", str(YEAR), "--org", "BJ01", "--format", "csv", "--publish")
    assert SchoolRanking.objects.filter(scope=world.orgs["C1"], year=YEAR).count() == 5
    assert RectificationTask.objects.get().school == five[4]
    assert "已发布" in err
    run("--year", str(YEAR), "--org", "BJ01", "--publish")
    assert SchoolRanking.objects.count() == 5
    assert RectificationTask.objects.count() == 1


ERRORS = {
    "no-year": ([], "请用 --year 指定考评年度，如 --year 2024。"),
    "year-not-a-number": (["--year", "二〇二四"], "考评年度“二〇二四”不正确：请填写2000至2100之间的四位年份。"),
    "year-too-early": (["--year", "1999"], "考评年度“1999”不正确：请填写2000至2100之间的四位年份。"),
    "unknown-org": (["--year", str(YEAR), "--org", "NOPE"], "找不到党组织编码“NOPE”，或该组织不在您的管理范围内。"),
    "bad-format": (["--year", str(YEAR), "--format", "xlsx"], "不支持的输出格式“xlsx”，可选：csv、table。"),
    "unknown-user": (["--year", str(YEAR), "--as", "nobody"], "找不到用户“nobody”。"),
    "publish-without-org": (["--year", str(YEAR), "--publish"], "发布排名须用 --org 指定排名范围（党组织编码）。"),
    "empty-year": (["--year", "2001"], "2001年度范围内没有已完成考评的党校，无法排名。"),
    "empty-org": (
        ["--year", str(YEAR), "--org", "LH"],
        f"{YEAR}年度“临湖县教育工委”范围内没有已完成考评的党校，无法排名。",
    ),
}


@pytest.mark.parametrize(("args", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_errors_are_chinese_command_errors(world, five, args, message):
    with pytest.raises(CommandError) as exc:
        run(*args)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    ("role", "args", "message"),
    [
        (Role.MEMBER, [], "该用户的角色无权查看党校考评。"),
        (Role.SECRETARY, ["--org", "LH"], "找不到党组织编码“LH”，或该组织不在您的管理范围内。"),
        (Role.SECRETARY, ["--org", "BJ01A", "--publish"], "您的角色无权管理该党校（或该组织）的党校工作。"),
    ],
    ids=["no-school-role", "org-out-of-scope", "publish-without-managing-role"],
)
def test_as_a_user_without_the_rights(world, five, role, args, message):
    with pytest.raises(CommandError) as exc:
        run("--year", str(YEAR), "--as", world.user(role).username, *args)
    assert str(exc.value) == message
    assert not SchoolRanking.objects.exists()


def test_an_inactive_user_is_refused(world, five):
    user = world.user(Role.COMMITTEE)
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="已停用"):
        run("--year", str(YEAR), "--as", user.username)
