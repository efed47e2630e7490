"""The instructor pages: the appointments in scope with their institutions and this month's visits, appointment
(选派) and dismissal (离任) with their bad inputs, one instructor's page, and the year summary with its .xlsx."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, user_with_role
from dangjian.members.tests.factories import MemberFactory
from dangjian.supervision.models import Assignment, InstructorAppointment
from dangjian.supervision.selectors.visits import instructor_year_rows, instructor_year_summary
from dangjian.supervision.services.clues import clue_record
from dangjian.supervision.tests.factories import SYSTEM, assign, client_for, institution, instructor, visit

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def team(district):
    """王指导 with two institutions (one visited this month), 李指导 with none."""
    a = institution(district.j1, name="晨光艺术培训学校")
    b = institution(district.j2, name="星火编程培训中心")
    wang = instructor(district.r, name="王指导", start_on=TODAY - dt.timedelta(days=400))
    li = instructor(district.r, name="李指导", start_on=TODAY - dt.timedelta(days=400))
    for inst in (a, b):
        assign(inst, wang, TODAY - dt.timedelta(days=200))
    visit(a, TODAY, is_case_law_session=True)
    return wang, li, a, b


def test_the_list_shows_institutions_and_this_months_visits(district, team):
    response = client_for(district.committee).get("/supervision/instructors/")
    rows = {row.appointment.name: row for row in response.context["rows"]}
    assert set(rows) == {"王指导", "李指导"}
    assert (rows["王指导"].visited, rows["王指导"].due, rows["李指导"].due) == (1, 2, 0)
    body = response.content.decode()
    assert "晨光艺术培训学校" in body and "1/2" in body and "选派指导员" in body
    assert client_for(district.outsider).get("/supervision/instructors/").context["rows"] == []


def test_the_list_pages_without_a_query_per_row(district, team, django_assert_max_num_queries):
    for n in range(5):
        assign(institution(district.j1), instructor(district.r, name=f"指导员{n}"), TODAY - dt.timedelta(days=3))
    client = client_for(district.committee)
    client.get("/supervision/instructors/")  # warm the session
    with django_assert_max_num_queries(13):  # one more than before: the “四个一” rules, once for the page
        response = client.get("/supervision/instructors/")
    assert len(response.context["rows"]) == 7


def test_the_committee_appoints_an_instructor_linked_to_their_member_record(district):
    account = UserFactory(username="zhao_zd", full_name="赵账号")
    member = MemberFactory(name="赵党员", organization=district.s, user=account)
    response = client_for(district.committee).post(
        "/supervision/instructors/new/",
        {"username": "zhao_zd", "source": "school", "appointing_organization": "YY-S", "start_on": TODAY.isoformat()},
    )
    appointment = InstructorAppointment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/supervision/instructors/{appointment.pk}/"
    assert (appointment.user, appointment.member, appointment.name) == (account, member, "赵党员")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"username": "nobody"}, "找不到登录账号"),
        ({"username": ""}, "登录账号"),
        ({"appointing_organization": "WQ"}, "不在您的管理范围内"),
        ({"source": "other"}, "选派来源"),
        ({"start_on": ""}, "任职日期"),
        ({"start_on": "2024-02-30"}, "任职日期"),
        ({"username": "sitting"}, "已是在任党建指导员"),
        ({"username": "wq_committee"}, "找不到登录账号"),  # another district's account: not even confirmed to exist
    ],
    ids=["unknown", "missing", "foreign-org", "source", "no-date", "bad-date", "already", "foreign-account"],
)
def test_bad_appointment_shows_a_message_and_saves_nothing(district, change, message):
    MemberFactory(organization=district.s, user=UserFactory(username="qian_zd"))
    sitting = UserFactory(username="sitting")
    MemberFactory(organization=district.s, user=sitting)
    instructor(district.r, user=sitting)
    data = {"username": "qian_zd", "source": "bureau", "appointing_organization": "YY", "start_on": TODAY.isoformat()}
    data.update(change)
    response = client_for(district.committee).post("/supervision/instructors/new/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert InstructorAppointment.objects.count() == 1


def test_only_committee_staff_appoint(district):
    viewer = user_with_role(Role.SECRETARY, district.j1)
    assert client_for(viewer).get("/supervision/instructors/new/").status_code == 403
    assert client_for(viewer).get("/supervision/instructors/").status_code == 200


def test_dismissal_ends_the_assignments(district, team):
    wang, *_ = team
    client = client_for(district.committee)
    url = f"/supervision/instructors/{wang.pk}/dismiss/"
    page = client.get(f"/supervision/instructors/{wang.pk}/")
    assert page.status_code == 200 and "dismiss-panel" in page.content.decode()
    assert page.context["summary"].case_law_sessions == 1
    early = client.post(url, {"end_on": (wang.start_on - dt.timedelta(days=1)).isoformat()})
    assert early.status_code == 200 and "不能早于任职日期" in early.content.decode()
    bad = client.post(url, {"end_on": "someday"})
    assert bad.status_code == 200 and "离任日期" in bad.content.decode()
    wang.refresh_from_db()
    assert wang.end_on is None
    assert client.post(url, {"end_on": TODAY.isoformat()}).status_code == 302
    assert set(Assignment.objects.filter(appointment=wang).values_list("end_on", flat=True)) == {TODAY}
    again = client.post(url, {"end_on": TODAY.isoformat()})
    assert again.status_code == 403  # no longer in office: no dismissal offered


def test_instructor_page_scope(district, team):
    wang, *_ = team
    viewer = user_with_role(Role.SECRETARY, district.r)
    page = client_for(viewer).get(f"/supervision/instructors/{wang.pk}/")
    assert page.status_code == 200 and page.context["dismiss_form"] is None
    assert client_for(viewer).post(f"/supervision/instructors/{wang.pk}/dismiss/", {"end_on": TODAY}).status_code == 403
    assert client_for(district.outsider).get(f"/supervision/instructors/{wang.pk}/").status_code == 404
    # The instructor sees their own page.
    assert client_for(wang.user).get(f"/supervision/instructors/{wang.pk}/").status_code == 200


def test_the_year_summary_per_instructor_and_in_total(district, team):
    _, li, a, _ = team
    clue_record(by=SYSTEM, institution=a, description="违规收费", found_on=TODAY)
    client = client_for(district.committee)
    response = client.get("/supervision/instructors/summary/", {"year": TODAY.year})
    rows = {appointment.name: summary for appointment, summary in response.context["rows"]}
    assert (rows["王指导"].visits, rows["王指导"].case_law_sessions, rows["王指导"].institutions) == (1, 1, 2)
    assert rows["李指导"].visits == 0
    total = response.context["total"]
    assert (total.instructors, total.visits) == (2, 1)
    assert total == instructor_year_summary(by=district.committee, year=TODAY.year)

    one = client.get("/supervision/instructors/summary/", {"year": TODAY.year, "instructor": li.pk})
    assert [a.name for a, _ in one.context["rows"]] == ["李指导"] and one.context["total"].visits == 0

    export = client.get("/supervision/instructors/summary/", {"year": TODAY.year, "format": "xlsx"})
    sheet = list(load_workbook(BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True))
    assert sheet[0][:4] == ("党建指导员", "年度", "派驻机构数", "上门指导次数")
    assert [r[0] for r in sheet[1:]] == ["李指导", "王指导", "合计（2名）"]
    assert sheet[2][3] == 1 and sheet[3][5] == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [({"instructor": "999999"}, "找不到该党建指导员"), ({"year": "19x"}, "年度应为四位数字")],
    ids=["instructor", "year"],
)
def test_bad_summary_filters_show_a_message(district, team, query, message):
    response = client_for(district.committee).get("/supervision/instructors/summary/", query)
    assert response.status_code == 200 and message in response.content.decode()
    assert response.context["rows"] is None


def test_an_outsiders_instructor_is_not_summarised(district, team):
    wang, *_ = team
    response = client_for(district.outsider).get("/supervision/instructors/summary/", {"instructor": wang.pk})
    assert "找不到该党建指导员" in response.content.decode()


def test_year_rows_agree_with_the_summary_of_each_instructor(district, team):
    wang, li, *_ = team
    rows = instructor_year_rows(year=TODAY.year, appointments=[wang, li])
    for appointment, summary in rows:
        assert summary == instructor_year_summary(by=district.committee, year=TODAY.year, instructor=appointment)
