"""Factories of people on the development path, and `walk`, which records their steps through the services on a
schedule that keeps every time rule (the offsets are days after the application)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dangjian.core.validators import MALE, add_years
from dangjian.development import services
from dangjian.development.models import Candidate
from dangjian.members.models import Category, Member
from dangjian.members.tests.factories import MemberFactory, make_id_number

# Days after the application each step is dated on: the talk within a month, a year and more of activism before
# the candidate is chosen and voted on, the approval within three months, the vote on full membership just after
# the year of probation (480 + 365 days), its approval within three months.
SCHEDULE: dict[int, int] = {
    1: 0, 2: 10, 3: 40, 4: 45, 5: 50, 6: 400, 7: 420, 8: 425, 9: 430, 10: 440, 11: 450, 12: 460, 13: 465,
    14: 470, 15: 480, 16: 490, 17: 500, 18: 505, 19: 510, 20: 515, 21: 600, 22: 830, 23: 850, 24: 860, 25: 870,
}  # fmt: skip
FULL_PATH_DAYS = SCHEDULE[25]

_seq = iter(range(1, 10**6))


def person(*, birth: dt.date | None = None, gender: str = MALE) -> dict:
    """Name, gender, birth date and a valid ID number of a new person (30 years old by default)."""
    n = next(_seq)
    birth = birth or add_years(timezone.localdate(), -30) - dt.timedelta(days=n)
    return {
        "name": f"申请人{n:04d}",
        "gender": gender,
        "birth_date": birth,
        "id_number": make_id_number(birth, gender, n, "420116"),
    }


def full_members(branch, n: int = 2) -> list[Member]:
    return [MemberFactory(organization=branch, category=Category.FULL) for _ in range(n)]


def register(by, branch, *, applied_on: dt.date, **overrides) -> Candidate:
    data = person() | overrides
    return services.candidate_register(by=by, organization=branch, applied_on=applied_on, **data)


def step_kwargs(number: int, branch_members: list[Member]) -> dict:
    """What a step needs besides its date: contacts for steps that assign them, the course's days."""
    if number == 5:
        return {"contacts": branch_members[:1]}
    if number == 9:
        return {"contacts": branch_members[:2]}
    if number == 11:
        return {"course_days": 3}
    return {}


def walk(candidate: Candidate, by, *, to: int, branch_members: list[Member], start: dt.date | None = None) -> Candidate:
    """Record the candidate's steps after the last one up to `to`, dated on SCHEDULE from the application's date."""
    applied = start or candidate.steps.get(number=1).date
    for number in range(candidate.last_step + 1, to + 1):
        services.step_record(
            by=by,
            candidate=candidate,
            number=number,
            date=applied + dt.timedelta(days=SCHEDULE[number]),
            **step_kwargs(number, branch_members),
        )
        candidate.refresh_from_db()
    return candidate


def on_path(by, branch, *, to: int, branch_members: list[Member], days_ago: int | None = None) -> Candidate:
    """A person registered `days_ago` days ago (long enough for the whole path by default) and walked to `to`."""
    applied = timezone.localdate() - dt.timedelta(days=days_ago if days_ago is not None else FULL_PATH_DAYS + 5)
    candidate = register(by, branch, applied_on=applied)
    return walk(candidate, by, to=to, branch_members=branch_members)


def candidate_at(org, *, stage_step: int = 2) -> Candidate:
    """A person of `org` registered directly (no user scope needed: the system access), walked to `stage_step`."""
    from dangjian.accounts.access import Access

    system = Access.system_access()
    applied = timezone.localdate() - dt.timedelta(days=60)
    candidate = services.candidate_register(by=system, organization=org, applied_on=applied, **person())
    return walk(candidate, system, to=stage_step, branch_members=[])
