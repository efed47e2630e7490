"""The path's rules (docs/development-of-members.md): each refusal names its field and rule and saves nothing;
exceptions where the rules allow one; the roster entry written by the approval steps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.core.validators import add_years
from dangjian.development import services
from dangjian.development.models import Candidate, CandidateStage, ContactAssignment, StepRecord
from dangjian.development.selectors.path import next_due
from dangjian.development.steps import add_months
from dangjian.development.tests.factories import SCHEDULE, on_path, person, register, walk
from dangjian.members.models import Category, Member
from dangjian.members.tests.factories import MemberFactory
from dangjian.training.tests.factories import credit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _errors(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


def _record(place, candidate, number, date, **kwargs):
    return services.step_record(by=place.secretary, candidate=candidate, number=number, date=date, **kwargs)


def test_an_applicant_is_registered_with_the_application_as_step_one(place):
    candidate = register(place.secretary, place.branch, applied_on=TODAY() - dt.timedelta(days=3))
    assert candidate.stage == CandidateStage.APPLICANT and candidate.last_step == 1
    assert candidate.steps.get().number == 1
    assert candidate.masked_id_number.startswith(candidate.id_number[0]) and "*" in candidate.masked_id_number


def test_an_applicant_under_18_is_refused_with_the_rule(place):
    data = person(birth=add_years(TODAY(), -18) + dt.timedelta(days=10))
    with pytest.raises(ValidationError) as exc:
        services.candidate_register(by=place.secretary, organization=place.branch, applied_on=TODAY(), **data)
    assert "未满18周岁" in _errors(exc)["applied_on"][0] and "第七条" in _errors(exc)["applied_on"][0]
    assert not Candidate.objects.exists()


def test_a_bad_registration_reports_every_field_at_once(place):
    data = person() | {"id_number": "12345", "name": " "}
    with pytest.raises(ValidationError) as exc:
        services.candidate_register(
            by=place.committee_user, organization=place.committee, applied_on=TODAY() + dt.timedelta(days=1), **data
        )
    assert {"organization", "name", "id_number", "applied_on"} <= set(_errors(exc))
    assert not Candidate.objects.exists()


def test_the_same_person_cannot_be_registered_twice(place):
    data = person()
    services.candidate_register(by=place.secretary, organization=place.branch, applied_on=TODAY(), **data)
    with pytest.raises(ValidationError) as exc:
        services.candidate_register(by=place.secretary, organization=place.branch, applied_on=TODAY(), **data)
    assert "不能重复登记" in _errors(exc)["id_number"][0]
    # Registered elsewhere, the other branch's secretary gets the neutral answer.
    with pytest.raises(ValidationError) as exc:
        services.candidate_register(
            by=place.other_secretary, organization=place.other_branch, applied_on=TODAY(), **data
        )
    assert "无法登记" in _errors(exc)["id_number"][0]
    assert Candidate.objects.count() == 1


def test_a_step_out_of_order_is_refused_and_nothing_saved(place):
    candidate = register(place.secretary, place.branch, applied_on=TODAY() - dt.timedelta(days=5))
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 3, TODAY())
    message = _errors(exc)["number"][0]
    assert "须按顺序" in message and "第2步" in message
    assert StepRecord.objects.count() == 1
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 1, TODAY())
    assert "只登记一次" in _errors(exc)["number"][0]


def test_a_date_before_the_previous_step_or_in_the_future_is_refused(place):
    candidate = register(place.secretary, place.branch, applied_on=TODAY() - dt.timedelta(days=5))
    for date, words in (
        (TODAY() - dt.timedelta(days=6), "不能早于上一步"),
        (TODAY() + dt.timedelta(days=1), "晚于今天"),
    ):
        with pytest.raises(ValidationError) as exc:
            _record(place, candidate, 2, date)
        assert words in _errors(exc)["date"][0]
    assert StepRecord.objects.count() == 1


def test_a_talk_more_than_a_month_after_the_application_needs_an_exception_and_its_reason(place):
    applied = TODAY() - dt.timedelta(days=60)
    candidate = register(place.secretary, place.branch, applied_on=applied)
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 2, TODAY())
    assert "第八条" in _errors(exc)["exception_reason"][0]
    assert StepRecord.objects.count() == 1
    record = _record(place, candidate, 2, TODAY(), exception_reason="申请人外出支教两个月")
    assert record.exception_reason == "申请人外出支教两个月" and "第八条" in record.exception_rule


def test_an_exception_reason_without_a_breach_is_refused(place):
    candidate = register(place.secretary, place.branch, applied_on=TODAY() - dt.timedelta(days=5))
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 2, TODAY(), exception_reason="无")
    assert "无需填写" in _errors(exc)["exception_reason"][0]


def test_a_development_candidate_is_not_chosen_before_a_year_of_activism(place):
    candidate = on_path(place.secretary, place.branch, to=6, branch_members=place.members)
    activist_on = candidate.steps.get(number=3).date
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 7, add_months(activist_on, 12) - dt.timedelta(days=1))
    assert "第十五条" in _errors(exc)["date"][0]
    assert candidate.steps.count() == 6
    _record(place, candidate, 7, add_months(activist_on, 12))


@pytest.mark.parametrize(
    ("contacts", "words"),
    [
        ("probationary", "不是本支部的正式党员"),
        ("other_branch", "不是本支部的正式党员"),
        ("none", "一至两名正式党员"),
    ],
)
def test_a_contact_person_must_be_a_full_member_of_the_branch(place, contacts, words):
    candidate = on_path(place.secretary, place.branch, to=4, branch_members=place.members)
    chosen = {
        "probationary": [MemberFactory(organization=place.branch, probationary=True)],
        "other_branch": [MemberFactory(organization=place.other_branch)],
        "none": [],
    }[contacts]
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 5, candidate.steps.get(number=4).date, contacts=chosen)
    assert words in " ".join(_errors(exc)["contacts"])
    assert not ContactAssignment.objects.exists() and candidate.steps.count() == 4


def test_two_introducers_are_assigned_from_the_branch(place):
    candidate = on_path(place.secretary, place.branch, to=9, branch_members=place.members)
    assert set(candidate.contacts.filter(role="introducer").values_list("member", flat=True)) == {
        m.pk for m in place.members[:2]
    }


def test_a_short_course_under_3_days_and_24_hours_is_refused(place):
    candidate = on_path(place.secretary, place.branch, to=10, branch_members=place.members)
    day = candidate.steps.get(number=10).date
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 11, day, course_days=2, course_hours="20")
    assert "第十九条" in _errors(exc)["course_hours"][0]
    assert _record(place, candidate, 11, day, course_hours="24").course_hours == Decimal("24")


def test_the_course_hours_come_from_the_ledger_when_the_person_is_in_the_roster(place):
    candidate = on_path(place.secretary, place.branch, to=10, branch_members=place.members)
    member = MemberFactory(
        organization=place.branch,
        name=candidate.name,
        birth_date=candidate.birth_date,
        gender=candidate.gender,
        id_number=candidate.id_number,
    )
    day = candidate.steps.get(number=10).date
    credit(member, hours="16", on=day)
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 11, day, course_hours="30")  # typed hours do not override the ledger's 16
    assert "学时取自学时台账" in _errors(exc)["course_hours"][0]
    credit(member, hours="8", on=day)
    record = _record(place, candidate, 11, day)
    assert record.hours_from_ledger and record.course_hours == Decimal("24")


def test_the_approval_within_three_months_or_six_as_an_exception(place):
    candidate = on_path(place.secretary, place.branch, to=16, branch_members=place.members)
    vote = candidate.steps.get(number=15).date
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 17, add_months(vote, 6) + dt.timedelta(days=1), exception_reason="党委换届")
    assert "最长期限" in _errors(exc)["date"][0] and "第二十四条" in _errors(exc)["date"][0]
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 17, add_months(vote, 4))
    assert "例外情况说明" in _errors(exc)["exception_reason"][0]
    assert candidate.steps.count() == 16 and not Member.objects.filter(name=candidate.name).exists()
    record = _record(place, candidate, 17, add_months(vote, 4), exception_reason="上级党委换届，延期审批")
    assert record.exception_rule


def test_the_approval_enters_a_probationary_member_and_full_membership_updates_it_once(place):
    candidate = on_path(place.secretary, place.branch, to=17, branch_members=place.members)
    member = candidate.member
    vote = candidate.steps.get(number=15).date
    assert member.category == Category.PROBATIONARY and member.join_date == vote
    assert member.organization == place.branch and member.id_number == candidate.id_number
    walk(candidate, place.secretary, to=24, branch_members=place.members)
    member.refresh_from_db()
    assert member.category == Category.FULL and member.full_date == add_months(vote, 12)
    assert candidate.stage == CandidateStage.FULL
    with pytest.raises(ValidationError):
        _record(place, candidate, 24, TODAY())
    assert Member.objects.with_id_number(candidate.id_number).count() == 1


def test_full_membership_creates_the_roster_entry_when_there_is_none(place):
    candidate = on_path(place.secretary, place.branch, to=23, branch_members=place.members)
    member = candidate.member
    Candidate.objects.filter(pk=candidate.pk).update(member=None)
    member.delete()  # as if the admission had been recorded before the roster was kept here
    candidate.refresh_from_db()
    assert candidate.member is None
    walk(candidate, place.secretary, to=24, branch_members=place.members)
    member = Member.objects.with_id_number(candidate.id_number).get()
    assert member.category == Category.FULL and candidate.member == member


def test_the_vote_on_full_membership_waits_for_the_end_of_probation(place):
    candidate = on_path(place.secretary, place.branch, to=22, branch_members=place.members)
    end = add_months(candidate.steps.get(number=15).date, 12)
    with pytest.raises(ValidationError) as exc:
        _record(place, candidate, 23, end - dt.timedelta(days=1))
    assert "第三十四条" in _errors(exc)["date"][0]
    assert candidate.steps.count() == 22


def test_probation_is_extended_once_by_6_to_12_months(place):
    candidate = on_path(place.secretary, place.branch, to=22, branch_members=place.members)
    vote = candidate.steps.get(number=15).date
    end = add_months(vote, 12)
    for months in (5, 13):
        with pytest.raises(ValidationError) as exc:
            services.probation_extend(
                by=place.secretary, candidate=candidate, months=months, decided_on=end, reason="x"
            )
        assert "6至12个月" in _errors(exc)["months"][0]
    with pytest.raises(ValidationError) as exc:
        services.probation_extend(
            by=place.secretary, candidate=candidate, months=6, decided_on=end - dt.timedelta(days=1), reason="x"
        )
    assert "decided_on" in _errors(exc)
    services.probation_extend(
        by=place.secretary, candidate=candidate, months=6, decided_on=end, reason="考察期表现一般"
    )
    with pytest.raises(ValidationError) as exc:
        services.probation_extend(by=place.secretary, candidate=candidate, months=6, decided_on=end, reason="再延")
    assert "已延长过一次" in _errors(exc)["months"][0]
    due = next_due(dict(candidate.steps.values_list("number", "date")), 6)
    assert due is not None and due.earliest == add_months(vote, 18)


def test_a_candidate_outside_the_users_scope_is_refused_and_nothing_saved(place):
    candidate = register(place.secretary, place.branch, applied_on=TODAY() - dt.timedelta(days=5))
    with pytest.raises(PermissionDenied):
        services.step_record(by=place.other_secretary, candidate=candidate, number=2, date=TODAY())
    with pytest.raises(PermissionDenied):
        register(place.other_secretary, place.branch, applied_on=TODAY())
    assert StepRecord.objects.count() == 1 and Candidate.objects.count() == 1


def test_the_schedule_keeps_every_rule(place):
    assert max(SCHEDULE) == 25
    candidate = on_path(place.secretary, place.branch, to=25, branch_members=place.members)
    assert candidate.last_step == 25 and next_due(dict(candidate.steps.values_list("number", "date"))) is None
