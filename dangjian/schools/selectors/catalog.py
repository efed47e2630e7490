"""Read-side computations of the catalog seam: the instructor pool and its points ranking (Huangpi 积分管理),
the course catalog, a module's mix by content type (Xiqing 40/40/20, by hours) and premium-round standings
(Huangpi 精品课程评选). Every list has its joins here, so that a page costs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from dangjian.members.models import Member
from dangjian.schools.models import (
    ContentType,
    Course,
    CourseModule,
    Instructor,
    PointEntry,
    PointEvent,
    PointRule,
    PremiumEntry,
    PremiumRound,
    PremiumRoundStatus,
)

ZERO = Decimal("0")
HUNDRED = Decimal("100")
TENTH = Decimal("0.1")
POINTS_FIELD = DecimalField(max_digits=12, decimal_places=1)
# The tie-break of a premium round, stated on its page (Huangpi's rules name none; ours is fixed and shown).
PREMIUM_TIE_BREAK = "得分相同时，按参评登记先后排序，先登记的课程在前（入选名额边界同分时，先登记者入选）。"
NOT_AWARDED_NOTE = "未记积分：没有适用的“精品课程入选”积分规则（或无权为该讲师记分）。"


# ---------------------------------------------------------------------------------------------------------
# Instructors and points


def owner_chain_paths(org) -> list[str]:
    """An organization's own path and every ancestor path (treebeard steps)."""
    step = org.steplen
    return [org.path[:i] for i in range(step, len(org.path) + 1, step)]


def point_rule_for(*, instructor: Instructor, event: str, year: int) -> PointRule | None:
    """The points rule that applies to an instructor's event in a year (Huangpi 积分管理): the event matches, the
    rule is valid for the year (valid_from <= year <= valid_to, or open-ended) and its owner is the instructor's
    owner or an ancestor of it. The most specific wins: the deepest owner, then the latest valid_from, then the
    newest rule. Rules are looked up by the instructor's place in the tree, not by who asks."""
    return (
        PointRule.objects.dangerously_all()
        .filter(event=event, owner__path__in=owner_chain_paths(instructor.owner), valid_from__lte=year)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))
        .select_related("owner")
        .order_by("-owner__depth", "-valid_from", "-pk")
        .first()
    )


def instructor_list(*, user, year: int) -> QuerySet[Instructor]:
    """The instructors the user sees, each with `year_points` (the sum of its ledger entries of `year`,
    reversals included), ranked by those points, ties by name (Huangpi: 积分靠前的向其所在单位反馈)."""
    return (
        Instructor.objects.visible_to(user)
        .select_related("team", "owner")
        .annotate(
            year_points=Coalesce(
                Sum("point_entries__points", filter=Q(point_entries__year=year)),
                Value(ZERO),
                output_field=POINTS_FIELD,
            )
        )
        .order_by("-year_points", "name", "pk")
    )


@dataclass(frozen=True)
class YearPoints:
    year: int
    points: Decimal


def instructor_ledger(*, instructor: Instructor) -> list[PointEntry]:
    """The instructor's points ledger, newest first, with the rule, the reversed entry and the reversal."""
    return list(
        instructor.point_entries.select_related(
            "rule", "rule__owner", "reverses", "reversed_by", "recorded_by"
        ).order_by("-date", "-pk")
    )


def instructor_points_by_year(*, instructor: Instructor) -> list[YearPoints]:
    """The instructor's points per year (reversals included), latest year first."""
    rows = (
        instructor.point_entries.values("year")
        .annotate(total=Coalesce(Sum("points"), Value(ZERO), output_field=POINTS_FIELD))
        .order_by("-year")
    )
    return [YearPoints(year=row["year"], points=row["total"]) for row in rows]


def instructor_member_for(*, user, instructor: Instructor) -> Member | None:
    """The party member linked to an instructor, only if the user may see that member: an instructor is shared
    downwards, the member record is not."""
    if instructor.member_id is None:
        return None
    return Member.objects.visible_to(user).filter(pk=instructor.member_id).first()


def point_rule_list(*, user) -> QuerySet[PointRule]:
    """The points rules the user sees (their subtrees' and their ancestors'), by event and latest year."""
    return PointRule.objects.visible_to(user).select_related("owner").order_by("event", "-valid_from", "owner__path")


def instructor_choices(*, user) -> QuerySet[Instructor]:
    """The instructors a user may put on a course: active and visible to them."""
    return Instructor.objects.visible_to(user).filter(active=True).select_related("team").order_by("name", "pk")


# ---------------------------------------------------------------------------------------------------------
# Courses


def course_list(*, user) -> QuerySet[Course]:
    """The catalog the user sees, with the owner and the instructors the user sees (a fixed number of queries)."""
    return (
        Course.objects.visible_to(user)
        .select_related("owner")
        .prefetch_related(Prefetch("instructors", queryset=Instructor.objects.visible_to(user).order_by("name")))
        .order_by("category", "title", "pk")
    )


def course_choices(*, user) -> QuerySet[Course]:
    """The courses a user may put into a module or a premium round: active and visible to them."""
    return Course.objects.visible_to(user).filter(active=True).order_by("category", "title", "pk")


def course_instructors(*, user, course: Course) -> list[Instructor]:
    """The course's instructors that the user sees."""
    return list(Instructor.objects.visible_to(user).filter(courses=course).select_related("team").order_by("name"))


# ---------------------------------------------------------------------------------------------------------
# Modules and their mix


@dataclass(frozen=True)
class MixRow:
    content_type: str
    label: str
    hours: Decimal
    percent: Decimal
    target: Decimal
    deviation: Decimal  # percentage points, percent - target
    off_target: bool


@dataclass(frozen=True)
class ModuleMix:
    """A module's mix by content type, by hours. `empty` when it has no hours (no mix, no division)."""

    total_hours: Decimal
    rows: list[MixRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tolerance: Decimal = ZERO

    @property
    def empty(self) -> bool:
        return self.total_hours <= ZERO

    @property
    def off_target(self) -> bool:
        return bool(self.warnings)


def module_targets(module: CourseModule) -> dict[str, Decimal]:
    return {
        ContentType.POLITICAL_THEORY: module.target_political,
        ContentType.GRASSROOTS_PRACTICE: module.target_practice,
        ContentType.EXEMPLARY_MODEL: module.target_model,
    }


def _mix_from_hours(module: CourseModule, hours: dict[str, Decimal]) -> ModuleMix:
    total = sum(hours.values(), ZERO)
    if total <= ZERO:
        return ModuleMix(total_hours=ZERO, tolerance=module.tolerance)
    rows, warnings = [], []
    tolerance = module.tolerance.quantize(TENTH)
    for content_type, target in module_targets(module).items():
        target = target.quantize(TENTH)
        type_hours = hours.get(content_type, ZERO)
        percent = (type_hours * HUNDRED / total).quantize(TENTH, rounding=ROUND_HALF_UP)
        deviation = percent - target
        off = abs(deviation) > tolerance
        label = ContentType(content_type).label
        rows.append(MixRow(content_type, label, type_hours, percent, target, deviation, off))
        if off:
            warnings.append(
                f"{label}：实际{percent}%，目标{target}%，偏差{deviation:+}个百分点，"
                f"超过允许偏差{tolerance}个百分点，偏离目标结构。"
            )
    return ModuleMix(total_hours=total, rows=rows, warnings=warnings, tolerance=tolerance)


def module_mix(module: CourseModule) -> ModuleMix:
    """A module's mix by content type BY HOURS (Xiqing: each module 40% political theory + 40% grassroots
    practice + 20% exemplary models): the hours and percentage of each content type, and a warning (偏离目标结构)
    for each type whose percentage departs from the module's target by more than `tolerance` percentage points.
    A module without courses (or hours) has no mix. One query."""
    rows = module.courses.values("content_type").annotate(total=Sum("hours"))
    return _mix_from_hours(module, {row["content_type"]: row["total"] or ZERO for row in rows})


def module_mixes(modules) -> dict[int, ModuleMix]:
    """The mix of each of `modules` (a page of a list), in one query."""
    modules = list(modules)
    through = CourseModule.courses.through
    hours: dict[int, dict[str, Decimal]] = defaultdict(dict)
    rows = (
        through.objects.filter(coursemodule_id__in=[m.pk for m in modules])
        .values("coursemodule_id", "course__content_type")
        .annotate(total=Sum("course__hours"))
    )
    for row in rows:
        hours[row["coursemodule_id"]][row["course__content_type"]] = row["total"] or ZERO
    return {m.pk: _mix_from_hours(m, hours.get(m.pk, {})) for m in modules}


def module_list(*, user) -> QuerySet[CourseModule]:
    """The modules the user sees, with the owner and the number of courses."""
    return (
        CourseModule.objects.visible_to(user)
        .select_related("owner")
        .annotate(course_count=Count("courses"))
        .order_by("name", "pk")
    )


def module_courses(*, user, module: CourseModule) -> tuple[list[Course], int]:
    """The module's courses that the user sees, and how many others it holds out of the user's sight."""
    visible = list(Course.objects.visible_to(user).filter(modules=module).order_by("content_type", "title", "pk"))
    hidden = module.courses.count() - len(visible)
    return visible, hidden


# ---------------------------------------------------------------------------------------------------------
# Premium rounds


def premium_round_list(*, user) -> QuerySet[PremiumRound]:
    """The premium rounds the user sees, with the owner and the number of entries."""
    return (
        PremiumRound.objects.visible_to(user)
        .select_related("owner")
        .annotate(entry_count=Count("entries"), selected_count=Count("entries", filter=Q(entries__selected=True)))
        .order_by("-year", "category", "pk")
    )


def premium_ranked_entries(round: PremiumRound) -> list[PremiumEntry]:
    """The round's entries in ranking order: score high to low, unscored last, ties by the earlier entry (lower
    pk) — the stated tie-break (PREMIUM_TIE_BREAK)."""
    entries = list(round.entries.select_related("course", "course__owner"))
    return sorted(entries, key=lambda e: (e.score is None, -(e.score or ZERO), e.pk))


def premium_award_source(round: PremiumRound, course: Course) -> str:
    """The ledger `source` of a premium-selection award: names the round so that its page finds it."""
    return f"{premium_source_prefix(round)}{course.title}"[:200]


def premium_source_prefix(round: PremiumRound) -> str:
    return f"精品课程评选#{round.pk}："


@dataclass
class PremiumStanding:
    entry: PremiumEntry
    rank: int
    within_quota: bool  # selected (closed) or provisionally within the quota (open)
    tied_at_boundary: bool


@dataclass
class PremiumAward:
    course: Course
    instructor: Instructor
    entry: PointEntry | None  # None: no points were awarded


@dataclass
class PremiumView:
    standings: list[PremiumStanding]
    boundary_tie: bool
    boundary_note: str
    unscored: list[PremiumEntry]
    awards: list[PremiumAward]

    @property
    def not_awarded(self) -> list[PremiumAward]:
        return [a for a in self.awards if a.entry is None]


def premium_standings(entries: list[PremiumEntry], quota: int) -> tuple[list[PremiumStanding], bool, str]:
    """Rank entries already in ranking order: the first `quota` are within the quota. Whether the last one in
    and the first one out have the same score (a tie at the boundary, resolved by the earlier entry)."""
    standings = []
    for i, entry in enumerate(entries):
        standings.append(PremiumStanding(entry=entry, rank=i + 1, within_quota=i < quota, tied_at_boundary=False))
    note = ""
    tie = False
    if len(entries) > quota:
        last_in, first_out = entries[quota - 1], entries[quota]
        if last_in.score is not None and last_in.score == first_out.score:
            tie = True
            for standing in standings:
                if standing.entry.score == last_in.score:
                    standing.tied_at_boundary = True
            note = (
                f"第{quota}名与第{quota + 1}名同为{last_in.score}分：按参评登记先后，"
                f"先登记的《{last_in.course.title}》入选，《{first_out.course.title}》未入选。"
            )
    return standings, tie, note


def premium_round_view(*, user, round: PremiumRound) -> PremiumView:
    """What a premium round's page shows (Huangpi 精品课程评选): the entries ranked (provisionally while open,
    by `selected` once closed), a tie at the quota boundary and how it was resolved, the unscored entries, and
    for a closed round each instructor of a selected course with the points entry they earned, or none."""
    entries = premium_ranked_entries(round)
    closed = round.status == PremiumRoundStatus.CLOSED
    standings, tie, note = premium_standings(entries, round.quota)
    if closed:
        for standing in standings:
            standing.within_quota = standing.entry.selected
    awards: list[PremiumAward] = []
    if closed:
        selected = [e.course for e in entries if e.selected]
        instructors = defaultdict(list)
        for course in (
            Course.objects.dangerously_all()
            .filter(pk__in=[c.pk for c in selected])
            .prefetch_related(Prefetch("instructors", queryset=Instructor.objects.visible_to(user).order_by("name")))
        ):
            instructors[course.pk] = list(course.instructors.all())
        ledger = {
            (entry.instructor_id, entry.source): entry
            for entry in PointEntry.objects.visible_to(user).filter(
                event=PointEvent.PREMIUM_SELECTED, source__startswith=premium_source_prefix(round), reverses=None
            )
        }
        for course in selected:
            for instructor in instructors[course.pk]:
                entry = ledger.get((instructor.pk, premium_award_source(round, course)))
                awards.append(PremiumAward(course=course, instructor=instructor, entry=entry))
    return PremiumView(
        standings=standings,
        boundary_tie=tie,
        boundary_note=note,
        unscored=[e for e in entries if e.score is None],
        awards=awards,
    )
