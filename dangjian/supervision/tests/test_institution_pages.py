"""The committee's institution pages: registration and edit (机构登记), and the actions on the detail page — assign
the instructor, record a 三同步 check, enter and reverse points, record a clue, request the red list. Each bad input:
a message naming the field, nothing saved, no 500; a user who sees the institution but may not act: no form, 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.orgs.models import Unit
from dangjian.supervision.models import (
    ApprovalStatus,
    Assignment,
    CheckKind,
    Clue,
    GridCell,
    Institution,
    PartyCheck,
    PointEvent,
    PointRule,
    RedListEntry,
)
from dangjian.supervision.services.checks import check_record
from dangjian.supervision.services.grid import grid_cell_create
from dangjian.supervision.services.points import point_event_record
from dangjian.supervision.tests.factories import (
    SYSTEM,
    assign,
    client_for,
    clue,
    institution,
    instructor,
    licence,
    visit,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _body(response) -> str:
    return response.content.decode()


@pytest.fixture
def secretary(district):
    """Sees the institutions of 城东联合党支部 but manages none."""
    return user_with_role(Role.SECRETARY, district.j1)


@pytest.fixture
def inst(district):
    return institution(district.j1, name="晨光艺术培训学校")


def _registration(**changes) -> dict:
    data = {
        "name": "星火编程培训中心",
        "credit_code": "",
        "address": "龙岭大道8号",
        "organization": "YY-P1",
        "managing_organization": "YY-P",
        "licence_no": licence(),
        "subject_type": "non_subject",
        "approval_status": "preparing",
        "staff_count": "9",
        "area": "城东",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# ---------------------------------------------------------------------------------------------------------
# Registration and edit


def test_the_committee_registers_an_institution(district):
    cell = grid_cell_create(by=SYSTEM, name="实验小学网格", school=district.school)
    client = client_for(district.committee)
    assert client.get("/supervision/institutions/new/").status_code == 200
    response = client.post("/supervision/institutions/new/", _registration(grid_cell=str(cell.pk)))
    inst = Institution.objects.get()
    assert response.status_code == 302 and response["Location"] == inst.get_absolute_url()
    assert (inst.unit.name, inst.unit.organization, inst.unit.managing_organization, inst.grid_cell) == (
        "星火编程培训中心",
        district.j1,
        district.p,
        cell,
    )
    assert "机构登记" in _body(client.get("/supervision/institutions/"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "机构名称"),
        ({"licence_no": "ABC"}, "教民"),
        ({"organization": "WQ"}, "不在您的管理范围内"),
        ({"organization": "YY-P"}, "党支部"),
        ({"managing_organization": ""}, "主管党组织"),
        ({"approval_status": "approved"}, "审批日期"),
        ({"approval_status": "approved", "approved_on": "2024-02-30"}, "审批日期"),
        ({"staff_count": "-1"}, "从业人员数"),
        ({"staff_count": "many"}, "从业人员数"),
        ({"credit_code": "123"}, "统一社会信用代码"),
        ({"subject_type": "other"}, "培训类别"),
        ({"grid_cell": "999999"}, "网格"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_bad_registration_shows_a_message_and_saves_nothing(district, change, message):
    units = Unit.objects.count()
    response = client_for(district.committee).post("/supervision/institutions/new/", _registration(**change))
    assert response.status_code == 200
    assert message in _body(response)
    assert not Institution.objects.exists() and Unit.objects.count() == units


def test_a_duplicate_licence_is_refused_on_the_form(district, inst):
    response = client_for(district.committee).post(
        "/supervision/institutions/new/", _registration(licence_no=inst.licence_no)
    )
    assert response.status_code == 200 and "该办学许可证号已登记" in _body(response)
    assert Institution.objects.count() == 1


def test_only_committee_staff_register(district, secretary):
    assert client_for(secretary).get("/supervision/institutions/new/").status_code == 403
    assert client_for(secretary).post("/supervision/institutions/new/", _registration()).status_code == 403
    assert not Institution.objects.exists()


def test_the_committee_edits_the_institution_and_approval_needs_the_check(district):
    inst = institution(district.j1, name="晨光", approval_status=ApprovalStatus.PREPARING, approved_on=None)
    client = client_for(district.committee)
    url = f"/supervision/institutions/{inst.pk}/edit/"
    page = client.get(url)
    assert page.status_code == 200 and 'value="YY-P1"' in _body(page)
    data = _registration(
        name="晨光艺术", licence_no=inst.licence_no, approval_status="approved", approved_on=TODAY.isoformat()
    )
    refused = client.post(url, data)
    assert refused.status_code == 200 and "前置条件" in _body(refused)
    inst.refresh_from_db()
    assert inst.approval_status == ApprovalStatus.PREPARING and inst.unit.name == "晨光"
    check_record(by=SYSTEM, institution=inst, kind=CheckKind.APPROVAL, date=TODAY, result="pass", precondition_met=True)
    assert client.post(url, data).status_code == 302
    inst.refresh_from_db()
    assert inst.approval_status == ApprovalStatus.APPROVED and inst.unit.name == "晨光艺术"


def test_edit_is_404_out_of_scope_and_403_for_a_viewer(district, inst, secretary):
    url = f"/supervision/institutions/{inst.pk}/edit/"
    assert client_for(district.outsider).get(url).status_code == 404
    assert client_for(secretary).get(url).status_code == 403
    assert client_for(secretary).post(url, _registration(name="改名")).status_code == 403
    inst.unit.refresh_from_db()
    assert inst.unit.name == "晨光艺术培训学校"


# ---------------------------------------------------------------------------------------------------------
# The detail page and its actions


def test_the_detail_offers_forms_by_capability(district, inst, secretary):
    appointment = instructor(district.r)
    assign(inst, appointment, TODAY - dt.timedelta(days=10))
    url = f"/supervision/institutions/{inst.pk}/"
    committee = _body(client_for(district.committee).get(url))
    for panel in ("assign-panel", "check-panel", "point-panel", "clue-panel", "edit-link"):
        assert panel in committee
    viewer = _body(client_for(secretary).get(url))
    assert "assign-panel" not in viewer and "clue-panel" not in viewer and "edit-link" not in viewer
    mine = _body(client_for(appointment.user).get(url))
    assert "clue-panel" in mine and "assign-panel" not in mine


def test_assign_and_reassign_from_the_detail_page(district, inst):
    first, second = instructor(district.r), instructor(district.r)
    client = client_for(district.committee)
    url = f"/supervision/institutions/{inst.pk}/assign/"
    start = TODAY - dt.timedelta(days=30)
    assert client.post(url, {"appointment": first.pk, "start_on": start.isoformat()}).status_code == 302
    assert client.post(url, {"appointment": second.pk, "start_on": TODAY.isoformat()}).status_code == 302
    history = list(Assignment.objects.filter(institution=inst).order_by("start_on"))
    assert [(a.appointment, a.end_on) for a in history] == [(first, TODAY - dt.timedelta(days=1)), (second, None)]
    body = _body(client.get(f"/supervision/institutions/{inst.pk}/"))
    assert first.name in body and second.name in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "请选择党建指导员"),
        ({"appointment": "foreign"}, "不在您的管理范围内"),
        ({"appointment": "current", "start_on": "bad"}, "派驻日期"),
        ({"appointment": "other", "start_on": "before"}, "须晚于现任指导员的派驻日期"),
        ({"appointment": "current", "start_on": "today"}, "已派驻本机构"),
    ],
    ids=["missing", "foreign", "bad-date", "before-current", "same"],
)
def test_bad_assignment_shows_a_message_and_saves_nothing(district, inst, data, message):
    current = instructor(district.r)
    assign(inst, current, TODAY - dt.timedelta(days=5))
    choices = {"foreign": instructor(district.x).pk, "current": current.pk, "other": instructor(district.r).pk}
    dates = {"bad": "2024-13-01", "before": (TODAY - dt.timedelta(days=10)).isoformat(), "today": TODAY.isoformat()}
    post = {}
    if "appointment" in data:
        post["appointment"] = choices[data["appointment"]]
    if "start_on" in data:
        post["start_on"] = dates[data["start_on"]]
    response = client_for(district.committee).post(f"/supervision/institutions/{inst.pk}/assign/", post)
    assert response.status_code == 200 and message in _body(response)
    assert Assignment.objects.count() == 1


def test_actions_are_403_for_a_viewer_and_404_out_of_scope(district, inst, secretary):
    appointment = instructor(district.r)
    rule = PointRule.objects.get(code="PB01")
    posts = {
        "assign": {"appointment": appointment.pk, "start_on": TODAY.isoformat()},
        "checks": {"kind": "annual", "date": TODAY.isoformat(), "result": "pass"},
        "points": {"rule": rule.pk, "date": TODAY.isoformat()},
        "clues": {"description": "违规收费", "found_on": TODAY.isoformat()},
        "red-list": {},
    }
    for action, data in posts.items():
        url = f"/supervision/institutions/{inst.pk}/{action}/"
        assert client_for(secretary).post(url, data).status_code == 403, action
        assert client_for(district.outsider).post(url, data).status_code == 404, action
    assert not (Assignment.objects.exists() or PartyCheck.objects.exists() or PointEvent.objects.exists())
    assert not (Clue.objects.exists() or RedListEntry.objects.exists())


def test_the_three_checks_from_the_detail_page(district):
    inst = institution(district.j1, approval_status=ApprovalStatus.PREPARING, approved_on=None)
    client = client_for(district.committee)
    url = f"/supervision/institutions/{inst.pk}/checks/"
    base = {"kind": "approval", "date": TODAY.isoformat(), "result": "pass"}
    missing = client.post(url, base)
    assert missing.status_code == 200 and "前置条件" in _body(missing)
    not_met = client.post(url, {**base, "precondition_met": "no"})
    assert not_met.status_code == 200 and "不能为合格" in _body(not_met)
    annual = client.post(url, {**base, "kind": "annual"})
    assert annual.status_code == 200 and "检查环节" in _body(annual)
    assert not PartyCheck.objects.exists()
    assert client.post(url, {**base, "precondition_met": "yes"}).status_code == 302
    check = PartyCheck.objects.get()
    assert (check.kind, check.precondition_met) == (CheckKind.APPROVAL, True)


def test_an_annual_check_once_a_year(district, inst):
    client = client_for(district.committee)
    url = f"/supervision/institutions/{inst.pk}/checks/"
    data = {"kind": "annual", "date": TODAY.isoformat(), "result": "pass"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 200 and "已有年检党建检查记录" in _body(again)
    assert PartyCheck.objects.count() == 1
    future = client.post(url, {**data, "kind": "grading", "date": (TODAY + dt.timedelta(days=1)).isoformat()})
    assert future.status_code == 200 and "不能晚于今天" in _body(future)


def test_points_are_entered_under_a_rule_and_reversed_with_a_reason(district, inst):
    client = client_for(district.committee)
    rule = PointRule.objects.get(code="PB01")
    url = f"/supervision/institutions/{inst.pk}/points/"
    no_rule = client.post(url, {"date": TODAY.isoformat()})
    assert no_rule.status_code == 200 and "没有细则依据的积分不能登记" in _body(no_rule)
    bad_rule = client.post(url, {"rule": "999999", "date": TODAY.isoformat()})
    assert bad_rule.status_code == 200 and "不适用于本机构" in _body(bad_rule)
    assert not PointEvent.objects.exists()
    assert client.post(url, {"rule": rule.pk, "date": TODAY.isoformat(), "note": "联合支部成立"}).status_code == 302
    event = PointEvent.objects.get()
    assert event.points == rule.points

    reverse = f"/supervision/institutions/{inst.pk}/points/reverse/"
    no_reason = client.post(reverse, {"event": event.pk, "reason": " "})
    assert no_reason.status_code == 200 and "请填写冲销原因" in _body(no_reason)
    assert client.post(reverse, {"event": event.pk, "reason": "误录"}).status_code == 302
    assert sum(PointEvent.objects.values_list("points", flat=True)) == 0
    twice = client.post(reverse, {"event": event.pk, "reason": "再次"})
    assert twice.status_code == 200 and "已冲销" in _body(twice)
    other = institution(district.j2)
    point_event_record(by=SYSTEM, institution=other, rule=rule, date=TODAY)
    foreign = client.post(reverse, {"event": PointEvent.objects.get(institution=other).pk, "reason": "x"})
    assert foreign.status_code == 200 and PointEvent.objects.count() == 3


def test_a_clue_from_the_detail_page_by_the_committee_or_the_instructor(district, inst, secretary):
    appointment = instructor(district.r)
    assign(inst, appointment, TODAY - dt.timedelta(days=10))
    v = visit(inst, TODAY)
    url = f"/supervision/institutions/{inst.pk}/clues/"
    mine = client_for(appointment.user)
    empty = mine.post(url, {"description": "", "found_on": TODAY.isoformat()})
    assert empty.status_code == 200 and "请填写线索内容" in _body(empty)
    future = mine.post(url, {"description": "超前收费", "found_on": (TODAY + dt.timedelta(days=2)).isoformat()})
    assert future.status_code == 200 and "不能晚于今天" in _body(future)
    assert not Clue.objects.exists()
    assert mine.post(url, {"description": "超前收费", "found_on": TODAY.isoformat(), "visit": v.pk}).status_code == 302
    found = Clue.objects.get()
    assert (found.visit, found.reported_by) == (v, appointment)
    assert (
        client_for(district.committee).post(url, {"description": "无证", "found_on": TODAY.isoformat()}).status_code
        == 302
    )
    assert client_for(secretary).post(url, {"description": "x", "found_on": TODAY.isoformat()}).status_code == 403
    assert Clue.objects.count() == 2


def test_the_red_list_request_is_refused_with_open_violations(district, inst):
    point_event_record(by=SYSTEM, institution=inst, rule=PointRule.objects.get(code="PB01"), date=TODAY)
    clue(inst, TODAY)
    response = client_for(district.committee).post(f"/supervision/institutions/{inst.pk}/red-list/", follow=True)
    assert "未办结的违规线索" in _body(response)
    assert not RedListEntry.objects.exists()


def test_a_grid_cell_of_another_district_cannot_be_chosen(district, inst):
    other_school = Unit.objects.create(name="外区小学", kind="school", organization=district.x)
    cell = GridCell.objects.create(name="外区网格", school=other_school, organization=district.x)
    data = _registration(licence_no=inst.licence_no, name=inst.unit.name, grid_cell=str(cell.pk))
    response = client_for(district.committee).post(f"/supervision/institutions/{inst.pk}/edit/", data)
    assert response.status_code == 200 and "网格" in _body(response)
    inst.refresh_from_db()
    assert inst.grid_cell is None
