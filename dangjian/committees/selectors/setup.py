"""Reads of organization setup (组织设置): the flags of organizations whose setup no longer fits the rules, and the
quarterly setup review (季度组织设置排查) and half-year setup report (半年组织设置报告).

Rules (setup policy, most specific owner wins; defaults from the branch work regulation in docs/rules.md):
- a branch with fewer than `min_full_members` (3) active full members cannot stand alone (正式党员不足3人);
- a branch with at least `committee_required_at` (7) active full members and no current committee term should
  set up a committee (应设支委会);
- a branch with more than `max_members` (50) active members should be split (党员人数超过50人);
- a joint branch (联合党支部) covering more than `max_joint_units` (5) units is too wide (覆盖单位超过5个).
"Branch" means the branch kinds (党支部, 联合党支部, 临时党支部). Counts are GROUP BY queries over the subtree, not
per-organization loops: `setup_flags` reads five queries whatever the size of the tree.

The Jianshi seed (004) asks for the review every quarter and the report every half year: `setup_report` gives the
tree's setup (organizations by kind, members, committees in term at the period's end, the flags as of today) and the
changes in the period (organizations created or changed, from the organization history; elections, by-elections,
seats vacated and terms ended, from the terms). Moves in the tree are not in the organization history (the
materialized path is not recorded and treebeard moves without saving), so they are not listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from dangjian.committees.models import CommitteeSeat, CommitteeTerm, SeatSource, TermStatus, VacateReason
from dangjian.committees.selectors.policies import choose_setup_rule, setup_rules
from dangjian.committees.selectors.terms import _terms, committee_organizations
from dangjian.members.models import Category, Member, Status
from dangjian.orgs.models import BRANCH_KINDS, Organization, OrgKind, Unit


class FlagRule:
    TOO_FEW_FULL = "too_few_full"
    NEEDS_COMMITTEE = "needs_committee"
    TOO_MANY_MEMBERS = "too_many_members"
    TOO_MANY_UNITS = "too_many_units"

    LABELS = {
        TOO_FEW_FULL: "正式党员不足",
        NEEDS_COMMITTEE: "应设支委会未设",
        TOO_MANY_MEMBERS: "党员人数超过上限",
        TOO_MANY_UNITS: "联合党支部覆盖单位过多",
    }
    ORDER = (TOO_FEW_FULL, NEEDS_COMMITTEE, TOO_MANY_MEMBERS, TOO_MANY_UNITS)


@dataclass(frozen=True)
class OrgRow:
    pk: int
    code: str
    name: str
    kind: str
    path: str

    @property
    def kind_label(self) -> str:
        return OrgKind(self.kind).label


@dataclass(frozen=True)
class SetupFlag:
    """One organization breaking one setup rule: the number found and the policy's threshold."""

    organization: OrgRow
    rule: str
    value: int
    threshold: int

    @property
    def label(self) -> str:
        return FlagRule.LABELS[self.rule]

    @property
    def message(self) -> str:
        if self.rule == FlagRule.TOO_FEW_FULL:
            return f"正式党员{self.value}人，少于{self.threshold}人，不宜单独设立党支部"
        if self.rule == FlagRule.NEEDS_COMMITTEE:
            return f"正式党员{self.value}人（{self.threshold}人以上），应设立支部委员会但无本届委员会"
        if self.rule == FlagRule.TOO_MANY_MEMBERS:
            return f"党员{self.value}人，超过{self.threshold}人，宜分设党支部"
        return f"覆盖单位{self.value}个，超过{self.threshold}个"


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def setup_flags(*, by, root: Organization | None = None, today: dt.date | None = None) -> list[SetupFlag]:
    """The setup flags of the branches in `by`'s scope (under `root`), by tree order then rule."""
    today = _today(today)
    rules = setup_rules(today.year)
    if not rules:
        return []
    branches = committee_organizations(by, root).filter(kind__in=BRANCH_KINDS)
    orgs = [OrgRow(*row) for row in branches.values_list("pk", "code", "name", "kind", "path").order_by("path")]
    if not orgs:
        return []
    counts = {
        row["organization_id"]: row
        for row in Member.objects.dangerously_all()
        .filter(organization__in=branches.values("pk"), status=Status.ACTIVE)
        .values("organization_id")
        .annotate(total=Count("pk"), full=Count("pk", filter=Q(category=Category.FULL)))
        .order_by()
    }
    units = dict(
        Unit.objects.dangerously_all()
        .filter(organization__in=branches.filter(kind=OrgKind.JOINT_BRANCH).values("pk"))
        .values("organization_id")
        .annotate(n=Count("pk"))
        .values_list("organization_id", "n")
        .order_by()
    )
    with_term = set(
        CommitteeTerm.objects.dangerously_all()
        .filter(status=TermStatus.CURRENT, organization__in=branches.values("pk"))
        .values_list("organization_id", flat=True)
    )
    flags = []
    for org in orgs:
        rule = choose_setup_rule(rules, path=org.path)
        if rule is None:
            continue
        row = counts.get(org.pk, {"total": 0, "full": 0})
        if row["full"] < rule.min_full_members:
            flags.append(SetupFlag(org, FlagRule.TOO_FEW_FULL, row["full"], rule.min_full_members))
        if row["full"] >= rule.committee_required_at and org.pk not in with_term:
            flags.append(SetupFlag(org, FlagRule.NEEDS_COMMITTEE, row["full"], rule.committee_required_at))
        if row["total"] > rule.max_members:
            flags.append(SetupFlag(org, FlagRule.TOO_MANY_MEMBERS, row["total"], rule.max_members))
        if org.kind == OrgKind.JOINT_BRANCH and units.get(org.pk, 0) > rule.max_joint_units:
            flags.append(SetupFlag(org, FlagRule.TOO_MANY_UNITS, units[org.pk], rule.max_joint_units))
    return flags


# ---------------------------------------------------------------------------------------------------------
# The setup report


class ReportPeriod:
    """A quarter (Q1–Q4: the quarterly review) or a half-year (H1, H2: the half-year report) of a year."""

    CHOICES = [
        ("Q1", "第一季度"),
        ("Q2", "第二季度"),
        ("Q3", "第三季度"),
        ("Q4", "第四季度"),
        ("H1", "上半年"),
        ("H2", "下半年"),
    ]

    @staticmethod
    def bounds(year: int, period: str) -> tuple[dt.date, dt.date]:
        first, last = {
            "Q1": (1, 3),
            "Q2": (4, 6),
            "Q3": (7, 9),
            "Q4": (10, 12),
            "H1": (1, 6),
            "H2": (7, 12),
        }[period]
        end = dt.date(year + 1, 1, 1) if last == 12 else dt.date(year, last + 1, 1)
        return dt.date(year, first, 1), end - dt.timedelta(days=1)

    @staticmethod
    def title(year: int, period: str) -> str:
        label = dict(ReportPeriod.CHOICES)[period]
        what = "组织设置排查" if period.startswith("Q") else "组织设置情况报告"
        return f"{year}年{label}{what}"

    @staticmethod
    def current(today: dt.date, *, half: bool = False) -> str:
        if half:
            return "H1" if today.month <= 6 else "H2"
        return f"Q{(today.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class OrgChange:
    """A change of an organization in the period, from its history: created (新建) or changed (变更)."""

    date: dt.datetime
    kind: str  # 新建 / 变更
    code: str
    name: str
    org_kind: str
    reason: str

    @property
    def org_kind_label(self) -> str:
        return OrgKind(self.org_kind).label if self.org_kind in OrgKind.values else self.org_kind


@dataclass
class SetupReport:
    root: Organization
    start: dt.date
    end: dt.date
    title: str
    today: dt.date
    orgs_by_kind: list[tuple[str, int]] = field(default_factory=list)
    members_active: int = 0
    members_full: int = 0
    members_probationary: int = 0
    terms_in_office: int = 0  # terms current on the period's last day
    terms_overdue_at_end: int = 0  # of those, past their last day by the period's end
    flags: list[SetupFlag] = field(default_factory=list)
    flags_by_rule: list[tuple[str, int]] = field(default_factory=list)
    org_changes: list[OrgChange] = field(default_factory=list)
    elections: list[CommitteeTerm] = field(default_factory=list)
    by_elections: list[CommitteeSeat] = field(default_factory=list)
    vacated: list[CommitteeSeat] = field(default_factory=list)
    terms_ended: list[CommitteeTerm] = field(default_factory=list)

    @property
    def organizations(self) -> int:
        return sum(n for _, n in self.orgs_by_kind)


def _org_changes(scope_ids, start: dt.date, end: dt.date) -> list[OrgChange]:
    history = Organization.history.model
    rows = (
        history.objects.filter(
            id__in=scope_ids,
            history_type__in=("+", "~"),
            history_date__date__gte=start,
            history_date__date__lte=end,
        )
        .values_list("history_date", "history_type", "code", "name", "kind", "history_change_reason")
        .order_by("history_date", "history_id")
    )
    return [
        OrgChange(date, "新建" if kind == "+" else "变更", code, name, org_kind, reason or "")
        for date, kind, code, name, org_kind, reason in rows
    ]


def setup_report(
    *, by, root: Organization, start: dt.date, end: dt.date, title: str = "", today: dt.date | None = None
) -> SetupReport:
    """The setup of `root`'s subtree (in `by`'s scope) and its changes between `start` and `end` (inclusive). The
    organizations and members are counted as they are now; the committees in office at `end`; the flags as of
    `today`. A fixed number of queries (about fifteen) whatever the size of the tree."""
    today = _today(today)
    if end < start:
        raise ValueError("end before start")
    report = SetupReport(
        root=root, start=start, end=end, title=title or f"{start:%Y-%m-%d}至{end:%Y-%m-%d}组织设置", today=today
    )
    orgs = committee_organizations(by, root)
    by_kind = dict(orgs.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n"))
    report.orgs_by_kind = [(label, by_kind.get(value, 0)) for value, label in OrgKind.choices]
    members = (
        Member.objects.dangerously_all()
        .filter(organization__in=orgs.values("pk"), status=Status.ACTIVE)
        .aggregate(
            total=Count("pk"),
            full=Count("pk", filter=Q(category=Category.FULL)),
            probationary=Count("pk", filter=Q(category=Category.PROBATIONARY)),
        )
    )
    report.members_active = members["total"]
    report.members_full = members["full"]
    report.members_probationary = members["probationary"]
    terms = _terms(by, root)
    in_office = terms.filter(elected_on__lte=end).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=end))
    office = in_office.aggregate(n=Count("pk"), overdue=Count("pk", filter=Q(ends_on__lt=end)))
    report.terms_in_office = office["n"]
    report.terms_overdue_at_end = office["overdue"]
    report.flags = setup_flags(by=by, root=root, today=today)
    counted = {rule: 0 for rule in FlagRule.ORDER}
    for flag in report.flags:
        counted[flag.rule] += 1
    report.flags_by_rule = [(FlagRule.LABELS[rule], counted[rule]) for rule in FlagRule.ORDER]
    report.org_changes = _org_changes(orgs.values("pk"), start, end)
    report.elections = list(
        terms.filter(elected_on__gte=start, elected_on__lte=end)
        .select_related("organization")
        .annotate(elected=Count("holdings", filter=Q(holdings__source=SeatSource.ELECTION)))
        .order_by("elected_on", "organization__path")
    )
    seats = (
        CommitteeSeat.objects.dangerously_all()
        .filter(term__in=terms.values("pk"))
        .select_related("term__organization", "member")
    )
    report.by_elections = list(
        seats.filter(source=SeatSource.BY_ELECTION, start_date__gte=start, start_date__lte=end).order_by(
            "start_date", "pk"
        )
    )
    report.vacated = list(
        seats.filter(end_date__gte=start, end_date__lte=end)
        .exclude(vacate_reason=VacateReason.TERM_ENDED)
        .order_by("end_date", "pk")
    )
    report.terms_ended = list(
        terms.filter(status=TermStatus.ENDED, ended_on__gte=start, ended_on__lte=end)
        .select_related("organization")
        .order_by("ended_on", "organization__path")
    )
    return report
