"""Compliance with the hours requirements (学时达标): each member's requirement and why, completion, shortfall and
status; roll-ups per child organization and for a subtree; the consequences (Huangpi); the year-end reconciliation
of the schools' quotas (Xiqing).

Two ways to the same numbers, proved equal by the tests member by member:
- `requirement_for(member, year)` — one member, in Python, with a Chinese explanation of which rule applies and why;
- `RequirementPlan` — the same rules as ONE SQL expression over the member rows, for reports of any size: the few
  policy rows that can apply anywhere in the subtree are read first (one query) and turned into a Case/When chain
  over the member's flags, owner path prefixes, join month and leaving month, with a subquery for the party-post
  flag.
  Reports read the kept yearly totals (`MemberHoursYear`, LEFT JOINed through a FilteredRelation on member and
  year) and never re-add the ledger (bench/hours_bench.py). Every subquery in the chain is uncorrelated (a
  hashed IN, built once): PostgreSQL costs a correlated subquery in a CASE once per member row, and a report whose
  estimated cost explodes gets JIT-compiled for seconds.

The rules (docs/rules.md, "How the rules combine"):
- candidates: active policies valid for the year, owned by the whole system or by the member's organization or an
  ancestor of it, whose `applies_to` matches (全体党员; 班子成员: `is_leadership`; 区管干部: `is_district_cadre`;
  支部书记和委员: a current party post 书记/副书记/委员);
- the strictest (highest required hours) wins; ties → the most specific owner, then a flag rule before an
  all-member rule, then the older policy; its online cap and pro-rating come with it;
- what counts (docs/rules.md, "How the rules combine"): the requirement is of concentrated study (集中学习培训, the
  member-education regulation). Counted are 集中培训; 授课奖励 and 精品课程奖励 (Huangpi: leaders who teach and
  instructors whose course is selected as a premium course earn hours); 外部认定 (concentrated study done elsewhere,
  recognized on a document) and 手工补录 (concentrated study entered afterwards, with a reason). 网络学习 is shown
  beside the requirement and counts only up to the rule's `online_cap` (default 0; no cap only where a rule says
  so): counted = total − online beyond the cap;
- pro-rating (按在党月数折算) applies to time inside the party only: a member who joined the party during the year
  owes from that month, a member who left it during the year (出党, 去世, 停止党籍 with `status_changed_on` in the
  year) owes through that month — required × months / 12, rounded up to a multiple of 0.5. A move between
  organizations (an internal transfer, a transfer in from outside the system) changes nothing: the member was in
  the party all year and owes the whole year, reported by the organization of the year's end;
- a member who joined the party after the year, or left it before the year, owes nothing for it and is left out of
  that year's reports (reports cover ACTIVE members; the SQL path still pro-rates a member who left during the
  year, so that a report that includes them gives the same numbers as `requirement_for`).
Statuses: 已达标 (counted ≥ required), 进行中 (short, year not over), 未达标 (short, year over). A member whose year
ended short carries “年度考核不得评为优秀”, and the last three years are shown together for promotion review
(Huangpi: 凡当年学时未达标的，年度考核不得评为优秀等次；近三年干部学时完成情况作为重要参考).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, Greatest, Substr
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.validators import mask_id_number
from dangjian.members.models import (
    Flag,
    Member,
    MemberTransfer,
    PartyPost,
    Post,
    Status,
    TransferKind,
    TransferStatus,
)
from dangjian.members.selectors import flag_of, flag_on
from dangjian.orgs.models import Organization, subtree_q
from dangjian.schools.models import PartySchool, SchoolAnnualPlan
from dangjian.schools.selectors.delivery import with_delivery
from dangjian.training.models import (
    KIND_FIELDS,
    ClassStatus,
    HoursEntry,
    HoursKind,
    HoursPolicy,
    PolicyApplies,
    ProRating,
)

ZERO = Decimal("0")
ONE_DECIMAL = Decimal("0.1")
HALF_HOUR = Decimal("0.5")
STEP = Organization.steplen
YEAR_MIN, YEAR_MAX = 2000, 2100

MET = "已达标"
IN_PROGRESS = "进行中"
SHORT = "未达标"
CONSEQUENCE = "年度考核不得评为优秀"
REVIEW_YEARS = 3

SECRETARY_POSTS = (Post.SECRETARY, Post.DEPUTY_SECRETARY, Post.COMMITTEE_MEMBER)
# Statuses of a member who left the party (出党, 去世, 停止党籍) on `status_changed_on`; 转出 (moved out of the
# system) is a move between organizations, not a leaving of the party.
LEFT_STATUSES = (Status.EXPELLED, Status.DECEASED, Status.SUSPENDED)
RAN_STATUSES = (ClassStatus.APPROVED, ClassStatus.FINISHED)

HOURS = DecimalField(max_digits=7, decimal_places=1)
_ID_NUMBER = Member._meta.get_field("id_number")  # EncryptedTextField: to_python decrypts a stored token
KIND_COLUMNS = tuple(KIND_FIELDS.values())
KIND_LABELS = {column: HoursKind(kind).label for kind, column in KIND_FIELDS.items()}


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def year_start(year: int) -> dt.date:
    return dt.date(year, 1, 1)


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def reference_date(year: int, today: dt.date | None = None) -> dt.date:
    """The day a party post must be held on to count for the year: today in the running year, 31 December for a
    past one."""
    return min(_today(today), year_end(year))


def hours_text(value: Decimal | None) -> str:
    """Hours with one decimal, as the reports print them (32.0)."""
    return f"{(value or ZERO).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)}"


def rate_of(met: int, members: int) -> Decimal:
    """The share of members who met the requirement, in percent with one decimal (0.0 for no members)."""
    if not members:
        return ZERO.quantize(ONE_DECIMAL)
    return (Decimal(met) * 100 / Decimal(members)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------------------------
# Policies: which can apply, in which order


@dataclass(frozen=True)
class Rule:
    """What the SQL path needs of a policy (read as plain values: no model instances on the report path)."""

    pk: int
    required_hours: Decimal
    online_cap: Decimal | None
    pro_rating: str
    applies_to: str
    owner_path: str | None  # None: the whole system


RULE_FIELDS = ("pk", "required_hours", "online_cap", "pro_rating", "applies_to", "owner__path")


def _owner_path(policy) -> str:
    if isinstance(policy, Rule):
        return policy.owner_path or ""
    return policy.owner.path if policy.owner_id else ""


def policy_order(policy) -> tuple:
    """Strictest first; on a tie the most specific owner, then a flag rule before an all-member rule, then the
    older policy. The first policy in this order that matches a member is theirs (Python and SQL alike)."""
    return (-policy.required_hours, -len(_owner_path(policy)), policy.applies_to == PolicyApplies.ALL, policy.pk)


def _valid_policies(year: int) -> QuerySet[HoursPolicy]:
    # Requirements are rules, not member data: which of them apply does not depend on who reads the report, so
    # they are read without scope; the members they are applied to are scoped.
    return (
        HoursPolicy.objects.dangerously_all()
        .filter(active=True, valid_from__lte=year)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))
        .select_related("owner")
    )


def ancestor_or_self_paths(path: str) -> list[str]:
    return [path[:i] for i in range(STEP, len(path) + 1, STEP)]


def policies_for_path(path: str, year: int) -> list[HoursPolicy]:
    """The policies valid for the year owned by the system or by the organization at `path` or an ancestor."""
    policies = _valid_policies(year).filter(Q(owner__isnull=True) | Q(owner__path__in=ancestor_or_self_paths(path)))
    return sorted(policies, key=policy_order)


def policies_for_subtree(org: Organization, year: int) -> list[Rule]:
    """Every policy valid for the year that can apply to a member somewhere in `org`'s subtree: owned by the
    system, by `org` or an ancestor of it, or by an organization inside the subtree (as `Rule`s). One plain query
    over the active policies (a short list), filtered here: the report's fixed cost stays small."""
    ancestors = set(ancestor_or_self_paths(org.path))
    rows = (
        HoursPolicy.objects.dangerously_all()
        .filter(active=True)
        .values_list(*RULE_FIELDS, "valid_from", "valid_to")
        .order_by()
    )
    rules = [
        Rule(*row[:6])
        for row in rows
        if row[6] <= year
        and (row[7] is None or row[7] >= year)
        and (row[5] is None or row[5] in ancestors or row[5].startswith(org.path))
    ]
    return sorted(rules, key=policy_order)


def rule_of(policy: HoursPolicy) -> Rule:
    return Rule(
        policy.pk,
        policy.required_hours,
        policy.online_cap,
        policy.pro_rating,
        policy.applies_to,
        policy.owner.path if policy.owner is not None else None,
    )


def prorated(required: Decimal, months: int) -> Decimal:
    """required × months / 12, rounded up to a multiple of 0.5 (按在册月数折算)."""
    if months >= 12:
        return required
    if months <= 0:
        return ZERO
    halves = (required * months * 2 / Decimal(12)).to_integral_value(rounding=ROUND_CEILING)
    return (halves / 2).quantize(ONE_DECIMAL)


def counted_hours(total: Decimal, online: Decimal, cap: Decimal | None) -> Decimal:
    """What counts towards the requirement: the total minus online hours beyond the cap."""
    total, online = total or ZERO, online or ZERO
    if cap is None:
        return total
    return total - max(ZERO, online - cap)


def online_counted(online: Decimal | None, cap: Decimal | None) -> Decimal:
    """The part of the online hours that counts: all of them without a cap, else at most the cap."""
    online = online or ZERO
    return online if cap is None else min(online, cap)


def cap_text(cap: Decimal | None) -> str:
    return "不设上限" if cap is None else hours_text(cap)


def kinds_text(by_kind: dict[str, Decimal], cap: Decimal | None) -> str:
    """The hours by kind and how much of each counted, on one line: 集中培训 30.0 · 网络学习 12.0（计入 0.0，上限 0.0）;
    授课奖励, 精品课程奖励, 外部认定 and 手工补录 (all of which count) only when there are any."""
    parts = []
    for column in KIND_COLUMNS:
        hours = by_kind.get(column) or ZERO
        if column == "online":
            counted = hours_text(online_counted(hours, cap))
            parts.append(f"{KIND_LABELS[column]} {hours_text(hours)}（计入 {counted}，上限 {cap_text(cap)}）")
        elif column == "concentrated" or hours:
            parts.append(f"{KIND_LABELS[column]} {hours_text(hours)}")
    return " · ".join(parts)


def counting_explanation(cap: Decimal | None) -> str:
    """What counts towards a requirement of concentrated study (集中学习培训), in Chinese."""
    if cap is None:
        online = "网络学习全部计入（不设上限）"
    elif cap <= 0:
        online = "网络学习单独列示，不计入（上限0学时）"
    else:
        online = f"网络学习最多计入{hours_text(cap)}学时"
    return f"要求的是集中学习培训学时：集中培训、授课奖励、精品课程奖励、外部认定和手工补录的学时计入；{online}。"


def status_for(counted: Decimal, required: Decimal, year: int, today: dt.date | None = None) -> str:
    if counted >= required:
        return MET
    return SHORT if year < _today(today).year else IN_PROGRESS


# ---------------------------------------------------------------------------------------------------------
# One member, in Python, explained


def start_event(member: Member, year: int) -> tuple[dt.date, str] | None:
    """The day of the year the member joined the party, if they did. A move between organizations (an internal
    transfer, a transfer in from outside the system) is no event: the member was in the party all along."""
    if member.join_date and year_start(year) <= member.join_date <= year_end(year):
        return member.join_date, "入党"
    return None


def left_on(member: Member) -> dt.date | None:
    """The day the member left the party (出党, 去世, 停止党籍), if they did."""
    return member.status_changed_on if member.status in LEFT_STATUSES else None


def end_event(member: Member, year: int) -> tuple[dt.date, str] | None:
    """The day of the year the member left the party, if they did (a transfer out is no leaving)."""
    day = left_on(member)
    if day and year_start(year) <= day <= year_end(year):
        return day, Status(member.status).label
    return None


def months_in_party(member: Member, year: int) -> int:
    """The months of the year the member was in the party: from the month of joining (January if earlier) through
    the month of leaving (December if they did not leave in the year), both counted."""
    start, end = start_event(member, year), end_event(member, year)
    first = start[0].month if start else 1
    last = end[0].month if end else 12
    return max(0, last - first + 1)


def holds_secretary_post(member: Member, year: int, today: dt.date | None = None) -> bool:
    ref = reference_date(year, today)
    return _posts_held_on(ref).filter(member_id=member.pk).exists()


def _posts_held_on(ref: dt.date) -> QuerySet[PartyPost]:
    return PartyPost.objects.filter(post__in=SECRETARY_POSTS, start_date__lte=ref).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=ref)
    )


def _applies_label(policy: HoursPolicy) -> str:
    return PolicyApplies(policy.applies_to).label


def _owner_label(policy: HoursPolicy) -> str:
    return policy.owner.name if policy.owner is not None else "全系统"


def policy_years(policy: HoursPolicy) -> str:
    if policy.valid_to is None:
        return f"{policy.valid_from}年起"
    if policy.valid_to == policy.valid_from:
        return f"{policy.valid_from}年"
    return f"{policy.valid_from}—{policy.valid_to}年"


@dataclass(frozen=True)
class Requirement:
    """A member's requirement for a year and why (学时要求说明)."""

    year: int
    hours: Decimal
    policy: HoursPolicy | None
    online_cap: Decimal | None
    months: int  # months owed: 12 unless pro-rated
    explanation: str
    candidates: tuple[HoursPolicy, ...] = ()


def _matches(policy: HoursPolicy, *, flag, secretary) -> bool:
    if policy.applies_to == PolicyApplies.ALL:
        return True
    if policy.applies_to == PolicyApplies.LEADERSHIP:
        return flag(Flag.LEADERSHIP)
    if policy.applies_to == PolicyApplies.DISTRICT_CADRE:
        return flag(Flag.DISTRICT_CADRE)
    if policy.applies_to == PolicyApplies.SECRETARIES:
        return secretary()
    return False


# ---------------------------------------------------------------------------------------------------------
# Where a member belonged at the end of a closed year (docs/rules.md, "How the rules combine": a report of a closed
# period counts people where they belonged then and never changes afterwards)


def _after_year(year: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(year_end(year) + dt.timedelta(days=1), dt.time.min))


def _moves_after(year: int) -> QuerySet[MemberTransfer]:
    """Accepted moves inside the system decided after the year: each member's first one says where they were."""
    return MemberTransfer.objects.dangerously_all().filter(
        kind=TransferKind.INTERNAL, status=TransferStatus.ACCEPTED, decided_at__gte=_after_year(year)
    )


def _arrivals_after(year: int) -> QuerySet[MemberTransfer]:
    """Members who came into the system from outside after the year: not on any roll of ours at its end."""
    return MemberTransfer.objects.dangerously_all().filter(
        kind=TransferKind.INCOMING,
        status__in=(TransferStatus.COMPLETED, TransferStatus.ACCEPTED),
        transfer_date__gt=year_end(year),
    )


class YearEndPlacement:
    """Who a year's report covers and by which organization, from the membership history.

    For a closed year (before the current one): every member on a roll of the system at the end of the year, or who
    left the party (出党, 去世, 停止党籍) during it, counted by the organization they belonged to at the year's end
    (or on their last day in the party) — the origin of their first move decided after the year, else their
    organization of today — and by the flags they had then (`members.selectors.flag_on`). Statuses changed and
    members moved or re-categorized since never change the year's figures. Members who came from outside the
    system after the year are left out; so are those who left for another system (转出) during it (that system
    reports them). For the running year: today's rolls.

    The organization of the time is read only for the few members who moved since (a hashed IN settles the
    others), so the report stays one query."""

    PATH, NAME, CODE = "_then_path", "_then_name", "_then_code"

    def __init__(self, year: int, today: dt.date | None = None):
        self.year = year
        self.closed = year < _today(today).year

    @property
    def path_field(self) -> str:
        return self.PATH if self.closed else "organization__path"

    @property
    def name_field(self) -> str:
        return self.NAME if self.closed else "organization__name"

    @property
    def code_field(self) -> str:
        return self.CODE if self.closed else "organization__code"

    def flag_field(self, flag: str) -> str:
        """The member's flag (班子成员, 区管干部) at the year's end: re-categorized since, the value of then."""
        return f"_then_{flag}" if self.closed else flag

    def annotate(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        if not self.closed or self.PATH in queryset.query.annotations:
            return queryset
        end = year_end(self.year)
        queryset = queryset.alias(**{self.flag_field(flag): flag_on(flag, end) for flag in Flag.values})
        later = _moves_after(self.year)
        first = later.filter(member=OuterRef("pk")).order_by("decided_at", "pk")
        moved = Q(pk__in=later.values("member_id"))

        def then(field: str):
            return Case(
                When(moved, then=Subquery(first.values(f"from_organization__{field}")[:1])),
                default=F(f"organization__{field}"),
                output_field=TextField(),
            )

        return queryset.annotate(**{self.PATH: then("path"), self.NAME: then("name"), self.CODE: then("code")})

    def on_rolls(self) -> Q:
        if not self.closed:
            return Q(status=Status.ACTIVE)
        end = year_end(self.year)
        still = Q(status=Status.ACTIVE) | Q(status_changed_on__gt=end)
        left_in_year = Q(
            status__in=LEFT_STATUSES, status_changed_on__gte=year_start(self.year), status_changed_on__lte=end
        )
        return (still | left_in_year) & ~Q(pk__in=_arrivals_after(self.year).values("member_id"))


def organization_at_year_end(member: Member, year: int, today: dt.date | None = None) -> Organization:
    """The organization `member` belonged to at the end of `year` (`YearEndPlacement`), for one member."""
    if year >= _today(today).year:
        return member.organization
    move = (
        _moves_after(year).filter(member_id=member.pk).order_by("decided_at", "pk").select_related("from_organization")
    )
    first = move.first()
    return first.from_organization if first is not None and first.from_organization is not None else member.organization


def requirement_for(member: Member, year: int, *, today: dt.date | None = None) -> Requirement:
    """The member's hours requirement for the year, with a Chinese explanation of which rule applies and why
    (docs/rules.md, "How the rules combine": the strictest applicable rule wins; online cap and pro-rating come
    with it)."""
    if member.join_date and member.join_date > year_end(year):
        return Requirement(
            year, ZERO, None, None, 0, f"该党员{member.join_date:%Y年%m月%d日}入党，{year}年度尚未入党，无学时要求。"
        )
    gone = left_on(member)
    if gone and gone < year_start(year):
        label = Status(member.status).label
        return Requirement(
            year, ZERO, None, None, 0, f"该党员已于{gone:%Y年%m月%d日}{label}，{year}年度不在党内，无学时要求。"
        )
    secretary_cache: list[bool] = []

    def secretary() -> bool:
        if not secretary_cache:
            secretary_cache.append(holds_secretary_post(member, year, today))
        return secretary_cache[0]

    policies = policies_for_path(organization_at_year_end(member, year, today).path, year)
    closed = year < _today(today).year

    def flag(name: str) -> bool:  # the flag of the year's end for a closed year (`YearEndPlacement`)
        return flag_of(member, name, year_end(year)) if closed else getattr(member, name)

    candidates = tuple(p for p in policies if _matches(p, flag=flag, secretary=secretary))
    if not candidates:
        return Requirement(year, ZERO, None, None, 12, f"没有适用于该党员{year}年度的学时要求，要求学时为0。")
    winner = candidates[0]
    parts = [
        f"适用“{winner.name}”（{_owner_label(winner)}制定，{policy_years(winner)}，适用于{_applies_label(winner)}）："
        f"年度要求{hours_text(winner.required_hours)}学时"
        + (f"，依据：{winner.source}" if winner.source else "")
        + "。"
    ]
    others = candidates[1:]
    if others:
        listed = "、".join(f"“{p.name}”{hours_text(p.required_hours)}学时" for p in others)
        tie = any(p.required_hours == winner.required_hours for p in others)
        parts.append(
            f"同时适用的还有{listed}，按“从严”原则取要求最高的一条"
            + ("（要求相同时取制定组织层级最具体的一条）" if tie else "")
            + "。"
        )
    hours, months = winner.required_hours, 12
    if winner.pro_rating == ProRating.MONTHS:
        events = [event for event in (start_event(member, year), end_event(member, year)) if event is not None]
        if events:
            months = months_in_party(member, year)
            what = "、".join(f"于{on:%Y年%m月}{label}" for on, label in events)
            if months < 12:
                hours = prorated(winner.required_hours, months)
                parts.append(
                    f"该党员{what}，按在党{months}个月折算："
                    f"{hours_text(winner.required_hours)}×{months}/12，向上取0.5的整数倍，为{hours_text(hours)}学时。"
                )
            else:
                parts.append(f"该党员{what}，全年在党，按全年要求计算。")
        parts.append("组织关系转接（转入、转出）不折算。")
    parts.append(counting_explanation(winner.online_cap))
    return Requirement(year, hours, winner, winner.online_cap, months, "".join(parts), candidates)


# ---------------------------------------------------------------------------------------------------------
# The same rules as SQL


def _and(*conditions):
    kept = [c for c in conditions if c is not None]
    if not kept:
        return None
    combined = kept[0]
    for condition in kept[1:]:
        combined &= condition
    return combined


class RequirementPlan:
    """The requirement of every member of a subtree for a year as SQL expressions, built from the few policy rows
    that can apply in it. `alias(queryset)` joins the year's kept totals (LEFT JOIN of MemberHoursYear as
    `hours_year`) and adds `_hours_required` and `_hours_counted` per member row.

    The Case/When chain lists the policies in `policy_order`; a member gets the first one whose conditions hold
    (the owner's path prefix for owners inside the subtree, the flag, the holders of a current post). The chain
    stops at the first policy that holds for everybody; where one policy (or one cap) serves all, the expression
    is a plain value. Pro-rated policies read the join month and the leaving month (columns of the member row: no
    subquery); moves between organizations are not read at all, since they never pro-rate."""

    def __init__(self, *, org: Organization, year: int, today: dt.date | None = None, policies=None):
        self.org, self.year, self.today = org, year, _today(today)
        self.placement = YearEndPlacement(year, self.today)
        if policies is None:
            self.policies = policies_for_subtree(org, year)
        else:
            self.policies = sorted((p if isinstance(p, Rule) else rule_of(p) for p in policies), key=policy_order)
        self.rules: list[tuple[object, Rule]] = []
        for policy in self.policies:
            condition = _and(self._owner_condition(policy), self._flag_condition(policy))
            self.rules.append((condition, policy))
            if condition is None:  # everybody matches: the rest can never win
                break

    # Conditions -------------------------------------------------------------------------------------------

    def _owner_condition(self, policy: Rule):
        if not policy.owner_path or self.org.path.startswith(policy.owner_path):
            return None  # the system, the organization itself or an ancestor: every member of the subtree
        # The organization of the time for a closed year (`YearEndPlacement`).
        return Q(**{f"{self.placement.path_field}__startswith": policy.owner_path})

    def _flag_condition(self, policy: Rule):
        if policy.applies_to == PolicyApplies.ALL:
            return None
        if policy.applies_to == PolicyApplies.LEADERSHIP:
            return Q(**{self.placement.flag_field(Flag.LEADERSHIP): True})
        if policy.applies_to == PolicyApplies.DISTRICT_CADRE:
            return Q(**{self.placement.flag_field(Flag.DISTRICT_CADRE): True})
        # Holders of a current post, as an uncorrelated subquery (a hashed IN, built once): PostgreSQL costs a
        # correlated EXISTS in a CASE once per member row, which would make it JIT-compile the whole report.
        holders = _posts_held_on(reference_date(self.year, self.today)).values("member_id")
        return Q(pk__in=holders)

    # Expressions ------------------------------------------------------------------------------------------

    def _left_in_year(self) -> Q:
        """Members who left the party during the year (出党, 去世, 停止党籍 dated in it)."""
        return Q(
            status__in=LEFT_STATUSES,
            status_changed_on__gte=year_start(self.year),
            status_changed_on__lte=year_end(self.year),
        )

    def _months_on_roll(self):
        """The months of the year in the party (`months_in_party`): from the month of joining (January if earlier)
        through the month of leaving (December if not in the year), as an integer expression over the member's own
        columns — no subquery, correlated or not. Moves between organizations are not read: they never pro-rate."""
        integer = IntegerField()
        join_month = Case(
            When(
                join_date__gte=year_start(self.year), join_date__lte=year_end(self.year), then=ExtractMonth("join_date")
            ),
            default=Value(1),
            output_field=integer,
        )
        leave_month = Case(
            When(self._left_in_year(), then=ExtractMonth("status_changed_on")), default=Value(12), output_field=integer
        )
        return Cast(leave_month - join_month + Value(1), integer)

    def _required(self, policy: Rule):
        full = Value(policy.required_hours, output_field=HOURS)
        if policy.pro_rating != ProRating.MONTHS:
            return full
        # required × months / 12 rounded up to a half hour, in integers (exact on both databases, the same as
        # `prorated`): halves = ceil(20·required × months / 120) = (20·required × months + 119) div 120.
        twentieths = int(policy.required_hours * 20)
        halves = Cast((Value(twentieths) * F("_hours_months") + Value(119)) / Value(120), output_field=IntegerField())
        prorated_hours = halves * Value(HALF_HOUR, output_field=HOURS)
        # Most members were in the party all year: two cheap column tests settle them before any month is read.
        on_roll_all_year = Q(join_date__lt=year_start(self.year)) & ~self._left_in_year()
        return Case(When(on_roll_all_year, then=full), default=prorated_hours, output_field=HOURS)

    def _counted(self, cap: Decimal | None):
        total = Coalesce(F("hours_year__total"), Value(ZERO), output_field=HOURS)
        if cap is None:
            return total
        online = Coalesce(F("hours_year__online"), Value(ZERO), output_field=HOURS)
        excess = Greatest(online - Value(cap, output_field=HOURS), Value(ZERO), output_field=HOURS)
        return total - excess

    def _chain(self, value_of, *, key, none):
        """A Case over the rules giving `value_of(policy)`, `none` when no rule matches; collapsed to the value
        itself when every rule gives the same one (the same `key(policy)`)."""
        if not self.rules:
            return none
        values = [value_of(policy) for _, policy in self.rules]
        last_condition = self.rules[-1][0]
        if last_condition is None and len({key(policy) for _, policy in self.rules}) == 1:
            return values[0]
        default = none
        if last_condition is None:
            default = values[-1]
        whens = [
            When(condition, then=value)
            for (condition, _), value in zip(self.rules, values, strict=True)
            if condition is not None
        ]
        return Case(*whens, default=default, output_field=HOURS)

    @property
    def needs_months(self) -> bool:
        return any(policy.pro_rating == ProRating.MONTHS for _, policy in self.rules)

    def required_expression(self):
        return self._chain(
            self._required,
            key=lambda policy: (policy.required_hours, policy.pro_rating),
            none=Value(ZERO, output_field=HOURS),
        )

    def counted_expression(self):
        return self._chain(
            lambda policy: self._counted(policy.online_cap),
            key=lambda policy: policy.online_cap,
            none=self._counted(None),
        )

    def cap_expression(self):
        """The online cap of the member's rule (NULL: no cap), to show how much of the online hours counted."""
        return self._chain(
            lambda policy: Value(policy.online_cap, output_field=HOURS),
            key=lambda policy: policy.online_cap,
            none=Value(None, output_field=HOURS),
        )

    def alias(self, queryset: QuerySet[Member]) -> QuerySet[Member]:
        """The member rows joined to the year's kept totals, with `_hours_required` and `_hours_counted` as
        aliases (usable in filters, orderings and aggregates, not selected)."""
        queryset = self.placement.annotate(queryset).annotate(
            hours_year=FilteredRelation("hours_years", condition=Q(hours_years__year=self.year))
        )
        if self.needs_months:
            queryset = queryset.alias(_hours_months=self._months_on_roll())
        return queryset.alias(_hours_required=self.required_expression(), _hours_counted=self.counted_expression())


# ---------------------------------------------------------------------------------------------------------
# Reports


def report_organizations(by) -> QuerySet[Organization]:
    """The organizations `by` may run hours reports for: those whose members they see (their granted subtrees;
    everything for the system access). The three admins and plain members have none."""
    return Organization.objects.granted_to(by)


def default_report_org(by) -> Organization | None:
    """The shallowest organization of `by`'s scope (their first granted subtree)."""
    access = access_for(by)
    if access.system:
        return Organization.objects.dangerously_all().filter(depth=1).first()
    return Organization.objects.dangerously_all().filter(path__in=access.view_roots).first()


def report_members(*, by, org: Organization, year: int, today: dt.date | None = None) -> QuerySet[Member]:
    """The members a report for `org` and `year` covers.

    The running year: ACTIVE members of the subtree on `by`'s rolls (`held_by`: a member in transfer counts once,
    on the sending side) who had joined the party by the end of the year. A closed year: the members whose
    organization at the year's end lay in the subtree and in `by`'s granted subtrees (`YearEndPlacement`), wherever
    they are today."""
    placement = YearEndPlacement(year, today)
    if not placement.closed:
        return (
            Member.objects.dangerously_all()
            .held_by(by)
            .filter(organization__path__startswith=org.path, status=Status.ACTIVE, join_date__lte=year_end(year))
            .order_by()
        )
    access = access_for(by)
    # Scope: the members of the time of the organizations `by` reports on (their granted subtrees), wherever the
    # members are today — the year's figures are those organizations' own.
    members = placement.annotate(Member.objects.dangerously_all())
    if not access.system:
        members = members.filter(subtree_q(access.view_roots, placement.path_field))
    return (
        members.filter(**{f"{placement.path_field}__startswith": org.path})
        .filter(placement.on_rolls(), join_date__lte=year_end(year))
        .order_by()
    )


@dataclass(frozen=True)
class MemberCompliance:
    """One member's line of a report (built from plain values, never a model instance: reports stream)."""

    member_id: int
    name: str
    masked_id: str
    organization_name: str
    organization_code: str
    year: int
    required: Decimal
    counted: Decimal
    shortfall: Decimal
    status: str
    by_kind: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = ZERO
    online_cap: Decimal | None = None

    @property
    def consequence(self) -> str:
        return CONSEQUENCE if self.status == SHORT else ""

    @property
    def online_counted(self) -> Decimal:
        return online_counted(self.by_kind.get("online"), self.online_cap)

    @property
    def kinds_text(self) -> str:
        """集中培训 30.0 · 网络学习 12.0（计入 0.0，上限 0.0） …: each kind and how much of it counted."""
        return kinds_text(self.by_kind, self.online_cap)

    @property
    def percent(self) -> int:
        """Progress towards the requirement, 0-100 (for bars)."""
        if self.required <= 0:
            return 100
        return int(min(Decimal(100), self.counted * 100 / self.required).to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def kind_rows(self) -> list[tuple[str, Decimal]]:
        return [(KIND_LABELS[column], self.by_kind.get(column, ZERO)) for column in KIND_COLUMNS]


def compliance_row(row: dict, year: int, today: dt.date | None = None) -> MemberCompliance:
    """A report line from a row of `compliance_members`; the ID number is decrypted and masked here."""
    required, counted = row["required"], row["counted"]
    return MemberCompliance(
        member_id=row["member_id"],
        name=row["name"],
        masked_id=mask_id_number(_ID_NUMBER.to_python(row["id_token"]) or ""),
        organization_name=row["organization_name"],
        organization_code=row["organization_code"],
        year=year,
        required=required,
        counted=counted,
        shortfall=row["shortfall"],
        status=status_for(counted, required, year, today),
        by_kind={column: row[column] for column in KIND_COLUMNS if column in row},
        total=row.get("total", counted),
        online_cap=row.get("online_cap"),
    )


def compliance_rows(rows: Iterable[dict], year: int, today: dt.date | None = None) -> list[MemberCompliance]:
    return [compliance_row(row, year, today) for row in rows]


def compliance_members(
    *,
    by,
    org: Organization,
    year: int,
    today: dt.date | None = None,
    behind_only: bool = False,
    kinds: bool = True,
) -> QuerySet[Member, Mapping[str, Any]]:
    """The member-level report, one query: a row per member the report covers with `member_id`, `name`,
    `id_token` (the stored ID number: `compliance_row` decrypts and masks it), `organization_name`, `organization_code`,
    `required`, `counted`, `shortfall` and — with `kinds` — the year's kept totals by kind, `total` and the
    member's `online_cap` (NULL: no cap). Plain
    values, so that pages paginate it and exports and commands stream it (`iterate`) without building models.
    Ordered by organization and name; `behind_only` keeps those short of the requirement, the most behind first
    (the secretary's branch view)."""
    plan = RequirementPlan(org=org, year=year, today=today)
    placement = plan.placement
    columns = {
        "member_id": F("pk"),
        "organization_name": F(placement.name_field),
        "organization_code": F(placement.code_field),
        "required": F("_hours_required"),
        "counted": F("_hours_counted"),
        "shortfall": Greatest(
            F("_hours_required") - F("_hours_counted"), Value(ZERO, output_field=HOURS), output_field=HOURS
        ),
    }
    if kinds:
        for column in (*KIND_COLUMNS, "total"):
            columns[column] = Coalesce(F(f"hours_year__{column}"), Value(ZERO), output_field=HOURS)
        columns["online_cap"] = plan.cap_expression()
    # The ID number as stored (ciphertext, no converter): decrypted and masked only for the lines shown.
    columns["id_token"] = Cast("id_number", output_field=TextField())
    rows = plan.alias(report_members(by=by, org=org, year=year, today=today)).values("name", **columns)
    if behind_only:
        # The plugin does not see the columns `values()` adds by keyword.
        return rows.filter(shortfall__gt=0).order_by("-shortfall", placement.path_field, "name", "pk")  # type: ignore[misc]
    return rows.order_by(placement.path_field, "name", "pk")


@dataclass(frozen=True)
class RollupRow:
    """Compliance of one child organization's subtree (or of the organization's own members: `own=True`)."""

    organization: Organization
    members: int
    met: int
    own: bool = False

    @property
    def rate(self) -> Decimal:
        return rate_of(self.met, self.members)

    @property
    def behind(self) -> int:
        return self.members - self.met


@dataclass(frozen=True)
class ChildrenReport:
    org: Organization
    year: int
    children: list[RollupRow]  # every child, in tree order, members or not
    own: RollupRow | None  # the organization's own members, if it has any

    @property
    def members(self) -> int:
        return sum(row.members for row in self.children) + (self.own.members if self.own else 0)

    @property
    def met(self) -> int:
        return sum(row.met for row in self.children) + (self.own.met if self.own else 0)

    @property
    def rate(self) -> Decimal:
        return rate_of(self.met, self.members)

    @property
    def behind(self) -> int:
        return self.members - self.met

    @property
    def rows(self) -> list[RollupRow]:
        return ([self.own] if self.own else []) + self.children


def children_rollup(*, by, org: Organization, year: int, today: dt.date | None = None) -> list[tuple[str, int, int]]:
    """ONE SQL query: (child path prefix, members, met) per child of `org`, grouping the covered members by the
    first `len(org.path) + 4` characters of their organization's path (the org's own members group under its
    own path)."""
    plan = RequirementPlan(org=org, year=year, today=today)
    members = plan.alias(report_members(by=by, org=org, year=year, today=today))
    rows = (
        members.annotate(child_path=Substr(plan.placement.path_field, 1, len(org.path) + STEP))
        .values("child_path")
        .annotate(n_members=Count("pk"), n_met=Count("pk", filter=Q(_hours_counted__gte=F("_hours_required"))))
        .values_list("child_path", "n_members", "n_met")
        .order_by()
    )
    return list(rows)


def compliance_children(*, by, org: Organization, year: int, today: dt.date | None = None) -> ChildrenReport:
    """Compliance per child organization of `org` (members, met, rate) and for the whole subtree: the roll-up
    query, the policies and the children — three queries whatever the size of the subtree."""
    counts = {path: (n, met) for path, n, met in children_rollup(by=by, org=org, year=year, today=today)}
    children = Organization.objects.dangerously_all().in_subtree(org).filter(depth=org.depth + 1).order_by("path")
    rows = [RollupRow(child, *counts.get(child.path, (0, 0))) for child in children]
    own = counts.get(org.path)
    return ChildrenReport(org=org, year=year, children=rows, own=RollupRow(org, *own, own=True) if own else None)


def monthly_trend(*, by, org: Organization, year: int) -> list[tuple[int, Decimal]]:
    """Hours credited per month of the year to the members a report covers (one grouped query over the year's
    ledger entries of the subtree), every month listed."""
    # Grouped by day (at most 366 rows), summed per month here: extracting the month of every entry in SQL costs
    # a function call per row on SQLite (a county's year is hundreds of thousands of entries).
    entries = (
        HoursEntry.objects.dangerously_all()
        .filter(year=year, member__in=report_members(by=by, org=org, year=year).values("pk"))
        .values("date")
        .annotate(hours=Sum("hours"))
        .values_list("date", "hours")
        .order_by()
    )
    by_month: dict[int, Decimal] = {}
    for day, hours in entries:
        by_month[day.month] = by_month.get(day.month, ZERO) + (hours or ZERO)
    return [(month, by_month.get(month) or ZERO) for month in range(1, 13)]


# ---------------------------------------------------------------------------------------------------------
# One member over the years (promotion review)


@dataclass(frozen=True)
class YearSummary:
    year: int
    requirement: Requirement
    counted: Decimal
    total: Decimal
    status: str
    by_kind: dict[str, Decimal]

    @property
    def required(self) -> Decimal:
        return self.requirement.hours

    @property
    def shortfall(self) -> Decimal:
        return max(ZERO, self.required - self.counted)

    @property
    def consequence(self) -> str:
        return CONSEQUENCE if self.status == SHORT else ""

    @property
    def online_counted(self) -> Decimal:
        return online_counted(self.by_kind.get("online"), self.requirement.online_cap)

    @property
    def kinds_text(self) -> str:
        """集中培训 30.0 · 网络学习 12.0（计入 0.0，上限 0.0） …: each kind and how much of it counted."""
        return kinds_text(self.by_kind, self.requirement.online_cap)

    @property
    def percent(self) -> int:
        if self.required <= 0:
            return 100
        return int(min(Decimal(100), self.counted * 100 / self.required).to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def kind_rows(self) -> list[tuple[str, Decimal]]:
        return [(KIND_LABELS[column], self.by_kind.get(column, ZERO)) for column in KIND_COLUMNS]


def member_year(member: Member, year: int, *, today: dt.date | None = None) -> YearSummary:
    return member_years(member, last=year, count=1, today=today)[0]


def member_years(
    member: Member, *, last: int | None = None, count: int = REVIEW_YEARS, today: dt.date | None = None
) -> list[YearSummary]:
    """The member's requirement, counted hours and status for each of the `count` years up to `last` (default
    this year), newest first (Huangpi: 近三年干部学时完成情况作为重要参考; a short year bars 优秀)."""
    last = last or _today(today).year
    years = list(range(last, last - count, -1))
    kept = {
        row["year"]: row for row in member.hours_years.filter(year__in=years).values("year", "total", *KIND_COLUMNS)
    }
    summaries = []
    for year in years:
        row = kept.get(year, {})
        requirement = requirement_for(member, year, today=today)
        by_kind = {column: row.get(column, ZERO) for column in KIND_COLUMNS}
        total = row.get("total", ZERO)
        counted = counted_hours(total, by_kind["online"], requirement.online_cap)
        summaries.append(
            YearSummary(
                year=year,
                requirement=requirement,
                counted=counted,
                total=total,
                status=status_for(counted, requirement.hours, year, today),
                by_kind=by_kind,
            )
        )
    return summaries


def member_entries(member: Member, *, year: int | None = None) -> QuerySet[HoursEntry]:
    """The member's ledger (newest first), with what each entry points at, for the member's hours page."""
    entries = member.hours_entries.select_related("session__training_class", "course", "recorded_by", "reverses")
    entries = entries.annotate(is_reversed=Exists(HoursEntry.objects.dangerously_all().filter(reverses=OuterRef("pk"))))
    if year is not None:
        entries = entries.filter(year=year)
    return entries.order_by("-date", "-pk")


# ---------------------------------------------------------------------------------------------------------
# Year-end reconciliation of the schools (年终对账, Xiqing)


def school_reconciliation(*, by, year: int, org: Organization | None = None) -> QuerySet[PartySchool]:
    """Per school in `by`'s scope (inside `org`'s subtree if given): the quotas claimed in the year's plan against
    what it delivered that year, like with like (Xiqing: 年初认领培训指标，年终对账):
    - classes: `planned_classes` (计划办班数) against `actual_classes` (实际办班数) = the classes it ran (approved or
      finished, starting in the year) + its completed bookings (约课 已完成) held in the year;
    - person-times: `planned_trainees` (计划培训人次) against `actual_trainees` (实际培训人次) = per class, the members
      who signed in to it, + the headcount of the counted completed bookings;
    with the differences (actual − planned) and `attendance_count` (签到人次, one per member and session). The
    definitions are `schools.selectors.delivery`'s, shared with the evaluation's records score. One query."""
    schools = PartySchool.objects.visible_to(by).select_related("organization")
    if org is not None:
        schools = schools.filter(organization__path__startswith=org.path)
    plans = SchoolAnnualPlan.objects.dangerously_all().filter(school=OuterRef("pk"), year=year)
    integer = IntegerField()
    return (
        with_delivery(schools, year)
        .annotate(
            has_plan=Exists(plans),
            planned_classes=Coalesce(Subquery(plans.values("planned_classes")[:1]), Value(0), output_field=integer),
            planned_trainees=Coalesce(Subquery(plans.values("planned_trainees")[:1]), Value(0), output_field=integer),
            actual_classes=F("held_classes"),
            actual_trainees=F("person_times"),
            attendance_count=F("sign_ins"),
        )
        .annotate(
            classes_difference=F("actual_classes") - F("planned_classes"),
            trainees_difference=F("actual_trainees") - F("planned_trainees"),
        )
        .order_by("code")
    )


def iterate(queryset: QuerySet, chunk_size: int = 2000) -> Iterator:
    """Stream a report's rows from the database in chunks."""
    return queryset.iterator(chunk_size=chunk_size)


def policy_list(*, user) -> QuerySet[HoursPolicy]:
    """The requirements a user sees on the policies page: those owned in or above their subtrees
    (`HoursPolicy.visible_to`) and the system-wide ones, which apply to everybody; newest rules first."""
    visible = HoursPolicy.objects.visible_to(user).values("pk")
    return (
        HoursPolicy.objects.dangerously_all()
        .filter(Q(pk__in=visible) | Q(owner__isnull=True))
        .select_related("owner")
        .order_by("-active", "owner__path", "applies_to", "-valid_from", "pk")
    )
