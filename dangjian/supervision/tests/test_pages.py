"""The supervision pages: the dashboard, the institution list (filters, .xlsx) and detail, the instructor's visit
form with its bad inputs (a message, nothing saved, never a 500), the clue board and follow-up, the ranking and the
red-list request."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.tests.factories import UserFactory
from dangjian.members.tests.factories import MemberFactory
from dangjian.supervision.models import Clue, ClueStatus, PointRule, RedListEntry, RedListPolicy, Visit
from dangjian.supervision.services.points import point_event_record
from dangjian.supervision.tests.factories import SYSTEM, assign, client_for, clue, institution, instructor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _sheet(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    return list(load_workbook(BytesIO(content)).active.iter_rows(values_only=True))


@pytest.fixture
def place(district):
    covered = institution(district.j1, name="晨光艺术培训学校", area="城东")
    uncovered = institution(district.p, covered=False, name="星火编程培训中心", area="城西")
    MemberFactory(name="王党员", organization=district.j1, unit=covered.unit)
    appointment = instructor(district.r, start_on=TODAY - dt.timedelta(days=400))
    assign(covered, appointment, TODAY - dt.timedelta(days=300))
    return covered, uncovered, appointment


def test_dashboard_shows_the_two_coverages(district, place):
    response = client_for(district.committee).get("/supervision/", {"org": "YY"})
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["report"].total.total == 2
    assert "50.0%" in body and "星火编程培训中心" in body  # uncovered by organization and by work
    export = client_for(district.committee).get("/supervision/", {"org": "YY", "format": "xlsx"})
    rows = _sheet(export)
    assert rows[0][:2] == ("分组", "机构数") and rows[-1][0] == "合计"


def test_dashboard_bad_filter_shows_a_message(district, place):
    response = client_for(district.committee).get("/supervision/", {"org": "WQ", "year": "abc"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "不在您的管理范围内" in body and "年度应为四位数字" in body


def test_institution_list_filters_and_exports(district, place):
    client = client_for(district.committee)
    response = client.get("/supervision/institutions/", {"coverage": "org"})
    assert [inst.unit.name for inst, _ in response.context["rows"]] == ["星火编程培训中心"]
    response = client.get("/supervision/institutions/", {"q": "晨光"})
    assert [instructor for _, instructor in response.context["rows"]] == [place[2].name]
    rows = _sheet(client.get("/supervision/institutions/", {"format": "xlsx"}))
    assert rows[0][0] == "机构名称" and {r[0] for r in rows[1:]} == {"晨光艺术培训学校", "星火编程培训中心"}
    assert client_for(district.outsider).get("/supervision/institutions/").context["rows"] == []


def test_institution_detail_shows_staff_instructor_and_history(district, place):
    covered, _, appointment = place
    body = client_for(district.committee).get(f"/supervision/institutions/{covered.pk}/").content.decode()
    assert "王党员" in body and appointment.name in body and "城东联合党支部" in body
    assert client_for(district.outsider).get(f"/supervision/institutions/{covered.pk}/").status_code == 404


def test_the_instructor_records_a_visit_from_the_phone_form(place):
    covered, _, appointment = place
    client = client_for(appointment.user)
    page = client.get("/supervision/visits/new/")
    assert page.status_code == 200 and "晨光艺术培训学校" in page.content.decode()
    data = {"institution": covered.pk, "date": TODAY.isoformat(), "party_lecture": "on", "ledger_check": "on"}
    response = client.post("/supervision/visits/new/", data)
    assert response.status_code == 302
    assert Visit.objects.get().appointment == appointment
    again = client.post("/supervision/visits/new/", {**data, "clue_description": "违规收费"})
    assert again.status_code == 200 and "补充走访" in again.content.decode()
    assert Visit.objects.count() == 1 and not Clue.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"institution": "uncovered"}, "未派驻给您"),
        ({"institution": "999999"}, "未派驻给您"),
        ({"date": "2024-13-01"}, "走访日期"),
        ({"date": (TODAY + dt.timedelta(days=1)).isoformat()}, "不能晚于今天"),
        ({"party_lecture": "", "ledger_check": ""}, "四个一"),
        ({"is_supplement": "on"}, "尚无常规走访"),
    ],
)
def test_bad_visit_input_shows_a_message_and_saves_nothing(place, change, message):
    covered, uncovered, appointment = place
    data = {"institution": covered.pk, "date": TODAY.isoformat(), "party_lecture": "on", "ledger_check": "on"}
    data.update(change)
    if data["institution"] == "uncovered":
        data["institution"] = uncovered.pk
    response = client_for(appointment.user).post("/supervision/visits/new/", {k: v for k, v in data.items() if v})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Visit.objects.exists()


def test_the_visit_form_is_for_instructors_only(district):
    assert client_for(district.committee).get("/supervision/visits/new/").status_code == 403
    assert client_for(UserFactory()).get("/supervision/").status_code == 403


def test_missing_visits_page_and_month_validation(district, place):
    client = client_for(district.committee)
    response = client.get("/supervision/visits/missing/")
    assert [m.institution_name for m in response.context["page"].object_list] == ["晨光艺术培训学校"]
    bad = client.get("/supervision/visits/missing/", {"month": "2024-5x"})
    assert bad.status_code == 200 and "月份格式" in bad.content.decode()


def test_clue_board_and_follow_up(district, place):
    covered, _, _ = place
    c = clue(covered, TODAY - dt.timedelta(days=3))
    client = client_for(district.committee)
    board = client.get("/supervision/clues/")
    assert board.status_code == 200 and c.description in board.content.decode()
    assert client.get("/supervision/clues/", {"status": "pending"}).context["page"].paginator.count == 1
    missing_department = client.post(
        f"/supervision/clues/{c.pk}/", {"status": "passed", "date": TODAY.isoformat(), "department": ""}
    )
    assert missing_department.status_code == 200 and "执法部门" in missing_department.content.decode()
    not_allowed = client.post(f"/supervision/clues/{c.pk}/", {"status": "closed", "date": TODAY.isoformat()})
    assert not_allowed.status_code == 200
    c.refresh_from_db()
    assert c.status == ClueStatus.PENDING
    done = client.post(
        f"/supervision/clues/{c.pk}/", {"status": "passed", "date": TODAY.isoformat(), "department": "区执法大队"}
    )
    assert done.status_code == 302
    c.refresh_from_db()
    assert c.status == ClueStatus.PASSED and c.department == "区执法大队"


def test_points_page_red_list_and_request(district, place):
    covered, uncovered, _ = place
    RedListPolicy.objects.update(top_percent=None, top_n=1)
    point_event_record(by=SYSTEM, institution=covered, rule=PointRule.objects.get(code="PB01"), date=TODAY)
    client = client_for(district.committee)
    response = client.get("/supervision/points/", {"org": "YY"})
    rows = response.context["page"].object_list
    assert [(r.name, r.rank, r.red_list) for r in rows] == [
        ("晨光艺术培训学校", 1, True),
        ("星火编程培训中心", 2, False),
    ]
    sheet = _sheet(client.get("/supervision/points/", {"org": "YY", "format": "xlsx"}))
    assert sheet[0][:5] == ("机构名称", "许可证号", "积分", "名次", "红名单") and sheet[1][4] == "否"  # not listed
    assert sheet[1][7] == "是"  # but within the red list of the ranking
    refused = client.post(f"/supervision/institutions/{uncovered.pk}/red-list/", follow=True)
    assert "不在红名单名额内" in refused.content.decode()
    granted = client.post(f"/supervision/institutions/{covered.pk}/red-list/", follow=True)
    assert "课后服务优先" in granted.content.decode()
    assert RedListEntry.objects.get().institution == covered
    sheet = _sheet(client.get("/supervision/points/", {"org": "YY", "format": "xlsx"}))
    assert sheet[1][4] == "是"
    assert client.get("/supervision/points/", {"year": "1800"}).status_code == 200
    empty = client.get("/supervision/points/", {"year": "2010"})
    assert empty.status_code == 200 and "2010年度没有积分记录" in empty.content.decode()
