"""The supervision services: registration, the three checks, reassignment, visits, clue states, points and the red
list — each bad input refused with a Chinese message naming the field, and nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.access import access_for
from dangjian.accounts.tests.factories import UserFactory
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import UnitKind
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory
from dangjian.supervision.models import (
    ApprovalStatus,
    Assignment,
    CheckKind,
    CheckResult,
    Clue,
    ClueStatus,
    Institution,
    InstructorAppointment,
    PartyCheck,
    PointEvent,
    PointRule,
    RedListEntry,
    RedListPolicy,
    Visit,
)
from dangjian.supervision.services.checks import check_record
from dangjian.supervision.services.clues import clue_pass, clue_update_status
from dangjian.supervision.services.institutions import institution_register, institution_update
from dangjian.supervision.services.instructors import institution_assign, instructor_appoint, instructor_dismiss
from dangjian.supervision.services.points import point_event_record, point_event_reverse, red_list_request
from dangjian.supervision.tests.conftest import TODAY
from dangjian.supervision.tests.factories import SYSTEM, assign, clue, institution, instructor, licence, visit

pytestmark = pytest.mark.django_db


def _errors(exc) -> dict:
    return exc.value.message_dict


# ---------------------------------------------------------------------------------------------------------
# Registration


def test_an_institution_is_supervised_through_its_covering_and_managing_organizations(district):
    covered = institution(district.j1)
    covered.unit.managing_organization = district.p
    assert covered.supervising_organizations == (district.j1, district.p)
    uncovered = institution(district.p, covered=False)
    assert uncovered.supervising_organizations == (district.p,)
    assert access_for(district.committee).is_committee_over_any(*uncovered.supervising_organizations)
    assert not access_for(district.outsider).is_committee_over_any(*covered.supervising_organizations)


def test_the_committee_registers_an_institution(district):
    unit = UnitFactory(kind=UnitKind.TRAINING_INSTITUTION, organization=district.j1, managing_organization=district.p)
    inst = institution_register(
        by=district.committee,
        unit=unit,
        licence_no=" 教民１４３０９０２７０００００１３ ",
        subject_type="non_subject",
        today=TODAY,
    )
    assert inst.licence_no == "教民143090270000013号"
    assert inst.approval_status == ApprovalStatus.PREPARING
    assert inst.history.count() == 1


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("bad_licence", "licence_no"),
        ("duplicate_licence", "licence_no"),
        ("school_unit", "unit"),
        ("approved_without_date", "approved_on"),
        ("future_approval", "approved_on"),
        ("bad_subject", "subject_type"),
        ("negative_staff", "staff_count"),
    ],
)
def test_bad_registrations_save_nothing(district, case, field):
    existing = institution(district.j1)
    kind = UnitKind.SCHOOL if case == "school_unit" else UnitKind.TRAINING_INSTITUTION
    unit = UnitFactory(kind=kind, organization=district.j1, managing_organization=district.p)
    values = {"licence_no": licence(), "subject_type": "subject"}
    values.update(
        {
            "bad_licence": {"licence_no": "ABC123"},
            "duplicate_licence": {"licence_no": existing.licence_no},
            "school_unit": {},
            "approved_without_date": {"approval_status": ApprovalStatus.APPROVED},
            "future_approval": {"approval_status": ApprovalStatus.APPROVED, "approved_on": TODAY + dt.timedelta(1)},
            "bad_subject": {"subject_type": "other"},
            "negative_staff": {"staff_count": -1},
        }[case]
    )
    with pytest.raises(ValidationError) as exc:
        institution_register(by=district.committee, unit=unit, today=TODAY, **values)
    assert field in _errors(exc)
    assert all("\u4e00" <= m[0] <= "\u9fff" or m[0] in "“（" for m in _errors(exc)[field])
    assert Institution.objects.count() == 1


def test_committee_staff_of_another_district_may_not_register(district):
    unit = UnitFactory(kind=UnitKind.TRAINING_INSTITUTION, managing_organization=district.p)
    with pytest.raises(PermissionDenied):
        institution_register(by=district.outsider, unit=unit, licence_no=licence(), subject_type="subject")
    assert not Institution.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# The three checks (三同步)


def test_approval_needs_the_party_building_precondition(district):
    inst = institution(district.j1, approval_status=ApprovalStatus.PREPARING, approved_on=None)
    with pytest.raises(ValidationError) as exc:
        institution_update(
            by=district.committee, institution=inst, approval_status="approved", approved_on=TODAY, today=TODAY
        )
    assert "approval_status" in _errors(exc)
    # Not met: the approval check cannot pass.
    with pytest.raises(ValidationError) as exc:
        check_record(
            by=district.committee,
            institution=inst,
            kind=CheckKind.APPROVAL,
            date=TODAY,
            result=CheckResult.PASS,
            precondition_met=False,
            today=TODAY,
        )
    assert "result" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        check_record(
            by=district.committee,
            institution=inst,
            kind=CheckKind.APPROVAL,
            date=TODAY,
            result=CheckResult.PASS,
            today=TODAY,
        )
    assert "precondition_met" in _errors(exc)
    assert not PartyCheck.objects.exists()
    check_record(
        by=district.committee,
        institution=inst,
        kind=CheckKind.APPROVAL,
        date=TODAY,
        result=CheckResult.PASS,
        precondition_met=True,
        today=TODAY,
    )
    inst = institution_update(
        by=district.committee, institution=inst, approval_status="approved", approved_on=TODAY, today=TODAY
    )
    assert inst.approval_status == ApprovalStatus.APPROVED


def test_annual_inspection_once_a_year_and_kept_on_the_institution(district):
    inst = institution(district.j1)
    check_record(
        by=district.committee,
        institution=inst,
        kind=CheckKind.ANNUAL,
        date=dt.date(2024, 4, 1),
        result=CheckResult.RECTIFY,
        notes="台账不全",
        today=TODAY,
    )
    inst.refresh_from_db()
    assert inst.last_inspection_on == dt.date(2024, 4, 1)
    with pytest.raises(ValidationError) as exc:
        check_record(
            by=district.committee,
            institution=inst,
            kind=CheckKind.ANNUAL,
            date=dt.date(2024, 5, 1),
            result=CheckResult.PASS,
            today=TODAY,
        )
    assert "date" in _errors(exc)
    grading = check_record(
        by=district.committee,
        institution=inst,
        kind=CheckKind.GRADING,
        date=dt.date(2024, 5, 2),
        result=CheckResult.PASS,
        precondition_met=True,
        today=TODAY,
    )
    assert grading.precondition_met is None  # only recorded at approval
    assert PartyCheck.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "other"}, "kind"),
        ({"result": "great"}, "result"),
        ({"date": TODAY + dt.timedelta(days=1)}, "date"),
        ({"kind": CheckKind.APPROVAL, "precondition_met": True}, "kind"),  # already approved
    ],
)
def test_bad_checks_save_nothing(district, kwargs, field):
    inst = institution(district.j1)
    values = {"kind": CheckKind.ANNUAL, "date": TODAY, "result": CheckResult.PASS, **kwargs}
    with pytest.raises(ValidationError) as exc:
        check_record(by=district.committee, institution=inst, today=TODAY, **values)
    assert field in _errors(exc)
    assert not PartyCheck.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Instructors: appointment and reassignment


def test_reassignment_closes_the_old_assignment_and_refuses_the_old_instructors_visits(district):
    inst = institution(district.j1)
    first = instructor(district.r)
    second = instructor(district.s)
    assign(inst, first, dt.date(2024, 1, 1))
    visit(inst, dt.date(2024, 2, 10), by=first.user, today=TODAY)
    new = institution_assign(
        by=district.committee, institution=inst, appointment=second, start_on=dt.date(2024, 3, 1), today=TODAY
    )
    old = Assignment.objects.get(appointment=first)
    assert old.end_on == dt.date(2024, 2, 29)
    assert old.history.count() == 2  # the closing is kept in the history
    assert new.end_on is None
    with pytest.raises(ValidationError) as exc:
        visit(inst, dt.date(2024, 3, 5), by=first.user, today=TODAY)
    assert "institution" in _errors(exc)
    # A visit dated before the reassignment is still the old instructor's.
    visit(inst, dt.date(2024, 2, 20), by=first.user, is_supplement=True, today=TODAY)
    visit(inst, dt.date(2024, 3, 5), by=second.user, today=TODAY)
    assert Visit.objects.filter(appointment=second).count() == 1


def test_reassignment_must_start_after_the_current_one(district):
    inst = institution(district.j1)
    first, second = instructor(district.r), instructor(district.r)
    assign(inst, first, dt.date(2024, 3, 1))
    with pytest.raises(ValidationError) as exc:
        institution_assign(
            by=district.committee, institution=inst, appointment=second, start_on=dt.date(2024, 3, 1), today=TODAY
        )
    assert "start_on" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        institution_assign(
            by=district.committee, institution=inst, appointment=first, start_on=dt.date(2024, 4, 1), today=TODAY
        )
    assert "appointment" in _errors(exc)
    assert Assignment.objects.count() == 1


def test_one_open_appointment_per_user_and_dismissal_ends_assignments(district):
    inst = institution(district.j1)
    appointment = instructor(district.r)
    assign(inst, appointment, dt.date(2024, 1, 1))
    with pytest.raises(ValidationError) as exc:
        instructor(district.r, user=appointment.user)
    assert "user" in _errors(exc)
    instructor_dismiss(by=district.committee, appointment=appointment, end_on=dt.date(2024, 5, 31))
    assert Assignment.objects.get().end_on == dt.date(2024, 5, 31)


def test_only_an_account_in_scope_is_appointed(district):
    """Never any account of the system: a committee user appoints people of their own district."""
    foreign = UserFactory()
    MemberFactory(organization=OrganizationFactory(parent=district.x, code="WQ-1"), user=foreign)
    with pytest.raises(ValidationError) as exc:
        instructor_appoint(
            by=district.committee, user=foreign, appointing_organization=district.r, source="bureau", start_on=TODAY
        )
    assert "不在您的管理范围内" in str(_errors(exc)["user"])
    local = UserFactory()
    MemberFactory(organization=district.s, user=local)
    instructor_appoint(
        by=district.committee, user=local, appointing_organization=district.r, source="bureau", start_on=TODAY
    )
    assert InstructorAppointment.objects.filter(user=local).exists()


# ---------------------------------------------------------------------------------------------------------
# Visits


@pytest.fixture
def assigned(district):
    inst = institution(district.j1)
    appointment = instructor(district.r)
    assign(inst, appointment, dt.date(2024, 1, 1))
    return inst, appointment


def test_one_regular_visit_a_month_then_supplements(assigned):
    inst, appointment = assigned
    first = visit(inst, dt.date(2024, 5, 6), by=appointment.user, is_case_law_session=True, today=TODAY)
    assert first.month == dt.date(2024, 5, 1)
    with pytest.raises(ValidationError) as exc:
        visit(inst, dt.date(2024, 5, 20), by=appointment.user, today=TODAY)
    assert "补充走访" in _errors(exc)["is_supplement"][0]
    visit(inst, dt.date(2024, 5, 20), by=appointment.user, is_supplement=True, today=TODAY)
    assert Visit.objects.filter(month=dt.date(2024, 5, 1)).count() == 2


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("future", "date"),
        ("no_items", "party_lecture"),
        ("supplement_first", "is_supplement"),
        ("before_assignment", "institution"),
        ("not_assigned", "institution"),
    ],
)
def test_bad_visits_save_nothing(district, assigned, case, field):
    inst, appointment = assigned
    other = institution(district.j2)
    kwargs = {
        "future": {"date": TODAY + dt.timedelta(days=1)},
        "no_items": {"party_lecture": False, "policy_talk": False, "hazard_check": False, "ledger_check": False},
        "supplement_first": {"is_supplement": True},
        "before_assignment": {"date": dt.date(2023, 12, 20)},
        "not_assigned": {"institution": other},
    }[case]
    values = {"date": dt.date(2024, 6, 3), "clue_description": "疑似违规收费", **kwargs}
    with pytest.raises(ValidationError) as exc:
        visit(values.pop("institution", inst), values.pop("date"), by=appointment.user, today=TODAY, **values)
    assert field in _errors(exc)
    assert not Visit.objects.exists()
    assert not Clue.objects.exists()


def test_a_user_who_is_not_an_instructor_cannot_record_visits(district, assigned):
    inst, _ = assigned
    with pytest.raises(PermissionDenied):
        visit(inst, dt.date(2024, 6, 3), by=UserFactory(), today=TODAY)
    assert not Visit.objects.exists()


def test_a_clue_found_on_a_visit_is_recorded_with_it(assigned):
    inst, appointment = assigned
    v = visit(inst, dt.date(2024, 6, 3), by=appointment.user, clue_description="超前超纲培训", today=TODAY)
    found = Clue.objects.get()
    assert found.visit == v and found.reported_by == appointment and found.status == ClueStatus.PENDING


# ---------------------------------------------------------------------------------------------------------
# Clues


def test_clue_moves_only_along_the_allowed_transitions(district, assigned):
    inst, _ = assigned
    c = clue(inst, dt.date(2024, 3, 5))
    with pytest.raises(ValidationError) as exc:
        clue_update_status(
            by=district.committee, clue=c, status=ClueStatus.CLOSED, date=dt.date(2024, 3, 6), today=TODAY
        )
    assert "status" in _errors(exc)
    with pytest.raises(ValidationError) as exc:
        clue_pass(by=district.committee, clue=c, department="", date=dt.date(2024, 3, 6), today=TODAY)
    assert "department" in _errors(exc)
    c = clue_pass(by=district.committee, clue=c, department="区教育局执法大队", date=dt.date(2024, 3, 6), today=TODAY)
    c = clue_update_status(
        by=district.committee,
        clue=c,
        status=ClueStatus.INVESTIGATING,
        date=dt.date(2024, 3, 8),
        took_part=True,
        today=TODAY,
    )
    c = clue_update_status(
        by=district.committee,
        clue=c,
        status=ClueStatus.CLOSED,
        date=dt.date(2024, 4, 1),
        note="已责令整改",
        today=TODAY,
    )
    assert c.closed_on == dt.date(2024, 4, 1) and c.took_part and not c.is_open
    assert [u.to_status for u in c.updates.all()] == ["pending", "passed", "investigating", "closed"]
    with pytest.raises(ValidationError):
        clue_update_status(
            by=district.committee, clue=c, status=ClueStatus.INVESTIGATING, date=dt.date(2024, 4, 2), today=TODAY
        )
    assert c.updates.count() == 4


def test_clue_dates_and_permissions(district, assigned):
    inst, _ = assigned
    c = clue(inst, dt.date(2024, 3, 5))
    with pytest.raises(ValidationError) as exc:
        clue_pass(by=district.committee, clue=c, department="执法大队", date=dt.date(2024, 3, 1), today=TODAY)
    assert "date" in _errors(exc)
    with pytest.raises(PermissionDenied):
        clue_pass(by=district.outsider, clue=c, department="执法大队", date=dt.date(2024, 3, 6), today=TODAY)
    c.refresh_from_db()
    assert c.status == ClueStatus.PENDING


# ---------------------------------------------------------------------------------------------------------
# Points


def test_points_are_copied_from_the_rule_and_reversed_not_edited(district):
    inst = institution(district.j1)
    rule = PointRule.objects.get(code="PB01")
    event = point_event_record(
        by=district.committee, institution=inst, rule=rule, date=dt.date(2024, 2, 1), today=TODAY
    )
    assert (event.points, event.year) == (10, 2024)
    reversal = point_event_reverse(by=district.committee, event=event, reason="误记", today=TODAY)
    assert reversal.points == -10 and reversal.reverses == event
    with pytest.raises(ValidationError) as exc:
        point_event_reverse(by=district.committee, event=event, reason="再次", today=TODAY)
    assert "reason" in _errors(exc)
    assert PointEvent.objects.count() == 2


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_rule", "rule"),
        ("unknown_rule", "rule"),
        ("expired_rule", "rule"),
        ("future", "date"),
        ("preparing", "institution"),
    ],
)
def test_bad_point_events_save_nothing(district, case, field):
    inst = institution(district.j1)
    rule = PointRule.objects.get(code="PB02")
    kwargs = {"rule": rule, "date": dt.date(2024, 2, 1)}
    if case == "no_rule":
        kwargs["rule"] = None
    elif case == "unknown_rule":
        kwargs["rule"] = 10**9
    elif case == "expired_rule":
        PointRule.objects.filter(pk=rule.pk).update(valid_to=2023)
    elif case == "future":
        kwargs["date"] = TODAY + dt.timedelta(days=1)
    else:
        inst = institution(district.j1, approval_status=ApprovalStatus.PREPARING, approved_on=None)
    with pytest.raises(ValidationError) as exc:
        point_event_record(by=district.committee, institution=inst, today=TODAY, **kwargs)
    assert field in _errors(exc)
    assert not PointEvent.objects.exists()


def test_a_rule_of_another_district_does_not_apply(district):
    inst = institution(district.j1)
    foreign = PointRule.objects.create(code="WQ1", name="外区细则", category="operation", points=5, owner=district.x)
    with pytest.raises(ValidationError) as exc:
        point_event_record(by=district.committee, institution=inst, rule=foreign, date=dt.date(2024, 2, 1), today=TODAY)
    assert "rule" in _errors(exc)


# ---------------------------------------------------------------------------------------------------------
# The red list


def _score(inst, *codes, date=dt.date(2024, 2, 1)):
    for code in codes:
        point_event_record(by=SYSTEM, institution=inst, rule=PointRule.objects.get(code=code), date=date)


def test_red_list_request_refused_with_an_open_violation_then_granted(district):
    RedListPolicy.objects.update(top_percent=None, top_n=1)
    best = institution(district.j1, name="甲机构")
    other = institution(district.j1, name="乙机构")
    _score(best, "PB01", "PB02")
    _score(other, "PB02")
    open_clue = clue(best, dt.date(2024, 3, 5))
    with pytest.raises(ValidationError) as exc:
        red_list_request(by=district.committee, institution=best, year=2024, today=TODAY)
    assert "违规线索" in _errors(exc)["institution"][0]
    with pytest.raises(ValidationError) as exc:  # second place is outside the quota of one
        red_list_request(by=district.committee, institution=other, year=2024, today=TODAY)
    assert "名额" in _errors(exc)["institution"][0]
    assert not RedListEntry.objects.exists()
    clue_pass(by=SYSTEM, clue=open_clue, department="执法大队", date=dt.date(2024, 3, 6), today=TODAY)
    clue_update_status(by=SYSTEM, clue=open_clue, status="dismissed", date=dt.date(2024, 3, 9), today=TODAY)
    entry = red_list_request(by=district.committee, institution=best, year=2024, today=TODAY)
    assert (entry.rank, entry.points, entry.after_school_priority) == (1, 15, True)
    with pytest.raises(ValidationError):
        red_list_request(by=district.committee, institution=best, year=2024, today=TODAY)
