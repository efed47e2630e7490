"""The orglife_report command (exact CSV header and rows, its errors) and the pages: scope (a secretary sees their
branch only), the quick form, the correction path, query counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core import summaries
from dangjian.orglife.models import ActivityKind, ActivityRecord, RecordCorrection
from dangjian.orglife.tests.factories import ActivityRecordFactory

TODAY = timezone.localdate()
HEADER = "党组织编码,党组织名称,活动类型,要求次数,已开展次数,状态"


def _report(*args) -> list[str]:
    out = io.StringIO()
    call_command("orglife_report", *args, stdout=out)
    return out.getvalue().splitlines()


def test_csv_header_and_rows(world):
    a = world.orgs["A"]
    ActivityRecordFactory(organization=a, date=dt.date(2024, 5, 8), kinds=[ActivityKind.LIFE_MEETING])
    lines = _report("--org", "BJ01", "--year", "2024", "--format", "csv")
    assert lines[0] == HEADER
    assert "BJ01A,高一年级党支部,组织生活会,1,1,已完成" in lines
    assert "BJ01A,高一年级党支部,主题党日,12,0,未完成" in lines
    assert "BJ01,滨江一中党委,中心组学习,6,0,未完成" in lines
    # The committee's five duties, each branch's eleven: the world's branches have fewer than 7 full members, so
    # they have a secretary, not a committee, and owe no 支委会.
    assert len(lines) == 1 + 5 + 11 + 11
    assert not [line for line in lines if ",支委会," in line]
    q = _report("--org", "BJ01A", "--year", "2024", "--quarter", "2", "--format", "csv")
    assert "BJ01A,高一年级党支部,主题党日,3,0,未完成" in q
    table = _report("--org", "BJ01A", "--year", "2024")
    assert table[0].split() == HEADER.split(",")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "NOPE", "--year", "2024"], "找不到党组织编码"),
        (["--org", "LH01", "--year", "2024", "--as", "world_secretary"], "找不到党组织编码"),
        (["--org", "BJ01A", "--year", "99"], "年度应为"),
        (["--org", "BJ01A", "--year", "2024", "--quarter", "5"], "季度应为"),
        (["--org", "BJ01A", "--year", "2024", "--as", "nobody"], "找不到用户"),
    ],
)
def test_command_errors(world, args, message):
    with pytest.raises(CommandError, match=message):
        _report(*args)


def test_committee_opens_its_subtree_records_and_can_ask_for_its_own(world):
    ActivityRecordFactory(organization=world.orgs["A"], topic="甲支部主题党日", date=TODAY)
    ActivityRecordFactory(organization=world.orgs["B"], topic="乙支部主题党日", date=TODAY)
    ActivityRecordFactory(organization=world.orgs["C1"], topic="党委中心组学习", date=TODAY)
    ActivityRecordFactory(organization=world.orgs["XB"], topic="外区主题党日", date=TODAY)
    client = world.client(Role.COMMITTEE)
    url = reverse("orglife:record_list")
    body = client.get(url).content.decode()
    # Not an empty page: the committee's own and its branches' records, each branch's named; nothing outside.
    assert all(topic in body for topic in ("甲支部主题党日", "乙支部主题党日", "党委中心组学习"))
    assert "高一年级党支部" in body and "外区主题党日" not in body
    own = client.get(url, {"org": "BJ01", "sub": "own", "year": TODAY.year}).content.decode()
    assert "党委中心组学习" in own and "甲支部主题党日" not in own
    branch = client.get(url, {"org": "BJ01A", "year": TODAY.year}).content.decode()
    assert "甲支部主题党日" in branch and "乙支部主题党日" not in branch


def test_secretary_sees_their_branch_only(world):
    ActivityRecordFactory(organization=world.orgs["A"], topic="甲支部主题党日")
    ActivityRecordFactory(organization=world.orgs["B"], topic="乙支部主题党日")
    client = world.client(Role.SECRETARY)
    body = client.get("/orglife/").content.decode()
    assert "甲支部主题党日" in body and "乙支部主题党日" not in body
    assert client.get("/orglife/", {"org": "BJ01B"}).context["org"] is None
    with pytest.raises(CommandError):
        _report("--org", "BJ01B", "--year", "2024", "--as", "world_secretary")


def test_quick_form_prefills_every_member_and_saves(world):
    client = world.client(Role.SECRETARY)
    a = world.orgs["A"]
    page = client.get("/orglife/records/new/", {"org": a.code})
    assert page.status_code == 200
    first, second = world.members["A"]
    assert page.context["form"][f"present_{first.pk}"].value() is True
    assert page.context["form"]["date"].value() == TODAY
    response = client.post(
        f"/orglife/records/new/?org={a.code}",
        {
            "kinds": ["theme_day", "group_meeting"],
            "date": TODAY.isoformat(),
            "topic": "五月主题党日",
            f"present_{first.pk}": "on",
            f"reason_{second.pk}": "病假",
        },
    )
    record = ActivityRecord.objects.get(topic="五月主题党日")
    assert response.status_code == 302
    assert record.attendances.get(member=second).absence_reason == "病假"
    assert record.attendances.get(member=first).present


def test_quick_form_refuses_a_future_date_with_a_message(world):
    a = world.orgs["A"]
    response = world.client(Role.SECRETARY).post(
        f"/orglife/records/new/?org={a.code}",
        {"kinds": ["theme_day"], "date": (TODAY + dt.timedelta(days=3)).isoformat(), "topic": "未来"},
    )
    assert response.status_code == 200
    assert "活动日期不能晚于今天" in response.content.decode()
    assert not ActivityRecord.objects.exists()


def test_editing_a_locked_record_goes_through_the_correction(world):
    a = world.orgs["A"]
    old = ActivityRecordFactory(organization=a, date=TODAY - dt.timedelta(days=60), topic="旧主题")
    client = world.client(Role.SECRETARY)
    data = {"kinds": ["theme_day"], "date": old.date.isoformat(), "topic": "新主题"}
    response = client.post(f"/orglife/records/{old.pk}/edit/", data)
    assert response.status_code == 200 and "更正原因" in response.content.decode()
    old.refresh_from_db()
    assert old.topic == "旧主题"
    response = client.post(f"/orglife/records/{old.pk}/edit/", {**data, "reason": "笔误"})
    assert response.status_code == 302
    assert RecordCorrection.objects.get(record=old).reason == "笔误"
    assert "笔误" in client.get(f"/orglife/records/{old.pk}/").content.decode()


def test_page_query_counts_do_not_grow(world, django_assert_max_num_queries, monkeypatch):
    # The query count of computing the page, not of reading its kept figures (core.summaries).
    monkeypatch.setattr(summaries, "cached", lambda topics, name, parts, compute, **kw: compute())
    a = world.orgs["A"]
    for i in range(15):
        ActivityRecordFactory(organization=a, date=TODAY - dt.timedelta(days=i), kinds=["theme_day", "self_study"])
    client = world.client(Role.COMMITTEE)
    with django_assert_max_num_queries(12):
        assert client.get("/orglife/", {"org": a.code, "year": TODAY.year}).status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get("/orglife/compliance/", {"org": "BJ01", "year": TODAY.year}).status_code == 200


def test_compliance_rows_filter_by_duty_status_and_name_and_page(world):
    client = world.client(Role.COMMITTEE)
    url = reverse("orglife:compliance")
    base = {"org": "BJ01", "year": 2024}
    everything = client.get(url, base).context["page"]
    assert everything.paginator.count == 5 + 11 + 11  # the committee's duties and each branch's
    by_duty = client.get(url, {**base, "duty": "主题党日"}).context["page"]
    assert {row.duty.label for row in by_duty} == {"主题党日"} and by_duty.paginator.count == 2
    by_name = client.get(url, {**base, "q": "高一"}).context["page"]
    assert {row.organization.name for row in by_name} == {"高一年级党支部"}
    missed = client.get(url, {**base, "status": "未完成"}).context["page"]
    assert missed.paginator.count and {row.status for row in missed} == {"未完成"}
    page = client.get(url, {**base, "status": "已完成"}).content.decode()
    assert "没有符合条件的党组织。" in page
