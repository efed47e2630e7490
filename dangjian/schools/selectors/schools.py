"""Read-side computations of the schools seam: lists and a school's page (venues, member units and their
secretaries, principal terms, plans, money, the 六有 checklist, bookings and evaluations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from dangjian.members.models import Member, PartyPost, Post, Status
from dangjian.schools.models import (
    ZERO,
    BookingRequest,
    BookingStatus,
    BuildMode,
    FundingLine,
    JointSchoolUnit,
    PartySchool,
    PrincipalTerm,
    SchoolAnnualPlan,
    SchoolEvaluation,
    SchoolRanking,
    SchoolVenue,
    StandardCheck,
    StandardItem,
    scheme_for,
)


def school_list(*, user) -> QuerySet[PartySchool]:
    """The schools the user sees, with what the list shows joined in (a fixed number of queries)."""
    return PartySchool.objects.visible_to(user).select_related("organization", "parent").order_by("code")


# ---------------------------------------------------------------------------------------------------------
# Secretaries of member units (the principal rotation of a joint school)


# Keyed by organization id; the None of a unit without an organization may be looked up too (it finds nothing).
def current_secretaries(org_ids) -> dict[int | None, Member]:
    """The current secretary (书记) of each organization: an ACTIVE member holding a current party post
    `Post.SECRETARY` there (end date empty or not passed). When several hold one, the latest appointed wins.
    One query, whatever the number of organizations. No scope: the rotation rule is the same for everybody
    (the caller decides what it shows)."""
    ids = {pk for pk in org_ids if pk is not None}
    if not ids:
        return {}
    today = timezone.localdate()
    posts = (
        PartyPost.objects.filter(organization_id__in=ids, post=Post.SECRETARY, member__status=Status.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .select_related("member")
        .order_by("organization_id", "-start_date", "-pk")
    )
    found: dict[int | None, Member] = {}
    for post in posts:
        found.setdefault(post.organization_id, post.member)
    return found


@dataclass(frozen=True)
class MemberUnitRow:
    """A member unit of a joint school with its current secretary (None: no eligible secretary)."""

    member_unit: JointSchoolUnit
    secretary: Member | None
    secretary_visible: bool  # may the viewer see the secretary's name (a member of their scope)?


def member_units_with_secretaries(*, user, school: PartySchool) -> list[MemberUnitRow]:
    """The member units of a joint school in rotation order, each with its current secretary. The viewer sees
    a secretary's name only when the member is in their scope (three queries)."""
    units = list(school.member_units.select_related("unit__organization").order_by("rotation_order"))
    secretaries = current_secretaries(mu.unit.organization_id for mu in units)
    visible = set(
        Member.objects.visible_to(user).filter(pk__in=[m.pk for m in secretaries.values()]).values_list("pk", flat=True)
    )
    rows = []
    for mu in units:
        secretary = secretaries.get(mu.unit.organization_id)
        rows.append(MemberUnitRow(mu, secretary, secretary is not None and secretary.pk in visible))
    return rows


# ---------------------------------------------------------------------------------------------------------
# Money (Xiqing: 三专, dedicated money and audit; 年终对账)


@dataclass
class MoneyYear:
    """A year of a school's money beside what it ran: allocated, spent, balance; completed bookings and their
    course hours; the plan's claimed classes."""

    year: int
    allocated: Decimal = ZERO
    spent: Decimal = ZERO
    completed_bookings: int = 0
    course_hours: Decimal = ZERO
    planned_classes: int | None = None

    @property
    def balance(self) -> Decimal:
        return self.allocated - self.spent

    @property
    def overspent(self) -> bool:
        return self.spent > self.allocated


def _cents(value) -> Decimal:
    """A sum of money as exact cents (SQLite sums decimals as floats)."""
    return Decimal(str(value or ZERO)).quantize(Decimal("0.01"))


def _booking_year():
    """The year a booking counts in: its scheduled start, else the wanted start date."""
    return Coalesce(ExtractYear("starts_at"), ExtractYear("wanted_from"))


def money_check(*, school: PartySchool) -> list[MoneyYear]:
    """Per year, newest first: the money allocated and spent (all purposes), the balance, and beside it the
    count of completed bookings (已完成) and the sum of their booked courses' hours, and the classes the plan
    claimed — so that a year's money can be checked against what was taught (Xiqing's 年终对账). Four queries.
    """
    years: dict[int, MoneyYear] = {}

    def row(year: int) -> MoneyYear:
        return years.setdefault(year, MoneyYear(year=year))

    for line in (
        FundingLine.objects.dangerously_all()
        .filter(school=school)
        .values("year")
        .annotate(a=Sum("allocated"), s=Sum("spent"))
    ):
        entry = row(line["year"])
        entry.allocated, entry.spent = _cents(line["a"]), _cents(line["s"])
    completed = BookingRequest.objects.dangerously_all().filter(school=school, status=BookingStatus.COMPLETED)
    for b in completed.annotate(y=_booking_year()).values("y").annotate(n=Count("pk")):
        row(b["y"]).completed_bookings = b["n"]
    # One row per (booking, course) pair: a course booked twice counts twice.
    booked = BookingRequest.courses.through.objects.filter(
        bookingrequest__school=school, bookingrequest__status=BookingStatus.COMPLETED
    )
    hours = (
        booked.annotate(
            y=Coalesce(ExtractYear("bookingrequest__starts_at"), ExtractYear("bookingrequest__wanted_from"))
        )
        # The plugin does not see annotations on the auto-created through model.
        .values("y")  # type: ignore[misc]
        .annotate(h=Sum("course__hours"))
    )
    for h in hours:
        row(h["y"]).course_hours = Decimal(str(h["h"] or ZERO)).quantize(Decimal("0.1"))
    for plan in SchoolAnnualPlan.objects.dangerously_all().filter(school=school).values("year", "planned_classes"):
        if plan["year"] in years:
            years[plan["year"]].planned_classes = plan["planned_classes"]
    return sorted(years.values(), key=lambda m: m.year, reverse=True)


@dataclass
class FundingYear:
    """A school's funding lines of one year with their totals."""

    year: int
    lines: list[FundingLine]
    allocated: Decimal
    spent: Decimal

    @property
    def balance(self) -> Decimal:
        return self.allocated - self.spent


def funding_for_year(*, school: PartySchool, year: int) -> FundingYear:
    """The funding lines of a year, by purpose, with totals allocated, spent and balance (one query)."""
    lines = list(FundingLine.objects.dangerously_all().filter(school=school, year=year).order_by("purpose"))
    for line in lines:
        line.balance = line.allocated - line.spent  # exact Decimal arithmetic (SQLite would compute in floats)
    return FundingYear(
        year=year,
        lines=lines,
        allocated=sum((line.allocated for line in lines), ZERO),
        spent=sum((line.spent for line in lines), ZERO),
    )


# ---------------------------------------------------------------------------------------------------------
# The 六有 checklist (Xiqing: 有组织、有场地、有经费、有师资、有计划、有制度; Huangpi: 有领导机制 … 有培训成效)


@dataclass(frozen=True)
class ChecklistRow:
    item: StandardItem
    check: StandardCheck | None  # None: 未检查


@dataclass
class Checklist:
    scheme: str
    year: int
    rows: list[ChecklistRow] = field(default_factory=list)

    @property
    def met_count(self) -> int:
        return sum(1 for r in self.rows if r.check is not None and r.check.met)

    @property
    def checked_count(self) -> int:
        return sum(1 for r in self.rows if r.check is not None)

    @property
    def total(self) -> int:
        return len(self.rows)


def standard_checklist(*, school: PartySchool, year: int) -> Checklist:
    """The 六有 checklist of a school for a year: every active item of the school's scheme (`scheme_for`:
    Huangpi's for amateur schools, Xiqing's otherwise), in order, with the year's check or None (未检查), and
    the count of items met. Two queries."""
    scheme = scheme_for(school)
    items = StandardItem.objects.filter(scheme=scheme, active=True).order_by("order", "pk")
    checks = {
        c.item_id: c
        for c in StandardCheck.objects.dangerously_all()
        .filter(school=school, year=year)
        .select_related("checked_by", "item")
    }
    return Checklist(scheme=scheme, year=year, rows=[ChecklistRow(item, checks.get(item.pk)) for item in items])


# ---------------------------------------------------------------------------------------------------------
# The school's page


def school_venues(*, school: PartySchool) -> QuerySet[SchoolVenue]:
    """The school's venues (Xiqing's 有场地, Huangpi's 有适宜场所), usable ones first."""
    return school.venues.order_by("-active", "name")


def principal_terms(*, school: PartySchool) -> QuerySet[PrincipalTerm]:
    """Every principal term of the school, newest year first: the history is never deleted."""
    return school.principal_terms.select_related("unit", "member").order_by("-year")


def school_plans(*, school: PartySchool) -> QuerySet[SchoolAnnualPlan]:
    """The school's annual plans with their claimed quotas (Xiqing: claimed at the start of the year), newest
    first (one per year)."""
    return school.plans.order_by("-year")


def next_proposal_year(*, school: PartySchool) -> int:
    """The year a rotation proposal is most likely for: the year after the latest term, at least this year."""
    this_year = timezone.localdate().year
    latest = school.principal_terms.order_by("-year").values_list("year", flat=True).first()
    return max(this_year, latest + 1) if latest else this_year


def school_bookings(*, school: PartySchool) -> QuerySet[BookingRequest]:
    """The school's booking requests (约课) as its scheduled sessions, newest first, with what the page shows."""
    return (
        BookingRequest.objects.dangerously_all()
        .filter(school=school)
        .select_related("instructor", "venue", "dispatcher")
        .prefetch_related("courses")
        .order_by("-starts_at", "-created_at", "-pk")
    )


CLASSES_SHOWN = 20


def school_classes(*, school: PartySchool) -> list:
    """The school's latest training classes (培训班 it runs), newest first, at most CLASSES_SHOWN: through the
    reverse relation, so that this app never imports the training app that builds on it."""
    return list(school.classes.select_related("organizer").order_by("-starts_on", "-pk")[:CLASSES_SHOWN])


def school_evaluations(*, school: PartySchool) -> QuerySet[SchoolEvaluation]:
    """The school's annual evaluations (年度考评), newest first (one per year)."""
    return SchoolEvaluation.objects.dangerously_all().filter(school=school).order_by("-year")


def school_rankings(*, school: PartySchool) -> QuerySet[SchoolRanking]:
    """The school's published ranking results (Huangpi: 示范 / 优秀 / 合格 / 不合格), newest first."""
    return (
        SchoolRanking.objects.dangerously_all()
        .filter(school=school)
        .select_related("scope")
        .order_by("-year", "scope__path")
    )


def is_joint(school: PartySchool) -> bool:
    """A joint school (联合建校, Huangpi): member units whose secretaries take turns as principal."""
    return school.build_mode == BuildMode.JOINT
