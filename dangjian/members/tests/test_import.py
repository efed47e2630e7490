"""The roster import (党员名册导入): each rule, all or nothing, update mode, hostile files, the command and the
page. Workbooks are built in memory with openpyxl.

The world (tests/scope.py): the secretary may edit branch A (BJ01A), the committee user C1's subtree (A and B);
LH01 lies in another tree, outside everybody's scope.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core.uploads import UploadLimits
from dangjian.core.validators import FEMALE, MALE, add_years, mask_id_number
from dangjian.members.imports import TEMPLATE_COLUMNS, _Importer, _MemberPipeline, import_members
from dangjian.members.models import (
    DUPLICATE_ID_MESSAGE,
    UNREGISTRABLE_ID_MESSAGE,
    Category,
    Member,
    PartyPost,
    Post,
    id_number_digest,
)
from dangjian.members.tests.factories import make_id_number

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
]
# Added at the end of the template; a file without them (COLUMNS alone, as every file here) imports as before.
ADDED_COLUMNS = ["党内职务所在组织编码", "班子成员", "区管干部"]
NOT_FOUND = "找不到党组织“{code}”（按编码或名称），或该组织不在您的管理范围内。"
TODAY = timezone.localdate()


def person(n: int = 1, **overrides) -> dict:
    """A valid row (column → value) in branch A; `n` makes the ID number and the phone unique."""
    gender = MALE if n % 2 else FEMALE
    birth = dt.date(1980, 1, 1) + dt.timedelta(days=37 * n)
    row = {
        "姓名": f"导入测试{n}",
        "性别": "男" if gender == MALE else "女",
        "民族": "汉族",
        "出生日期": birth,
        "公民身份号码": make_id_number(birth, gender, n, "110108"),
        "学历": "大学本科",
        "手机号码": f"1370000{n:04d}",
        "入党日期": add_years(birth, 25),
        "转正日期": add_years(birth, 26),
        "人员类别": "正式党员",
        "党组织编码": "BJ01A",
        "工作单位": "",
        "党内职务": "",
    }
    row.update(overrides)
    return row


def xlsx(rows: list[dict], header: list[str] | None = None) -> bytes:
    header = header or COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append([row.get(column) for column in header])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def run(user, rows=None, *, data: bytes | None = None, name: str = "roster.xlsx", **kwargs):
    data = data if data is not None else xlsx(rows)
    return import_members(io.BytesIO(data), name=name, by=user, **kwargs)


def issues(result) -> list[tuple]:
    return [(e.row, e.column, e.message) for e in result.errors]


def only_error(result) -> tuple:
    assert len(result.errors) == 1, issues(result)
    return issues(result)[0]


def imported(n: int = 1):
    return Member.objects.dangerously_all().filter(id_number_digest=id_number_digest(person(n)["公民身份号码"]))


# ---------------------------------------------------------------------------------------------------------
# A good file


def test_a_valid_file_is_imported_with_history_and_one_audit_event(world):
    secretary = world.user(Role.SECRETARY)
    before = AuditEvent.objects.count()
    result = run(secretary, [person(1), person(2), person(3, 人员类别="预备党员", 转正日期=None)])
    assert result.ok, issues(result)
    assert (result.created, result.written, result.summary()) == (3, True, "导入 3 人")
    member = imported(1).get()
    assert (member.name, member.gender, member.organization, member.version) == ("导入测试1", MALE, world.orgs["A"], 0)
    assert member.education == "bachelor" and member.phone == "13700000001"
    assert imported(3).get().category == Category.PROBATIONARY
    record = member.history.get()
    assert (record.history_type, record.history_change_reason, record.history_user) == ("+", "Excel导入", secretary)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("at")
    assert event.action == AuditAction.IMPORT and event.detail["dry_run"] is False and event.detail["written"]
    assert event.detail["created"] == 3 and event.detail["rows"] == 3
    assert person(1)["公民身份号码"] not in str(event.detail) + event.object_repr


def test_the_id_number_is_stored_encrypted(world):
    run(world.user(Role.SECRETARY), [person(1)])
    member = imported(1).get()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number, id_number_digest FROM {Member._meta.db_table} WHERE id = %s",
            [member.pk],
        )
        stored, digest = cursor.fetchone()
    number = person(1)["公民身份号码"]
    assert stored.startswith("enc1:") and number not in stored
    assert digest == id_number_digest(number)
    assert member.id_number == number  # decrypted on read
    assert member.history.get().id_number == number


def test_excel_dates_and_text_dates_read_the_same(world):
    text = person(1, 出生日期=person(1)["出生日期"].isoformat(), 入党日期=person(1)["入党日期"].strftime("%Y/%m/%d"))
    result = run(world.user(Role.SECRETARY), [text, person(2)])
    assert result.ok, issues(result)
    assert imported(1).get().birth_date == person(1)["出生日期"]
    assert imported(1).get().join_date == person(1)["入党日期"]


def test_columns_may_come_in_any_order(world):
    header = list(reversed(COLUMNS))
    result = run(world.user(Role.SECRETARY), data=xlsx([person(1)], header))
    assert result.ok, issues(result)
    assert imported(1).get().name == "导入测试1"


def test_an_extra_column_is_ignored_with_a_warning(world):
    data = xlsx([{**person(1), "备注": "随便写"}], [*COLUMNS, "备注"])
    result = run(world.user(Role.SECRETARY), data=data)
    assert result.ok and result.created == 1
    assert [(w.row, w.column, w.message) for w in result.warnings] == [(1, "备注", "不是模板中的列，已忽略。")]


def test_optional_columns_may_be_left_out(world):
    header = ["姓名", "性别", "出生日期", "公民身份号码", "入党日期", "人员类别", "党组织编码"]
    result = run(world.user(Role.SECRETARY), data=xlsx([person(1)], header))
    assert result.ok, issues(result)
    member = imported(1).get()
    assert (member.ethnicity, member.phone, member.full_date) == ("汉族", "", None)


def test_a_missing_required_column_is_an_error(world):
    header = [c for c in COLUMNS if c != "党组织编码"]
    result = run(world.user(Role.SECRETARY), data=xlsx([person(1)], header))
    assert only_error(result) == (1, "党组织编码", "缺少必填列。")
    assert not imported(1).exists()


def test_the_post_column_creates_a_current_post_in_the_members_organization(world):
    result = run(world.user(Role.SECRETARY), [person(1, 党内职务="书记"), person(2, 党内职务="副书记、委员")])
    assert result.ok and result.posts == 3
    post = PartyPost.objects.get(member=imported(1).get())
    assert (post.post, post.organization, post.start_date, post.end_date) == (
        Post.SECRETARY,
        world.orgs["A"],
        TODAY,
        None,
    )
    assert post.history.get().history_change_reason == "Excel导入"
    assert PartyPost.objects.filter(member=imported(2).get()).count() == 2


def test_the_work_unit_is_matched_by_name_in_scope_else_warned(world):
    rows = [person(1, 工作单位="晨曦学校"), person(2, 工作单位="临湖湖畔培训中心"), person(3, 工作单位="不存在的学校")]
    result = run(world.user(Role.SECRETARY), rows)
    assert result.ok, issues(result)
    assert imported(1).get().unit == world.units["A"]
    assert imported(2).get().unit is None and imported(3).get().unit is None  # X's unit lies outside the scope
    assert [(w.row, w.column) for w in result.warnings] == [(3, "工作单位"), (4, "工作单位")]


# ---------------------------------------------------------------------------------------------------------
# Each rule


def _bad_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


TOMORROW = TODAY + dt.timedelta(days=1)
RULES = {
    "id-checksum": ({"公民身份号码": _bad_check_digit(person(1)["公民身份号码"])}, "公民身份号码", "校验位错误"),
    "id-length": ({"公民身份号码": "11010819800101"}, "公民身份号码", "应为18位"),
    "id-as-number": ({"公民身份号码": 110108198001010011}, "公民身份号码", "存成了数字"),
    "id-masked": ({"公民身份号码": "110108********0011"}, "公民身份号码", "已脱敏"),
    "id-vs-birth": ({"出生日期": dt.date(1980, 1, 2)}, "出生日期", "出生日期与公民身份号码不一致"),
    "id-vs-gender": ({"性别": "女"}, "性别", "性别与公民身份号码不一致"),
    "join-before-18": ({"入党日期": dt.date(1990, 1, 1), "转正日期": dt.date(1991, 1, 1)}, "入党日期", "年满十八周岁"),
    "full-before-join": ({"转正日期": dt.date(2000, 1, 1)}, "转正日期", "转正日期必须晚于入党日期"),
    "probationary-with-full-date": ({"人员类别": "预备党员"}, "转正日期", "预备党员尚未转正"),
    "future-join": ({"入党日期": TOMORROW, "转正日期": None, "人员类别": "预备党员"}, "入党日期", "日期不能晚于今天"),
    "future-full": ({"转正日期": TOMORROW}, "转正日期", "日期不能晚于今天"),
    "bad-date-text": ({"入党日期": "2010年七月"}, "入党日期", "“2010年七月”不是日期"),
    "two-digit-year": ({"入党日期": "10/7/1"}, "入党日期", "年份只有两位"),
    "month-only-date": ({"入党日期": "2010-07"}, "入党日期", "只写到月"),
    "no-such-day": ({"入党日期": "2010-02-30"}, "入党日期", "不是存在的日期"),
    "bad-phone": ({"手机号码": "1234"}, "手机号码", "手机号码格式不正确"),
    "bad-gender": ({"性别": "男的"}, "性别", "性别“男的”无法识别，是否为“男”？可填：男、女。"),
    "bad-category": ({"人员类别": "党员"}, "人员类别", "人员类别“党员”无法识别"),
    "bad-education": ({"学历": "本料"}, "学历", "学历“本料”无法识别，是否为“大学本科”？可填：研究生、大学本科"),
    "bad-ethnicity": ({"民族": "火星族"}, "民族", "56个民族"),
    "ethnicity-typo": ({"民族": "汗族"}, "民族", "是否为“汉族”"),
    "bad-post": ({"党内职务": "组长"}, "党内职务", "无法识别"),
    "probationary-post": (
        {"人员类别": "预备党员", "转正日期": None, "党内职务": "委员"},
        "党内职务",
        "预备党员不能担任",
    ),
    "required-name": ({"姓名": "  "}, "姓名", "必填"),
    "required-org": ({"党组织编码": None}, "党组织编码", "必填"),
    "long-name": ({"姓名": "长" * 51}, "姓名", "50"),
    "unknown-org": ({"党组织编码": "ZZ99"}, "党组织编码", NOT_FOUND.format(code="ZZ99")),
    "org-in-another-tree": ({"党组织编码": "LH01"}, "党组织编码", NOT_FOUND.format(code="LH01")),
    "sibling-org-out-of-scope": ({"党组织编码": "BJ01B"}, "党组织编码", NOT_FOUND.format(code="BJ01B")),
}


@pytest.mark.parametrize("overrides, column, message", RULES.values(), ids=RULES.keys())
def test_each_rule_reports_row_column_and_message(world, overrides, column, message):
    result = run(world.user(Role.SECRETARY), [person(2), person(1, **overrides)])
    row, col, text = only_error(result)
    assert (row, col) == (3, column), issues(result)
    assert message in text
    assert not imported(2).exists()  # all or nothing


def test_an_out_of_scope_code_reads_exactly_like_a_nonexistent_one(world):
    secretary = world.user(Role.SECRETARY)
    outside = only_error(run(secretary, [person(1, 党组织编码="LH01")]))[2]
    missing = only_error(run(secretary, [person(1, 党组织编码="LH99")]))[2]
    assert outside.replace("LH01", "?") == missing.replace("LH99", "?")


def test_the_committee_user_may_import_anywhere_in_its_subtree(world):
    result = run(world.user(Role.COMMITTEE), [person(1, 党组织编码="BJ01B"), person(2, 党组织编码="BJ01")])
    assert result.ok and result.created == 2


def test_a_duplicate_id_number_in_the_file_is_reported_on_both_rows(world):
    twin = person(5, 公民身份号码=person(1)["公民身份号码"], 出生日期=person(1)["出生日期"], 性别=person(1)["性别"])
    result = run(world.user(Role.SECRETARY), [person(1), person(2), twin])
    assert issues(result) == [
        (2, "公民身份号码", "与第4行的公民身份号码重复。"),
        (4, "公民身份号码", "与第2行的公民身份号码重复。"),
    ]


def test_an_id_number_already_registered_is_refused_unless_updating(world):
    existing = world.members["A"][0]
    row = person(
        1,
        公民身份号码=existing.id_number,
        出生日期=existing.birth_date,
        性别="男" if existing.gender == MALE else "女",
        入党日期=existing.join_date,
        转正日期=existing.full_date,
    )
    row_number, column, message = only_error(run(world.user(Role.SECRETARY), [row]))
    assert (row_number, column) == (2, "公民身份号码")
    assert message.startswith(DUPLICATE_ID_MESSAGE)


def test_all_or_nothing_every_error_at_once(world):
    rows = [person(1), person(2, 手机号码="12"), person(3), person(4, 党组织编码="LH01"), person(5)]
    result = run(world.user(Role.SECRETARY), rows)
    assert [(row, column) for row, column, _ in issues(result)] == [(3, "手机号码"), (5, "党组织编码")]
    assert (result.created, result.written) == (0, False)
    assert not any(imported(n).exists() for n in range(1, 6))


def test_rows_already_sent_to_the_database_are_taken_back_on_a_later_error(world, monkeypatch):
    # On PostgreSQL the checked rows go to the database in batches while the rest is checked: with batches of
    # one row, the good rows are sent before the bad one is found.
    monkeypatch.setattr(_MemberPipeline, "BATCH", 1)
    result = run(world.user(Role.SECRETARY), [person(1), person(2), person(3, 手机号码="12"), person(4)])
    assert [(row, column) for row, column, _ in issues(result)] == [(4, "手机号码")]
    assert not any(imported(n).exists() for n in range(1, 5))
    assert run(world.user(Role.SECRETARY), [person(1), person(2)]).created == 2


def test_a_registration_racing_the_import_rolls_it_all_back(world, monkeypatch):
    # Someone registers one of the file's ID numbers between the check and the write: the unique constraint
    # catches it, and the import is refused as a whole.
    existing = world.members["A"][0]
    row = _as_row(existing, 姓名="抢先登记")
    original = _Importer.look_up

    def look_up_missing_the_race(self, *, lock):
        original(self, lock=lock)
        self.existing = {}

    monkeypatch.setattr(_Importer, "look_up", look_up_missing_the_race)
    monkeypatch.setattr(_MemberPipeline, "BATCH", 1)
    result = run(world.user(Role.SECRETARY), [person(1), row, person(2)])
    assert "导入期间有其他人登记了相同公民身份号码的党员" in _file_error(result)
    assert not result.written and not imported(1).exists()
    assert Member.objects.get(pk=existing.pk).name == existing.name


def test_empty_rows_are_skipped_and_numbering_follows_excel(world):
    data = xlsx([person(1), {}, person(2, 手机号码="12")])
    result = run(world.user(Role.SECRETARY), data=data)
    assert issues(result) == [(4, "手机号码", issues(result)[0][2])]
    assert result.rows == 2


def test_a_dry_run_writes_nothing_but_its_audit_record(world):
    before = (Member.objects.dangerously_all().count(), AuditEvent.objects.count())
    result = run(world.user(Role.SECRETARY), [person(1), person(2)], dry_run=True)
    assert result.ok and result.created == 2 and not result.written
    assert [row.name for row in result.preview] == ["导入测试1", "导入测试2"]
    assert result.preview[0].masked_id_number == mask_id_number(person(1)["公民身份号码"])
    assert (Member.objects.dangerously_all().count(), AuditEvent.objects.count()) == (before[0], before[1] + 1)
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.detail["dry_run"], event.detail["written"]) == (AuditAction.IMPORT, True, False)


# ---------------------------------------------------------------------------------------------------------
# Update mode


def _as_row(member, **overrides) -> dict:
    row = {
        "姓名": member.name,
        "性别": member.get_gender_display(),
        "民族": member.ethnicity,
        "出生日期": member.birth_date,
        "公民身份号码": member.id_number,
        "学历": member.get_education_display() if member.education else "",
        "手机号码": member.phone,
        "入党日期": member.join_date,
        "转正日期": member.full_date,
        "人员类别": member.get_category_display(),
        "党组织编码": member.organization.code,
        "工作单位": "",
        "党内职务": "",
    }
    row.update(overrides)
    return row


def test_update_mode_changes_only_what_differs_and_records_history(world):
    secretary = world.user(Role.SECRETARY)
    changed, same = world.members["A"]
    rows = [_as_row(changed, 手机号码="13911112222", 学历="研究生"), _as_row(same), person(1)]
    result = run(secretary, rows, update=True)
    assert result.ok, issues(result)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert result.summary() == "导入 1 人，更新 1 人，无变化 1 人"
    changed_after = Member.objects.get(pk=changed.pk)
    assert (changed_after.phone, changed_after.education) == ("13911112222", "postgraduate")
    assert changed_after.version == changed.version + 1
    assert changed_after.name == changed.name and changed_after.join_date == changed.join_date
    record = changed_after.history.order_by("-history_id").first()
    assert (record.history_type, record.history_change_reason, record.history_user) == ("~", "Excel导入", secretary)
    assert record.phone == "13911112222" and record.id_number == changed.id_number
    same_after = Member.objects.get(pk=same.pk)
    assert same_after.version == same.version and same_after.history.count() == same.history.count()
    assert [row.action for row in result.preview] == ["更新", "无变化", "新增"]
    assert result.preview[0].changes == ["学历", "手机号码"]


def test_update_mode_refuses_a_member_outside_the_scope(world):
    outside = world.members["B"][0]  # branch B: the secretary's sibling branch
    row = _as_row(outside, 党组织编码="BJ01A")  # even to move them into the secretary's own branch
    row_number, column, message = only_error(run(world.user(Role.SECRETARY), [row], update=True))
    assert (row_number, column) == (2, "公民身份号码")
    # The secretary cannot see branch B: the answer says nothing of where, or whether, the number is registered.
    assert message == UNREGISTRABLE_ID_MESSAGE


def test_update_mode_moves_a_member_inside_the_scope(world):
    member = world.members["A"][0]
    result = run(world.user(Role.COMMITTEE), [_as_row(member, 党组织编码="BJ01B")], update=True)
    assert result.ok and result.updated == 1
    assert Member.objects.get(pk=member.pk).organization == world.orgs["B"]


def test_update_mode_leaves_missing_columns_alone(world):
    member = world.members["A"][0]
    header = ["姓名", "性别", "出生日期", "公民身份号码", "入党日期", "人员类别", "党组织编码"]
    result = run(world.user(Role.SECRETARY), data=xlsx([_as_row(member, 姓名="改名测试")], header), update=True)
    assert result.ok and result.updated == 1
    after = Member.objects.get(pk=member.pk)
    assert (after.name, after.phone, after.full_date) == ("改名测试", member.phone, member.full_date)


def test_an_export_by_a_full_view_role_reimports_unchanged(world):
    from dangjian.members.exports import write_members_xlsx

    committee = world.user(Role.COMMITTEE)
    out = io.BytesIO()
    write_members_xlsx(Member.objects.editable_by(committee).order_by("pk"), out, user=committee)
    result = run(committee, data=out.getvalue(), update=True)
    assert result.ok, issues(result)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)


# ---------------------------------------------------------------------------------------------------------
# Hostile files


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _file_error(result) -> str:
    assert result.errors and result.errors[0].row is None, issues(result)
    return result.file_error


def test_a_file_that_is_not_an_xlsx_is_refused(world):
    assert "不是有效的 .xlsx" in _file_error(run(world.user(Role.SECRETARY), data=b"\x00not a zip" * 50))


def test_a_text_file_renamed_is_refused_by_its_extension(world):
    result = run(world.user(Role.SECRETARY), data="姓名,性别\n".encode(), name="roster.txt")
    assert "只接受 .xlsx" in _file_error(result)


def test_a_zip_without_a_workbook_is_refused(world):
    data = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<not a workbook"})
    assert "无法读取" in _file_error(run(world.user(Role.SECRETARY), data=data))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world):
    data = xlsx([person(1)])
    bomb = _zip({**_entries(data), "xl/media/padding.bin": b"\0" * 5_000_000})
    result = run(world.user(Role.SECRETARY), data=bomb)
    assert "压缩炸弹" in _file_error(result)
    assert not imported(1).exists()


def test_a_file_over_the_size_limit_is_refused(world):
    limits = UploadLimits(max_bytes=1024, max_entries=1000, max_unpacked_bytes=10**8, max_ratio=100)
    result = run(world.user(Role.SECRETARY), [person(1)], limits=limits)
    assert "文件过大" in _file_error(result)


def test_more_rows_than_the_limit_are_refused(world, settings):
    settings.DANGJIAN_IMPORT_MAX_ROWS = 2
    result = run(world.user(Role.SECRETARY), [person(1), person(2), person(3)])
    assert "数据行数超过上限" in _file_error(result) and "2 行" in result.file_error


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


ENTITIES = (
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
    '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


@pytest.mark.parametrize("reference", ["&xxe;", "&c;"], ids=["external-entity", "entity-expansion"])
def test_xml_entity_tricks_are_refused_with_a_message(world, reference):
    entries = _entries(xlsx([person(1)]))
    sheet = entries["xl/worksheets/sheet1.xml"].decode()
    sheet = ENTITIES + re.sub(r"<\?xml[^>]*\?>", "", sheet).replace("导入测试1", reference, 1)
    entries["xl/worksheets/sheet1.xml"] = sheet.encode()
    # How fast it is refused is measured by bench/checks_bench.py, not asserted here.
    result = run(world.user(Role.SECRETARY), data=_zip(entries))
    assert "无法解析" in _file_error(result)
    assert not imported(1).exists()


def test_a_doctype_without_entity_references_is_harmless(world):
    entries = _entries(xlsx([person(1)]))
    sheet = re.sub(r"<\?xml[^>]*\?>", "", entries["xl/worksheets/sheet1.xml"].decode())
    entries["xl/worksheets/sheet1.xml"] = (ENTITIES + sheet).encode()
    result = run(world.user(Role.SECRETARY), data=_zip(entries))
    assert result.ok and imported(1).get().name == "导入测试1"  # nothing expanded, nothing read from disk


def _with_text_cell(rows: list[dict], cell: str, value: str) -> bytes:
    """The workbook of `rows` with `cell` holding `value` as text (as Excel stores text typed as '=…)."""
    wb = load_workbook(io.BytesIO(xlsx(rows)))
    target = wb.active[cell]
    target.value = value
    target.data_type = "s"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_text_that_looks_like_a_formula_is_read_as_text(world):
    data = _with_text_cell([person(1)], "A2", "=1+1")
    result = run(world.user(Role.SECRETARY), data=data, dry_run=True)
    assert result.ok and result.preview[0].name == "=1+1"


# ---------------------------------------------------------------------------------------------------------
# The command


def _command(tmp_path, rows=None, *args, data: bytes | None = None):
    target = tmp_path / "roster.xlsx"
    target.write_bytes(data if data is not None else xlsx(rows))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_members", str(target), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_and_prints_the_count(world, tmp_path):
    out, _ = _command(tmp_path, [person(1), person(2)], "--as", "world_secretary")
    assert out.strip() == "导入 2 人"
    assert imported(1).get().history.get().history_user == world.user(Role.SECRETARY)


def test_command_dry_run_writes_nothing(world, tmp_path):
    out, _ = _command(tmp_path, [person(1)], "--dry-run", "--as", "world_secretary")
    assert out.strip().startswith("校验通过，可导入 1 人")
    assert not imported(1).exists()


def test_command_update_prints_the_updated_count(world, tmp_path):
    member = world.members["A"][0]
    out, _ = _command(tmp_path, [_as_row(member, 手机号码="13911113333")], "--update", "--as", "world_secretary")
    assert out.strip() == "更新 1 人"


def test_command_lists_every_error_and_exits_non_zero(world, tmp_path):
    rows = [person(1, 手机号码="12"), person(2, 党组织编码="LH01")]
    with pytest.raises(CommandError, match="共 2 处错误，未写入任何数据"):
        _command(tmp_path, rows, "--as", "world_secretary")
    assert not imported(1).exists()


def test_command_error_lines_are_row_column_message(world, tmp_path, capsys):
    rows = [person(1, 手机号码="12"), {**person(2, 党组织编码="LH01"), "备注": "x"}]
    target = tmp_path / "roster.xlsx"
    target.write_bytes(xlsx(rows, [*COLUMNS, "备注"]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_members", str(target), "--as", "world_secretary", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0] == "警告：第1行 备注: 不是模板中的列，已忽略。"
    assert lines[1].startswith("第2行 手机号码: 手机号码格式不正确")
    assert lines[2] == "第3行 党组织编码: " + NOT_FOUND.format(code="LH01")


def test_command_refuses_a_hostile_file_with_a_message(world, tmp_path):
    err = io.StringIO()
    target = tmp_path / "roster.xlsx"
    target.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CommandError):
        call_command("import_members", str(target), "--as", "world_secretary", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().startswith("错误：")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as", "nobody"], "找不到用户“nobody”"),
        (["--as", "world_school_admin"], "无权导入党员信息"),
    ],
)
def test_command_refuses_unknown_users_and_roles_that_cannot_edit(world, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        _command(tmp_path, [person(1)], *args)


def test_command_defaults_to_the_system_access_and_says_so(world, tmp_path):
    out, err = _command(tmp_path, [person(1, 党组织编码="LH01")])
    assert out.strip() == "导入 1 人"
    assert "以系统身份导入" in err


def test_command_names_a_missing_file(world, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_members", str(tmp_path / "none.xlsx"), stdout=io.StringIO(), stderr=io.StringIO())


# ---------------------------------------------------------------------------------------------------------
# The page


@pytest.fixture
def import_dir(settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    return settings.DANGJIAN_IMPORT_DIR


def _upload(client, rows=None, *, data: bytes | None = None, update: bool = False):
    upload = io.BytesIO(data if data is not None else xlsx(rows))
    upload.name = "名册.xlsx"
    payload = {"file": upload}
    if update:
        payload["update"] = "on"
    return client.post(reverse("members:import"), payload)


def _token(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode()) or re.search(
        r"token=([A-Za-z0-9_-]+)", response.content.decode()
    )
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_the_page_shows_the_form_and_the_template_link(world, import_dir):
    response = world.client(Role.SECRETARY).get(reverse("members:import"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body and reverse("members:import_template") in body


def test_the_template_has_the_exact_header(world):
    response = world.client(Role.SECRETARY).get(reverse("members:import_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    # The 13 columns first and in order, the columns added later at the end.
    assert [cell.value for cell in sheet[1]] == [*COLUMNS, *ADDED_COLUMNS] == list(TEMPLATE_COLUMNS)
    assert all(cell.font.bold for cell in sheet[1])


def test_the_template_imports_as_an_empty_roster(world):
    response = world.client(Role.SECRETARY).get(reverse("members:import_template"))
    result = run(world.user(Role.SECRETARY), data=response.content)
    assert "没有党员数据" in _file_error(result)


def test_upload_with_errors_shows_the_table_and_an_annotated_download(world, import_dir):
    client = world.client(Role.SECRETARY)
    response = _upload(client, [person(1), person(2, 手机号码="12", 党组织编码="LH01"), person(3)])
    assert response.status_code == 200
    body = response.content.decode()
    assert "校验未通过，未写入任何数据" in body and 'id="error-table"' in body
    assert "手机号码格式不正确" in body and NOT_FOUND.format(code="LH01") in body
    assert not imported(1).exists()

    download = client.get(reverse("members:import_errors"), {"token": _token(response)})
    assert download.status_code == 200
    rows = [list(r) for r in load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values]
    assert rows[0] == [*COLUMNS, "错误说明"]
    assert rows[1][-1] is None and rows[3][-1] is None
    assert rows[2][-1].startswith("手机号码: 手机号码格式不正确") and "党组织编码: 找不到党组织“LH01”" in rows[2][-1]
    assert rows[2][0] == "导入测试2"
    assert rows[1][3] == dt.datetime.combine(person(1)["出生日期"], dt.time())  # still a date
    assert rows[1][4] == person(1)["公民身份号码"]  # still text


def test_the_annotated_copy_of_a_corrected_file_has_one_error_column(world, import_dir):
    client = world.client(Role.SECRETARY)
    first = _upload(client, [person(1, 手机号码="12")])
    annotated = b"".join(client.get(reverse("members:import_errors"), {"token": _token(first)}).streaming_content)
    second = _upload(client, data=annotated)  # uploaded again as it is: the same error, 错误说明 ignored
    rows = list(
        load_workbook(
            io.BytesIO(
                b"".join(client.get(reverse("members:import_errors"), {"token": _token(second)}).streaming_content)
            )
        ).active.values
    )
    assert list(rows[0]).count("错误说明") == 1


def test_the_annotated_copy_never_turns_text_into_a_formula(world, import_dir):
    client = world.client(Role.SECRETARY)
    data = _with_text_cell([person(1, 手机号码="12")], "A2", '=HYPERLINK("http://example.com","x")')
    response = _upload(client, data=data)
    download = client.get(reverse("members:import_errors"), {"token": _token(response)})
    cell = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active["A2"]
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("http://example.com","x")')


def test_upload_preview_confirm_writes_and_redirects(world, import_dir):
    client = world.client(Role.SECRETARY)
    response = _upload(client, [person(1), person(2)])
    body = response.content.decode()
    assert response.status_code == 200 and 'id="import-preview"' in body and "导入测试1" in body
    assert not imported(1).exists()
    token = _token(response)
    confirmed = client.post(reverse("members:import"), {"token": token, "confirm": "1"}, follow=True)
    assert confirmed.redirect_chain[-1][0] == reverse("members:list")
    assert "导入 2 人" in confirmed.content.decode()
    assert imported(1).exists() and imported(2).exists()
    assert not list(import_dir.glob("*/*"))  # the stored upload is gone
    again = client.post(reverse("members:import"), {"token": token, "confirm": "1"})
    assert again.status_code == 404


def test_update_mode_through_the_page(world, import_dir):
    client = world.client(Role.SECRETARY)
    member = world.members["A"][0]
    response = _upload(client, [_as_row(member, 手机号码="13911114444")], update=True)
    assert "更新 <strong>1</strong> 人" in response.content.decode()
    client.post(reverse("members:import"), {"token": _token(response), "confirm": "1"})
    assert Member.objects.get(pk=member.pk).phone == "13911114444"


def test_cancel_drops_the_stored_upload(world, import_dir):
    client = world.client(Role.SECRETARY)
    token = _token(_upload(client, [person(1)]))
    assert client.post(reverse("members:import"), {"token": token, "cancel": "1"}).status_code == 302
    assert not list(import_dir.glob("*/*"))
    assert not imported(1).exists()


def test_the_stored_upload_is_encrypted(world, import_dir):
    _upload(world.client(Role.SECRETARY), [person(1)])
    stored = next(import_dir.glob("*/*.bin")).read_bytes()
    assert b"[Content_Types]" not in stored and not stored.startswith(b"PK")


def test_a_token_belongs_to_its_user(world, import_dir):
    token = _token(_upload(world.client(Role.SECRETARY), [person(1, 手机号码="12")]))
    other = world.client(Role.COMMITTEE)
    assert other.get(reverse("members:import_errors"), {"token": token}).status_code == 404
    assert other.post(reverse("members:import"), {"token": token, "confirm": "1"}).status_code == 404
    assert other.get(reverse("members:import_errors"), {"token": "../../etc/passwd"}).status_code == 404


def test_an_expired_token_is_not_found(world, import_dir, settings):
    client = world.client(Role.SECRETARY)
    token = _token(_upload(client, [person(1)]))
    settings.DANGJIAN_IMPORT_TTL_SECONDS = -1
    assert client.post(reverse("members:import"), {"token": token, "confirm": "1"}).status_code == 404
    assert not imported(1).exists()


def test_a_hostile_upload_shows_a_message_not_a_crash(world, import_dir):
    response = _upload(world.client(Role.SECRETARY), data=b"not an xlsx at all")
    assert response.status_code == 200
    assert "文件未能导入" in response.content.decode()
    assert not list(import_dir.glob("*/*"))


def test_the_errors_download_without_a_token_goes_back_to_the_form(world, import_dir):
    response = world.client(Role.SECRETARY).get(reverse("members:import_errors"))
    assert response.status_code == 302 and response["Location"] == reverse("members:import")


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_roles_that_cannot_edit_members_get_403(world, import_dir, role):
    client = world.client(role)
    assert client.get(reverse("members:import")).status_code == 403
    assert _upload(client, [person(1)]).status_code == 403
    assert client.get(reverse("members:import_template")).status_code == 403
    assert client.get(reverse("members:import_errors"), {"token": "x" * 43}).status_code == 403
    assert not imported(1).exists()


def test_anonymous_is_sent_to_login(world):
    for name in ("members:import", "members:import_template", "members:import_errors"):
        response = world.client(None).get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
