"""The hours pages per role: my hours, a member's hours (credit and correction, with their bad inputs), the committee
dashboard, the member report, the branch view with one-click enrollment, the reconciliation page, the .xlsx exports,
and the query counts of the dashboard and the member report (fixed whatever the number of members).

The world (tests/scope.py): R > C1 > {A, B}, X > XB; committee and school admin on C1, secretary on A, instructor
on B, the member user is 赵甲一 in A. The national 32-hour rule (migration default) is the only active policy."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.core import summaries
from dangjian.core.validators import mask_id_number
from dangjian.members.tests.factories import MemberFactory
from dangjian.schools.models import SchoolAnnualPlan
from dangjian.schools.tests.factories import PartySchoolFactory
from dangjian.training.models import Enrollment, HoursEntry, HoursKind, MemberHoursYear
from dangjian.training.tests.factories import HoursPolicyFactory, TrainingClassFactory, credit

D = Decimal
LAST_YEAR = timezone.localdate().year - 1


def today() -> dt.date:
    return timezone.localdate()


def body(response) -> str:
    return response.content.decode()


def workbook_rows(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]


def hours_of(member) -> D:
    row = MemberHoursYear.objects.filter(member=member, year=today().year).first()
    return row.total if row else D("0")


# ---------------------------------------------------------------------------------------------------------
# My hours


def test_my_hours_shows_the_year_the_explanation_and_three_years(world):
    member = world.self_member
    credit(member, "8", on=today())
    credit(member, "10", on=dt.date(LAST_YEAR, 5, 1))
    response = world.client(Role.MEMBER).get("/training/my/hours/")
    assert response.status_code == 200
    text = body(response)
    assert 'role="progressbar"' in text and 'width="25%"' in text  # 8 of 32
    assert "党员年度集中学习培训" in text  # which rule, and why
    assert f"{LAST_YEAR}年度学时未达标" not in text  # the flag is for this year's card only when short after it
    assert "年度考核不得评为优秀" in text  # last year ended short: shown in the three years
    assert text.count('id="three-years"') == 1


def test_my_hours_for_a_user_without_a_member_record(world):
    response = world.client(Role.COMMITTEE).get("/training/my/hours/")
    assert response.status_code == 200
    assert 'id="no-member"' in body(response)


# ---------------------------------------------------------------------------------------------------------
# A member's hours


@pytest.mark.parametrize(
    "role, status, can_credit",
    [
        (Role.COMMITTEE, 200, True),
        (Role.SECRETARY, 200, True),
        (Role.SCHOOL_ADMIN, 200, False),
        (Role.MEMBER, 200, False),  # their own page, read-only
    ],
)
def test_the_member_hours_page_per_role(world, role, status, can_credit):
    member = world.self_member
    credit(member, "6", on=dt.date(LAST_YEAR, 4, 1))
    response = world.client(role).get(f"/training/hours/members/{member.pk}/")
    assert response.status_code == status
    text = body(response)
    assert ('id="credit"' in text) is can_credit
    assert "年度考核不得评为优秀" in text and 'id="ledger"' in text


def test_a_secretary_credits_hours_through_the_page(world):
    member = world.members["A"][1]
    data = {"kind": "external", "date": today().isoformat(), "hours": "4.5", "reason": "市委党校培训证书"}
    response = world.client(Role.SECRETARY).post(f"/training/hours/members/{member.pk}/", data)
    assert response.status_code == 302
    entry = HoursEntry.objects.get(member=member)
    assert (entry.kind, entry.hours, entry.reason) == (HoursKind.EXTERNAL, D("4.5"), "市委党校培训证书")
    assert hours_of(member) == D("4.5")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hours": "-1"}, "学时：学时必须大于0。"),
        ({"hours": "1.25"}, "学时：学时应为0.5的整数倍"),
        ({"hours": "abc"}, "学时："),
        ({"reason": ""}, "原因：手工补录须填写原因。"),
        ({"date": "2999-01-01"}, "日期：日期不能晚于今天。"),
        ({"kind": "teaching"}, "学时类型："),
    ],
    ids=["negative", "not-half", "not-a-number", "manual-without-reason", "future", "kind-not-offered"],
)
def test_bad_credits_re_render_with_the_message_and_write_nothing(world, overrides, message):
    member = world.members["A"][1]
    data = {"kind": "manual", "date": today().isoformat(), "hours": "2", "reason": "补录", **overrides}
    response = world.client(Role.COMMITTEE).post(f"/training/hours/members/{member.pk}/", data)
    assert response.status_code == 200
    assert message in body(response)
    assert not HoursEntry.objects.filter(member=member).exists()


def test_who_may_not_edit_the_member_gets_403_and_nothing_is_written(world):
    member = world.members["B"][0]
    data = {"kind": "manual", "date": today().isoformat(), "hours": "2", "reason": "补录"}
    assert world.client(Role.INSTRUCTOR).post(f"/training/hours/members/{member.pk}/", data).status_code == 403
    assert world.client(Role.SECRETARY).post(f"/training/hours/members/{member.pk}/", data).status_code == 404
    me = world.self_member
    assert world.client(Role.MEMBER).post(f"/training/hours/members/{me.pk}/", data).status_code == 403
    assert not HoursEntry.objects.filter(member__in=[member, me]).exists()


def test_an_entry_is_corrected_and_reversed_through_the_page(world):
    member = world.members["A"][1]
    entry = credit(member, "4", on=today())
    client = world.client(Role.SECRETARY)
    response = client.post(
        f"/training/hours/entries/{entry.pk}/correct/",
        {f"e{entry.pk}-action": "correct", f"e{entry.pk}-hours": "3", f"e{entry.pk}-reason": "签到有误"},
    )
    assert response.status_code == 302
    assert hours_of(member) == D("3")
    corrected = HoursEntry.objects.filter(member=member, hours=D("3")).get()
    response = client.post(
        f"/training/hours/entries/{corrected.pk}/correct/",
        {f"e{corrected.pk}-action": "reverse", f"e{corrected.pk}-reason": "重复登记"},
    )
    assert response.status_code == 302
    assert hours_of(member) == D("0")
    assert HoursEntry.objects.filter(member=member).count() == 4  # nothing edited in place


@pytest.mark.parametrize(
    "data, message",
    [
        ({"action": "correct", "hours": "3", "reason": ""}, "更正原因："),
        ({"action": "correct", "hours": "", "reason": "有误"}, "正确学时：更正学时须填写正确的学时。"),
        ({"action": "correct", "hours": "0.3", "reason": "有误"}, "正确学时：学时应为0.5的整数倍"),
    ],
    ids=["no-reason", "no-hours", "not-half"],
)
def test_bad_corrections_re_render_with_the_message(world, data, message):
    member = world.members["A"][1]
    entry = credit(member, "4", on=today())
    posted = {f"e{entry.pk}-{key}": value for key, value in data.items()}
    response = world.client(Role.SECRETARY).post(f"/training/hours/entries/{entry.pk}/correct/", posted)
    assert response.status_code == 200
    assert message in body(response)
    assert HoursEntry.objects.filter(member=member).count() == 1


def test_an_entry_is_reversed_once_only(world):
    member = world.members["A"][1]
    entry = credit(member, "4", on=today())
    client = world.client(Role.SECRETARY)
    data = {f"e{entry.pk}-action": "reverse", f"e{entry.pk}-reason": "重复登记"}
    assert client.post(f"/training/hours/entries/{entry.pk}/correct/", data).status_code == 302
    again = client.post(f"/training/hours/entries/{entry.pk}/correct/", data)
    assert again.status_code == 200 and "该学时记录已冲销，不能重复冲销。" in body(again)
    assert HoursEntry.objects.filter(member=member).count() == 2


def test_a_member_may_not_correct_their_own_entry(world):
    entry = credit(world.self_member, "4", on=today())
    data = {f"e{entry.pk}-action": "reverse", f"e{entry.pk}-reason": "不对"}
    assert world.client(Role.MEMBER).post(f"/training/hours/entries/{entry.pk}/correct/", data).status_code == 403
    assert HoursEntry.objects.filter(member=world.self_member).count() == 1


# ---------------------------------------------------------------------------------------------------------
# The dashboard and the member report


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.COMMITTEE, 200),
        (Role.SCHOOL_ADMIN, 200),
        (Role.SECRETARY, 200),
        (Role.MEMBER, 403),
        (Role.AUDIT_ADMIN, 403),
    ],
)
def test_the_dashboard_per_role(world, role, status):
    response = world.client(role).get("/training/hours/")
    assert response.status_code == status


def test_the_dashboard_shows_children_totals_chart_and_trend(world):
    credit(world.members["A"][0], "32", on=today())
    credit(world.members["B"][0], "12", on=today())
    response = world.client(Role.COMMITTEE).get("/training/hours/", {"org": "BJ01"})
    text = body(response)
    assert response.status_code == 200
    report = response.context["report"]
    assert [(r.organization.code, r.members, r.met) for r in report.rows] == [("BJ01A", 2, 1), ("BJ01B", 1, 0)]
    assert (report.members, report.met, str(report.rate)) == (3, 1, "33.3")
    assert 'id="chart"' in text and 'width="50.0%"' in text  # A: 1 of 2
    assert "/training/hours/members/?org=BJ01A" in text  # a branch drills down to its members
    trend = dict((month, hours) for month, hours, _ in response.context["trend"])
    assert trend[today().month] == D("44")


def test_the_dashboard_says_whom_a_year_counts(world):
    client = world.client(Role.COMMITTEE)
    running = body(client.get("/training/hours/", {"org": "BJ01", "year": today().year}))
    assert "统计范围为目前在本组织及全部下级组织中党籍状态正常的党员。" in running
    # An ended year counts its year-end rolls and those who left the party during it, not today's members.
    ended = body(client.get("/training/hours/", {"org": "BJ01", "year": today().year - 1}))
    assert f"统计范围为{today().year - 1}年末在本组织及全部下级组织在册的党员" in ended
    assert "党籍状态正常的党员。" not in ended


def test_a_report_for_an_organization_outside_scope_is_refused_like_an_unknown_one(world):
    client = world.client(Role.SECRETARY)
    for code in ("BJ01B", "NOPE"):
        response = client.get("/training/hours/", {"org": code})
        assert response.status_code == 200
        assert f"找不到党组织编码“{code}”，或该组织不在您的管理范围内。" in body(response)
        assert "report" not in response.context
    bad_year = client.get("/training/hours/", {"org": "BJ01A", "year": "1999"})
    assert bad_year.status_code == 200 and "年度不能早于2000年。" in body(bad_year)


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/training/hours/", "/training/hours/members/", "/training/hours/branch/"])
def test_report_pages_take_a_fixed_number_of_queries(world, url, monkeypatch):
    # The query count of computing the page, not of reading its kept figures (core.summaries).
    monkeypatch.setattr(summaries, "cached", lambda topics, name, parts, compute, **kw: compute())
    client = world.client(Role.COMMITTEE)
    params = {"org": "BJ01", "year": str(LAST_YEAR)}
    few = _count(client, url, params)
    for index in range(12):
        member = MemberFactory(organization=world.orgs["A" if index % 2 else "B"])
        credit(member, str(index + 1), on=dt.date(LAST_YEAR, 1 + index % 12, 3))
    assert _count(client, url, params) == few


def test_the_member_report_lists_the_subtree(world):
    credit(world.members["A"][0], "40", on=dt.date(LAST_YEAR, 3, 1))
    response = world.client(Role.COMMITTEE).get("/training/hours/members/", {"org": "BJ01", "year": LAST_YEAR})
    rows = {row.name: row for row in response.context["rows"]}
    assert set(rows) == world.member_names("A", "B")
    assert rows[world.members["A"][0].name].status == "已达标"
    assert rows[world.members["A"][1].name].status == "未达标"
    assert "年度考核不得评为优秀" in body(response)


def test_xlsx_exports_are_masked_and_formula_safe(world):
    member = world.members["A"][1]
    member.name = "=SUM(A1)"
    member.save()
    client = world.client(Role.COMMITTEE)
    response = client.get("/training/hours/members/", {"org": "BJ01", "year": LAST_YEAR, "format": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = workbook_rows(response)
    assert rows[0][:7] == ("党员姓名", "公民身份号码(脱敏)", "所在党组织", "要求学时", "已完成学时", "差额", "状态")
    names = {row[0]: row for row in rows[1:]}
    assert set(names) == world.member_names("A", "B")
    assert names["=SUM(A1)"][1] == mask_id_number(member.id_number)
    assert all(member.id_number not in str(row) for row in rows)
    children = workbook_rows(client.get("/training/hours/", {"org": "BJ01", "format": "xlsx"}))
    assert children[0] == ("党组织编码", "党组织名称", "党员数", "已达标人数", "达标率")
    assert [row[0] for row in children[1:]] == ["BJ01A", "BJ01B", None]  # the last line is the total
    assert children[-1][1:4] == ("合计", 3, 0)


# ---------------------------------------------------------------------------------------------------------
# The branch view and one-click enrollment


def test_the_branch_view_lists_who_is_behind_most_behind_first(world):
    a1, a2 = world.members["A"]
    credit(a1, "30", on=today())
    credit(a2, "2", on=today())
    response = world.client(Role.SECRETARY).get("/training/hours/branch/")
    assert response.status_code == 200
    assert [row.name for row in response.context["rows"]] == [a2.name, a1.name]
    assert response.context["org"] == world.orgs["A"]


def test_one_click_enrollment_of_the_selected_members(world):
    upcoming = TrainingClassFactory(
        organizer=world.orgs["A"], title="党务工作培训班", starts_on=today() + dt.timedelta(days=3)
    )
    a1, a2 = world.members["A"]
    client = world.client(Role.SECRETARY)
    page = client.get("/training/hours/branch/")
    assert "党务工作培训班" in body(page) and 'form="enroll-form"' in body(page)
    response = client.post(
        "/training/hours/branch/enroll/",
        {"org": "BJ01A", "year": today().year, "training_class": upcoming.pk, "members": [a1.pk, a2.pk]},
    )
    assert response.status_code == 302
    assert set(Enrollment.objects.filter(training_class=upcoming).values_list("member_id", flat=True)) == {
        a1.pk,
        a2.pk,
    }


@pytest.mark.parametrize(
    "change, message",
    [
        ("no-members", "党员：请勾选要报名的党员。"),
        ("foreign-member", "党员："),
        ("no-class", "培训班：请选择培训班。"),
        ("foreign-class", "培训班：该培训班不存在或不可报名。"),
    ],
)
def test_bad_enrollments_re_render_and_enroll_nobody(world, change, message):
    upcoming = TrainingClassFactory(organizer=world.orgs["A"], starts_on=today() + dt.timedelta(days=3))
    foreign = TrainingClassFactory(organizer=world.orgs["XB"], starts_on=today() + dt.timedelta(days=3))
    data = {"org": "BJ01A", "year": today().year, "training_class": upcoming.pk, "members": [world.members["A"][0].pk]}
    if change == "no-members":
        data.pop("members")
    elif change == "foreign-member":
        data["members"] = [world.members["X"][0].pk]
    elif change == "no-class":
        data.pop("training_class")
    else:
        data["training_class"] = foreign.pk
    response = world.client(Role.SECRETARY).post("/training/hours/branch/enroll/", data)
    assert response.status_code == 200
    assert message in body(response)
    assert not Enrollment.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Reconciliation


def test_the_reconciliation_page_and_its_export(world):
    school = PartySchoolFactory(organization=world.orgs["C1"], name="滨江一中业余党校")
    SchoolAnnualPlan.objects.create(school=school, year=today().year, planned_classes=4, planned_trainees=60)
    TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=today())
    client = world.client(Role.COMMITTEE)
    response = client.get("/training/hours/reconciliation/", {"org": "BJ01"})
    assert response.status_code == 200
    row = response.context["page"].object_list[0]
    assert (row.planned_classes, row.actual_classes, row.classes_difference) == (4, 1, -3)
    rows = workbook_rows(client.get("/training/hours/reconciliation/", {"org": "BJ01", "format": "xlsx"}))
    assert rows[1][:6] == (school.code, "滨江一中业余党校", "滨江一中党委", 4, 1, -3)
    assert world.client(Role.MEMBER).get("/training/hours/reconciliation/").status_code == 403


def _grow_policies(world, n):
    for index in range(n):
        HoursPolicyFactory(
            owner=world.orgs["A" if index % 2 else "C1"], applies_to="leadership", valid_from=2000 + index
        )


def _grow_schools(world, n):
    for index in range(n):
        school = PartySchoolFactory(organization=world.orgs["C1"], name=f"业余党校{index}")
        SchoolAnnualPlan.objects.create(school=school, year=today().year, planned_classes=index, planned_trainees=index)
        TrainingClassFactory(organizer=world.orgs["C1"], school=school, starts_on=today())


def _grow_entries(world, n):
    for index in range(n):
        credit(world.self_member, "1", HoursKind.ONLINE if index % 2 else HoursKind.CONCENTRATED, on=today())


@pytest.mark.parametrize(
    "role, url, grow",
    [
        (Role.COMMITTEE, "/training/policies/", _grow_policies),
        (Role.COMMITTEE, "/training/hours/reconciliation/", _grow_schools),
        (Role.COMMITTEE, "/training/hours/members/{member}/", _grow_entries),
        (Role.MEMBER, "/training/my/hours/", _grow_entries),
    ],
    ids=["policies", "reconciliation", "member-ledger", "my-hours"],
)
def test_other_list_pages_take_a_fixed_number_of_queries(world, role, url, grow):
    client = world.client(role)
    url = url.format(member=world.self_member.pk)
    grow(world, 2)
    few = _count(client, url, {})
    grow(world, 12)
    assert _count(client, url, {}) == few
