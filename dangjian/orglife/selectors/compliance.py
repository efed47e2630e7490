"""Reads of organizational life: which duties apply, the records of an organization, and compliance.

Duties. Of the active duties valid for the year that match an organization (owned by the system, the organization
or an ancestor; `applies_to` covering its kind), per activity kind the most specific owner wins, then a duty for
its own kind of organization over an all-organization one, then the newer duty.

Periods. A duty's periods are those of its frequency (month, quarter, half-year, year) that overlap the report's
window (a year, or one quarter with `quarter`): a month duty needs 12 periods in a year and 3 in a quarter; a
year duty in a quarter report is counted over its whole year. A period is not required when it ended before the
organization was established, nor, for a branch, when the duty sets `min_members` and the branch had fewer full
members (正式党员) on the period's last day (支委会: 正式党员7人以上的党支部设立支部委员会 — a smaller branch has a
secretary, not a committee). A record counts for a period when its date is in it; a period is met when it holds at
least `min_count` records of the kind and, where the duty sets a minimum, its attendance reaches it. Attendance is
measured against the people who should have attended (`Duty.attendance_base`): for each record, the members on the
organization's roster on the record's date (members: the organization's own), or its leadership members (班子成员
of its subtree: 中心组学习); present = those recorded present, at most that many; the period's rate is present over
expected, summed over its records (a record with nobody expected falls back on its own attendance list). Status:
已完成 when every period is met; 未完成 when a period that has ended is short (each such period's reason is kept:
“出席率 5%（1/20），低于95%”); otherwise 进行中 (only the current or future periods are short).

Rosters of the time. Who was on an organization's roster on a day is rebuilt from the member rows: on it from the
join date (入党日期), off it from the day of a change to a status other than 正常, a full member from the 转正日期,
and in the organization of that day, going back through the accepted transfers inside the system (moved on the
day accepted) and the incoming ones (in the system from the transfer date).

Leadership members (per-member duties: 班子成员每年带头讲党课). The duty applies to every organization with a
committee: 党委, 党总支, and a branch with at least the duty's `min_members` full members (a 支部委员会). A leadership
member belongs to the nearest 党委 or 党总支 at or above their organization (the school's team); where there is none,
to their own branch if it has a committee; otherwise (a small branch: a secretary, no committee) to none.

Queries: `compliance_for` reads the organizations, the duties, the counts grouped by organization, kind and date,
and the rosters grouped by organization and dates (leadership members and members who moved one by one) — five
queries whatever the size of the subtree; one more when members moved (their transfers), one more when there are
leadership members and a per-member duty (their lectures).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property, lru_cache
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core import summaries
from dangjian.members.models import Category, Flag, Member, MemberTransfer, Status, TransferKind, TransferStatus
from dangjian.members.selectors import flag_on, members_flagged_on
from dangjian.orglife.models import (
    FREQUENCY_MONTHS,
    LEADERSHIP_KINDS,
    ActivityKind,
    ActivityRecord,
    ActivityRecordKind,
    AttendanceBase,
    Duty,
    DutyApplies,
    Frequency,
    duty_applies_to_kind,
)
from dangjian.orgs.models import BRANCH_KINDS, Organization, subtree_q

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
        return Organization.objects.dangerously_all()
    return Organization.objects.dangerously_all().filter(subtree_q(access.view_roots) | Q(pk__in=access.own_org_ids))


def default_org(by) -> Organization | None:
    """The shallowest organization of `by`'s scope, or their own branch."""
    access = access_for(by)
    if access.system:
        return Organization.objects.dangerously_all().filter(depth=1).first()
    return (
        Organization.objects.dangerously_all()
        .filter(Q(path__in=access.view_roots) | Q(pk__in=access.own_org_ids))
        .first()
    )


def records_of(
    *, by, org: Organization, year: int, month: int | None = None, subtree: bool = False
) -> QuerySet[ActivityRecord]:
    """The records of one organization in a year (or a month), oldest first, with their kinds and head counts;
    with `subtree` those of its whole subtree (含下级: what a committee oversees), newest first."""
    qs = ActivityRecord.objects.visible_to(by).filter(date__year=year)
    qs = (
        qs.filter(organization__path__startswith=org.path).select_related("organization")
        if subtree
        else qs.filter(organization=org)
    )
    qs = (
        qs.annotate(
            present_count=Count("attendances", filter=Q(attendances__present=True)),
            absent_count=Count("attendances", filter=Q(attendances__present=False)),
        )
        .prefetch_related("kinds")
        .order_by(*(("-date", "-pk") if subtree else ("date", "pk")))
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
    min_members: int | None = None
    attendance_base: str = AttendanceBase.MEMBERS

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
    "min_members",
    "attendance_base",
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
    """The duties that may apply to `org` in `year`, in the order of `ActivityKind` (a duty's `min_members` is
    decided per period by `compliance_for`, which knows the roster)."""
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

    @cached_property
    def label(self) -> str:
        """2024年3月, 2024年第1季度, 2024年上半年, 2024年."""
        size = self.last_month - self.first_month + 1
        if size == 1:
            return f"{self.year}年{self.first_month}月"
        if size == 3:
            return f"{self.year}年第{self.last_month // 3}季度"
        if size == 6:
            return f"{self.year}年{'上' if self.first_month == 1 else '下'}半年"
        return f"{self.year}年"


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
    """The records of one organization and kind in one month, and per day of them (day, records, present,
    recorded, present leadership members) for the attendance minimums."""

    records: int = 0
    days: list = field(default_factory=list)


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
    present: int = 0  # where the duty sets a minimum: present of those expected, over the required periods
    expected: int = 0
    shortfalls: tuple[str, ...] = ()  # why each ended period is short: “2024年3月：出席率 5%（1/20），低于95%”
    members: tuple[int, ...] = ()  # a per-member duty: the leadership members it counted

    @property
    def reason(self) -> str:
        """Why the row is 未完成: the ended periods that are short, each with its reason."""
        return "；".join(self.shortfalls)

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


def _count_rows(
    orgs_prefix: str, year: int, months: range, *, leaders: bool = False
) -> dict[tuple[int, str, int], Counts]:
    """(organization id, kind, month) → counts, for the subtree's records of the window: two grouped queries, the
    records and their attendance apart — counting distinct records across the attendance join made PostgreSQL
    sort every attendance row of a county. Grouped by the record's date and folded into months here: SQLite
    evaluates a month extraction as a Python function on every row. With `leaders`, the attendance also counts the
    leadership members present (for a duty measured against the leadership)."""
    window = ActivityRecordKind.objects.filter(
        record__organization__path__startswith=orgs_prefix,
        record__date__gte=dt.date(year, months[0], 1),
        record__date__lte=Period(year, months[-1], months[-1]).end,
    )
    group = ("record__organization_id", "kind", "record__date")
    by_day: dict[tuple[int, str, dt.date], list[int]] = {}
    for org_id, kind, day, n in window.values(*group).annotate(n=Count("pk")).values_list(*group, "n").order_by():
        by_day[(org_id, kind, day)] = [n, 0, 0, 0]
    present_q = Q(record__attendances__present=True)
    attendance = window.values(*group).annotate(
        present=Count("record__attendances", filter=present_q),
        total=Count("record__attendances"),
        leaders=(
            Count(
                "record__attendances",
                # The leadership of the window's end, as re-categorized since (`members.selectors.flag_on`).
                filter=present_q
                & Q(record__attendances__member__in=_leaders_on(Period(year, months[-1], months[-1]).end)),
            )
            if leaders
            else Value(0, output_field=IntegerField())
        ),
    )
    for org_id, kind, day, present, total, present_leaders in attendance.values_list(
        *group, "present", "total", "leaders"
    ).order_by():
        row = by_day.setdefault((org_id, kind, day), [0, 0, 0, 0])
        row[1:] = [present, total, present_leaders]
    out: dict[tuple[int, str, int], Counts] = {}
    for (org_id, kind, day), (n, present, total, present_leaders) in sorted(by_day.items(), key=lambda kv: kv[0][2]):
        counts = out.setdefault((org_id, kind, day.month), Counts())
        counts.records += n
        counts.days.append((day, n, present, total, present_leaders))
    return out


# ---------------------------------------------------------------------------------------------------------
# Rosters of the time


@dataclass(frozen=True)
class Stint:
    """`n` members on an organization's roster from `start` (inclusive) to `end` (exclusive; None: still on it), full
    members (正式党员) from `full_from` (None: not in the window). `member` names the one member of a stint of a
    leadership member or of a member who moved (the others are counted together)."""

    org_id: int
    start: dt.date
    end: dt.date | None
    full_from: dt.date | None
    n: int
    member: int | None = None
    leader: bool = False

    def on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


class Roster:
    """Who was on the rosters of the subtree's organizations, day by day (see the module's docstring)."""

    def __init__(self, stints: list[Stint], paths: dict[int, str]):
        self.by_org: dict[int, list[Stint]] = defaultdict(list)
        for stint in stints:
            self.by_org[stint.org_id].append(stint)
        self.leaders = [(paths[s.org_id], s) for s in stints if s.leader and s.org_id in paths]
        self._members: dict[tuple[int, dt.date], int] = {}
        self._full: dict[tuple[int, dt.date], int] = {}
        self._under: dict[tuple[str, dt.date], int] = {}

    def members(self, org_id: int, day: dt.date) -> int:
        """The organization's own members on its roster on `day`."""
        key = (org_id, day)
        if key not in self._members:
            self._members[key] = sum(s.n for s in self.by_org.get(org_id, ()) if s.on(day))
        return self._members[key]

    def full(self, org_id: int, day: dt.date) -> int:
        """The organization's own full members (正式党员) on `day`: the count `Duty.min_members` is compared with."""
        key = (org_id, day)
        if key not in self._full:
            self._full[key] = sum(
                s.n for s in self.by_org.get(org_id, ()) if s.on(day) and s.full_from is not None and s.full_from <= day
            )
        return self._full[key]

    def leaders_under(self, path: str, day: dt.date) -> int:
        """The leadership members (班子成员) of the subtree at `path` on `day`: a 中心组's list."""
        key = (path, day)
        if key not in self._under:
            self._under[key] = sum(s.n for p, s in self.leaders if p.startswith(path) and s.on(day))
        return self._under[key]

    def leaders_on(self, day: dt.date) -> list[tuple[str, int, int]]:
        """(organization path, organization id, member id) of the leadership members on a roster on `day`."""
        # A leader's stint always names its member (`member is not None` only tells the type checker so).
        return [(p, s.org_id, s.member) for p, s in self.leaders if s.on(day) and s.member is not None]


def _moves() -> QuerySet[MemberTransfer]:
    return MemberTransfer.objects.dangerously_all().filter(
        Q(kind=TransferKind.INTERNAL, status=TransferStatus.ACCEPTED)
        | Q(kind=TransferKind.INCOMING, status__in=(TransferStatus.COMPLETED, TransferStatus.ACCEPTED))
    )


def _moves_since(start: dt.date) -> QuerySet[MemberTransfer]:
    """The moves that change where a member was on `start` or later: an internal transfer accepted then or later
    (the member moves on the day it is accepted), an incoming one dated then or later."""
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    return _moves().filter(
        Q(kind=TransferKind.INTERNAL, decided_at__gte=since) | Q(kind=TransferKind.INCOMING, transfer_date__gte=start)
    )


def _move_day(kind: str, decided_at: dt.datetime | None, transfer_date: dt.date) -> dt.date:
    if kind == TransferKind.INTERNAL and decided_at is not None:
        return timezone.localtime(decided_at).date()
    return transfer_date


def _roster(prefix: str, start: dt.date, end: dt.date, paths: dict[int, str]) -> Roster:
    """The rosters of the subtree at `prefix` between `start` and `end`: one grouped query (the members now in the
    subtree, and those who moved out of it since `start`), two when members moved (their transfers)."""
    day = DateField()
    moves = _moves_since(start)
    members = (
        Member.objects.dangerously_all()
        .filter(join_date__lte=end)
        .filter(Q(status=Status.ACTIVE) | Q(status_changed_on__gte=start))
        .annotate(
            # An uncorrelated IN (one hashed subplan) rather than EXISTS per member row: PostgreSQL runs a
            # correlated EXISTS in the select list once per member of the county.
            moved=ExpressionWrapper(Q(pk__in=moves.values("member_id")), output_field=BooleanField()),
            on_from=Greatest(F("join_date"), Value(start, output_field=day), output_field=day),
            on_until=Case(
                When(status=Status.ACTIVE, then=Value(None, output_field=day)),
                When(status_changed_on__gt=end, then=Value(None, output_field=day)),
                default=F("status_changed_on"),
                output_field=day,
            ),
            full_from=Case(
                When(category=Category.PROBATIONARY, then=Value(None, output_field=day)),
                When(
                    Q(full_date__lt=start) | Q(full_date__isnull=True, join_date__lt=start),
                    then=Value(start, output_field=day),
                ),
                default=Coalesce("full_date", "join_date", output_field=day),
                output_field=day,
            ),
            # The flag of the window's end: a member re-categorized since counts as they were then.
            leader=flag_on(Flag.LEADERSHIP, end),
            one=Case(
                When(Q(leader=True) | Q(moved=True), then=F("pk")),
                default=Value(None, output_field=IntegerField()),
                output_field=IntegerField(),
            ),
        )
    )
    columns = ("organization_id", "one", "leader", "moved", "on_from", "on_until", "full_from")
    here = Q(organization__path__startswith=prefix)
    moved_out = moves.filter(kind=TransferKind.INTERNAL, from_organization__path__startswith=prefix)
    current = members.filter(here).values(*columns).annotate(n=Count("pk")).values_list(*columns, "n").order_by()
    left = (
        members.filter(pk__in=moved_out.values("member_id"))
        .exclude(here)
        .values(*columns)
        .annotate(n=Count("pk"))
        .values_list(*columns, "n")
        .order_by()
    )
    rows = list(current.union(left, all=True))
    timelines: dict[int, list[tuple[dt.date, int | None, int | None]]] = defaultdict(list)
    if any(row[3] for row in rows):
        transfers = (
            moves.filter(Q(member__organization__path__startswith=prefix) | Q(member__in=moved_out.values("member_id")))
            .values_list(
                "member_id", "kind", "from_organization_id", "to_organization_id", "decided_at", "transfer_date"
            )
            .order_by()
        )
        for member_id, kind, from_id, to_id, decided_at, transfer_date in transfers:
            origin = from_id if kind == TransferKind.INTERNAL else None
            timelines[member_id].append((_move_day(kind, decided_at, transfer_date), origin, to_id))
    stints: list[Stint] = []
    for org_id, one, leader, moved, on_from, on_until, full_from, n in rows:
        if not moved:
            stints.append(Stint(org_id, on_from, on_until, full_from, n, one, leader))
            continue
        # Walk the member's moves from the oldest: before each, the member was in its origin (none for an incoming
        # transfer: outside the system); after the last, in the organization of today.
        begin = on_from
        for move_day, origin, _ in sorted(timelines.get(one, ()), key=lambda move: move[0]):
            stop = move_day if on_until is None else min(move_day, on_until)
            if origin is not None and begin < stop:
                stints.append(Stint(origin, begin, stop, full_from, n, one, leader))
            begin = max(begin, move_day)
        if on_until is None or begin < on_until:
            stints.append(Stint(org_id, begin, on_until, full_from, n, one, leader))
    return Roster(stints, paths)


# ---------------------------------------------------------------------------------------------------------
# Standings


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _required(org: OrgRow, rule: DutyRule, period: Period, roster: Roster | None) -> bool:
    """Whether `org` owes `rule` in `period`: established by its end and, for a branch under a duty with
    `min_members`, with at least that many full members on the period's last day."""
    if org.established_on is not None and period.end < org.established_on:
        return False
    if rule.min_members is not None and org.kind in BRANCH_KINDS and roster is not None:
        return roster.full(org.pk, period.end) >= rule.min_members
    return True


def _attendance(org: OrgRow, rule: DutyRule, counts: Counts, roster: Roster | None) -> tuple[int, int]:
    """(present, expected) over one month's records of a duty with a minimum attendance: per record, the people who
    should have attended on its date (the roster, or the leadership list), and of them those present."""
    present = expected = 0
    leadership = rule.attendance_base == AttendanceBase.LEADERSHIP
    for day, n, got, recorded, got_leaders in counts.days:
        if roster is None:
            should = 0
        elif leadership:
            should = roster.leaders_under(org.path, day)
        else:
            should = roster.members(org.pk, day)
        if should:
            expected += n * should
            present += min(got_leaders if leadership else got, n * should)
        else:  # nobody on the list that day: the record's own attendance list is all there is
            expected += recorded
            present += got
    return present, expected


def _standing(
    org: OrgRow, rule: DutyRule, periods: Sequence[Period], counts, roster: Roster | None, today: dt.date
) -> DutyCompliance | None:
    required_periods = [p for p in periods if _required(org, rule, p, roster)]
    if not required_periods:
        return None
    records = present = expected = met = 0
    missed = False
    unmet: list[Period] = []
    shortfalls: list[str] = []
    for period in required_periods:
        in_period = p_present = p_expected = 0
        for month in period.months:
            got = counts.get((org.pk, rule.kind, month))
            if got is None:
                continue
            in_period += got.records
            if rule.min_attendance is not None:
                month_present, month_expected = _attendance(org, rule, got, roster)
                p_present += month_present
                p_expected += month_expected
        records += in_period
        present += p_present
        expected += p_expected
        why = ""
        if in_period < rule.min_count:
            why = f"已开展{in_period}次，要求{rule.min_count}次" if in_period else f"未开展（要求{rule.min_count}次）"
        elif rule.min_attendance is not None:
            rate = percent(p_present, p_expected)
            if rate is None:
                why = "无参会记录"
            elif rate < rule.min_attendance:
                why = f"出席率 {_number(rate)}%（{p_present}/{p_expected}），低于{_number(rule.min_attendance)}%"
        if not why:
            met += 1
            continue
        unmet.append(period)
        if period.end < today:
            missed = True
            shortfalls.append(f"{period.label}：{why}")
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
        done=records,
        periods=len(required_periods),
        periods_met=met,
        attendance_rate=percent(present, expected) if rule.min_attendance is not None else None,
        status=status,
        unmet=tuple(unmet),
        present=present,
        expected=expected,
        shortfalls=tuple(shortfalls),
    )


def _leadership_home(member_path: str, leadership_paths: set[str]) -> str | None:
    """The nearest organization of a leadership kind at or above a member's organization: the member's own path
    and its ancestors' (one step of the materialized path each), longest first, looked up in the set."""
    for end in range(len(member_path), 0, -STEP):
        if member_path[:end] in leadership_paths:
            return member_path[:end]
    return None


class _Homes:
    """Per per-member duty kind and day: organization path → the leadership members it answers for (the nearest
    党委 or 党总支 at or above their organization; where there is none, their own branch when it has a committee)."""

    def __init__(self, roster: Roster, leadership_paths: set[str], orgs: dict[str, OrgRow], chosen: dict):
        self.roster, self.leadership_paths, self.orgs, self.chosen = roster, leadership_paths, orgs, chosen
        self._cache: dict[tuple[str, dt.date], dict[str, list[int]]] = {}

    def _branch_rule(self, path: str, kind: str) -> DutyRule | None:
        return next((r for r in self.chosen.get(path, ()) if r.per_member and r.kind == kind), None)

    def on(self, kind: str, day: dt.date) -> dict[str, list[int]]:
        key = (kind, day)
        if key not in self._cache:
            homes: dict[str, list[int]] = defaultdict(list)
            for path, org_id, member in self.roster.leaders_on(day):
                home = _leadership_home(path, self.leadership_paths)
                if home is None:
                    org = self.orgs.get(path)
                    rule = self._branch_rule(path, kind) if org is not None and org.kind in BRANCH_KINDS else None
                    if rule is not None and (
                        rule.min_members is None or self.roster.full(org_id, day) >= rule.min_members
                    ):
                        home = path
                if home is not None and member not in homes[home]:
                    homes[home].append(member)
            self._cache[key] = homes
        return self._cache[key]


def _leaders_on(day: dt.date) -> QuerySet[Member, Mapping[str, Any]]:
    """The members who were leadership members (班子成员) at the end of `day`, as a subquery of their ids."""
    return members_flagged_on(Flag.LEADERSHIP, day).values("pk")


def _lectures(prefix: str, kinds: set[str], year: int, months: range) -> dict[tuple[int, str, int], int]:
    """(member id, kind, month) → records the subtree's leadership members gave as lecturer (主讲) in the window,
    wherever they gave them: one query."""
    counts: dict[tuple[int, str, int], int] = {}
    lectured = (
        ActivityRecordKind.objects.filter(
            kind__in=kinds,
            # A subquery, not the list of ids: a city has thousands of leadership members.
            record__lecturer__in=_leaders_on(Period(year, months[-1], months[-1]).end).filter(
                organization__path__startswith=prefix
            ),
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
    return counts


def _member_standing(
    org: OrgRow, rule: DutyRule, periods: Sequence[Period], homes: _Homes | None, counts, roster, today: dt.date
) -> DutyCompliance | None:
    """A per-member duty: every leadership member the organization answers for on a period's last day must give
    `min_count` lectures in the period. The "periods" of the row are (member, period) pairs; an organization
    without leadership members has no row."""
    if homes is None:
        return None
    done = met = pairs = 0
    missed = False
    unmet: list[Period] = []
    shortfalls: list[str] = []
    counted: list[int] = []
    for period in periods:
        if not _required(org, rule, period, roster):
            continue
        members = homes.on(rule.kind, period.end).get(org.path, ())
        short = 0
        for member_id in members:
            pairs += 1
            if member_id not in counted:
                counted.append(member_id)
            got = sum(counts.get((member_id, rule.kind, month), 0) for month in period.months)
            done += got
            if got >= rule.min_count:
                met += 1
            else:
                short += 1
        if short:
            unmet.append(period)
            if period.end < today:
                missed = True
                shortfalls.append(
                    f"{period.label}：{short}名班子成员未完成（每人至少{rule.min_count}次，共{len(members)}人）"
                )
    if not pairs:
        return None
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
        shortfalls=tuple(shortfalls),
        members=tuple(counted),
    )


def compliance_for(
    *, by, org: Organization, year: int, quarter: int | None = None, today: dt.date | None = None
) -> ComplianceReport:
    """Per organization of `org`'s subtree (in `by`'s scope) and per applicable duty: required and done counts,
    attendance where a minimum applies (against the people who should have attended), the status and why a
    missed row is short; rolled up per kind over the subtree."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValueError("year out of range")
    if quarter is not None and quarter not in (1, 2, 3, 4):
        raise ValueError("quarter out of range")
    today = _today(today)
    # The subtree in scope, and the 党委 and 党总支 above it (a leadership member below answers to them).
    ancestors = [org.path[:end] for end in range(STEP, len(org.path), STEP)]
    rows = (
        orglife_organizations(by).filter(path__startswith=org.path)
        | Organization.objects.dangerously_all().filter(path__in=ancestors, kind__in=LEADERSHIP_KINDS)
    ).values_list("pk", "code", "name", "kind", "path", "established_on")
    every = [OrgRow(*row) for row in rows.order_by("path")]
    orgs = [o for o in every if o.path.startswith(org.path)]
    leadership_paths = {o.path for o in every if o.kind in LEADERSHIP_KINDS}
    rules = valid_rules(year)
    # Year and half-year duties in a quarter report are counted over their whole period: read the months they span.
    needed = [p for rule in rules for p in periods_for(rule.frequency, year, quarter)]
    months = range(min((p.first_month for p in needed), default=1), max((p.last_month for p in needed), default=12) + 1)
    by_leaders = any(r.min_attendance is not None and r.attendance_base == AttendanceBase.LEADERSHIP for r in rules)
    counts = _count_rows(org.path, year, months, leaders=by_leaders) if orgs and rules else {}
    roster = None
    if orgs and any(r.min_members is not None or r.min_attendance is not None or r.per_member for r in rules):
        start, end = dt.date(year, months[0], 1), Period(year, months[-1], months[-1]).end
        roster = _roster(org.path, start, end, {o.pk: o.path for o in orgs})
    chosen = {row.path: choose_rules(rules, path=row.path, kind=row.kind) for row in orgs}
    member_kinds = {rule.kind for rule in rules if rule.per_member}
    homes = lectures = None
    if roster is not None and member_kinds and roster.leaders:
        homes = _Homes(roster, leadership_paths, {o.path: o for o in orgs}, chosen)
        lectures = _lectures(org.path, member_kinds, year, months)
    report = ComplianceReport(org=org, year=year, quarter=quarter)
    rollup: dict[str, RollupRow] = {}
    for row in orgs:
        for rule in chosen[row.path]:
            periods = periods_for(rule.frequency, year, quarter)
            if rule.per_member:
                standing = _member_standing(row, rule, periods, homes, lectures, roster, today)
            else:
                standing = _standing(row, rule, periods, counts, roster, today)
            if standing is None:
                continue
            report.rows.append(standing)
            key = f"{rule.kind}:member" if rule.per_member else rule.kind
            summary = rollup.setdefault(key, RollupRow(kind=rule.kind, label=rule.label))
            summary.organizations += 1
            summary.met += standing.status == ComplianceStatus.DONE
    report.rollup = [rollup[k] for kind in ActivityKind.values for k in (kind, f"{kind}:member") if k in rollup]
    return report


def kept_compliance_for(
    *, by, org: Organization, year: int, quarter: int | None = None, today: dt.date | None = None
) -> ComplianceReport:
    """`compliance_for`, kept a short while (core.summaries): the same report, recomputed after any write to the
    records, duties, members or organizations, per scope (what `by` sees), organization, window and day. A county's
    report takes a second to build; the committee opens it again and again."""
    today = _today(today)
    report = summaries.cached(
        ["orglife"],
        "orglife-compliance",
        (summaries.scope_of(by), org.pk, org.path, org.kind, year, quarter, today),
        lambda: compliance_for(by=by, org=org, year=year, quarter=quarter, today=today),
        user=by,
    )
    report.org = org  # the caller's instance, not the copy kept with the figures
    return report


@dataclass(frozen=True)
class LecturerRow:
    member_id: int
    name: str
    organization: str
    lectures: int


def leadership_lectures(
    *, by, org: Organization, year: int, report: ComplianceReport | None = None
) -> list[LecturerRow]:
    """The leadership members (班子成员) an organization with a committee answers for (its per-member lecture row of
    the compliance report: a 党委 or 党总支, or a branch of 7 or more full members with no 党委 or 党总支 above it) with
    the party lectures each gave in the year, wherever they gave them (Jianshi seed: 班子成员每年带头讲党课至少1次以上)
    — the per-member duty member by member. Only members `by` sees. Two queries once the report is read (pass
    `report`, of the same organization and year, to reuse it)."""
    if report is None or report.org.pk != org.pk or report.year != year:
        report = compliance_for(by=by, org=org, year=year)
    row = next(
        (
            r
            for r in report.rows
            if r.organization.pk == org.pk and r.duty.per_member and r.duty.kind == ActivityKind.PARTY_LECTURE
        ),
        None,
    )
    if row is None:
        return []
    members = list(
        Member.objects.visible_to(by)
        .filter(pk__in=row.members)
        .values_list("pk", "name", "organization__name")
        .order_by("organization__path", "name", "pk")
    )
    counts = dict(
        ActivityRecordKind.objects.filter(
            kind=ActivityKind.PARTY_LECTURE,
            record__lecturer_id__in=[pk for pk, _, _ in members],
            record__date__year=year,
        )
        .values("record__lecturer_id")
        .annotate(n=Count("record", distinct=True))
        .values_list("record__lecturer_id", "n")
        .order_by()
    )
    return [LecturerRow(pk, name, org_name, counts.get(pk, 0)) for pk, name, org_name in members]
