"""“四个一” visits as the Yiyang seed writes them (每月上门开展上党课、讲政策、排隐患、核台账“四个一”工作): a month
counts only when its visits record every item the “四个一” rule (`VisitPolicy`) requires; a partial month is shown as
partial with what is missing and stays on the instructor's to-do list until a supplement completes it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.supervision.models import VisitPolicy
from dangjian.supervision.selectors.todo import supervision_todo_items
from dangjian.supervision.selectors.visits import instructor_month_rows, visit_completeness, visits_missing
from dangjian.supervision.tests.conftest import TODAY
from dangjian.supervision.tests.factories import assign, client_for, institution, instructor, visit

pytestmark = pytest.mark.django_db
MAY = dt.date(2024, 5, 1)


@pytest.fixture
def assigned(district):
    inst = institution(district.j1, name="晨光艺术培训学校", last_inspection_on=dt.date(2024, 3, 1))
    appointment = instructor(district.r)
    assign(inst, appointment, dt.date(2024, 1, 1))
    return inst, appointment


def test_a_partial_visit_is_not_a_four_items_visit(district, assigned):
    inst, _ = assigned
    visit(inst, dt.date(2024, 5, 8), party_lecture=False, ledger_check=False, today=TODAY)
    [missing] = visits_missing(by=district.committee, month=MAY, today=TODAY)
    assert (missing.institution_name, missing.partial, missing.missing_items) == (
        "晨光艺术培训学校",
        True,
        ("上党课", "核台账"),
    )
    assert missing.overdue and missing.status == "“四个一”未完成（缺：上党课、核台账）"
    may = visit_completeness(institution=inst, year=2024, today=TODAY)[4]
    assert (may.complete, may.status) == (False, "部分完成（缺：上党课、核台账）")


def test_a_partial_month_stays_on_the_instructors_todo_list_until_a_supplement_completes_it(district, assigned):
    inst, appointment = assigned
    visit(inst, dt.date(2024, 5, 8), party_lecture=False, ledger_check=False, today=TODAY)
    visit(inst, dt.date(2024, 6, 3), today=TODAY)
    items = supervision_todo_items(user=appointment.user, today=TODAY)
    assert [(i["key"], i["period"], i["overdue"]) for i in items] == [(f"visit:{inst.pk}", "2024-05", True)]
    assert "缺：上党课、核台账" in items[0]["title"] and "补充走访" in items[0]["title"]
    committee = supervision_todo_items(user=district.committee, today=TODAY)
    assert any(i["key"] == "visits-missing" and i["period"] == "2024-05" for i in committee)

    visit(inst, dt.date(2024, 5, 20), is_supplement=True, policy_talk=False, hazard_check=False, today=TODAY)
    assert supervision_todo_items(user=appointment.user, today=TODAY) == []
    assert visits_missing(by=district.committee, month=MAY, today=TODAY) == []
    assert visit_completeness(institution=inst, year=2024, today=TODAY)[4].status == "已走访"


def test_which_items_are_required_is_a_policy(district, assigned):
    inst, appointment = assigned
    elsewhere = institution(district.x, name="外区机构")
    other = instructor(district.x)
    assign(elsewhere, other, dt.date(2024, 1, 1))
    VisitPolicy.objects.create(
        owner=district.p, require_hazard_check=False, require_ledger_check=False, valid_from=2024, source="本地细则"
    )
    for place in (inst, elsewhere):
        visit(place, dt.date(2024, 5, 8), hazard_check=False, ledger_check=False, today=TODAY)
    assert visits_missing(by=district.committee, month=MAY, today=TODAY) == []  # P's rule: two items
    [outside] = visits_missing(by=district.outsider, month=MAY, today=TODAY)  # the system's rule: all four
    assert outside.missing_items == ("排隐患", "核台账")
    visit(inst, dt.date(2024, 6, 3), policy_talk=False, today=TODAY)
    [row] = instructor_month_rows(by=district.committee, appointments=[appointment], today=TODAY)
    assert (row.visited, row.due) == (0, 1)  # June: 讲政策 left out, required by P's rule


def test_a_visit_policy_requiring_nothing_is_refused(district):
    policy = VisitPolicy(
        owner=district.p,
        require_party_lecture=False,
        require_policy_talk=False,
        require_hazard_check=False,
        require_ledger_check=False,
    )
    with pytest.raises(ValidationError, match="至少要求一项"):
        policy.full_clean()


def test_the_pages_show_a_partial_visit_with_what_is_missing(district):
    today = timezone.localdate()
    inst = institution(district.j1, name="晨光艺术培训学校")
    appointment = instructor(district.r, start_on=today - dt.timedelta(days=400))
    assign(inst, appointment, today - dt.timedelta(days=300))
    client = client_for(appointment.user)
    data = {"institution": inst.pk, "date": today.isoformat(), "policy_talk": "on", "hazard_check": "on"}
    saved = client.post("/supervision/visits/new/", data, follow=True)
    assert saved.status_code == 200
    assert "本月“四个一”尚未完成（缺：上党课、核台账）" in saved.content.decode()
    detail = client_for(district.committee).get(f"/supervision/institutions/{inst.pk}/").content.decode()
    assert "部分完成（缺：上党课、核台账）" in detail and "缺：上党课、核台账</span>" in detail
    listed = client_for(district.committee).get("/supervision/visits/missing/").content.decode()
    assert "晨光艺术培训学校" in listed and "缺：上党课、核台账" in listed
    form = client.get("/supervision/visits/new/").content.decode()
    assert "部分完成，缺：上党课、核台账" in form
