"""A study record credits hours through the ledger (and reverses exactly what no longer holds); attachments (types,
content, the lock); the yearly ledger page and its Word document; the calendar; the compliance export and chart."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core.docx import docx_text
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife import services
from dangjian.orglife.models import ActivityKind, RecordAttachment, RecordCorrection
from dangjian.orglife.selectors.compliance import compliance_for
from dangjian.orglife.selectors.ledger import ledger_of, month_calendar
from dangjian.orglife.tests.factories import PNG, ActivityRecordFactory
from dangjian.training.models import HoursEntry, MemberHoursYear
from dangjian.training.selectors.ledger import hours_discrepancies

TODAY = timezone.localdate()


def _png(name="现场照片.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _total(member) -> Decimal:
    row = MemberHoursYear.objects.filter(member=member, year=TODAY.year).first()
    return row.total if row else Decimal("0")


# ---------------------------------------------------------------------------------------------------------
# Hours


def test_a_study_record_credits_each_present_member(world):
    secretary = world.user(Role.SECRETARY)
    first, second = world.members["A"]
    record = services.record_create(
        by=secretary,
        organization=world.orgs["A"],
        kinds=[ActivityKind.SELF_STUDY],
        date=TODAY,
        topic="集中学习党章",
        attendees=[first],
        absentees={second: "出差"},
        credit_hours="2",
    )
    assert _total(first) == Decimal("2.0")
    assert _total(second) == Decimal("0")
    entry = HoursEntry.objects.get(member=first)
    assert entry.kind == "concentrated" and entry.date == TODAY and "集中学习党章" in entry.document
    assert record.hours_credits.count() == 1

    # The absent member turns out to have attended; the hours change: exactly the difference is written.
    services.record_update(by=secretary, record=record, attendees=[first, second], credit_hours="1.5")
    assert (_total(first), _total(second)) == (Decimal("1.5"), Decimal("1.5"))
    assert HoursEntry.objects.filter(member=first).count() == 3  # credit, reversal, new credit
    # Dropping the hours reverses everything the record credited; the ledger keeps the history.
    services.record_update(by=secretary, record=record, credit_hours=None)
    assert (_total(first), _total(second)) == (Decimal("0.0"), Decimal("0.0"))
    assert not hours_discrepancies(year=TODAY.year)


def test_an_unchanged_attendance_writes_nothing_new(world):
    secretary = world.user(Role.SECRETARY)
    first, _ = world.members["A"]
    record = services.record_create(
        by=secretary,
        organization=world.orgs["A"],
        kinds=["self_study"],
        date=TODAY,
        topic="学习",
        attendees=[first],
        credit_hours=1,
    )
    services.record_update(by=secretary, record=record, topic="学习（修订）")
    assert HoursEntry.objects.filter(member=first).count() == 1


@pytest.mark.parametrize(
    ("hours", "message"),
    [("-1", "学时必须大于0"), ("1.3", "0.5的整数倍"), ("9", "不能超过8"), ("abc", "学时应为数字")],
)
def test_bad_credit_hours_save_nothing(world, hours, message):
    with pytest.raises(ValidationError, match=message) as exc:
        services.record_create(
            by=world.user(Role.SECRETARY),
            organization=world.orgs["A"],
            kinds=["self_study"],
            date=TODAY,
            topic="学习",
            attendees=world.members["A"][:1],
            credit_hours=hours,
        )
    assert "credit_hours" in exc.value.message_dict
    assert not HoursEntry.objects.exists()


def test_a_correction_of_a_locked_record_moves_the_hours(world):
    secretary = world.user(Role.SECRETARY)
    first, second = world.members["A"]
    old = ActivityRecordFactory(
        organization=world.orgs["A"], date=TODAY - dt.timedelta(days=60), attendance=[(first, True), (second, False)]
    )
    services.record_correct(by=secretary, record=old, reason="补记学时", credit_hours="2")
    assert _total(first) == Decimal("2.0") and _total(second) == Decimal("0")
    correction = RecordCorrection.objects.get(record=old)
    assert correction.changes["credit_hours"] == [None, "2.0"]


# ---------------------------------------------------------------------------------------------------------
# Attachments


def test_attachments_are_checked_and_served_in_scope(world):
    secretary = world.user(Role.SECRETARY)
    record = ActivityRecordFactory(organization=world.orgs["A"])
    stored = services.attachments_add(by=secretary, record=record, files=[_png()], kind="sign_in")
    assert [a.name for a in stored] == ["现场照片.png"]
    url = f"/orglife/records/{record.pk}/attachments/{stored[0].pk}/"
    response = world.client(Role.COMMITTEE).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    other = ActivityRecordFactory(organization=world.orgs["B"])
    assert (
        world.client(Role.SECRETARY).get(f"/orglife/records/{other.pk}/attachments/{stored[0].pk}/").status_code == 404
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("脚本.exe", b"MZ\x90\x00"), "只能是PDF"),
        (SimpleUploadedFile("假图片.png", b"<html><script>"), "内容与扩展名"),
        (SimpleUploadedFile("空.pdf", b""), "空文件"),
    ],
)
def test_bad_attachments_save_nothing(world, upload, message):
    record = ActivityRecordFactory(organization=world.orgs["A"])
    with pytest.raises(ValidationError, match=message):
        services.attachments_add(by=world.user(Role.SECRETARY), record=record, files=[upload])
    assert not RecordAttachment.objects.exists()


def test_a_locked_record_takes_attachments_only_with_a_reason(world):
    secretary = world.user(Role.SECRETARY)
    old = ActivityRecordFactory(organization=world.orgs["A"], date=TODAY - dt.timedelta(days=60))
    with pytest.raises(ValidationError, match="须填写原因"):
        services.attachments_add(by=secretary, record=old, files=[_png()])
    services.attachments_add(by=secretary, record=old, files=[_png("签到表.png")], reason="补传签到表")
    correction = RecordCorrection.objects.get(record=old)
    assert correction.changes == {"attachments": [[], ["签到表.png"]]}
    with pytest.raises(ValidationError, match="记录已锁定"):
        services.attachment_remove(by=secretary, attachment=old.attachments.get())
    assert old.attachments.count() == 1


def test_the_quick_form_takes_photos(world):
    a = world.orgs["A"]
    first, second = world.members["A"]
    response = world.client(Role.SECRETARY).post(
        f"/orglife/records/new/?org={a.code}",
        {
            "kinds": ["theme_day"],
            "date": TODAY.isoformat(),
            "topic": "带照片的主题党日",
            f"present_{first.pk}": "on",
            f"present_{second.pk}": "on",
            "attachments": [_png("一.png"), _png("二.png")],
            "attachment_kind": "photo",
        },
    )
    assert response.status_code == 302
    assert sorted(RecordAttachment.objects.values_list("name", flat=True)) == ["一.png", "二.png"]


def test_removing_an_attachment_while_open(world):
    record = ActivityRecordFactory(organization=world.orgs["A"])
    attachment = services.attachments_add(by=world.user(Role.SECRETARY), record=record, files=[_png()])[0]
    url = f"/orglife/records/{record.pk}/attachments/{attachment.pk}/remove/"
    assert world.client(Role.INSTRUCTOR).post(url).status_code == 404  # B's instructor does not see A's record
    assert world.client(Role.SECRETARY).post(url).status_code == 302
    assert not RecordAttachment.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Ledger, calendar, compliance export


def test_the_ledger_lists_the_year_in_date_order_as_a_word_document(world):
    a = world.orgs["A"]
    first, second = world.members["A"]
    year = TODAY.year - 1
    ActivityRecordFactory(organization=a, date=dt.date(year, 9, 1), topic="九月主题党日", minutes="学习了讲话精神")
    ActivityRecordFactory(
        organization=a,
        date=dt.date(year, 3, 5),
        topic="三月党小组会",
        kinds=["group_meeting"],
        attendance=[(first, True), (second, False)],
    )
    ActivityRecordFactory(organization=world.orgs["B"], date=dt.date(year, 4, 1), topic="乙支部的活动")
    ledger = ledger_of(by=world.user(Role.SECRETARY), org=a, year=year)
    assert [e.record.topic for e in ledger.entries] == ["三月党小组会", "九月主题党日"]
    assert ledger.entries[0].attendance_rate == 50
    assert {row.organization.pk for row in ledger.duty_rows} == {a.pk}

    client = world.client(Role.SECRETARY)
    page = client.get("/orglife/ledger/", {"org": a.code, "year": year})
    body = page.content.decode()
    assert page.status_code == 200 and body.index("三月党小组会") < body.index("九月主题党日")
    assert "乙支部的活动" not in body
    response = client.get("/orglife/ledger/", {"org": a.code, "year": year, "format": "docx"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    paragraphs, tables = docx_text(response.content)
    text = "\n".join(paragraphs)
    assert f"{a.name}{year}年度组织生活台账" in text
    assert text.index("三月党小组会") < text.index("九月主题党日")
    cells = {cell for table in tables for row in table for cell in row}
    assert "学习了讲话精神" in cells and "主题党日" in cells


def test_the_calendar_shows_the_month_and_what_is_still_due(world):
    a = world.orgs["A"]
    month = dt.date(TODAY.year, TODAY.month, 1)
    ActivityRecordFactory(organization=a, date=month, topic="本月主题党日", kinds=["theme_day"])
    cal = month_calendar(by=world.user(Role.SECRETARY), org=a, month=month, today=TODAY)
    day = next(d for week in cal.weeks for d in week if d.date == month)
    assert [r.topic for r in day.records] == ["本月主题党日"]
    open_kinds = {row.duty.kind for row in cal.open_duties}
    assert "theme_day" not in open_kinds and "group_meeting" in open_kinds
    page = world.client(Role.SECRETARY).get("/orglife/calendar/", {"org": a.code, "year": TODAY.year, "month": 13})
    assert page.status_code == 200 and "月份应为1到12" in page.content.decode()


def test_compliance_export_and_chart_by_child(world):
    year = TODAY.year - 1
    ActivityRecordFactory(organization=world.orgs["A"], date=dt.date(year, 6, 1), kinds=["life_meeting"])
    report = compliance_for(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], year=year)
    children = report.by_child()
    assert children[0].own and children[0].name == world.orgs["C1"].name
    by_name = {c.name: c for c in children}
    assert by_name[world.orgs["A"].name].done == 1
    assert by_name[world.orgs["B"].name].done == 0
    response = world.client(Role.COMMITTEE).get("/orglife/compliance/", {"org": "BJ01", "year": year, "format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("党组织编码", "党组织名称", "活动类型", "要求次数", "已开展次数", "参会率(%)", "状态")
    assert ("BJ01A", world.orgs["A"].name, "组织生活会", 1, 1, None, "已完成") in rows


def test_a_member_is_listed_by_name_only_if_visible(world):
    a = world.orgs["A"]
    outsider = MemberFactory(organization=world.orgs["XB"], name="临湖外人")
    record = ActivityRecordFactory(organization=a, date=TODAY, attendance=[(world.members["A"][0], True)])
    record.attendances.create(member=outsider, present=True)
    ledger = ledger_of(by=world.user(Role.SECRETARY), org=a, year=TODAY.year)
    entry = next(e for e in ledger.entries if e.record.pk == record.pk)
    assert "临湖外人" not in entry.present and entry.hidden_count == 1
