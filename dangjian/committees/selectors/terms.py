"""Reads of committee terms: the terms ending soon (换届提醒), the overdue re-elections, an organization's terms.

Rules. Jianshi seed (004): "上级党组织对任期届满的党支部提前6个月通知，提醒做好换届准备". A current term is *ending*
from `warn_months` (term policy of the organization's kind, default 6) before its last day `ends_on` up to that day
(exactly six months before is inside: a term ending 2027-06-30 is announced from 2026-12-30); it is *overdue* from
the day after `ends_on` while no new election has been recorded. An organization that should have an elected
committee — a 党委 or 党总支, or a branch with at least `committee_required_at` full members (setup policy, default
7: 支部工作条例) — and has no current term is listed with the overdue ones (应选未选).

Scope: the organizations of `by`'s granted subtrees (the roles that see member data of a subtree: committee staff,
secretaries, party-school admins, instructors; the system for jobs). Every selector reads a fixed number of queries
whatever the size of the subtree: the policy rows, then one query per list, choosing the policy in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.committees.models import CommitteeSeat, CommitteeTerm, TermStatus
from dangjian.committees.selectors.policies import (
    add_months,
    choose_setup_rule,
    choose_term_rule,
    setup_rules,
    term_rules,
)
from dangjian.members.models import Category, Status
from dangjian.orgs.models import BRANCH_KINDS, Organization, OrgKind, subtree_q

DEFAULT_WARN_MONTHS = 6  # only when no term policy applies to a kind (the seed's figure)
# Kinds whose committee is always elected (基层党委, 党总支); branches need one from a number of full members.
COMMITTEE_KINDS = frozenset({OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH})


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def committee_organizations(by, root: Organization | None = None) -> QuerySet[Organization]:
    """The organizations whose committees `by` follows: their granted subtrees (under `root` if given)."""
    qs = Organization.objects.granted_to(by)
    return qs.in_subtree(root) if root is not None else qs


def _terms(by, root: Organization | None) -> QuerySet[CommitteeTerm]:
    access = access_for(by)
    qs = (
        CommitteeTerm.objects.dangerously_all()
        if access.system
        else CommitteeTerm.objects.dangerously_all().filter(subtree_q(access.view_roots, "organization__path"))
    )
    if root is not None:
        qs = qs.filter(organization__path__startswith=root.path)
    return qs


@dataclass(frozen=True)
class TermAlert:
    """A current term ending soon (换届提醒) or overdue; or, with `term` None, an organization that should have an
    elected committee and has none."""

    organization: Organization
    term: CommitteeTerm | None
    warn_from: dt.date | None
    overdue: bool
    today: dt.date

    @property
    def ends_on(self) -> dt.date | None:
        return self.term.ends_on if self.term else None

    @property
    def days(self) -> int | None:
        """Days left to the end (ending), or days past the end (overdue)."""
        if self.term is None:
            return None
        if self.overdue:
            return (self.today - self.term.ends_on).days
        return (self.term.ends_on - self.today).days

    @property
    def status_label(self) -> str:
        if self.term is None:
            return "应选未选"
        return "逾期未换届" if self.overdue else "即将届满"


def terms_ending(
    *, by, today: dt.date | None = None, within_months: int | None = None, root: Organization | None = None
) -> list[TermAlert]:
    """Current terms whose last day is within the warning window: from `warn_months` before `ends_on` (the term
    policy of the organization's kind valid this year; `within_months` overrides it) up to `ends_on`. Soonest
    first. Two queries."""
    today = _today(today)
    rules = term_rules(today.year)
    widest = within_months if within_months is not None else max([DEFAULT_WARN_MONTHS, *(r.warn_months for r in rules)])
    horizon = add_months(today, widest + 1)  # a month of slack for month-end clamping; exact test below
    candidates = (
        _terms(by, root)
        .filter(status=TermStatus.CURRENT, ends_on__gte=today, ends_on__lte=horizon)
        .select_related("organization")
        .order_by("ends_on", "organization__path")
    )
    alerts = []
    for term in candidates:
        org = term.organization
        if within_months is None:
            rule = choose_term_rule(rules, path=org.path, kind=org.kind)
            months = rule.warn_months if rule else DEFAULT_WARN_MONTHS
        else:
            months = within_months
        warn_from = add_months(term.ends_on, -months)
        if warn_from <= today:
            alerts.append(TermAlert(organization=org, term=term, warn_from=warn_from, overdue=False, today=today))
    return alerts


def terms_overdue(*, by, today: dt.date | None = None, root: Organization | None = None) -> list[TermAlert]:
    """Current terms past their last day with no new election (longest overdue first), then the organizations that
    should have an elected committee and have no current term (党委, 党总支, branches of at least
    `committee_required_at` full members). Three queries."""
    today = _today(today)
    overdue = [
        TermAlert(organization=term.organization, term=term, warn_from=None, overdue=True, today=today)
        for term in _terms(by, root)
        .filter(status=TermStatus.CURRENT, ends_on__lt=today)
        .select_related("organization")
        .order_by("ends_on", "organization__path")
    ]
    return overdue + organizations_without_committee(by=by, today=today, root=root)


def organizations_without_committee(
    *, by, today: dt.date | None = None, root: Organization | None = None
) -> list[TermAlert]:
    """The organizations that should have an elected committee and have no current term (应选未选): 党委 and 党总支,
    and branches with at least `committee_required_at` active full members (setup policy). Two queries."""
    today = _today(today)
    rules = setup_rules(today.year)
    current = CommitteeTerm.objects.dangerously_all().filter(status=TermStatus.CURRENT).values("organization_id")
    lowest = min((r.committee_required_at for r in rules), default=None)
    wanted = Q(kind__in=COMMITTEE_KINDS)
    if lowest is not None:
        wanted |= Q(kind__in=BRANCH_KINDS, full_members__gte=lowest)
    orgs = (
        committee_organizations(by, root)
        .exclude(pk__in=current)
        .annotate(
            full_members=Count("members", filter=Q(members__status=Status.ACTIVE, members__category=Category.FULL))
        )
        .filter(wanted)
        .order_by("path")
    )
    out = []
    for org in orgs:
        if org.kind in BRANCH_KINDS:
            rule = choose_setup_rule(rules, path=org.path)
            if rule is None or org.full_members < rule.committee_required_at:
                continue
        out.append(TermAlert(organization=org, term=None, warn_from=None, overdue=True, today=today))
    return out


def term_list(
    *, by, status: str = "all", root: Organization | None = None, kind: str | None = None
) -> QuerySet[CommitteeTerm]:
    """All terms in scope (`status`: "current", "ended" or "all"), for the term list page; paginate it."""
    qs = _terms(by, root).select_related("organization")
    if status in TermStatus.values:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(organization__kind=kind)
    return qs.annotate(open_seats=Count("holdings", filter=Q(holdings__end_date__isnull=True))).order_by(
        "ends_on", "organization__path"
    )


@dataclass
class TermView:
    """A term with its seats as the organization page shows them."""

    term: CommitteeTerm
    seats: list[CommitteeSeat]

    @property
    def open_seats(self) -> list[CommitteeSeat]:
        return [s for s in self.seats if s.end_date is None]

    @property
    def vacancies(self) -> int:
        return max(0, self.term.seats - len(self.open_seats))

    @property
    def vacated_unfilled(self) -> list[CommitteeSeat]:
        """Seats vacated within the term and not yet filled by by-election."""
        filled = {s.replaces_id for s in self.seats if s.replaces_id}
        return [
            s for s in self.seats if s.end_date is not None and s.vacate_reason != "term_ended" and s.pk not in filled
        ]


def organization_terms(*, by, org: Organization) -> list[TermView]:
    """The organization's terms, newest first, each with its seats (members and their posts): two queries."""
    terms = list(_terms(by, None).filter(organization=org).order_by("-elected_on", "-pk"))
    seats: dict[int, list[CommitteeSeat]] = {t.pk: [] for t in terms}
    for seat in (
        CommitteeSeat.objects.dangerously_all()
        .filter(term__in=[t.pk for t in terms])
        .select_related("member")
        .order_by("start_date", "pk")
    ):
        seats[seat.term_id].append(seat)
    return [TermView(term=t, seats=seats[t.pk]) for t in terms]
