"""Factories of committee terms and policies. `elect()` writes through `committees.services.term_elect` (with the
system's access by default), so the tests set up terms the way users do; `CommitteeTermFactory` writes a term row
directly (for dates and states the service would refuse)."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from dangjian.accounts.access import Access
from dangjian.committees import services
from dangjian.committees.models import CommitteeTerm, Position, ReportKind, ReportSchedule, SetupPolicy, TermPolicy
from dangjian.core.validators import add_years
from dangjian.members.models import Member
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory


class TermPolicyFactory(DjangoModelFactory):
    class Meta:
        model = TermPolicy

    org_kind = OrgKind.BRANCH
    term_years = 3
    warn_months = 6
    valid_from = 2018


class SetupPolicyFactory(DjangoModelFactory):
    class Meta:
        model = SetupPolicy

    name = factory.Sequence(lambda n: f"组织设置规定{n:03d}")
    valid_from = 2018


class ReportScheduleFactory(DjangoModelFactory):
    class Meta:
        model = ReportSchedule

    kind = ReportKind.SETUP_REVIEW
    org_kinds = factory.LazyFunction(lambda: [OrgKind.WORK_COMMITTEE, OrgKind.COMMITTEE])
    due_days = 15
    early_filing = True
    valid_from = 2018


class CommitteeTermFactory(DjangoModelFactory):
    class Meta:
        model = CommitteeTerm

    organization = factory.SubFactory(OrganizationFactory)
    elected_on = dt.date(2024, 6, 1)
    term_years = 3
    ends_on = factory.LazyAttribute(lambda o: add_years(o.elected_on, o.term_years) - dt.timedelta(days=1))
    seats = 3


def full_members(org, n: int, **kwargs) -> list[Member]:
    return [MemberFactory(organization=org, **kwargs) for _ in range(n)]


def elect(
    org,
    members=None,
    *,
    elected_on: dt.date = dt.date(2024, 6, 1),
    seats: int | None = None,
    by=None,
    today: dt.date | None = None,
) -> CommitteeTerm:
    """Elect a committee of `members` (default: three new full members): the first is 书记, the others 委员."""
    members = members if members is not None else full_members(org, 3)
    pairs = [(m, Position.SECRETARY if i == 0 else Position.MEMBER) for i, m in enumerate(members)]
    return services.term_elect(
        by=by or Access.system_access(),
        organization=org,
        elected_on=elected_on,
        members=pairs,
        seats=seats or len(pairs),
        today=today or dt.date(2026, 11, 30),
    )
