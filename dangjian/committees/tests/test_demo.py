"""The demo's committee terms: most organizations have a current term, a few end soon, a few are overdue, a few have
a vacancy; seats agree with the members' party posts; the pages and selectors work on it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.committees.models import CommitteeSeat, CommitteeTerm, TermStatus
from dangjian.committees.selectors.setup import setup_flags
from dangjian.committees.selectors.terms import terms_ending, terms_overdue
from dangjian.members.models import Category, Status
from dangjian.orgs.models import BRANCH_KINDS, Organization, OrgKind

pytestmark = pytest.mark.django_db
SYSTEM = Access.system_access()


def test_demo_committees(small_demo):
    summary = small_demo
    today = timezone.localdate()
    counts = summary.committees
    current = CommitteeTerm.objects.filter(status=TermStatus.CURRENT)
    assert counts["terms"] == current.count()
    electable = Organization.objects.exclude(kind=OrgKind.WORK_COMMITTEE).count()
    assert current.count() >= 0.8 * electable
    assert not current.filter(organization__kind=OrgKind.WORK_COMMITTEE).exists()
    assert not CommitteeTerm.objects.filter(elected_on__gt=today).exists()
    assert CommitteeTerm.history.count() == CommitteeTerm.objects.count()
    # Every open seat holder is an active full member under the organization; the post has the seat's dates.
    for seat in CommitteeSeat.objects.select_related("member__organization", "term__organization", "party_post"):
        assert seat.member.organization.path.startswith(seat.term.organization.path)
        assert seat.member.category == Category.FULL
        assert seat.member.full_date < seat.start_date
        if seat.end_date is None:
            assert seat.member.status == Status.ACTIVE
        assert seat.party_post is not None
        assert (seat.party_post.start_date, seat.party_post.end_date) == (seat.start_date, seat.end_date)
        seat.party_post.full_clean()
    for term in current:
        assert term.holdings.filter(position="secretary", end_date=None).count() == 1
    # Selectors and flags on the demo: the mix the brief asks for.
    assert len(terms_ending(by=SYSTEM, today=today)) >= 1 or counts["ending"] == 0
    overdue = [a for a in terms_overdue(by=SYSTEM, today=today) if a.term is not None]
    assert len(overdue) == counts["overdue"]
    assert (
        CommitteeSeat.objects.filter(end_date__isnull=False, term__status=TermStatus.CURRENT).count()
        == counts["vacancies"]
    )
    missing = {f.organization.pk for f in setup_flags(by=SYSTEM, today=today) if f.rule == "needs_committee"}
    assert missing <= set(
        Organization.objects.filter(kind__in=BRANCH_KINDS)
        .exclude(committee_terms__status="current")
        .values_list("pk", flat=True)
    )
