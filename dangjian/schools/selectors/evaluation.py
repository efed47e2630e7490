"""Read-side computations of the evaluation seam (考评): composite scores, the ranking rule in force, the
annual ranking of schools with its grades, subsidies and tie notes, and the lists of the evaluation pages.

Source: the Huangpi report (黄陂区业余党校): "每年结合党建考核，采取实地查看、查阅资料、学员评价、综合评定的方式
…… 取前三名命名为‘示范业余党校’，剩下业余党校中按15%的比例确定‘优秀业余党校’，排名最后一名为不合格业余党校，
其余为合格业余党校"; demonstration and excellent schools get a subsidy, the unqualified one is summoned and
must fix its faults within a deadline (约谈……责令限期整改).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.orgs.models import Organization, subtree_q
from dangjian.schools.models import (
    EvaluationIndicator,
    Grade,
    IndicatorKind,
    IndicatorScore,
    PartySchool,
    RankingRule,
    RectificationTask,
    SchoolEvaluation,
    SchoolRanking,
    ancestor_paths,
)

CENT = Decimal("0.01")
# The grades in the order the ranking hands them out, best first.
GRADE_ORDER: tuple[str, ...] = (Grade.DEMONSTRATION, Grade.EXCELLENT, Grade.QUALIFIED, Grade.UNQUALIFIED)
# The stated tie-breaks after the composite, in order; the school code is the last resort.
TIE_BREAK_LABELS: dict[str, str] = {
    "field": "实地检查得分",
    "records": "台账检查得分",
    "code": "学校编码",
}
TIE_BREAK_STATEMENT = "综合得分相同时，依次按实地检查得分、台账检查得分（均从高到低）排序，仍相同时按学校编码排序。"
GRADE_PRECEDENCE_STATEMENT = (
    "等次按以下顺序确定：①综合排名前{demo}名为示范；②其余党校中排名最后的{unq}名为不合格；"
    "③示范以外党校数的{rate}%（向下取整；不合格之外尚有党校时至少{exc_min}名，且不超过所余名额）按名次为优秀；"
    "④其余为合格。"
)


# ---------------------------------------------------------------------------------------------------------
# Composite score


def active_indicators() -> list[EvaluationIndicator]:
    """The active indicators of the annual evaluation, in their order (configurable; defaults of migration 0002:
    the six 六有 items, field check, records check, trainee rating)."""
    return list(EvaluationIndicator.objects.filter(active=True).order_by("order", "pk"))


def composite_for(scores: Mapping[int, Decimal], indicators: Iterable[EvaluationIndicator]) -> Decimal | None:
    """The composite score (综合得分): the sum over the active indicators of score / max_score × weight, rounded
    to 2 decimals (ROUND_HALF_UP) once at the end. None while any active indicator has no score (incomplete).

    `scores` maps an indicator's id to its score."""
    total = Decimal("0")
    for indicator in indicators:
        if not indicator.active:
            continue
        score = scores.get(indicator.pk)
        if score is None:
            return None
        total += Decimal(score) / indicator.max_score * indicator.weight
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def default_year(user) -> int:
    """The year the evaluation pages open on: the latest year with an evaluation in the user's scope, else the
    current year."""
    latest = SchoolEvaluation.objects.visible_to(user).aggregate(latest=Max("year"))["latest"]
    return latest or timezone.localdate().year


def evaluation_list(*, user, year: int) -> QuerySet[PartySchool]:
    """The schools the user sees, each with `year_evaluations` (its evaluation of `year`, if any, annotated with
    `scored`: how many active indicators have a score). A fixed number of queries whatever the page size."""
    evaluations = SchoolEvaluation.objects.filter(year=year).annotate(
        scored=Count("scores", filter=Q(scores__indicator__active=True))
    )
    return (
        PartySchool.objects.visible_to(user)
        .select_related("organization")
        .prefetch_related(Prefetch("evaluations", queryset=evaluations, to_attr="year_evaluations"))
        .order_by("code")
    )


@dataclass(frozen=True)
class ScoreRow:
    indicator: EvaluationIndicator
    score: Decimal | None

    @property
    def weighted(self) -> Decimal | None:
        """What this score adds to the composite (score / max × weight), for display."""
        if self.score is None or not self.indicator.active:
            return None
        return (self.score / self.indicator.max_score * self.indicator.weight).quantize(CENT, rounding=ROUND_HALF_UP)


def evaluation_score_rows(*, evaluation: SchoolEvaluation | None) -> list[ScoreRow]:
    """One row per active indicator (with the evaluation's score or None), then any scored indicator that has
    since been switched off (shown, not counted). Two queries."""
    scores = {}
    if evaluation is not None and evaluation.pk:
        scores = {s.indicator_id: s for s in evaluation.scores.select_related("indicator")}
    rows = [ScoreRow(ind, scores.pop(ind.pk).score if ind.pk in scores else None) for ind in active_indicators()]
    rows.extend(ScoreRow(s.indicator, s.score) for s in sorted(scores.values(), key=lambda s: s.indicator.order))
    return rows


# ---------------------------------------------------------------------------------------------------------
# The ranking rule


def _rule_for_paths(paths: Iterable[str], year: int) -> RankingRule:
    candidates = (
        RankingRule.objects.dangerously_all()
        .filter(owner__path__in=list(paths), valid_from__lte=year)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))
        .select_related("owner")
    )
    best = max(candidates, key=lambda r: (len(r.owner.path), r.valid_from, r.pk), default=None)
    return best or RankingRule()


def rule_for(org: Organization | None, year: int) -> RankingRule:
    """The ranking rule in force for `org` in `year` (Huangpi's rule, configurable as RankingRule rows): among the
    rules valid that year (valid_from <= year <= valid_to, or open-ended), the one owned by `org` itself or else
    by its nearest ancestor; of several on the same owner, the latest valid_from. With none (or no org), an
    unsaved `RankingRule()` carrying the model's defaults (3 示范, 15% 优秀 at least 1, 1 不合格). One query."""
    if org is None:
        return RankingRule()
    return _rule_for_paths({org.path, *ancestor_paths([org.path])}, year)


def grade_counts(n: int, rule: RankingRule) -> dict[str, int]:
    """How many of `n` ranked schools get each grade (Huangpi: 取前三名命名为示范，剩下业余党校中按15%的比例确定
    优秀，排名最后一名为不合格，其余为合格). In this order of precedence:
    1. the first `demonstration_count` → 示范 (all of them when there are no more);
    2. of the remaining schools, the lowest `unqualified_count` → 不合格;
    3. of the remaining (n − 示范) schools, the top floor(excellent_rate × (n − 示范)) → 优秀, at least
       `excellent_min` when any school is left after the 不合格, and never more than are left;
    4. the rest → 合格.
    E.g. 4 schools → 3 示范 + 1 不合格; 5 → 3 示范, 1 优秀, 1 不合格; 20 → 3, 2 (floor(0.15 × 17)), 14 合格, 1."""
    demonstration = min(rule.demonstration_count, n)
    rest = n - demonstration
    unqualified = min(rule.unqualified_count, rest)
    left = rest - unqualified
    excellent = int((Decimal(rule.excellent_rate) * rest).to_integral_value(rounding=ROUND_FLOOR))
    if left > 0:
        excellent = max(excellent, rule.excellent_min)
    excellent = min(excellent, left)
    return {
        Grade.DEMONSTRATION: demonstration,
        Grade.EXCELLENT: excellent,
        Grade.QUALIFIED: left - excellent,
        Grade.UNQUALIFIED: unqualified,
    }


def assign_grades(n: int, rule: RankingRule) -> list[str]:
    """The grade of each rank position 1..n, best first (see `grade_counts` for the precedence)."""
    counts = grade_counts(n, rule)
    return [grade for grade in GRADE_ORDER for _ in range(counts[grade])]


def rule_statement(rule: RankingRule) -> str:
    """The rule in words, for the page and the command."""
    rate = (Decimal(rule.excellent_rate) * 100).normalize()
    return GRADE_PRECEDENCE_STATEMENT.format(
        demo=rule.demonstration_count,
        unq=rule.unqualified_count,
        rate=f"{rate:f}",
        exc_min=rule.excellent_min,
    )


# ---------------------------------------------------------------------------------------------------------
# The ranking


@dataclass
class RankingRow:
    """One ranked school: its composite, tie-break scores, rank (1..n, never shared), grade, subsidy, tie note."""

    school: PartySchool
    evaluation: SchoolEvaluation
    composite: Decimal
    field_score: Decimal | None
    records_score: Decimal | None
    rank: int = 0
    grade: str = ""
    subsidy: Decimal = Decimal("0")
    tie_note: str = ""

    @property
    def grade_label(self) -> str:
        return Grade(self.grade).label

    @property
    def sort_key(self) -> tuple:
        missing = Decimal("-1")  # a missing tie-break score sorts below any score
        return (
            -self.composite,
            -(self.field_score if self.field_score is not None else missing),
            -(self.records_score if self.records_score is not None else missing),
            self.school.code,
        )


@dataclass(frozen=True)
class GradeTotal:
    grade: str
    label: str
    count: int
    subsidy: Decimal


@dataclass
class Ranking:
    """The ranking of a year over a scope: the ranked rows, the evaluations left out as incomplete, the rule."""

    year: int
    scope: Organization | None
    rule: RankingRule
    rows: list[RankingRow] = field(default_factory=list)
    incomplete: list[SchoolEvaluation] = field(default_factory=list)
    weight_sum: Decimal = Decimal("100")  # the best possible composite: the sum of the active weights

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def message(self) -> str:
        """Why there is nothing to rank (empty set), in words for the page and the command."""
        if self.rows:
            return ""
        where = f"“{self.scope.name}”范围内" if self.scope is not None else "范围内"
        text = f"{self.year}年度{where}没有已完成考评的党校，无法排名。"
        if self.incomplete:
            text += f"另有{len(self.incomplete)}所党校考评尚未录入完整（未参加排名）。"
        return text

    @property
    def totals(self) -> list[GradeTotal]:
        """Count and subsidy sum per grade, in grade order."""
        result = []
        for grade in GRADE_ORDER:
            rows = [r for r in self.rows if r.grade == grade]
            result.append(GradeTotal(grade, Grade(grade).label, len(rows), sum((r.subsidy for r in rows), Decimal(0))))
        return result

    @property
    def subsidy_total(self) -> Decimal:
        return sum((r.subsidy for r in self.rows), Decimal("0"))

    @property
    def rule_statement(self) -> str:
        return rule_statement(self.rule)

    @property
    def tie_break_statement(self) -> str:
        return TIE_BREAK_STATEMENT

    @property
    def chart_max(self) -> Decimal:
        """The top of the chart's scale: the best possible composite, or the best composite when higher."""
        return max([self.weight_sum, *(r.composite for r in self.rows)])


def _kind_score(evaluation: SchoolEvaluation, kind: str) -> Decimal | None:
    """The evaluation's score on the active indicator(s) of `kind` (summed when several), None when unscored."""
    values = [s.score for s in evaluation.tie_scores if s.indicator.kind == kind]
    return sum(values, Decimal("0")) if values else None


def _decider(upper: RankingRow, lower: RankingRow) -> str:
    """Which tie-break put `upper` before `lower` (their composites being equal)."""
    if upper.field_score != lower.field_score:
        return "field"
    if upper.records_score != lower.records_score:
        return "records"
    return "code"


def tie_notes(rows: list[RankingRow]) -> None:
    """Set the tie note of every row whose composite equals that of a school on the other side of a grade
    boundary: "综合得分与××相同，按实地检查得分排序" (or 台账检查得分, or 学校编码: whichever tie-break decided).
    `rows` are sorted and graded."""
    notes: dict[int, dict[str, list[str]]] = {}
    for i, upper in enumerate(rows):
        for j in range(i + 1, len(rows)):
            lower = rows[j]
            if lower.composite != upper.composite:
                break
            if lower.grade == upper.grade:
                continue
            key = _decider(upper, lower)
            notes.setdefault(i, {}).setdefault(key, []).append(lower.school.name)
            notes.setdefault(j, {}).setdefault(key, []).append(upper.school.name)
    for i, by_key in notes.items():
        rows[i].tie_note = "；".join(
            f"综合得分与{'、'.join(names)}相同，按{TIE_BREAK_LABELS[key]}排序" for key, names in by_key.items()
        )


def _common_ancestor_path(paths: list[str]) -> str:
    """The path of the deepest organization containing all `paths` ("" when they lie in different trees)."""
    if not paths:
        return ""
    low, high = min(paths), max(paths)
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return low[: n - n % Organization.steplen]


def school_ranking(user_or_access, year: int, org: Organization | None = None) -> Ranking:
    """The annual ranking (Huangpi) of the schools in scope — in `org`'s subtree when given, else all the user
    sees — that have a complete evaluation in `year` (a composite score). Order: composite desc; ties broken
    by the field-check score (IndicatorKind.FIELD_CHECK) desc, then the records-check score (RECORDS_CHECK)
    desc, then, as the last resort, the school code asc. Ranks are 1..n, never shared. Grades by `grade_counts`
    under `rule_for(org, year)` (without org: the rule of the schools' nearest common organization), subsidy
    by `rule.subsidy_for(grade)`, tie notes by `tie_notes`. Evaluations without a composite are returned in
    `incomplete`, not ranked. An empty ranking carries its `message`. A fixed number of queries (four)."""
    tie_scores = IndicatorScore.objects.filter(
        indicator__active=True, indicator__kind__in=[IndicatorKind.FIELD_CHECK, IndicatorKind.RECORDS_CHECK]
    ).select_related("indicator")
    evaluations = (
        SchoolEvaluation.objects.visible_to(user_or_access)
        .filter(year=year)
        .select_related("school", "school__organization")
        .prefetch_related(Prefetch("scores", queryset=tie_scores, to_attr="tie_scores"))
        .order_by("school__code")
    )
    if org is not None:
        evaluations = evaluations.filter(subtree_q([org.path], "school__organization__path"))
    rows: list[RankingRow] = []
    incomplete: list[SchoolEvaluation] = []
    for evaluation in evaluations:
        if evaluation.composite is None:
            incomplete.append(evaluation)
            continue
        rows.append(
            RankingRow(
                school=evaluation.school,
                evaluation=evaluation,
                composite=evaluation.composite,
                field_score=_kind_score(evaluation, IndicatorKind.FIELD_CHECK),
                records_score=_kind_score(evaluation, IndicatorKind.RECORDS_CHECK),
            )
        )
    if org is not None:
        rule = rule_for(org, year)
    else:
        common = _common_ancestor_path([r.school.organization.path for r in rows])
        rule = _rule_for_paths({common, *ancestor_paths([common])}, year) if common else RankingRule()
    rows.sort(key=lambda r: r.sort_key)
    for rank, (row, grade) in enumerate(zip(rows, assign_grades(len(rows), rule), strict=True), start=1):
        row.rank, row.grade, row.subsidy = rank, grade, rule.subsidy_for(grade)
    tie_notes(rows)
    weights = EvaluationIndicator.objects.filter(active=True).values_list("weight", flat=True)
    weight_sum = sum(weights, Decimal("0")) or Decimal("100")
    return Ranking(year=year, scope=org, rule=rule, rows=rows, incomplete=incomplete, weight_sum=weight_sum)


# ---------------------------------------------------------------------------------------------------------
# Publications and rectification tasks


def ranking_publication(*, org: Organization | None, year: int) -> SchoolRanking | None:
    """The latest published row of (org, year), to say whether and when the ranking was published."""
    if org is None:
        return None
    return (
        SchoolRanking.objects.dangerously_all()
        .filter(scope=org, year=year)
        .select_related("published_by")
        .order_by("-updated_at")
        .first()
    )


def rectification_list(*, user, year: int | None = None, status: str | None = None) -> QuerySet[RectificationTask]:
    """The rectification tasks (整改任务) the user sees, open ones first by deadline; one query per page."""
    tasks = RectificationTask.objects.visible_to(user).select_related("school", "school__organization", "ranking")
    if year is not None:
        tasks = tasks.filter(year=year)
    if status:
        tasks = tasks.filter(status=status)
    return tasks.order_by("status", "deadline", "pk")


def rectifications_by_school(*, user, year: int, school_ids: Iterable[int]) -> dict[int, RectificationTask]:
    """The rectification task of each given school for `year` (one query), for the ranking table."""
    tasks = RectificationTask.objects.visible_to(user).filter(year=year, school_id__in=list(school_ids))
    return {t.school_id: t for t in tasks.order_by("pk")}


def school_view_orgs(user) -> QuerySet[Organization]:
    """The organizations under the user's party-school subtrees: where a ranking scope may be picked by code."""
    access = access_for(user)
    if access.system:
        return Organization.objects.all()
    return Organization.objects.filter(subtree_q(access.school_view_roots))
