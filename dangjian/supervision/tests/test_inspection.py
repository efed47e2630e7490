"""年检 overdue (Qinhuai seed: 培训机构年检时，党建工作同步检查): an approved institution is due `InspectionPolicy`
months (default 12) after its last annual inspection, else after its approval; when overdue it is flagged on the
coverage page and the institution page and put on the to-do list of its instructor and of the secretary of the
(joint) branch covering it. The last inspection date is on the institution form, checked field by field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.supervision.models import ApprovalStatus, CheckKind, CheckResult, InspectionPolicy, Institution
from dangjian.supervision.selectors.coverage import coverage
from dangjian.supervision.selectors.inspection import add_months, inspection_due
from dangjian.supervision.selectors.todo import KIND_INSPECTION, supervision_todo_items
from dangjian.supervision.services.checks import check_record
from dangjian.supervision.tests.conftest import TODAY
from dangjian.supervision.tests.factories import SYSTEM, assign, client_for, institution, instructor, licence

pytestmark = pytest.mark.django_db


def test_add_months_keeps_to_the_end_of_a_short_month():
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 3, 1), 12) == dt.date(2024, 3, 1)
    assert add_months(dt.date(2023, 11, 15), 14) == dt.date(2025, 1, 15)


def test_overdue_inspections_are_flagged_on_the_coverage_report(district):
    never = institution(district.j1, name="从未年检机构")  # approved 2023-03-01: due 2024-03-01
    institution(district.j1, name="已年检机构", last_inspection_on=dt.date(2024, 3, 10))
    institution(district.j2, name="新机构", approved_on=dt.date(2023, 9, 1))  # due 2024-09-01
    institution(district.j2, name="筹设机构", approval_status=ApprovalStatus.PREPARING, approved_on=None)
    report = coverage(by=district.committee, root=district.r, today=TODAY)
    assert report.inspection_overdue_total == 1
    [due] = report.inspection_overdue
    assert (due.pk, due.due_on, due.days_overdue) == (never.pk, dt.date(2024, 3, 1), 106)
    assert coverage(by=district.outsider, today=TODAY).inspection_overdue_total == 0


def test_the_interval_is_a_policy(district):
    inst = institution(district.j1, name="甲机构")
    outside = institution(district.x, name="外区机构")
    InspectionPolicy.objects.create(owner=district.p, interval_months=24, valid_from=2024, source="本地细则")
    assert inspection_due(inst, TODAY).due_on == dt.date(2025, 3, 1) and not inspection_due(inst, TODAY).overdue
    assert inspection_due(outside, TODAY).overdue  # the system's rule: yearly
    with pytest.raises(Exception, match="1到60"):
        InspectionPolicy(owner=district.p, interval_months=0).full_clean()


def test_an_overdue_inspection_is_on_the_instructors_and_the_joint_branch_secretarys_todo_list(district):
    inst = institution(district.j1, name="晨光艺术培训学校")
    west = institution(district.j2, name="城西机构")  # overdue too, but supervised by others
    appointment = instructor(district.r)
    assign(inst, appointment, dt.date(2024, 1, 1))
    secretary = user_with_role(Role.SECRETARY, district.j1)
    other_secretary = user_with_role(Role.SECRETARY, district.j2)

    def inspections(user):
        return [
            (i["key"], i["period"], i["overdue"])
            for i in supervision_todo_items(user=user, today=TODAY)
            if i["kind"] == KIND_INSPECTION
        ]

    expected = [(f"inspection:{inst.pk}", "2024-03", True)]
    assert inspections(appointment.user) == expected
    assert inspections(secretary) == expected
    assert inspections(other_secretary) == [(f"inspection:{west.pk}", "2024-03", True)]
    item = next(i for i in supervision_todo_items(user=secretary, today=TODAY) if i["kind"] == KIND_INSPECTION)
    assert "年检已逾期106天" in item["title"] and "应于2024-03-01前年检" in item["title"]
    assert item["url"] == f"/supervision/institutions/{inst.pk}/"
    assert inspections(district.outsider) == []

    check_record(
        by=SYSTEM,
        institution=inst,
        kind=CheckKind.ANNUAL,
        date=dt.date(2024, 6, 1),
        result=CheckResult.PASS,
        today=TODAY,
    )
    assert inspections(appointment.user) == [] and inspections(secretary) == []


def test_the_pages_flag_an_overdue_inspection(district):
    inst = institution(district.j1, name="晨光艺术培训学校")  # approved 2023-03-01, never inspected
    client = client_for(district.committee)
    dashboard = client.get("/supervision/", {"org": "YY"}).content.decode()
    assert "年检逾期的机构（1）" in dashboard and "晨光艺术培训学校" in dashboard
    detail = client.get(f"/supervision/institutions/{inst.pk}/").content.decode()
    assert "年检逾期" in detail and "应于2024-03-01前年检" in detail
    listed = client.get("/supervision/institutions/", {"coverage": "inspection"})
    assert [i.pk for i, _ in listed.context["rows"]] == [inst.pk]


def _registration(**changes) -> dict:
    data = {
        "name": "星火编程培训中心",
        "address": "龙岭大道8号",
        "organization": "YY-P1",
        "managing_organization": "YY-P",
        "licence_no": licence(),
        "subject_type": "non_subject",
        "approval_status": "approved",
        "approved_on": "2023-03-01",
        "staff_count": "9",
        "area": "城东",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"last_inspection_on": "2024-13-45"}, "最近年检日期：请填写有效的日期"),
        ({"last_inspection_on": "abc"}, "最近年检日期：请填写有效的日期"),
        ({"last_inspection_on": "2999-01-01"}, "最近年检日期不能晚于今天"),
        ({"last_inspection_on": "2023-01-01"}, "最近年检日期不能早于审批日期"),
        (
            {"last_inspection_on": "2023-05-01", "approval_status": "preparing", "approved_on": ""},
            "筹设中的机构尚未审批，没有年检",
        ),
    ],
)
def test_a_bad_inspection_date_shows_a_message_naming_the_field(district, change, message):
    response = client_for(district.committee).post("/supervision/institutions/new/", _registration(**change))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Institution.objects.exists()


def test_the_form_records_the_last_inspection(district):
    today = timezone.localdate()
    client = client_for(district.committee)
    response = client.post("/supervision/institutions/new/", _registration(last_inspection_on=today.isoformat()))
    assert response.status_code == 302
    inst = Institution.objects.get()
    assert inst.last_inspection_on == today and not inspection_due(inst, today).overdue
    edit = client.get(f"/supervision/institutions/{inst.pk}/edit/").content.decode()
    assert today.isoformat() in edit
