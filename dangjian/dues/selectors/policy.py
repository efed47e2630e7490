"""The dues policy in force for an organization and a year (docs/dues.md, "Policy"): of the active policies valid in
the year, the one whose owner is the organization's nearest ancestor (or itself) wins, then the system-wide one; with
none, the 2008 rules' defaults (an unsaved `DuesPolicy`)."""

from __future__ import annotations

from django.db.models import Q

from dangjian.dues.models import DuesPolicy
from dangjian.orgs.models import Organization


def policy_for(organization: Organization | None, year: int) -> DuesPolicy:
    paths = []
    if organization is not None:
        step = Organization.steplen
        paths = [organization.path[:i] for i in range(step, len(organization.path) + 1, step)]
    # Policy rows are public by design (they apply downwards): the named bypass.
    rows = list(
        DuesPolicy.objects.dangerously_all()
        .valid_in(year)
        .filter(Q(owner__isnull=True) | Q(owner__path__in=paths))
        .select_related("owner")
    )
    if not rows:
        return DuesPolicy(name="党费收缴标准（默认）")
    return max(rows, key=lambda p: (len(p.owner.path) if p.owner_id else 0, p.valid_from, p.pk))
