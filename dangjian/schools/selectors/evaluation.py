"""Read-side computations of the evaluation seam (考评): composite scores, the ranking rule in force, the
annual ranking of schools with its grades, subsidies and tie notes, and the lists of the evaluation pages.

Source: the Huangpi report (黄陂区业余党校): "每年结合党建考核，采取实地查看、查阅资料、学员评价、综合评定的方式
…… 取前三名命名为‘示范业余党校’，剩下业余党校中按15%的比例确定‘优秀业余党校’，排名最后一名为不合格业余党校，
其余为合格业余党校"; demonstration and excellent schools get a subsidy, the unqualified one is summoned and
must fix its faults within a deadline (约谈……责令限期整改).

Who is ranked: the amateur schools (业余党校, with their 片区业余党校) only — the ranking is Huangpi's ranking of its
amateur schools; the district party school (区委党校) and the other levels are evaluated, not ranked with them.
What a school did counts: the records score (台账) starts from the system's own rows (`records_bases`), and the
rule's gate (`RankingRule.honours_need_activity`) keeps a school that ran no class, or fails its 六有 checklist,
from 示范 and 优秀. Ties share a place (1, 2, 2, 4); where a grade boundary falls inside a tie, nothing orders the
tied schools (no secondary score, never the school code): the committee decides (`TieDecision`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from dangjian.accounts.roles import SCHOOL_VIEW_ROLES
from dangjian.orgs.models import Organization, ancestor_paths, subtree_q
from dangjian.schools.models import (
    EvaluationIndicator,
    Grade,
    IndicatorKind,
    IndicatorScore,
    PartySchool,
    RankingRule,
    RectificationTask,
    SchoolAnnualPlan,
    SchoolEvaluation,
    SchoolLevel,
    SchoolRanking,
    StandardCheck,
    StandardItem,
    StandardScheme,
    TieDecision,
    scheme_for,
)
from dangjian.schools.selectors.delivery import with_delivery

CENT = Decimal("0.01")
# The grades in the order the ranking hands them out, best first.
GRADE_ORDER: tuple[str, ...] = (Grade.DEMONSTRATION, Grade.EXCELLENT, Grade.QUALIFIED, Grade.UNQUALIFIED)
# The levels ranked together: Huangpi's amateur schools (业余党校) and their area schools (片区业余党校).
RANKED_LEVELS: tuple[str, ...] = (SchoolLevel.AMATEUR, SchoolLevel.AREA_AMATEUR)
HONOURS: frozenset[str] = frozenset({Grade.DEMONSTRATION, Grade.EXCELLENT})
TIE_STATEMENT = (
    "综合得分相同的党校名次并列（如1、2、2、4）；等次名额的分界落在并列党校之间时，不按任何单项得分或学校编码排序，"
    "在“并列说明”中注明，由工委会议决定各校等次并记录理由，决定前不能发布。"
)
GATE_STATEMENT = (
    "当年未办班（培训班或已完成的约课）或“六有”检查未全部达标的党校不得评为示范、优秀，其名额依次由符合条件的党校递补。"
)
PENDING_LABEL = "待定"
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


# The records score (台账) from the system's own rows.
RECORDS_SHARES: dict[str, Decimal] = {
    "classes": Decimal("0.4"),
    "person_times": Decimal("0.3"),
    "liuyou": Decimal("0.3"),
}
# The entered records-check score moves the system's records score by at most this share of the maximum.
RECORDS_ADJUSTMENT = Decimal("0.10")
INTEGER = IntegerField()


@dataclass(frozen=True)
class RecordsBasis:
    """What a school's records score (台账) rests on for a year: the plan's claimed classes and person-times, the
    classes held and person-times trained (`selectors.delivery`, the same numbers as the 年终对账), and the 六有
    checklist (items met of the active items of the school's scheme)."""

    planned_classes: int = 0
    held_classes: int = 0
    planned_person_times: int = 0
    person_times: int = 0
    liuyou_met: int = 0
    liuyou_total: int = 0

    @staticmethod
    def _ratio(done: int, planned: int) -> Decimal:
        if planned <= 0:
            return Decimal("0")
        return min(Decimal("1"), Decimal(done) / Decimal(planned))

    @property
    def fraction(self) -> Decimal:
        """The system's share of the maximum, 0..1 (see `records_score`)."""
        liuyou = Decimal(self.liuyou_met) / Decimal(self.liuyou_total) if self.liuyou_total else Decimal("1")
        return (
            RECORDS_SHARES["classes"] * self._ratio(self.held_classes, self.planned_classes)
            + RECORDS_SHARES["person_times"] * self._ratio(self.person_times, self.planned_person_times)
            + RECORDS_SHARES["liuyou"] * liuyou
        )

    @property
    def ran_classes(self) -> bool:
        return self.held_classes > 0

    @property
    def liuyou_passed(self) -> bool:
        return self.liuyou_met >= self.liuyou_total

    @property
    def barred_reason(self) -> str:
        """Why the school may not be 示范 or 优秀 under the gate ("" when it may)."""
        reasons = []
        if not self.ran_classes:
            reasons.append("当年未办班")
        if not self.liuyou_passed:
            reasons.append(f"“六有”未全部达标（{self.liuyou_met}/{self.liuyou_total}项）")
        return "、".join(reasons)

    def system_score(self, maximum: Decimal) -> Decimal:
        return (self.fraction * maximum).quantize(CENT, rounding=ROUND_HALF_UP)

    def score(self, maximum: Decimal, entered: Decimal | None = None) -> Decimal:
        """The records score on an indicator of `maximum`: the system's, moved towards the entered score by at
        most RECORDS_ADJUSTMENT × maximum, within 0..maximum."""
        system = self.system_score(maximum)
        if entered is None:
            return system
        cap = (maximum * RECORDS_ADJUSTMENT).quantize(CENT, rounding=ROUND_HALF_UP)
        adjusted = system + max(-cap, min(cap, Decimal(entered) - system))
        return max(Decimal("0"), min(maximum, adjusted))

    @property
    def explanation(self) -> str:
        return (
            f"办班{self.held_classes}/计划{self.planned_classes}，培训{self.person_times}/计划{self.planned_person_times}"
            f"人次，“六有”达标{self.liuyou_met}/{self.liuyou_total}项"
        )


def with_records(queryset, year: int, ref: str = "pk"):
    """`queryset` (of schools, or of rows whose `ref` is a school's id) annotated with what a `RecordsBasis` rests
    on for `year`: the delivery (`selectors.delivery`), the plan's quotas, and the 六有 items and items met of both
    schemes (`basis_of` picks the school's). Subqueries only: no extra query."""
    plans = SchoolAnnualPlan.objects.dangerously_all().filter(school=OuterRef(ref), year=year)

    def planned(column: str) -> Coalesce:
        return Coalesce(Subquery(plans.values(column)[:1], output_field=INTEGER), Value(0), output_field=INTEGER)

    def items(scheme: str) -> Coalesce:
        active = StandardItem.objects.filter(active=True, scheme=scheme).order_by().values("scheme")
        return Coalesce(Subquery(active.annotate(n=Count("pk")).values("n"), output_field=INTEGER), Value(0))

    def met(scheme: str) -> Coalesce:
        checks = (
            StandardCheck.objects.dangerously_all()
            .filter(school=OuterRef(ref), year=year, met=True, item__active=True, item__scheme=scheme)
            .order_by()
        )
        counted = checks.values("school").annotate(n=Count("pk")).values("n")
        return Coalesce(Subquery(counted, output_field=INTEGER), Value(0))

    annotations = {"plan_classes": planned("planned_classes"), "plan_person_times": planned("planned_trainees")}
    for scheme in StandardScheme.values:
        annotations[f"liuyou_items_{scheme}"] = items(scheme)
        annotations[f"liuyou_met_{scheme}"] = met(scheme)
    return with_delivery(queryset, year, ref).annotate(**annotations)


def basis_of(row, level: str) -> RecordsBasis:
    """The `RecordsBasis` of a row annotated by `with_records` (an object or a dict of values)."""
    get: Callable[[str], Any] = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    scheme = scheme_for(PartySchool(level=level))
    return RecordsBasis(
        planned_classes=get("plan_classes"),
        held_classes=get("held_classes"),
        planned_person_times=get("plan_person_times"),
        person_times=get("person_times"),
        liuyou_met=get(f"liuyou_met_{scheme}"),
        liuyou_total=get(f"liuyou_items_{scheme}"),
    )


def records_bases(school_ids: Iterable[int], year: int) -> dict[int, RecordsBasis]:
    """The records basis (`RecordsBasis`) of each given school for `year`, by school id (one query)."""
    ids = list(school_ids)
    if not ids:
        return {}
    return {
        s.pk: basis_of(s, s.level) for s in with_records(PartySchool.objects.dangerously_all().filter(pk__in=ids), year)
    }


def records_score(basis: RecordsBasis, indicator: EvaluationIndicator, entered: Decimal | None = None) -> Decimal:
    """The records score (台账检查) of a school on `indicator`, from the system's own data.

    Sources: Huangpi evaluates its amateur schools by "实地查看、查阅资料、学员评价、综合评定" against the 六有
    standard (… 有规范管理 … 有培训实效) and every school keeps "一套工作台账" (六个一); Xiqing: "年初……街镇党校认领
    培训指标……年终对账考核达标情况" — the records are the year's classes and person-times against the quotas the
    school claimed, and its 六有 checklist.

    Formula (the shares in RECORDS_SHARES):
        system = max_score × ( 0.4 × min(1, classes held / planned classes)
                             + 0.3 × min(1, person-times trained / planned person-times)
                             + 0.3 × 六有 items met / active 六有 items of the school's scheme )
    where classes held and person-times are `selectors.delivery`'s (the 年终对账's numbers); a quota not claimed
    (no plan, or 0) gives 0 for its part — a school without a plan has nothing to reconcile against; with no
    active 六有 item that part is full. The score entered by the inspectors (查阅资料) is at most an adjustment:
        score = system + clamp(entered − system, −0.1 × max_score, +0.1 × max_score), within 0..max_score;
    without an entered score, the system's. Rounded half-up to 2 decimals."""
    return basis.score(indicator.max_score, entered)


def composite_for(
    scores: Mapping[int, Decimal], indicators: Iterable[EvaluationIndicator], records: RecordsBasis | None = None
) -> Decimal | None:
    """The composite score (综合得分): the sum over the active indicators of score / max_score × weight, rounded
    to 2 decimals (ROUND_HALF_UP) once at the end. None while any active indicator has no score (incomplete).

    `scores` maps an indicator's id to its score. With `records` (the school's `RecordsBasis`), a records-check
    indicator (台账检查) scores `records_score(records, indicator, entered)`: the system's own data, the entered
    score at most an adjustment, and no entered score needed."""
    total = Decimal("0")
    for indicator in indicators:
        if not indicator.active:
            continue
        score = scores.get(indicator.pk)
        if records is not None and indicator.kind == IndicatorKind.RECORDS_CHECK:
            score = records_score(records, indicator, score)
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
    evaluations = (
        SchoolEvaluation.objects.dangerously_all()
        .filter(year=year)
        .annotate(scored=Count("scores", filter=Q(scores__indicator__active=True)))
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


@dataclass(frozen=True)
class RecordsRow:
    indicator: EvaluationIndicator
    entered: Decimal | None
    system: Decimal
    score: Decimal


def evaluation_records(*, evaluation: SchoolEvaluation) -> tuple[RecordsBasis, list[RecordsRow]]:
    """The records basis of the evaluation's school and year, and per active records-check indicator the entered
    score, the system's score and the score that counts (`records_score`), for the evaluation's page."""
    basis = records_bases([evaluation.school_id], evaluation.year)[evaluation.school_id]
    entered = {s.indicator_id: s.score for s in evaluation.scores.all()} if evaluation.pk else {}
    rows = [
        RecordsRow(i, entered.get(i.pk), basis.system_score(i.max_score), records_score(basis, i, entered.get(i.pk)))
        for i in active_indicators()
        if i.kind == IndicatorKind.RECORDS_CHECK
    ]
    return basis, rows


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
    """One ranked school: its composite, rank (shared by equal composites: 1, 2, 2, 4), grade, subsidy, tie note.

    `barred` says why the gate keeps it from 示范 / 优秀 ("" when it does not). `contested` lists the grades a
    boundary inside its tie leaves open to it (empty when none); while the committee has not decided them all
    consistently the row is `pending` (its grade 待定, no subsidy) and the ranking cannot be published."""

    school: PartySchool
    evaluation: SchoolEvaluation
    composite: Decimal
    field_score: Decimal | None
    records_score: Decimal | None
    records: RecordsBasis | None = None
    rank: int = 0
    grade: str = ""
    subsidy: Decimal = Decimal("0")
    tie_note: str = ""
    barred: str = ""
    contested: tuple[str, ...] = ()
    pending: bool = False
    decision: TieDecision | None = None

    @property
    def grade_label(self) -> str:
        if self.pending:
            return f"{PENDING_LABEL}（{'/'.join(Grade(g).label for g in self.contested)}）"
        return Grade(self.grade).label

    @property
    def contested_choices(self) -> list[tuple[str, str]]:
        return [(g, Grade(g).label) for g in self.contested]

    @property
    def sort_key(self) -> tuple:
        """Composite, best first; equal composites share a place, and are listed by name only for display."""
        return (-self.composite, self.school.name, self.school.pk)


@dataclass(frozen=True)
class GradeTotal:
    grade: str
    label: str
    count: int
    subsidy: Decimal


@dataclass
class Ranking:
    """The ranking of a year over a scope: the ranked rows, the evaluations left out as incomplete or as not
    amateur schools, the rule."""

    year: int
    scope: Organization | None
    rule: RankingRule
    rows: list[RankingRow] = field(default_factory=list)
    incomplete: list[SchoolEvaluation] = field(default_factory=list)
    not_ranked: list[SchoolEvaluation] = field(default_factory=list)
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
        if self.not_ranked:
            text += self.not_ranked_message
        return text

    @property
    def not_ranked_message(self) -> str:
        if not self.not_ranked:
            return ""
        names = "、".join(e.school.name for e in self.not_ranked)
        return f"排名只在业余党校之间进行，{names}（区委党校等）不参加排名。"

    @property
    def pending_rows(self) -> list[RankingRow]:
        return [r for r in self.rows if r.pending]

    @property
    def ties(self) -> list[list[RankingRow]]:
        """The ties at a grade boundary (each a list of the contested rows sharing a composite), best first."""
        groups: dict[Decimal, list[RankingRow]] = {}
        for row in self.rows:
            if row.contested:
                groups.setdefault(row.composite, []).append(row)
        return list(groups.values())

    @property
    def undecided_message(self) -> str:
        """What blocks publication: the ties at a grade boundary the committee has not decided."""
        groups = [g for g in self.ties if any(r.pending for r in g)]
        if not groups:
            return ""
        parts = [
            f"第{g[0].rank}名{'、'.join(r.school.name for r in g)}（综合得分{g[0].composite}）"
            f"并列于{'/'.join(Grade(x).label for x in g[0].contested)}分界"
            for g in groups
        ]
        return "；".join(parts) + "：须由工委会议决定各校等次并记录理由后才能发布。"

    @property
    def barred_rows(self) -> list[RankingRow]:
        return [r for r in self.rows if r.barred]

    @property
    def totals(self) -> list[GradeTotal]:
        """Count and subsidy sum per grade, in grade order (rows still 待定 are not counted in any grade)."""
        result = []
        for grade in GRADE_ORDER:
            rows = [r for r in self.rows if r.grade == grade and not r.pending]
            result.append(GradeTotal(grade, Grade(grade).label, len(rows), sum((r.subsidy for r in rows), Decimal(0))))
        return result

    @property
    def subsidy_total(self) -> Decimal:
        return sum((r.subsidy for r in self.rows), Decimal("0"))

    @property
    def rule_statement(self) -> str:
        text = rule_statement(self.rule)
        if self.rule.honours_need_activity:
            text += GATE_STATEMENT
        return text

    @property
    def tie_break_statement(self) -> str:
        return TIE_STATEMENT

    @property
    def chart_max(self) -> Decimal:
        """The top of the chart's scale: the best possible composite, or the best composite when higher."""
        return max([self.weight_sum, *(r.composite for r in self.rows)])


def _kind_scores(evaluation: SchoolEvaluation) -> list[IndicatorScore]:
    """The evaluation's scores on the active indicators, prefetched by `school_ranking` (to_attr, unknown to the
    model's type)."""
    return cast(Any, evaluation).kind_scores


def _kind_score(evaluation: SchoolEvaluation, kind: str) -> Decimal | None:
    """The evaluation's score on the active indicator(s) of `kind` (summed when several), None when unscored."""
    values = [s.score for s in _kind_scores(evaluation) if s.indicator.kind == kind]
    return sum(values, Decimal("0")) if values else None


def _records_shown(
    evaluation: SchoolEvaluation, basis: RecordsBasis | None, indicators: list[EvaluationIndicator]
) -> Decimal | None:
    """The records score as it counts (on the active records-check `indicators`): from the system's data with the
    entered score as an adjustment; without a basis, the entered score."""
    if basis is None or not indicators:
        return _kind_score(evaluation, IndicatorKind.RECORDS_CHECK)
    entered = {s.indicator_id: s.score for s in _kind_scores(evaluation)}
    return sum((records_score(basis, i, entered.get(i.pk)) for i in indicators), Decimal("0"))


def _share_ranks(rows: list[RankingRow]) -> None:
    """Standard competition ranking: a row's rank is 1 + the number of rows with a higher composite."""
    for i, row in enumerate(rows):
        row.rank = i + 1 if i == 0 or rows[i - 1].composite != row.composite else rows[i - 1].rank


def _provisional_grades(rows: list[RankingRow], rule: RankingRule) -> list[str]:
    """Grades by place under `grade_counts`, the gate applied: the lowest `unqualified` places → 不合格; 示范 to
    the first eligible schools, then 优秀 to the next eligible ones (a barred school's honour goes to the next
    eligible school); the rest 合格. Within a tie the order is arbitrary — `_contest` finds where it matters."""
    n = len(rows)
    counts = grade_counts(n, rule)
    grades: list[str | None] = [None] * n
    for i in range(n - counts[Grade.UNQUALIFIED], n):
        grades[i] = Grade.UNQUALIFIED
    for grade in (Grade.DEMONSTRATION, Grade.EXCELLENT):
        left = counts[grade]
        for i, row in enumerate(rows):
            if left and grades[i] is None and _may(row, grade, rule):
                grades[i] = grade
                left -= 1
    return [g or Grade.QUALIFIED for g in grades]


def _may(row: RankingRow, grade: str, rule: RankingRule) -> bool:
    return grade not in HONOURS or not rule.honours_need_activity or not row.barred


def _contest(rows: list[RankingRow], rule: RankingRule, decisions) -> None:
    """Find the ties at a grade boundary: rows sharing a composite that got different grades and could swap them
    (the gate allowing; any tied school may be the 不合格 one). Their grades are the committee's: applied when
    every contested row of the tie has a decision among the tie's grades and together they hand out exactly the
    tie's grades; else the rows are pending (待定, no subsidy). Tie notes say which, never ordering by a secondary
    score or the code."""
    groups = []
    start = 0
    while start < len(rows):
        end = start
        while end + 1 < len(rows) and rows[end + 1].composite == rows[start].composite:
            end += 1
        group = rows[start : end + 1]
        start = end + 1
        contested = {
            id(a)
            for a in group
            for b in group
            if a.grade != b.grade
            and (
                (_may(a, b.grade, rule) and _may(b, a.grade, rule))
                or Grade.UNQUALIFIED in (a.grade, b.grade)  # either may be the 不合格 one
            )
        }
        members = [r for r in group if id(r) in contested]
        if members:
            groups.append(members)
    if groups and callable(decisions):
        decisions = decisions([r.school.pk for members in groups for r in members])
    for members in groups:
        grades = sorted({r.grade for r in members}, key=GRADE_ORDER.index)
        wanted = sorted(r.grade for r in members)
        chosen = [decisions.get(r.school.pk) for r in members]
        decided = all(d is not None and d.grade in grades for d in chosen) and sorted(d.grade for d in chosen) == wanted
        labels = "/".join(Grade(g).label for g in grades)
        for row, decision in zip(members, chosen, strict=True):
            others = "、".join(r.school.name for r in members if r is not row)
            row.contested = tuple(grades)
            row.decision = decision
            if decided:
                row.grade = decision.grade
                row.tie_note = f"与{others}并列第{row.rank}名（{labels}分界），等次由工委会议决定：{decision.reason}"
            else:
                row.pending = True
                have = {g: wanted.count(g) for g in grades}
                quota = "，".join(f"{Grade(g).label}{n}所" for g, n in have.items())
                row.tie_note = f"与{others}并列第{row.rank}名，{labels}分界落在并列之间（{quota}），待工委会议决定"


def tie_decisions(school_ids: Iterable[int], year: int) -> dict[int, TieDecision]:
    """The committee's tie decisions of `year` for the given schools, by school id (one query)."""
    found = (
        TieDecision.objects.dangerously_all()
        .filter(year=year, school_id__in=list(school_ids))
        .select_related("decided_by")
    )
    return {d.school_id: d for d in found}


def grade_rows(rows: list[RankingRow], rule: RankingRule, decisions) -> None:
    """Rank and grade `rows` in place (see `school_ranking`). `decisions` maps school ids to their TieDecision,
    or is a function of the contested school ids returning such a mapping (called only when there is a tie at a
    grade boundary)."""
    rows.sort(key=lambda r: r.sort_key)
    _share_ranks(rows)
    for row, grade in zip(rows, _provisional_grades(rows, rule), strict=True):
        row.grade = grade
    _contest(rows, rule, decisions)
    for row in rows:
        row.subsidy = Decimal("0") if row.pending else rule.subsidy_for(row.grade)


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
    """The annual ranking (Huangpi) of the amateur schools (业余党校, 片区业余党校: RANKED_LEVELS) in scope — in
    `org`'s subtree when given, else all the user sees — that have a complete evaluation in `year` (a composite
    score). Evaluations of other levels (the district party school, 区委党校) are listed in `not_ranked`, those
    without a composite in `incomplete`.

    Order: composite desc. Equal composites share a place (1, 2, 2, 4). Grades by `grade_counts` under
    `rule_for(org, year)` (without org: the rule of the schools' nearest common organization); with the rule's
    gate on, a school that ran no class in the year or fails its 六有 checklist (`RecordsBasis.barred_reason`)
    is not 示范 or 优秀, and the next eligible school takes its place in the quota. Where a quota boundary falls
    inside a tie, the committee's `TieDecision`s give the grades, else the rows are pending (`_contest`).
    Subsidy by `rule.subsidy_for(grade)` (0 while pending). A fixed number of queries."""
    kind_scores = IndicatorScore.objects.filter(
        indicator__active=True, indicator__kind__in=[IndicatorKind.FIELD_CHECK, IndicatorKind.RECORDS_CHECK]
    ).select_related("indicator")
    evaluations = (
        with_records(SchoolEvaluation.objects.visible_to(user_or_access).filter(year=year), year, ref="school_id")
        .select_related("school", "school__organization")
        .prefetch_related(Prefetch("scores", queryset=kind_scores, to_attr="kind_scores"))
        .order_by("school__code")
    )
    if org is not None:
        evaluations = evaluations.filter(subtree_q([org.path], "school__organization__path"))
    evaluations = list(evaluations)
    ranked = [e for e in evaluations if e.school.level in RANKED_LEVELS]
    not_ranked = [e for e in evaluations if e.school.level not in RANKED_LEVELS]
    complete = [e for e in ranked if e.composite is not None]
    bases = {e.school_id: basis_of(e, e.school.level) for e in complete}
    indicators = active_indicators()
    records_indicators = [i for i in indicators if i.kind == IndicatorKind.RECORDS_CHECK]
    rows = [
        RankingRow(
            school=e.school,
            evaluation=e,
            composite=e.composite,
            field_score=_kind_score(e, IndicatorKind.FIELD_CHECK),
            records_score=_records_shown(e, bases.get(e.school_id), records_indicators),
            records=bases.get(e.school_id),
            barred=bases[e.school_id].barred_reason if e.school_id in bases else "",
        )
        for e in complete
    ]
    if org is not None:
        rule = rule_for(org, year)
    else:
        common = _common_ancestor_path([r.school.organization.path for r in rows])
        rule = _rule_for_paths({common, *ancestor_paths([common])}, year) if common else RankingRule()
    grade_rows(rows, rule, lambda ids: tie_decisions(ids, year))
    weight_sum = sum((i.weight for i in indicators), Decimal("0")) or Decimal("100")
    return Ranking(
        year=year,
        scope=org,
        rule=rule,
        rows=rows,
        incomplete=[e for e in ranked if e.composite is None],
        not_ranked=not_ranked,
        weight_sum=weight_sum,
    )


# ---------------------------------------------------------------------------------------------------------
# Publications and rectification tasks


def published_ranking(*, user, org: Organization, year: int) -> list[SchoolRanking]:
    """The published ranking of (org, year) as it was published (the kept `SchoolRanking` rows, in rank order, then
    by name as the page lists a tie), never recomputed: later changes to the scores do not move it. Empty when the
    scope and year were never published. One query."""
    return list(
        SchoolRanking.objects.visible_to(user)
        .filter(scope=org, year=year)
        .select_related("school", "published_by")
        .order_by("rank", "school__name", "school__pk")
    )


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
    return Organization.objects.granted_to(user, SCHOOL_VIEW_ROLES)
