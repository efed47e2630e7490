"""The points ranking (过程监管积分排名) and the red list (红名单, Yiyang: 入选“红名单”的优秀机构优先进校参与课后服务).

Source: the Yiyang seed (docs/rules.md, 2024 newsletter no. 15): party building written into the
《益阳市校外培训机构过程监管积分制度》 and the "红名单" system whose institutions get priority for after-school
services. The seed sets no numbers: the quota is a policy row (`RedListPolicy`).

Ranking. The institutions of a scope that were in operation during the year (approved on or before its last day,
not suspended or cancelled before its first: `active_in_year`) together with any institution that has points in the
year, by their points of the year (the sum of their ledger entries; none: 0) descending, then by name. Ties share a
rank and the next rank skips (1, 1, 3: "competition ranking"), so an institution's rank never depends on the order
of its name. A year with neither points nor institutions in operation is empty (`Ranking.empty`, `message`): it is
not ranked (nobody is "first" of nothing).

Eligibility (`RankRow.red_list`). The policy is the valid `RedListPolicy` of the most specific owner at or above the
ranking's root (None: the system's). Its quota is `top_n`, or `top_percent` of the ranked institutions rounded up (at
least one). An institution is within the red list of the ranking when its rank is within the quota (ties at the
boundary are all in), it has at least `min_points` points, and it has no open violation of that year (a clue found
in the year and still 待移交, 已移交 or 查处中; an open clue of another year does not exclude it). An excluded
institution does not pass its place on: the red list is the top of the ranking, less those with open violations.

Listing (`RankRow.listed`). Eligibility is not the red list: an institution is on the red list of a year only when
the committee has put it there (`RedListEntry` of that year, `services.red_list_request`). Reports of the red list
(the `institution_points` command's 红名单 column) show the listing.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.orgs.models import Organization, ancestor_paths
from dangjian.supervision.models import (
    OPEN_CLUE_STATUSES,
    ApprovalStatus,
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
    # A policy sets exactly one of top_n and top_percent (a check constraint).
    assert policy.top_percent is not None
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
        """The rows within the red list of this ranking (eligible; see `listed` for the published list)."""
        return [row for row in self.rows if row.red_list]

    @property
    def listed(self) -> list[RankRow]:
        """The rows on the published red list of the year (`RedListEntry`)."""
        return [row for row in self.rows if row.listed]

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def message(self) -> str:
        """Why there is nothing to rank, in words for the page and the command."""
        scope = f"“{self.root.name}”范围内" if self.root is not None else ""
        return f"{self.year}年度{scope}没有积分记录，也没有处于办学状态（已审批）的培训机构，无法排名。"


def active_in_year_q(year: int) -> Q:
    """Institutions in operation at some time of `year`: approved (已审批, or since suspended or cancelled) on or
    before 31 December, and not suspended or cancelled before 1 January."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    return (
        ~Q(approval_status=ApprovalStatus.PREPARING)
        & Q(approved_on__isnull=False, approved_on__lte=end)
        & (Q(closed_on__isnull=True) | Q(closed_on__gte=start))
    )


def points_ranking(*, by, year: int, root: Organization | None = None, today: dt.date | None = None) -> Ranking:
    """The ranking of the institutions `by` sees under `root` that were in operation in `year` (or scored in it),
    with the eligibility for the red list and the published listing of the year (module docstring; Yiyang seed,
    docs/rules.md: 过程监管积分制度, 红名单). Four queries."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError("year out of range")
    qs = Institution.objects.visible_to(by)
    if root is not None:
        qs = qs.in_subtree(root)
    scored = PointEvent.objects.dangerously_all().filter(institution_id=OuterRef("pk"), year=year)
    qs = qs.filter(active_in_year_q(year) | Exists(scored))
    rows = [
        RankRow(pk, name, licence, area, 0)
        for pk, name, licence, area in qs.values_list("pk", "unit__name", "licence_no", "area").order_by()
    ]
    ids = [row.pk for row in rows]
    points = dict(
        PointEvent.objects.dangerously_all()
        .filter(institution_id__in=ids, year=year)
        .values("institution_id")
        .annotate(total=Sum("points"))
        .values_list("institution_id", "total")
        .order_by()
    )
    violations = dict(
        Clue.objects.dangerously_all()
        .filter(institution_id__in=ids, status__in=OPEN_CLUE_STATUSES, found_on__year=year)
        .values("institution_id")
        .annotate(n=Count("pk"))
        .values_list("institution_id", "n")
        .order_by()
    )
    listed = set(
        RedListEntry.objects.dangerously_all()
        .filter(institution_id__in=ids, year=year)
        .values_list("institution_id", flat=True)
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
