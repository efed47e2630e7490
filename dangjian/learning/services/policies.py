"""Online-learning rules (网络学习规则): which rule applies to a member in a year (docs/learning.md, "Rules").

A rule applies downwards from its owner (None: the whole system). Of the active rules valid in the year, the rule of
the nearest organization above the member (their own organization included) wins; the seeded system rule (90%, no
caps) applies where no organization has set its own."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from dangjian.learning.models import LearningPolicy
from dangjian.orgs.models import ancestor_paths

DEFAULT_MIN_SHARE = 90


@dataclass(frozen=True)
class Rule:
    min_share: int = DEFAULT_MIN_SHARE
    daily_seconds: int | None = None
    yearly_hours: Decimal | None = None
    name: str = "默认"


def rule_for(member, year: int) -> Rule:
    """The rule that applies to `member` in `year` (one query)."""
    path = member.organization.path
    rows = list(
        LearningPolicy.objects.dangerously_all()  # rules, not member data; narrowed to the member's organizations
        .valid_in(year)
        .filter(Q(owner__isnull=True) | Q(owner__path__in=[*ancestor_paths([path]), path]))
        .select_related("owner")
    )
    if not rows:
        return Rule()
    best = max(rows, key=lambda row: (len(row.owner.path) if row.owner else -1, row.pk))
    return Rule(
        min_share=best.min_share,
        daily_seconds=best.daily_minutes * 60 if best.daily_minutes is not None else None,
        yearly_hours=best.yearly_hours,
        name=best.name,
    )
