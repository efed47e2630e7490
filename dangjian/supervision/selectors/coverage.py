"""两个全覆盖 (Yiyang): organization coverage — an institution covered by a party organization (its own branch or a
joint branch: its unit's `organization`) — and work coverage — an institution with a current instructor assignment
(an assignment covering today, of an appointment active today) — as counts and rates over a subtree, per child
organization and per area, with the lists of the uncovered institutions.

Counted: the approved (已审批) institutions the user sees; institutions in preparation, suspended or cancelled are
not operating. An institution sits in the tree at its covering organization, or, while uncovered, at its managing
committee. Queries: the institutions (one query, plain values) and the current assignments (one query), whatever
the size of the subtree.

The report also flags the institutions whose annual inspection (年检) is overdue (`selectors.inspection`: the
`InspectionPolicy` interval, default yearly, after the last inspection; Qinhuai seed docs/rules.md:
培训机构年检时，党建工作同步检查) — two more queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.orgs.models import Organization, subtree_q
from dangjian.supervision.models import Assignment, Institution
from dangjian.supervision.selectors.inspection import InspectionDue, overdue_inspections

ONE_DECIMAL = Decimal("0.1")
UNCOVERED_SHOWN = 50
OWN_LEVEL = "（本级）"
NO_AREA = "未填写片区"


def percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def supervision_organizations(by):
    """The organizations `by` may pick as the root of a supervision report: their viewed subtrees."""
    return Organization.objects.granted_to(by)


def committee_organizations(by):
    """The organizations in `by`'s committee subtrees (工委工作人员): those they may register institutions under,
    appoint instructors from and pair."""
    return Organization.objects.granted_to(by, {Role.COMMITTEE})


def appointable_accounts(by):
    """The login accounts a committee user may appoint as instructors: active accounts of a member they see, or
    holding a role inside their committee subtrees — never any account of the system (that would let a user probe
    login names, or appoint someone from another district)."""
    from django.contrib.auth import get_user_model

    from dangjian.members.models import Member

    accounts = get_user_model().objects.filter(is_active=True)
    access = access_for(by)
    if access.system:
        return accounts
    roots = access.roots_of({Role.COMMITTEE})
    in_scope = Q(member__in=Member.objects.visible_to(by).values("pk")) | Q(
        pk__in=get_user_model().objects.filter(subtree_q(roots, "role_assignments__organization__path")).values("pk")
    )
    return accounts.filter(in_scope)


def default_root(by) -> Organization | None:
    """The shallowest organization of `by`'s viewed subtrees (for the system access: the first root)."""
    access = access_for(by)
    if access.system:
        return Organization.objects.dangerously_all().filter(depth=1).first()
    return Organization.objects.dangerously_all().filter(path__in=access.view_roots).first()


def current_assignment_ids(institution_ids, today: dt.date) -> set[int]:
    """The institutions (of `institution_ids`) with an instructor assigned today."""
    return set(
        Assignment.objects.dangerously_all()
        .filter(institution_id__in=institution_ids, start_on__lte=today)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
        .filter(appointment__start_on__lte=today)
        .filter(Q(appointment__end_on__isnull=True) | Q(appointment__end_on__gte=today))
        .values_list("institution_id", flat=True)
    )


@dataclass
class CoverageRow:
    """One group (a child organization, an area, or the total) of the coverage report."""

    label: str
    code: str = ""
    total: int = 0
    org_covered: int = 0
    work_covered: int = 0

    @property
    def org_rate(self) -> Decimal:
        return percent(self.org_covered, self.total)

    @property
    def work_rate(self) -> Decimal:
        return percent(self.work_covered, self.total)

    @property
    def org_uncovered(self) -> int:
        return self.total - self.org_covered

    @property
    def work_uncovered(self) -> int:
        return self.total - self.work_covered


@dataclass(frozen=True)
class InstitutionRef:
    pk: int
    name: str
    area: str
    members: int = 0


@dataclass
class CoverageReport:
    root: Organization | None
    area: str | None
    today: dt.date
    total: CoverageRow = field(default_factory=lambda: CoverageRow("合计"))
    by_child: list[CoverageRow] = field(default_factory=list)
    by_area: list[CoverageRow] = field(default_factory=list)
    org_uncovered: list[InstitutionRef] = field(default_factory=list)  # the first UNCOVERED_SHOWN
    work_uncovered: list[InstitutionRef] = field(default_factory=list)
    inspection_overdue: list[InspectionDue] = field(default_factory=list)  # the first UNCOVERED_SHOWN, oldest first
    inspection_overdue_total: int = 0


def coverage(*, by, root: Organization | None = None, area: str | None = None, today: dt.date | None = None):
    """两个全覆盖 over `root`'s subtree (None: everything `by` sees), optionally one area: totals, per child
    organization of the root and per area, the uncovered institutions (the first `UNCOVERED_SHOWN` of each), and
    the institutions whose annual inspection is overdue (年检逾期: module docstring; Qinhuai seed)."""
    today = today or timezone.localdate()
    qs = Institution.objects.visible_to(by).operating()
    if root is not None:
        qs = qs.in_subtree(root)
    if area:
        qs = qs.filter(area=area)
    rows = list(
        qs.values_list(
            "pk",
            "unit__name",
            "area",
            "unit__organization_id",
            "unit__organization__path",
            "unit__managing_organization__path",
        ).order_by("unit__name", "pk")
    )
    assigned = current_assignment_ids([r[0] for r in rows], today)
    depth = (root.depth + 1) if root is not None else 1
    prefix_len = depth * Organization.steplen
    children = {
        o.path: o
        for o in Organization.objects.dangerously_all()
        .filter(depth=depth, **({"path__startswith": root.path} if root is not None else {}))
        .only("pk", "path", "name", "code")
    }
    report = CoverageReport(root=root, area=area, today=today)
    by_child: dict[str, CoverageRow] = {}
    by_area: dict[str, CoverageRow] = {}
    for pk, name, inst_area, org_id, org_path, managing_path in rows:
        path = org_path or managing_path or ""
        child = children.get(path[:prefix_len]) if len(path) >= prefix_len else None
        key = child.path if child else ""
        group = by_child.get(key)
        if group is None:
            group = by_child[key] = CoverageRow(child.name if child else OWN_LEVEL, child.code if child else "")
        area_group = by_area.setdefault(inst_area or NO_AREA, CoverageRow(inst_area or NO_AREA))
        covered, working = org_id is not None, pk in assigned
        for row in (report.total, group, area_group):
            row.total += 1
            row.org_covered += covered
            row.work_covered += working
        if not covered and len(report.org_uncovered) < UNCOVERED_SHOWN:
            report.org_uncovered.append(InstitutionRef(pk, name, inst_area))
        if not working and len(report.work_uncovered) < UNCOVERED_SHOWN:
            report.work_uncovered.append(InstitutionRef(pk, name, inst_area))
    overdue = overdue_inspections(qs, today)
    report.inspection_overdue = overdue[:UNCOVERED_SHOWN]
    report.inspection_overdue_total = len(overdue)
    report.by_child = sorted(by_child.values(), key=lambda r: (r.label == OWN_LEVEL, r.code))
    report.by_area = sorted(by_area.values(), key=lambda r: (r.label == NO_AREA, r.label))
    return report


def areas_of(by) -> list[str]:
    """The areas (片区) of the institutions `by` sees, for the filters."""
    return sorted(
        a for a in Institution.objects.visible_to(by).values_list("area", flat=True).distinct().order_by() if a
    )
