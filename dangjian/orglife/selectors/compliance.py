"""Reads of organizational life: which duties apply, the records of an organization, and compliance.

Duties. Of the active duties valid for the year that match an organization (owned by the system, the organization
or an ancestor; `applies_to` covering its kind), per activity kind the most specific owner wins, then a duty for
its own kind of organization over an all-organization one, then the newer duty.

Periods. A duty's periods are those of its frequency (month, quarter, half-year, year) that overlap the report's
window (a year, or one quarter with `quarter`): a month duty needs 12 periods in a year and 3 in a quarter; a
year duty in a quarter report is counted over its whole year. A period that ended before the organization was
established is not required. A record counts for a period when its date is in it; a period is met when it holds at
least `min_count` records of the kind and, where the duty sets a minimum, its attendance (present / (present +
absent) over those records) reaches it. Status: 已完成 when every period is met; 未完成 when a period that has
ended is short; otherwise 进行中 (only the current or future periods are short).

Queries: `compliance_for` reads the organizations, the duties and the counts grouped by organization, kind and
month in SQL — three queries whatever the size of the subtree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.members.models import Member, Status
from dangjian.orglife.models import (
    FREQUENCY_MONTHS,
    LEADERSHIP_KINDS,
    ActivityKind,
    ActivityRecord,
    ActivityRecordKind,
    Duty,
    DutyApplies,
    Frequency,
    duty_applies_to_kind,
)
from dangjian.orgs.models import Organization, subtree_q

YEAR_MIN, YEAR_MAX = 2000, 2100
STEP = Organization.steplen
ONE_DECIMAL = Decimal("0.1")


class ComplianceStatus:
    DONE = "已完成"
    IN_PROGRESS = "进行中"
    MISSED = "未完成"


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------------------
# Scope


def orglife_organizations(by) -> QuerySet[Organization]:
    """The organizations whose organizational life `by` may see: their granted subtrees and their own branch."""
    access = access_for(by)
    if access.system:
        return Organization.objects.all()
    return Organization.objects.filter(subtree_q(access.view_roots) | Q(pk__in=access.own_org_ids))


def default_org(by) -> Organization | None:
    """The shallowest organization of `by`'s scope, or their own branch."""
    access = access_for(by)
    if access.system:
        return Organization.objects.filter(depth=1).first()
    return Organization.objects.filter(Q(path__in=access.view_roots) | Q(pk__in=access.own_org_ids)).first()


def records_of(*, by, org: Organization, year: int, month: int | None = None) -> QuerySet[ActivityRecord]:
    """The records of one organization in a year (or a month), oldest first, with their kinds and head counts."""
    qs = (
        ActivityRecord.objects.visible_to(by)
        .filter(organization=org, date__year=year)
        .annotate(
            present_count=Count("attendances", filter=Q(attendances__present=True)),
            absent_count=Count("attendances", filter=Q(attendances__present=False)),
        )
        .prefetch_related("kinds")
        .order_by("date", "pk")
    )
    if month:
        qs = qs.filter(date__month=month)
    return qs


# ---------------------------------------------------------------------------------------------------------
# Duties


@dataclass(frozen=True)
class DutyRule:
    """A duty as plain values (no model instances on the report path)."""

    pk: int
    name: str
    kind: str
    applies_to: str
    frequency: str
    min_count: int
    min_attendance: Decimal | None
    owner_path: str | None
    per_member: bool = False

    @property
    def kind_label(self) -> str:
        return ActivityKind(self.kind).label

    @property
    def label(self) -> str:
        """The activity kind, marked for a per-member duty: 党课（每名班子成员）."""
        return f"{self.kind_label}（每名班子成员）" if self.per_member else self.kind_label

    @property
    def frequency_label(self) -> str:
        return Frequency(self.frequency).label


RULE_FIELDS = (
    "pk",
    "name",
    "kind",
    "applies_to",
    "frequency",
    "min_count",
    "min_attendance",
    "owner__path",
    "per_member",
)


def _rule_order(rule: DutyRule) -> tuple:
    return (-len(rule.owner_path or ""), rule.applies_to == DutyApplies.ALL, -rule.pk)


def valid_rules(year: int) -> list[DutyRule]:
    """Every active duty valid for the year (one query; duties are rules, read without scope)."""
    rows = Duty.objects.dangerously_all().valid_in(year).values_list(*RULE_FIELDS).order_by()
    return sorted((DutyRule(*row) for row in rows), key=_rule_order)


def choose_rules(rules: list[DutyRule], *, path: str, kind: str) -> list[DutyRule]:
    """Of `rules` (sorted by `_rule_order`), per activity kind the first that matches the organization at `path`
    (an organization-wide duty and a per-member duty of the same kind are chosen independently)."""
    chosen: dict[tuple[str, bool], DutyRule] = {}
    for rule in rules:
        key = (rule.kind, rule.per_member)
        if key in chosen:
            continue
        if rule.owner_path is not None and not path.startswith(rule.owner_path):
            continue
        if duty_applies_to_kind(rule.applies_to, kind):
            chosen[key] = rule
    return [chosen[(k, per)] for k in ActivityKind.values for per in (False, True) if (k, per) in chosen]


def duties_for(org: Organization, year: int) -> list[DutyRule]:
    """The duties that apply to `org` in `year`, in the order of `ActivityKind`."""
    return choose_rules(valid_rules(year), path=org.path, kind=org.kind)


# ---------------------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    year: int
    first_month: int
    last_month: int

    # Cached: a county's report asks each period for its dates tens of thousands of times.
    @cached_property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @cached_property
    def end(self) -> dt.date:
        if self.last_month == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, self.last_month + 1, 1) - dt.timedelta(days=1)

    @cached_property
    def months(self) -> range:
        return range(self.first_month, self.last_month + 1)


def window_months(quarter: int | None) -> range:
    if quarter is None:
        return range(1, 13)
    return range(3 * quarter - 2, 3 * quarter + 1)


@lru_cache(maxsize=256)
def periods_for(frequency: str, year: int, quarter: int | None = None) -> tuple[Period, ...]:
    """The periods of `frequency` overlapping the window (the year, or the quarter). Pure, so memoized: the report
    asks for them once per organization and duty."""
    size = FREQUENCY_MONTHS[frequency]
    window = set(window_months(quarter))
    out = []
    for first in range(1, 13, size):
        period = Period(year, first, first + size - 1)
        if window & set(period.months):
            out.append(period)
    return tuple(out)


# ---------------------------------------------------------------------------------------------------------
# Compliance


@dataclass
class Counts:
    records: int = 0
    present: int = 0
    attendance: int = 0  # present + absent

    def add(self, other: Counts) -> None:
        self.records += other.records
        self.present += other.present
        self.attendance += other.attendance


@dataclass(frozen=True)
class OrgRow:
    pk: int
    code: str
    name: str
    kind: str
    path: str
    established_on: dt.date | None


@dataclass
class DutyCompliance:
    """One organization's standing on one duty for the report's window."""

    organization: OrgRow
    duty: DutyRule
    required: int
    done: int
    periods: int
    periods_met: int
    attendance_rate: Decimal | None  # only where the duty sets a minimum
    status: str
    unmet: tuple[Period, ...] = ()  # the required periods not (yet) met, oldest first

    def open_in(self, day: dt.date) -> bool:
        """Whether the period holding `day` is still short (what is due now)."""
        return any(p.start <= day <= p.end for p in self.unmet)

    @property
    def percent(self) -> int:
        """Progress 0-100 (for bars): the share of periods met."""
        return round(100 * self.periods_met / self.periods) if self.periods else 100


@dataclass
class RollupRow:
    """A duty kind over the subtree: of the organizations it applies to, how many met it."""

    kind: str
    label: str
    organizations: int = 0
    met: int = 0

    @property
    def rate(self) -> Decimal:
        return percent(self.met, self.organizations) or Decimal("0.0")

    @property
    def bar(self) -> int:
        return round(self.rate)


@dataclass
class ComplianceReport:
    org: Organization
    year: int
    quarter: int | None
    rows: list[DutyCompliance] = field(default_factory=list)
    rollup: list[RollupRow] = field(default_factory=list)

    def rows_for(self, org_pk: int) -> list[DutyCompliance]:
        return [row for row in self.rows if row.organization.pk == org_pk]

    def by_child(self) -> list[ChildRollup]:
        """Per direct child of the report's organization (its own row first): over the child's subtree, how many
        duty rows are done, in progress and missed — the committee dashboard's chart."""
        prefixes: dict[str, ChildRollup] = {}
        depth = len(self.org.path) + STEP
        out: list[ChildRollup] = []
        for row in self.rows:
            path = row.organization.path
            key = path if len(path) <= len(self.org.path) else path[:depth]
            if key not in prefixes:
                prefixes[key] = ChildRollup(code="", name="", own=key == self.org.path)
                out.append(prefixes[key])
            summary = prefixes[key]
            if path == key:
                summary.code, summary.name = row.organization.code, row.organization.name
            summary.add(row)
        return out


@dataclass
class ChildRollup:
    code: str
    name: str
    own: bool = False  # the report's organization itself (本级)
    organizations: set = field(default_factory=set)
    duties: int = 0
    done: int = 0
    missed: int = 0

    def add(self, row: DutyCompliance) -> None:
        self.organizations.add(row.organization.pk)
        self.duties += 1
        self.done += row.status == ComplianceStatus.DONE
        self.missed += row.status == ComplianceStatus.MISSED

    @property
    def in_progress(self) -> int:
        return self.duties - self.done - self.missed

    @property
    def rate(self) -> Decimal:
        return percent(self.done, self.duties) or Decimal("0.0")

    @property
    def bar(self) -> int:
        return round(self.rate)


def _count_rows(orgs_prefix: str, year: int, months: range) -> dict[tuple[int, str, int], Counts]:
    """(organization id, kind, month) → counts, for the subtree's records of the window: two grouped queries, the
    records and their attendance apart — counting distinct records across the attendance join made PostgreSQL
    sort every attendance row of a county. Grouped by the record's date and folded into months here: SQLite
    evaluates a month extraction as a Python function on every row."""
    window = ActivityRecordKind.objects.filter(
        record__organization__path__startswith=orgs_prefix,
        record__date__gte=dt.date(year, months[0], 1),
        record__date__lte=Period(year, months[-1], months[-1]).end,
    )
    group = ("record__organization_id", "kind", "record__date")
    out: dict[tuple[int, str, int], Counts] = {}
    for org_id, kind, day, n in window.values(*group).annotate(n=Count("pk")).values_list(*group, "n").order_by():
        out.setdefault((org_id, kind, day.month), Counts()).records += n
    attendance = (
        window.values(*group)
        .annotate(
            present=Count("record__attendances", filter=Q(record__attendances__present=True)),
            total=Count("record__attendances"),
        )
        .values_list(*group, "present", "total")
        .order_by()
    )
    for org_id, kind, day, present, total in attendance:
        counts = out.setdefault((org_id, kind, day.month), Counts())
        counts.present += present
        counts.attendance += total
    return out


def _standing(org: OrgRow, rule: DutyRule, periods: list[Period], counts, today: dt.date) -> DutyCompliance | None:
    required_periods = [p for p in periods if org.established_on is None or p.end >= org.established_on]
    if not required_periods:
        return None
    total = Counts()
    met = 0
    missed = False
    unmet: list[Period] = []
    for period in required_periods:
        in_period = Counts()
        for month in period.months:
            got = counts.get((org.pk, rule.kind, month))
            if got is not None:
                in_period.add(got)
        total.add(in_period)
        ok = in_period.records >= rule.min_count
        if ok and rule.min_attendance is not None:
            rate = percent(in_period.present, in_period.attendance)
            ok = rate is not None and rate >= rule.min_attendance
        if ok:
            met += 1
        else:
            unmet.append(period)
            missed = missed or period.end < today
    if met == len(required_periods):
        status = ComplianceStatus.DONE
    elif missed:
        status = ComplianceStatus.MISSED
    else:
        status = ComplianceStatus.IN_PROGRESS
    return DutyCompliance(
        organization=org,
        duty=rule,
        required=len(required_periods) * rule.min_count,
        done=total.records,
        periods=len(required_periods),
        periods_met=met,
        attendance_rate=percent(total.present, total.attendance) if rule.min_attendance is not None else None,
        status=status,
        unmet=tuple(unmet),
    )


def _leadership_home(member_path: str, leadership_paths: set[str]) -> str | None:
    """The nearest organization of a leadership kind at or above a member's organization: the member's own path
    and its ancestors' (one step of the materialized path each), longest first, looked up in the set."""
    for end in range(len(member_path), 0, -STEP):
        if member_path[:end] in leadership_paths:
            return member_path[:end]
    return None


def _lectures(
    prefix: str, orgs: list[OrgRow], kinds: set[str], year: int, months: range
) -> tuple[dict[str, list[int]], dict]:
    """For per-member duties: the active leadership-team members (班子成员) under `prefix`, grouped by the path of
    their leadership organization (the nearest committee or general branch at or above their own), and
    (member id, kind, month) → records the member gave as lecturer (主讲), wherever they gave them. One query, two
    when there are leadership members."""
    leadership = {o.path for o in orgs if o.kind in LEADERSHIP_KINDS}
    if not leadership:
        return {}, {}
    members: dict[str, list[int]] = {}
    leaders_qs = Member.objects.dangerously_all().filter(
        organization__path__startswith=prefix, is_leadership=True, status=Status.ACTIVE
    )
    rows = leaders_qs.values_list("pk", "organization__path").order_by("pk")
    for pk, path in rows:
        home = _leadership_home(path, leadership)
        if home is not None:
            members.setdefault(home, []).append(pk)
    wanted = [pk for pks in members.values() for pk in pks]
    counts: dict[tuple[int, str, int], int] = {}
    if wanted:
        lectured = (
            ActivityRecordKind.objects.filter(
                kind__in=kinds,
                # A subquery, not the list of ids: a city has thousands of leadership members.
                record__lecturer__in=leaders_qs.values("pk"),
                record__date__gte=dt.date(year, months[0], 1),
                record__date__lte=Period(year, months[-1], months[-1]).end,
            )
            .values("record__lecturer_id", "kind", "record__date")
            .annotate(n=Count("record", distinct=True))
            .order_by()
        )
        for row in lectured:
            key = (row["record__lecturer_id"], row["kind"], row["record__date"].month)
            counts[key] = counts.get(key, 0) + row["n"]
    return members, counts


def _member_standing(
    org: OrgRow, rule: DutyRule, periods: list[Period], members: list[int], counts, today: dt.date
) -> DutyCompliance | None:
    """A per-member duty: every leadership-team member must give `min_count` lectures in every period. The
    "periods" of the row are (member, period) pairs; an organization without leadership members has no row."""
    required_periods = [p for p in periods if org.established_on is None or p.end >= org.established_on]
    if not required_periods or not members:
        return None
    done = met = 0
    missed = False
    unmet: list[Period] = []
    for period in required_periods:
        for member_id in members:
            got = sum(counts.get((member_id, rule.kind, month), 0) for month in period.months)
            done += got
            if got >= rule.min_count:
                met += 1
            else:
                if not unmet or unmet[-1] != period:
                    unmet.append(period)
                missed = missed or period.end < today
    pairs = len(required_periods) * len(members)
    status = (
        ComplianceStatus.DONE if met == pairs else ComplianceStatus.MISSED if missed else ComplianceStatus.IN_PROGRESS
    )
    return DutyCompliance(
        organization=org,
        duty=rule,
        required=pairs * rule.min_count,
        done=done,
        periods=pairs,
        periods_met=met,
        attendance_rate=None,
        status=status,
        unmet=tuple(unmet),
    )


def compliance_for(
    *, by, org: Organization, year: int, quarter: int | None = None, today: dt.date | None = None
) -> ComplianceReport:
    """Per organization of `org`'s subtree (in `by`'s scope) and per applicable duty: required and done counts,
    attendance where a minimum applies, and the status; rolled up per kind over the subtree."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError("year out of range")
    if quarter is not None and quarter not in (1, 2, 3, 4):
        raise ValueError("quarter out of range")
    today = _today(today)
    orgs = [
        OrgRow(*row)
        for row in orglife_organizations(by)
        .filter(path__startswith=org.path)
        .values_list("pk", "code", "name", "kind", "path", "established_on")
        .order_by("path")
    ]
    rules = valid_rules(year)
    # Year and half-year duties in a quarter report are counted over their whole period: read the months they span.
    needed = [p for rule in rules for p in periods_for(rule.frequency, year, quarter)]
    months = range(min((p.first_month for p in needed), default=1), max((p.last_month for p in needed), default=12) + 1)
    counts = _count_rows(org.path, year, months) if orgs and rules else {}
    member_kinds = {rule.kind for rule in rules if rule.per_member}
    leaders, lectures = _lectures(org.path, orgs, member_kinds, year, months) if orgs and member_kinds else ({}, {})
    report = ComplianceReport(org=org, year=year, quarter=quarter)
    rollup: dict[str, RollupRow] = {}
    for row in orgs:
        for rule in choose_rules(rules, path=row.path, kind=row.kind):
            periods = periods_for(rule.frequency, year, quarter)
            if rule.per_member:
                standing = _member_standing(row, rule, periods, leaders.get(row.path, []), lectures, today)
            else:
                standing = _standing(row, rule, periods, counts, today)
            if standing is None:
                continue
            report.rows.append(standing)
            key = f"{rule.kind}:member" if rule.per_member else rule.kind
            summary = rollup.setdefault(key, RollupRow(kind=rule.kind, label=rule.label))
            summary.organizations += 1
            summary.met += standing.status == ComplianceStatus.DONE
    report.rollup = [rollup[k] for kind in ActivityKind.values for k in (kind, f"{kind}:member") if k in rollup]
    return report


@dataclass(frozen=True)
class LecturerRow:
    member_id: int
    name: str
    organization: str
    lectures: int


def leadership_lectures(*, by, org: Organization, year: int) -> list[LecturerRow]:
    """The leadership-team members (班子成员) of a committee or general branch with the party lectures each gave in
    the year, wherever they gave them (Jiangsu seed: 班子成员每年带头讲党课至少1次以上) — the per-member duty member
    by member. Only members `by` sees; members of a deeper committee or general branch count for that one. Two
    queries."""
    if org.kind not in LEADERSHIP_KINDS:
        return []
    leadership = set(
        Organization.objects.filter(path__startswith=org.path, kind__in=LEADERSHIP_KINDS).values_list("path", flat=True)
    )
    members = [
        row
        for row in Member.objects.visible_to(by)
        .filter(organization__path__startswith=org.path, is_leadership=True, status=Status.ACTIVE)
        .values_list("pk", "name", "organization__name", "organization__path")
        .order_by("organization__path", "name", "pk")
        if _leadership_home(row[3], leadership) == org.path
    ]
    counts = dict(
        ActivityRecordKind.objects.filter(
            kind=ActivityKind.PARTY_LECTURE,
            record__lecturer_id__in=[row[0] for row in members],
            record__date__year=year,
        )
        .values("record__lecturer_id")
        .annotate(n=Count("record", distinct=True))
        .values_list("record__lecturer_id", "n")
        .order_by()
    )
    return [LecturerRow(pk, name, org_name, counts.get(pk, 0)) for pk, name, org_name, _ in members]
