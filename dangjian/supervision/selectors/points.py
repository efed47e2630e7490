"""The points ranking (过程监管积分排名) and the red list (红名单, Yiyang: 入选“红名单”的优秀机构优先进校参与课后服务).

Ranking. The approved institutions of a scope, by their points of the year (the sum of their ledger entries;
none: 0) descending, then by name. Ties share a rank and the next rank skips (1, 1, 3: "competition ranking"), so
an institution's rank never depends on the order of its name.

Red list. The policy is the valid `RedListPolicy` of the most specific owner at or above the ranking's root (None:
the system's). Its quota is `top_n`, or `top_percent` of the ranked institutions rounded up (at least one). An
institution is on the red list when its rank is within the quota (ties at the boundary are all in), it has at least
`min_points` points, and it has no open violation (a clue 待移交, 已移交 or 查处中). An excluded institution does not
pass its place on: the red list is the top of the ranking, less those with open violations.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.orgs.models import Organization, ancestor_paths
from dangjian.supervision.models import (
    OPEN_CLUE_STATUSES,
    Clue,
    Institution,
    PointEvent,
    PointRule,
    RedListEntry,
    RedListPolicy,
)

YEAR_MIN, YEAR_MAX = 2000, 2100


def active_rules(*, by, year: int, root: Organization | None = None):
    """The points rules in force in `year` that `by` sees (过程监管积分细则, shown read-only beside the ranking so
    that the committee knows what earns points): the system's, and those owned at, above or below the root."""
    qs = PointRule.objects.visible_to(by).valid_in(year).select_related("owner")
    if root is not None:
        qs = qs.filter(
            Q(owner__isnull=True)
            | Q(owner__path__in=[*ancestor_paths([root.path]), root.path])
            | Q(owner__path__startswith=root.path)
        )
    return qs.order_by("category", "-points", "code", "pk")


def policy_for(root: Organization | None, year: int) -> RedListPolicy | None:
    """The red-list policy for a ranking over `root`'s subtree: the most specific owner at or above it, then the
    newest."""
    paths = [] if root is None else [*ancestor_paths([root.path]), root.path]
    candidates = [
        p
        for p in RedListPolicy.objects.dangerously_all().valid_in(year).select_related("owner")
        if p.owner is None or p.owner.path in paths
    ]
    candidates.sort(key=lambda p: (-(len(p.owner.path) if p.owner else 0), -p.pk))
    return candidates[0] if candidates else None


def quota_of(policy: RedListPolicy | None, ranked: int) -> int:
    if policy is None or not ranked:
        return 0
    if policy.top_n:
        return policy.top_n
    return max(1, math.ceil(ranked * policy.top_percent / 100))


@dataclass
class RankRow:
    pk: int
    name: str
    licence_no: str
    area: str
    points: int
    rank: int = 0
    open_violations: int = 0
    red_list: bool = False  # within the red list of this ranking
    listed: bool = False  # put on the red list (marked for after-school-service priority)


@dataclass
class Ranking:
    year: int
    root: Organization | None
    policy: RedListPolicy | None
    quota: int = 0
    rows: list[RankRow] = field(default_factory=list)

    @property
    def red_list(self) -> list[RankRow]:
        return [row for row in self.rows if row.red_list]


def points_ranking(*, by, year: int, root: Organization | None = None, today: dt.date | None = None) -> Ranking:
    """The ranking of the approved institutions `by` sees under `root` for `year`, with the red list. Four queries."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError("year out of range")
    qs = Institution.objects.visible_to(by).operating()
    if root is not None:
        qs = qs.in_subtree(root)
    rows = [
        RankRow(pk, name, licence, area, 0)
        for pk, name, licence, area in qs.values_list("pk", "unit__name", "licence_no", "area").order_by()
    ]
    ids = [row.pk for row in rows]
    points = dict(
        PointEvent.objects.filter(institution_id__in=ids, year=year)
        .values("institution_id")
        .annotate(total=Sum("points"))
        .values_list("institution_id", "total")
        .order_by()
    )
    violations = dict(
        Clue.objects.filter(institution_id__in=ids, status__in=OPEN_CLUE_STATUSES)
        .values("institution_id")
        .annotate(n=Count("pk"))
        .values_list("institution_id", "n")
        .order_by()
    )
    listed = set(
        RedListEntry.objects.filter(institution_id__in=ids, year=year).values_list("institution_id", flat=True)
    )
    for row in rows:
        row.points = points.get(row.pk) or 0
        row.open_violations = violations.get(row.pk, 0)
        row.listed = row.pk in listed
    rows.sort(key=lambda r: (-r.points, r.name, r.pk))
    previous = None
    for index, row in enumerate(rows, start=1):
        row.rank = previous.rank if previous is not None and previous.points == row.points else index
        previous = row
    policy = policy_for(root, year)
    ranking = Ranking(year=year, root=root, policy=policy, quota=quota_of(policy, len(rows)), rows=rows)
    for row in rows:
        row.red_list = (
            policy is not None
            and row.rank <= ranking.quota
            and row.points >= policy.min_points
            and not row.open_violations
        )
    return ranking


def red_list_standing(*, institution: Institution, year: int, today: dt.date | None = None) -> RankRow | None:
    """The institution's row in the ranking its red list is drawn from: the scope of the most specific policy that
    applies to it (the policy owner's subtree; the whole system for the system's policy), seen with the system
    access. None when it is not ranked (not approved)."""
    org = institution.unit.organization or institution.unit.managing_organization
    policy = policy_for(org, year) if org is not None else policy_for(None, year)
    root = policy.owner if policy is not None else None
    ranking = points_ranking(by=Access.system_access(), year=year, root=root, today=today or timezone.localdate())
    return next((row for row in ranking.rows if row.pk == institution.pk), None)
