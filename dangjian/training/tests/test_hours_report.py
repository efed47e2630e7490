"""The hours_report command: both header rows exactly, one row per member or child organization, hours with one
decimal, masked ID numbers, rates with %, the aligned table, and the refusals (an organization outside the --as
user's scope reads exactly like an unknown code; unknown users, bad years).

The world (tests/scope.py): R (BJ) > C1 (BJ01) > {A (BJ01A), B (BJ01B)}, X (LH) > XB (LH01)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from dangjian.core.validators import mask_id_number
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.training.models import HoursKind, HoursPolicy
from dangjian.training.tests.factories import HoursPolicyFactory, credit

YEAR = 2025
MEMBER_HEADER = "党员姓名,公民身份号码(脱敏),所在党组织,要求学时,已完成学时,差额,状态"
CHILDREN_HEADER = "党组织编码,党组织名称,党员数,已达标人数,达标率"


@pytest.fixture(autouse=True)
def rules(db):
    HoursPolicy.objects.update(active=False)
    HoursPolicyFactory(owner=None, required_hours=Decimal("32"), online_cap=Decimal("8"), valid_from=2020)


def run(*args) -> str:
    out = io.StringIO()
    call_command("hours_report", *args, stdout=out)
    return out.getvalue()


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_members_as_csv(world):
    a1, a2 = world.members["A"]
    credit(a1, "30", on=dt.date(YEAR, 3, 1))
    credit(a1, "12", HoursKind.ONLINE, on=dt.date(YEAR, 4, 1))  # 4 beyond the cap of 8
    credit(a2, "10.5", on=dt.date(YEAR, 5, 1))
    text = run("--year", str(YEAR), "--org", "BJ01A", "--format", "csv")
    assert text.splitlines()[0] == MEMBER_HEADER
    rows = {row[0]: row for row in csv_rows(text)[1:]}
    assert rows[a1.name] == [a1.name, mask_id_number(a1.id_number), "高一年级党支部", "32.0", "38.0", "0.0", "已达标"]
    assert rows[a2.name] == [a2.name, mask_id_number(a2.id_number), "高一年级党支部", "32.0", "10.5", "21.5", "未达标"]
    assert a1.id_number not in text and a2.id_number not in text
    assert len(rows) == 2


def test_members_of_a_subtree_and_the_default_level(world):
    text = run("--year", str(YEAR), "--org", "BJ01", "--format", "csv")
    rows = csv_rows(text)
    assert ",".join(rows[0]) == MEMBER_HEADER
    assert {row[0] for row in rows[1:]} == world.member_names("A", "B")
    assert all(row[3:] == ["32.0", "0.0", "32.0", "未达标"] for row in rows[1:])


def test_children_as_csv(world):
    OrganizationFactory(parent=world.orgs["C1"], code="BJ01C", name="高三年级党支部", kind=OrgKind.BRANCH)
    a1, _ = world.members["A"]
    credit(a1, "32", on=dt.date(YEAR, 3, 1))
    credit(world.members["B"][0], "40", on=dt.date(YEAR, 3, 1))
    MemberFactory(organization=world.orgs["B"])
    text = run("--year", str(YEAR), "--org", "BJ01", "--level", "children", "--format", "csv")
    lines = text.splitlines()
    assert lines[0] == CHILDREN_HEADER
    assert lines[1:] == [
        "BJ01A,高一年级党支部,2,1,50.0%",
        "BJ01B,高二年级党支部,2,1,50.0%",
        "BJ01C,高三年级党支部,0,0,0.0%",
    ]
    top = run("--year", str(YEAR), "--org", "BJ", "--level", "children", "--format", "csv").splitlines()
    assert top == [CHILDREN_HEADER, "BJ01,滨江一中党委,4,2,50.0%"]


def test_children_of_a_branch_is_the_branch_itself(world):
    """An organization without children is its own row (the report was empty)."""
    credit(world.members["A"][0], "32", on=dt.date(YEAR, 3, 1))
    lines = run("--year", str(YEAR), "--org", "BJ01A", "--level", "children", "--format", "csv").splitlines()
    assert lines == [CHILDREN_HEADER, "BJ01A,高一年级党支部,2,1,50.0%"]
    empty = OrganizationFactory(parent=world.orgs["C1"], code="BJ01D", name="新建党支部", kind=OrgKind.BRANCH)
    lines = run("--year", str(YEAR), "--org", empty.code, "--level", "children", "--format", "csv").splitlines()
    assert lines == [CHILDREN_HEADER, "BJ01D,新建党支部,0,0,0.0%"]


def test_the_rate_has_one_decimal(world):
    for _ in range(5):
        MemberFactory(organization=world.orgs["A"])
    credit(world.members["A"][0], "32", on=dt.date(YEAR, 3, 1))
    lines = run("--year", str(YEAR), "--org", "BJ01", "--level", "children", "--format", "csv").splitlines()
    assert lines[1] == "BJ01A,高一年级党支部,7,1,14.3%"  # 1/7 = 14.29%


def test_without_format_an_aligned_table(world):
    text = run("--year", str(YEAR), "--org", "BJ01", "--level", "children")
    lines = text.splitlines()
    assert lines[0].split() == CHILDREN_HEADER.split(",")
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["BJ01A", "高一年级党支部", "2", "0", "0.0%"]
    members = run("--year", str(YEAR), "--org", "BJ01A").splitlines()
    assert members[0].split() == MEMBER_HEADER.split(",")
    assert len(members) == 2 + 2


def test_as_a_user_the_report_is_scoped(world):
    text = run("--year", str(YEAR), "--org", "BJ01A", "--format", "csv", "--as", "world_secretary")
    assert {row[0] for row in csv_rows(text)[1:]} == world.member_names("A")
    text = run("--year", str(YEAR), "--org", "BJ01", "--format", "csv", "--as", "world_committee")
    assert {row[0] for row in csv_rows(text)[1:]} == world.member_names("A", "B")
    with pytest.raises(CommandError):  # the committee's root is BJ01, not BJ
        run("--year", str(YEAR), "--org", "BJ", "--as", "world_committee")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--org", "BJ01B", "--as", "world_secretary"), "找不到党组织编码“BJ01B”，或该组织不在您的管理范围内。"),
        (("--org", "LH", "--as", "world_committee"), "找不到党组织编码“LH”，或该组织不在您的管理范围内。"),
        (("--org", "NOPE"), "找不到党组织编码“NOPE”，或该组织不在您的管理范围内。"),
        (("--org", "BJ01", "--as", "world_audit_admin"), "找不到党组织编码“BJ01”，或该组织不在您的管理范围内。"),
        (("--org", "BJ01", "--as", "nobody"), "找不到用户“nobody”"),
    ],
    ids=["out-of-scope", "other-tree", "unknown-code", "admin-sees-no-members", "unknown-user"],
)
def test_refusals(world, args, message):
    with pytest.raises(CommandError) as caught:
        run("--year", str(YEAR), *args)
    assert message in str(caught.value)


def test_an_out_of_scope_org_answers_like_an_unknown_one(world):
    messages = []
    for code in ("BJ01B", "ZZ99"):
        with pytest.raises(CommandError) as caught:
            run("--year", str(YEAR), "--org", code, "--as", "world_secretary")
        messages.append(str(caught.value).replace(code, "CODE"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("year", ["1999", "abcd"])
def test_a_bad_year_is_refused(world, year):
    with pytest.raises(CommandError):
        run("--year", year, "--org", "BJ01")


def test_a_bad_level_or_format_is_refused(world):
    with pytest.raises(CommandError):
        run("--year", str(YEAR), "--org", "BJ01", "--level", "branches")
    with pytest.raises(CommandError):
        run("--year", str(YEAR), "--org", "BJ01", "--format", "xml")


def test_a_name_that_looks_like_a_formula_is_written_as_text(world):
    member = world.members["A"][0]
    member.name = "=HYPERLINK(1)"
    member.save()
    text = run("--year", str(YEAR), "--org", "BJ01A", "--format", "csv")
    assert "'=HYPERLINK(1)" in text


def test_the_command_is_refused_with_a_nonzero_exit(world, capsys):
    from django.core.management import execute_from_command_line

    with pytest.raises(SystemExit) as caught:
        execute_from_command_line(["manage.py", "hours_report", "--year", str(YEAR), "--org", "NOPE"])
    assert caught.value.code != 0
    assert "找不到党组织编码" in capsys.readouterr().err
