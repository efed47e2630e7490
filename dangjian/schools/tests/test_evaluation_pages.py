"""The evaluation pages: the list, score entry (bad input re-rendered beside the field, nothing saved), an
evaluation's page, the ranking page (table, totals, chart, tie notes, empty set, publication) and the
rectification tasks; role checks; and that the lists cost a fixed number of queries."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.schools.models import (
    EvaluationIndicator,
    RectificationStatus,
    RectificationTask,
    SchoolEvaluation,
    SchoolRanking,
)
from dangjian.schools.services.evaluation import ranking_publish
from dangjian.schools.tests.factories import PartySchoolFactory, active_year, ranked_schools

YEAR = timezone.localdate().year - 1
LIST = reverse("schools:evaluation_list")
ENTRY = reverse("schools:evaluation_entry")
RANKING = reverse("schools:ranking")
PUBLISH = reverse("schools:ranking_publish")
TASKS = reverse("schools:rectification_list")
CLOSE = reverse("schools:rectification_close")


def body(response) -> str:
    return response.content.decode()


def entry_data(**overrides) -> dict:
    data = {i.code: "10" for i in EvaluationIndicator.objects.filter(kind="standard")}
    data.update(year=str(YEAR), field_check="80", records_check="90", trainee_rating="75", note="")
    data.update(overrides)
    return data


@pytest.fixture
def school(world):
    return PartySchoolFactory(organization=world.orgs["A"], name="晨曦业余党校")


def test_the_list_shows_each_school_in_scope_with_its_status(world, school):
    done = ranked_schools(world.orgs["B"], YEAR, [88.5], names=["明德业余党校"])[0]
    SchoolEvaluation.objects.create(school=PartySchoolFactory(organization=world.orgs["A"], name="半途党校"), year=YEAR)
    PartySchoolFactory(organization=world.orgs["XB"], name="临湖业余党校")
    response = world.client(Role.SCHOOL_ADMIN).get(LIST, {"year": YEAR})
    assert response.status_code == 200
    page = body(response)
    assert "晨曦业余党校" in page and "未录入" in page
    assert "半途党校" in page and "未完成（0/9项）" in page
    assert done.name in page and "88.50" in page and "已完成" in page
    assert "临湖业余党校" not in page
    assert f"{ENTRY}?school={school.pk}&amp;year={YEAR}" in page


def test_a_viewer_sees_the_list_without_entry_links(world, school):
    response = world.client(Role.SECRETARY).get(LIST, {"year": YEAR})
    assert response.status_code == 200
    assert "晨曦业余党校" in body(response)
    assert f"{ENTRY}?school=" not in body(response)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_roles_without_school_rights_get_403(world, role):
    client = world.client(role)
    for url in (LIST, ENTRY, RANKING, TASKS):
        assert client.get(url).status_code == 403, url


# ---------------------------------------------------------------------------------------------------------
# Score entry


def test_the_entry_form_has_a_row_per_active_indicator_with_its_maximum(world, school):
    EvaluationIndicator.objects.filter(code="trainee_rating").update(active=False)
    response = world.client(Role.SCHOOL_ADMIN).get(ENTRY, {"school": school.pk, "year": YEAR})
    assert response.status_code == 200
    page = body(response)
    assert "实地检查（满分100，权重30）" in page
    assert "有领导机制（满分10，权重5）" in page
    assert "学员评价" not in page
    assert "此处录入的检查得分只作调整" in page  # the records score is the system's
    assert len(response.context["form"].indicators) == 8


def test_entering_scores_saves_and_shows_the_evaluation(world, school):
    active_year([school], YEAR)  # the records score from the system's data: the full 100, adjusted to 90
    client = world.client(Role.SCHOOL_ADMIN)
    response = client.post(f"{ENTRY}?school={school.pk}&year={YEAR}", entry_data(note="实地查看"))
    evaluation = SchoolEvaluation.objects.get(school=school, year=YEAR)
    assert response.status_code == 302
    assert response["Location"] == reverse("schools:evaluation_detail", args=[evaluation.pk])
    assert evaluation.composite == Decimal("87.00")
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert "87.00" in body(detail) and "实地查看" in body(detail)
    # Editing again shows the scores entered.
    again = client.get(ENTRY, {"school": school.pk, "year": YEAR})
    assert again.context["form"].initial["field_check"] == Decimal("80")


def test_leaving_a_score_blank_saves_an_incomplete_evaluation(world, school):
    client = world.client(Role.SCHOOL_ADMIN)
    client.post(f"{ENTRY}?school={school.pk}&year={YEAR}", entry_data(trainee_rating=""))
    evaluation = SchoolEvaluation.objects.get(school=school)
    assert evaluation.composite is None
    assert "尚有指标未评分" in body(client.get(reverse("schools:evaluation_detail", args=[evaluation.pk])))


BAD_ENTRY = {
    "score-above-max": ({"field_check": "101"}, "实地检查（满分100，权重30）：实地检查：得分应在0到100之间。"),
    "negative-score": ({"liuyou_venue": "-2"}, "有适宜场所（满分10，权重5）：有适宜场所：得分应在0到10之间。"),
    "not-a-number": ({"records_check": "九十"}, "台账检查（满分100，权重20）：台账检查：得分须为数字。"),
    "future-year": ({"year": str(timezone.localdate().year + 1)}, "考评年度：考评年度不能晚于今年。"),
    "no-year": ({"year": ""}, "考评年度：请填写考评年度。"),
}


@pytest.mark.parametrize(("overrides", "shown"), BAD_ENTRY.values(), ids=BAD_ENTRY.keys())
def test_bad_entry_is_shown_beside_the_field_and_saves_nothing(world, school, overrides, shown):
    response = world.client(Role.SCHOOL_ADMIN).post(f"{ENTRY}?school={school.pk}&year={YEAR}", entry_data(**overrides))
    assert response.status_code == 200
    assert shown in body(response)
    assert not SchoolEvaluation.objects.exists()


def test_entry_for_a_school_out_of_scope_or_unknown_is_404(world):
    outside = PartySchoolFactory(organization=world.orgs["XB"])
    client = world.client(Role.SCHOOL_ADMIN)
    for school in (outside.pk, 10**9, "abc"):
        assert client.get(ENTRY, {"school": school}).status_code == 404
        assert client.post(f"{ENTRY}?school={school}", entry_data()).status_code == 404
    assert not SchoolEvaluation.objects.exists()


def test_entry_without_a_school_goes_back_to_the_list(world):
    response = world.client(Role.SCHOOL_ADMIN).get(ENTRY)
    assert response.status_code == 302
    assert response["Location"] == LIST


def test_a_viewer_may_not_enter_scores(world, school):
    client = world.client(Role.SECRETARY)
    assert client.get(ENTRY, {"school": school.pk}).status_code == 403
    assert client.post(f"{ENTRY}?school={school.pk}&year={YEAR}", entry_data()).status_code == 403
    assert not SchoolEvaluation.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# The ranking page


def test_the_ranking_page_shows_grades_subsidies_totals_chart_and_tie_notes(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 80, 60], field=[90, 85, 70, 75, 60], names=list("甲乙丙丁戊"))
    response = world.client(Role.SECRETARY).get(RANKING, {"year": YEAR})
    assert response.status_code == 200
    page = body(response)
    assert [r["row"].school.name for r in response.context["rows"]] == list("甲乙丁丙戊")  # a tie listed by name
    assert [r["row"].rank for r in response.context["rows"]] == [1, 2, 3, 3, 5]
    assert "与丁并列第3名，示范/优秀分界落在并列之间（示范1所，优秀1所），待工委会议决定" in page
    assert 'badge text-bg-success">示范' in page and 'badge text-bg-danger">不合格' in page
    assert "待定（示范/优秀）" in page
    assert "40000.00" in page  # the subsidy sum: 2 × 20000; the tied two are 待定
    assert page.count("<meter") == 5
    assert "不按任何单项得分或学校编码排序" in page  # the stated tie rule
    assert "①综合排名前3名为示范" in page  # the grades' precedence
    assert PUBLISH not in page  # a viewer does not publish
    assert reverse("schools:tie_decide") not in page  # nor decides ties


def test_the_ranking_quotes_the_rule_in_force_and_exports_every_row(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 70, 60], names=list("甲乙丙丁戊"))
    client = world.client(Role.SECRETARY)
    page = body(client.get(RANKING, {"year": YEAR}))
    # The rule is the policy row in force, named by whoever set it — no county's name is hard-wired.
    assert "黄陂区" not in page and "年起适用）：" in page
    assert "业余党校" in page  # the schools' real type, a column of its own
    response = client.get(RANKING, {"year": YEAR, "org": "BJ01A", "format": "xlsx", "per_page": 2})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("名次", "学校编码", "学校名称", "党校类型")
    assert [row[2] for row in rows[1:]] == list("甲乙丙丁戊")  # every row, not the page
    assert AuditEvent.objects.filter(object_repr="党校考评排名", detail__rows=5).exists()


def test_a_manager_decides_a_tie_from_the_page_and_then_publishes(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 80, 60], names=list("甲乙丙丁戊"))
    client = world.client(Role.COMMITTEE)
    page = client.get(RANKING, {"year": YEAR, "org": "BJ01"})
    assert "等次分界处的并列" in body(page) and reverse("schools:tie_decide") in body(page)
    refused = client.post(PUBLISH, {"year": YEAR, "org": "BJ01"})
    assert refused.status_code == 200 and "须由工委会议决定各校等次" in body(refused)
    rows = {r["row"].school.name: r["row"] for r in page.context["rows"]}
    for name, grade in (("丙", "demonstration"), ("丁", "excellent")):
        data = {"year": YEAR, "org": "BJ01", "school": rows[name].school.pk, "grade": grade, "reason": "工委会议决定"}
        response = client.post(reverse("schools:tie_decide"), data)
        assert response.status_code == 302
    after = client.get(RANKING, {"year": YEAR, "org": "BJ01"})
    assert "等次由工委会议决定：工委会议决定" in body(after)
    assert client.post(PUBLISH, {"year": YEAR, "org": "BJ01"}).status_code == 302
    assert SchoolRanking.objects.filter(scope=world.orgs["C1"], year=YEAR).count() == 5


BAD_TIE_POSTS = {
    "no-reason": ({"reason": ""}, "决定理由：请填写决定理由（工委会议的决定及依据）。"),
    "no-grade": ({"grade": ""}, "决定等次：请选择等次。"),
    "bad-grade": ({"grade": "gold"}, "决定等次：请选择等次（示范、优秀、合格或不合格）。"),
    "grade-not-open": ({"grade": "unqualified"}, "决定等次：该并列只能在示范、优秀之间决定等次。"),
    "bad-school": ({"school": "abc"}, "党校：请指定党校。"),
    "unknown-school": ({"school": "999999"}, "党校：党校不存在或不在您的管理范围内。"),
    "bad-year": ({"year": "明年"}, "考评年度：请填写四位数字年份。"),
    "org-out-of-scope": ({"org": "LH"}, "找不到党组织编码“LH”，或该组织不在您的管理范围内。"),
}


@pytest.mark.parametrize(("overrides", "shown"), BAD_TIE_POSTS.values(), ids=BAD_TIE_POSTS.keys())
def test_a_bad_tie_decision_is_shown_and_saves_nothing(world, overrides, shown):
    from dangjian.schools.models import TieDecision

    schools = ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 80, 60], names=list("甲乙丙丁戊"))
    data = {"year": YEAR, "org": "BJ01", "school": schools[2].pk, "grade": "demonstration", "reason": "工委会议决定"}
    data.update(overrides)
    response = world.client(Role.COMMITTEE).post(reverse("schools:tie_decide"), data)
    assert response.status_code == 200
    assert shown in body(response)
    assert not TieDecision.objects.exists()


def test_a_viewer_may_not_decide_a_tie(world):
    from dangjian.schools.models import TieDecision

    schools = ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 80, 60])
    data = {"year": YEAR, "org": "BJ01A", "school": schools[2].pk, "grade": "demonstration", "reason": "x"}
    assert world.client(Role.SECRETARY).post(reverse("schools:tie_decide"), data).status_code == 403
    assert not TieDecision.objects.exists()


def test_the_ranking_page_states_an_empty_set(world):
    response = world.client(Role.COMMITTEE).get(RANKING, {"year": YEAR})
    assert response.status_code == 200
    assert f"{YEAR}年度“滨江一中党委”范围内没有已完成考评的党校，无法排名。" in body(response)


def test_an_org_out_of_scope_is_refused_like_an_unknown_one(world):
    ranked_schools(world.orgs["XB"], YEAR, [90], names=["临湖业余党校"])
    response = world.client(Role.COMMITTEE).get(RANKING, {"year": YEAR, "org": "LH"})
    assert response.status_code == 200
    assert "找不到党组织编码“LH”，或该组织不在您的管理范围内。" in body(response)
    assert "临湖业余党校" not in body(response)


def test_a_manager_publishes_from_the_page(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 75, 60])
    client = world.client(Role.COMMITTEE)
    page = client.get(RANKING, {"year": YEAR, "org": "BJ01"})
    assert PUBLISH in body(page)
    response = client.post(PUBLISH, {"year": YEAR, "org": "BJ01"})
    assert response.status_code == 302
    assert SchoolRanking.objects.filter(scope=world.orgs["C1"], year=YEAR).count() == 5
    task = RectificationTask.objects.get()
    assert task.school == schools[4]
    page = client.get(response["Location"])
    assert "整改中" in body(page) and "重新发布排名" in body(page)


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({}, "请先选择排名范围再发布。"),
        ({"year": YEAR, "org": "LH"}, "找不到党组织编码“LH”，或该组织不在您的管理范围内。"),
        ({"year": 2001, "org": "BJ01"}, "2001年度“滨江一中党委”范围内没有已完成考评的党校，无法排名。"),
    ],
    ids=["empty", "org-out-of-scope", "empty-set"],
)
def test_bad_publication_is_shown_and_saves_nothing(world, data, shown):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 75, 60])
    response = world.client(Role.COMMITTEE).post(PUBLISH, data)
    assert response.status_code == 200
    assert shown in body(response)
    assert not SchoolRanking.objects.exists()


def test_a_viewer_may_not_publish(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 75, 60])
    assert world.client(Role.SECRETARY).post(PUBLISH, {"year": YEAR, "org": "BJ01A"}).status_code == 403
    assert not SchoolRanking.objects.exists()
    assert not RectificationTask.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Rectification tasks


@pytest.fixture
def task(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 60], names=["一校", "二校", "三校", "末位党校"])
    ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], year=YEAR)
    return RectificationTask.objects.get()


def test_the_task_list_shows_the_tasks_in_scope(world, task):
    response = world.client(Role.SCHOOL_ADMIN).get(TASKS, {"year": YEAR})
    assert response.status_code == 200
    assert "末位党校" in body(response) and "整改中" in body(response)
    assert CLOSE in body(response)
    assert world.client(Role.INSTRUCTOR).get(TASKS).context["page"].paginator.count == 0  # B's only


def test_closing_a_task_from_the_page(world, task):
    response = world.client(Role.SCHOOL_ADMIN).post(CLOSE, {"task": task.pk, "note": "已约谈负责人，完成整改"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.status, task.note) == (RectificationStatus.DONE, "已约谈负责人，完成整改")


def test_closing_without_a_note_is_shown_beside_the_field(world, task):
    response = world.client(Role.SCHOOL_ADMIN).post(CLOSE, {"task": task.pk, "note": " "})
    assert response.status_code == 200
    assert "整改情况说明：请填写整改情况说明。" in body(response)
    task.refresh_from_db()
    assert task.status == RectificationStatus.OPEN


def test_closing_a_task_out_of_scope_is_404_and_a_viewer_gets_403(world, task):
    outside = PartySchoolFactory(organization=world.orgs["XB"])
    other = RectificationTask.objects.create(school=outside, year=YEAR, deadline=timezone.localdate())
    client = world.client(Role.SCHOOL_ADMIN)
    assert client.post(CLOSE, {"task": other.pk, "note": "x"}).status_code == 404
    assert client.post(CLOSE, {"task": 10**9, "note": "x"}).status_code == 404
    assert world.client(Role.SECRETARY).post(CLOSE, {"task": task.pk, "note": "x"}).status_code == 403
    assert client.post(CLOSE, {}).status_code == 302  # no task named: back to the list
    assert not RectificationTask.objects.filter(status=RectificationStatus.DONE).exists()


# ---------------------------------------------------------------------------------------------------------
# Query counts: the lists cost the same for 5 and for 20 schools.


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("url", "params"),
    [(RANKING, {"year": YEAR, "org": "BJ01"}), (LIST, {"year": YEAR}), (TASKS, {})],
    ids=["ranking", "evaluation-list", "rectifications"],
)
def test_list_pages_cost_a_fixed_number_of_queries(world, url, params):
    client = world.client(Role.COMMITTEE)
    ranked_schools(world.orgs["A"], YEAR, [90 - i for i in range(5)])
    ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["A"], year=YEAR)
    client.get(url, params)  # warm up (session, content types)
    small = _queries(client, url, params)
    ranked_schools(world.orgs["B"], YEAR, [80 - i for i in range(15)])
    ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["B"], year=YEAR)
    large = _queries(client, url, params)
    assert large == small
    assert small <= 15  # the navbar's unread-notification count is one of them
