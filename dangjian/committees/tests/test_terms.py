"""Committee terms: the election (换届) and its validation, by-elections (补选) only for vacant seats, vacating a seat,
the term warnings (6 months before the end, overdue the day after) and the policies behind them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.committees import services
from dangjian.committees.models import CommitteeSeat, CommitteeTerm, Position, SeatSource, TermStatus, VacateReason
from dangjian.committees.selectors.terms import organizations_without_committee, terms_ending, terms_overdue
from dangjian.committees.tests.factories import TermPolicyFactory, elect, full_members
from dangjian.members.models import Category, PartyPost, Post, Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
SYSTEM = Access.system_access()
TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def branch():
    root = OrganizationFactory(kind=OrgKind.COMMITTEE, code="C1", name="一中党委")
    return OrganizationFactory(parent=root, kind=OrgKind.BRANCH, code="C1A", name="高一党支部")


def _elect(org, pairs, *, elected_on=dt.date(2024, 6, 1), seats=3, by=SYSTEM, **kwargs):
    return services.term_elect(
        by=by, organization=org, elected_on=elected_on, members=pairs, seats=seats, today=TODAY, **kwargs
    )


def _nothing_saved():
    assert not CommitteeTerm.objects.exists()
    assert not CommitteeSeat.objects.exists()
    assert not PartyPost.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Election


def test_election_records_term_seats_and_posts(branch):
    a, b, c = full_members(branch, 3)
    term = _elect(branch, [(a, Position.SECRETARY), (b, Position.ORGANIZATION), (c, Position.DEPUTY_SECRETARY)])
    assert term.status == TermStatus.CURRENT
    assert term.term_years == 3  # the default branch policy
    assert term.ends_on == dt.date(2027, 5, 31)
    seats = {s.member_id: s for s in term.holdings.all()}
    assert {s.position for s in seats.values()} == {
        Position.SECRETARY,
        Position.ORGANIZATION,
        Position.DEPUTY_SECRETARY,
    }
    assert all(s.source == SeatSource.ELECTION and s.start_date == term.elected_on for s in seats.values())
    # The member's record holds the post, so the rules that read posts see it.
    posts = {p.member_id: p.post for p in PartyPost.objects.all()}
    assert posts == {a.pk: Post.SECRETARY, b.pk: Post.COMMITTEE_MEMBER, c.pk: Post.DEPUTY_SECRETARY}


def test_committee_term_is_five_years_by_default():
    committee = OrganizationFactory(kind=OrgKind.COMMITTEE)
    child = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH)
    secretary = MemberFactory(organization=child)  # a 党委 is elected from the members of its subtree
    term = _elect(committee, [(secretary, Position.SECRETARY)], seats=5)
    assert term.term_years == 5
    assert term.ends_on == dt.date(2029, 5, 31)


def test_new_election_ends_the_previous_term(branch):
    a, b, c, d = full_members(branch, 4)
    first = _elect(branch, [(a, Position.SECRETARY), (b, Position.MEMBER), (c, Position.MEMBER)])
    second = _elect(
        branch, [(d, Position.SECRETARY), (a, Position.MEMBER), (b, Position.MEMBER)], elected_on=dt.date(2026, 5, 20)
    )
    first.refresh_from_db()
    assert first.status == TermStatus.ENDED
    assert first.ended_on == dt.date(2026, 5, 19)
    assert not first.holdings.open().exists()
    assert set(first.holdings.values_list("vacate_reason", flat=True)) == {VacateReason.TERM_ENDED}
    assert CommitteeTerm.objects.current().get() == second
    # a's old secretary post ends the day before; a's new post starts on the election day.
    posts = PartyPost.objects.filter(member=a).order_by("start_date")
    assert [(p.post, p.start_date, p.end_date) for p in posts] == [
        (Post.SECRETARY, dt.date(2024, 6, 1), dt.date(2026, 5, 19)),
        (Post.COMMITTEE_MEMBER, dt.date(2026, 5, 20), None),
    ]


def test_term_years_are_kept_when_the_policy_changes(branch):
    term = elect(branch)
    TermPolicyFactory(org_kind=OrgKind.BRANCH, term_years=5, owner=branch)
    term.refresh_from_db()
    assert term.term_years == 3
    assert terms_overdue(by=SYSTEM, today=dt.date(2027, 6, 1))[0].term == term


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("future", "elected_on"),
        ("before_established", "elected_on"),
        ("outside", "members"),
        ("probationary", "members"),
        ("left", "members"),
        ("too_many", "members"),
        ("no_secretary", "members"),
        ("two_secretaries", "members"),
        ("two_organization_members", "members"),
        ("duplicate", "members"),
        ("empty", "members"),
        ("seats_zero", "seats"),
        ("unknown_position", "members"),
    ],
)
def test_bad_election_is_refused_and_nothing_saved(branch, case, field):
    a, b, c = full_members(branch, 3)
    elected_on, seats = dt.date(2024, 6, 1), 3
    pairs = [(a, Position.SECRETARY), (b, Position.MEMBER), (c, Position.MEMBER)]
    if case == "future":
        elected_on = TODAY + dt.timedelta(days=1)
    elif case == "before_established":
        branch.established_on = dt.date(2024, 7, 1)
        branch.save()
    elif case == "outside":
        pairs[2] = (MemberFactory(), Position.MEMBER)
    elif case == "probationary":
        pairs[2] = (MemberFactory(organization=branch, category=Category.PROBATIONARY, full_date=None), "member")
    elif case == "left":
        pairs[2] = (MemberFactory(organization=branch, status=Status.TRANSFERRED_OUT), Position.MEMBER)
    elif case == "too_many":
        seats = 2
    elif case == "no_secretary":
        pairs[0] = (a, Position.MEMBER)
    elif case == "two_secretaries":
        pairs[1] = (b, Position.SECRETARY)
    elif case == "two_organization_members":
        pairs[1:] = [(b, Position.ORGANIZATION), (c, Position.ORGANIZATION)]
    elif case == "duplicate":
        pairs[2] = (b, Position.MEMBER)
    elif case == "empty":
        pairs = []
    elif case == "seats_zero":
        seats = 0
    elif case == "unknown_position":
        pairs[2] = (c, "chairman")
    with pytest.raises(ValidationError) as exc:
        _elect(branch, pairs, elected_on=elected_on, seats=seats)
    assert field in exc.value.message_dict
    assert all(isinstance(m, str) and m for m in exc.value.message_dict[field])
    _nothing_saved()


def test_election_not_after_the_current_term_is_refused(branch):
    """Two current terms: an election dated on or before the current term's election is refused."""
    term = elect(branch)
    a, b = full_members(branch, 2)
    with pytest.raises(ValidationError) as exc:
        _elect(branch, [(a, Position.SECRETARY), (b, Position.MEMBER)], elected_on=term.elected_on)
    assert "elected_on" in exc.value.message_dict
    term.refresh_from_db()
    assert term.status == TermStatus.CURRENT
    assert CommitteeTerm.objects.count() == 1


def test_work_committee_has_no_elected_term():
    wc = OrganizationFactory(kind=OrgKind.WORK_COMMITTEE)
    a = MemberFactory(organization=wc)
    with pytest.raises(ValidationError) as exc:
        _elect(wc, [(a, Position.SECRETARY)])
    assert "organization" in exc.value.message_dict
    _nothing_saved()


def test_election_needs_a_term_policy(branch):
    from dangjian.committees.models import TermPolicy

    TermPolicy.objects.filter(org_kind=OrgKind.BRANCH).update(active=False)
    a = MemberFactory(organization=branch)
    with pytest.raises(ValidationError) as exc:
        _elect(branch, [(a, Position.SECRETARY)])
    assert "任期规定" in exc.value.message_dict["elected_on"][0]
    _nothing_saved()


def test_only_member_editors_of_the_organization_may_elect(branch):
    other = OrganizationFactory(kind=OrgKind.BRANCH)
    outsider = UserFactory()
    grant(outsider, Role.SECRETARY, other)
    instructor = UserFactory()
    grant(instructor, Role.INSTRUCTOR, branch)
    a = MemberFactory(organization=branch)
    for user in (outsider, instructor):
        with pytest.raises(PermissionDenied):
            _elect(branch, [(a, Position.SECRETARY)], by=user)
    _nothing_saved()
    secretary = UserFactory()
    grant(secretary, Role.SECRETARY, branch)
    assert _elect(branch, [(a, Position.SECRETARY)], by=secretary).created_by == secretary


# ---------------------------------------------------------------------------------------------------------
# Vacating and by-election


def _term_with_vacancy(branch):
    a, b, c = full_members(branch, 3)
    term = _elect(branch, [(a, Position.SECRETARY), (b, Position.ORGANIZATION), (c, Position.MEMBER)])
    seat = term.holdings.get(member=b)
    services.seat_vacate(by=SYSTEM, seat=seat, date=dt.date(2025, 3, 1), reason=VacateReason.TRANSFER, today=TODAY)
    return term, seat


def test_vacate_ends_the_seat_and_the_post(branch):
    term, seat = _term_with_vacancy(branch)
    seat.refresh_from_db()
    assert seat.end_date == dt.date(2025, 3, 1)
    assert seat.vacate_reason == VacateReason.TRANSFER
    assert seat.party_post.end_date == dt.date(2025, 3, 1)
    assert term.holdings.open().count() == 2


@pytest.mark.parametrize("case", ["again", "before_start", "future", "bad_reason", "term_ended_reason"])
def test_bad_vacate_is_refused(branch, case):
    term, vacated = _term_with_vacancy(branch)
    seat = vacated if case == "again" else term.holdings.open().exclude(position=Position.SECRETARY).first()
    date = {"before_start": dt.date(2024, 5, 1), "future": TODAY + dt.timedelta(days=3)}.get(case, dt.date(2025, 4, 1))
    reason = {"bad_reason": "bored", "term_ended_reason": VacateReason.TERM_ENDED}.get(case, VacateReason.RETIRED)
    before = list(CommitteeSeat.objects.order_by("pk").values_list("pk", "end_date", "vacate_reason"))
    with pytest.raises(ValidationError):
        services.seat_vacate(by=SYSTEM, seat=seat, date=date, reason=reason, today=TODAY)
    assert list(CommitteeSeat.objects.order_by("pk").values_list("pk", "end_date", "vacate_reason")) == before


def test_by_election_fills_the_vacated_seat(branch):
    term, vacated = _term_with_vacancy(branch)
    d = MemberFactory(organization=branch)
    seat = services.seat_by_election(
        by=SYSTEM, term=term, member=d, date=dt.date(2025, 4, 10), seat=vacated, today=TODAY
    )
    assert seat.position == Position.ORGANIZATION  # taken from the vacated seat
    assert seat.source == SeatSource.BY_ELECTION
    assert seat.replaces == vacated
    assert seat.party_post.post == Post.COMMITTEE_MEMBER and seat.party_post.start_date == dt.date(2025, 4, 10)
    assert term.holdings.open().count() == 3


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_vacancy", "seat"),
        ("seat_not_vacant", "seat"),
        ("seat_already_filled", "seat"),
        ("position_taken", "position"),
        ("member_outside", "member"),
        ("member_probationary", "member"),
        ("member_already_seated", "member"),
        ("before_election", "date"),
        ("before_vacated", "date"),
        ("after_term_end", "date"),
        ("future", "date"),
        ("no_position", "position"),
    ],
)
def test_bad_by_election_is_refused_and_nothing_saved(branch, case, field):
    term, vacated = _term_with_vacancy(branch)
    member = MemberFactory(organization=branch)
    kwargs = {"member": member, "date": dt.date(2025, 4, 10), "seat": vacated, "position": None}
    if case == "no_vacancy":
        services.seat_by_election(
            by=SYSTEM, term=term, member=member, date=dt.date(2025, 4, 1), seat=vacated, today=TODAY
        )
        kwargs.update(member=MemberFactory(organization=branch), seat=None, position=Position.MEMBER)
    elif case == "seat_not_vacant":
        kwargs["seat"] = term.holdings.open().get(position=Position.MEMBER)
    elif case == "seat_already_filled":
        CommitteeTerm.objects.filter(pk=term.pk).update(seats=4)
        services.seat_by_election(
            by=SYSTEM, term=term, member=member, date=dt.date(2025, 4, 1), seat=vacated, today=TODAY
        )
        kwargs["member"] = MemberFactory(organization=branch)
    elif case == "position_taken":
        kwargs.update(seat=None, position=Position.SECRETARY)
    elif case == "member_outside":
        kwargs["member"] = MemberFactory()
    elif case == "member_probationary":
        kwargs["member"] = MemberFactory(organization=branch, category=Category.PROBATIONARY, full_date=None)
    elif case == "member_already_seated":
        kwargs["member"] = term.holdings.open().first().member
    elif case == "before_election":
        kwargs.update(seat=None, position=Position.MEMBER, date=dt.date(2024, 5, 1))
    elif case == "before_vacated":
        kwargs["date"] = dt.date(2025, 2, 1)
    elif case == "after_term_end":
        kwargs["date"] = dt.date(2027, 6, 1)
    elif case == "future":
        kwargs["date"] = TODAY + dt.timedelta(days=1)
    elif case == "no_position":
        kwargs.update(seat=None, position=None)
    before = CommitteeSeat.objects.count(), PartyPost.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.seat_by_election(by=SYSTEM, term=term, today=TODAY, **kwargs)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert (CommitteeSeat.objects.count(), PartyPost.objects.count()) == before


def test_by_election_of_an_ended_term_is_refused(branch):
    term, vacated = _term_with_vacancy(branch)
    a, b = full_members(branch, 2)
    _elect(branch, [(a, Position.SECRETARY), (b, Position.MEMBER)], elected_on=dt.date(2026, 1, 10))
    with pytest.raises(ValidationError) as exc:
        services.seat_by_election(
            by=SYSTEM, term=term, member=MemberFactory(organization=branch), date=dt.date(2025, 4, 1), seat=vacated
        )
    assert "term" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------------------
# Warnings


def _overdue_terms(today: dt.date):
    """The overdue terms (without the organizations that have no committee at all)."""
    return [alert for alert in terms_overdue(by=SYSTEM, today=today) if alert.term is not None]


def _term_ending(org, ends_on: dt.date):
    """A term whose last day is `ends_on` (3-year branch term: elected three years before, plus a day)."""
    elected = dt.date(ends_on.year - 3, ends_on.month, ends_on.day) + dt.timedelta(days=1)
    return elect(org, elected_on=elected)


def test_warning_starts_exactly_six_months_before_the_end(branch):
    term = _term_ending(branch, dt.date(2027, 5, 31))
    assert term.ends_on == dt.date(2027, 5, 31)
    # Six months before 2027-05-31 is 2026-11-30: warned from that day, not the day before.
    assert terms_ending(by=SYSTEM, today=dt.date(2026, 11, 29)) == []
    (alert,) = terms_ending(by=SYSTEM, today=dt.date(2026, 11, 30))
    assert alert.term == term and alert.warn_from == dt.date(2026, 11, 30)
    assert alert.status_label == "即将届满"


def test_warning_window_edges(branch):
    term = _term_ending(branch, dt.date(2027, 6, 30))
    assert terms_ending(by=SYSTEM, today=dt.date(2026, 12, 29)) == []
    (alert,) = terms_ending(by=SYSTEM, today=dt.date(2026, 12, 30))
    assert alert.term == term and alert.warn_from == dt.date(2026, 12, 30) and alert.days == 182
    assert terms_ending(by=SYSTEM, today=dt.date(2027, 6, 30))[0].days == 0  # the last day is still ending
    assert _overdue_terms(dt.date(2027, 6, 30)) == []
    # The day after the end: overdue, no longer "ending".
    assert terms_ending(by=SYSTEM, today=dt.date(2027, 7, 1)) == []
    (overdue,) = _overdue_terms(dt.date(2027, 7, 1))
    assert overdue.term == term and overdue.overdue and overdue.days == 1


def test_a_new_election_clears_the_warning(branch):
    _term_ending(branch, dt.date(2026, 10, 31))
    assert len(_overdue_terms(TODAY)) == 1
    a, b = full_members(branch, 2)
    _elect(branch, [(a, Position.SECRETARY), (b, Position.MEMBER)], elected_on=dt.date(2026, 11, 20))
    assert _overdue_terms(TODAY) == []
    assert terms_ending(by=SYSTEM, today=TODAY) == []


def test_warn_months_per_kind_and_scope(branch):
    committee = Organization.objects.get(code="C1")
    _term_ending(branch, dt.date(2027, 6, 30))
    TermPolicyFactory(org_kind=OrgKind.BRANCH, term_years=3, warn_months=8, owner=committee)
    # The scope's policy (8 months) wins over the system's (6) for branches under it.
    (alert,) = terms_ending(by=SYSTEM, today=dt.date(2026, 11, 1))
    assert alert.warn_from == dt.date(2026, 10, 30)
    other = OrganizationFactory(kind=OrgKind.BRANCH)
    _term_ending(other, dt.date(2027, 6, 30))
    assert [a.organization for a in terms_ending(by=SYSTEM, today=dt.date(2026, 11, 1))] == [branch]
    # within_months overrides the policies.
    assert len(terms_ending(by=SYSTEM, today=dt.date(2026, 11, 1), within_months=12)) == 2


def test_term_years_per_kind_from_policy(branch):
    general = OrganizationFactory(kind=OrgKind.GENERAL_BRANCH)
    TermPolicyFactory(org_kind=OrgKind.GENERAL_BRANCH, term_years=3, owner=general)
    assert elect(general).term_years == 3  # the scope's rule over the system's 5
    assert elect(branch).term_years == 3
    joint = OrganizationFactory(kind=OrgKind.JOINT_BRANCH)
    assert elect(joint).term_years == 3


def test_organizations_that_should_have_a_committee(branch):
    committee = Organization.objects.get(code="C1")
    full_members(branch, 7)
    small = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH)
    full_members(small, 6)
    full_members(small, 2, category=Category.PROBATIONARY, full_date=None)
    missing = organizations_without_committee(by=SYSTEM, today=TODAY)
    assert [a.organization for a in missing] == [committee, branch]
    assert all(a.term is None and a.status_label == "应选未选" for a in missing)
    elect(branch)
    assert [a.organization for a in terms_overdue(by=SYSTEM, today=TODAY)] == [committee]


def test_warnings_are_scoped(branch):
    _term_ending(branch, dt.date(2026, 10, 31))
    other = OrganizationFactory(kind=OrgKind.BRANCH)
    _term_ending(other, dt.date(2026, 10, 31))
    secretary = UserFactory()
    grant(secretary, Role.SECRETARY, branch)
    assert [a.organization for a in terms_overdue(by=secretary, today=TODAY)] == [branch]
    nobody = UserFactory()
    grant(nobody, Role.SYSTEM_ADMIN, None)
    assert terms_overdue(by=nobody, today=TODAY) == []


def test_warnings_take_a_fixed_number_of_queries(branch, django_assert_max_num_queries):
    committee = Organization.objects.get(code="C1")
    for i in range(6):
        org = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH)
        _term_ending(org, dt.date(2026, 10, 1) + dt.timedelta(days=60 * i))
    with django_assert_max_num_queries(3):
        terms_ending(by=SYSTEM, today=TODAY)
    with django_assert_max_num_queries(4):
        terms_overdue(by=SYSTEM, today=TODAY)
