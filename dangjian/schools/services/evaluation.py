"""State changes of the evaluation seam (考评): a school's annual scores, the publication of a ranking and the
rectification tasks of the 不合格 schools (Huangpi: 约谈业余党校负责人并责令限期整改)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.core.services import acting_user, service, set_history
from dangjian.orgs.models import Organization
from dangjian.schools.models import (
    EvaluationIndicator,
    Grade,
    IndicatorScore,
    PartySchool,
    RectificationStatus,
    RectificationTask,
    SchoolEvaluation,
    SchoolRanking,
    TieDecision,
)
from dangjian.schools.selectors.evaluation import HONOURS, composite_for, records_bases, rule_for, school_ranking
from dangjian.schools.services._common import require_manager

FIRST_YEAR = 2000


def _clean_year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "请填写正确的考评年度（四位数字年份）。"}) from None
    if year < FIRST_YEAR:
        raise ValidationError({"year": f"考评年度不能早于{FIRST_YEAR}年。"})
    if year > timezone.localdate().year:
        raise ValidationError({"year": "考评年度不能晚于今年。"})
    return year


def _clean_score(indicator: EvaluationIndicator, value) -> tuple[Decimal | None, str]:
    """The score as a Decimal (None: no score), or the message naming the indicator."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, f"{indicator.name}：得分须为数字。"
    maximum = indicator.max_score.normalize()
    if not score.is_finite() or score < 0 or score > indicator.max_score:
        return None, f"{indicator.name}：得分应在0到{maximum:f}之间。"
    if score != score.quantize(Decimal("0.01")):
        return None, f"{indicator.name}：得分最多保留两位小数。"
    return score, ""


def _resolve_scores(scores: dict) -> tuple[dict[EvaluationIndicator, Decimal | None], dict[str, str]]:
    """Map the given keys (indicator ids or indicators) to indicators and clean each score; collect errors by
    the indicator's code."""
    ids = [key.pk if isinstance(key, EvaluationIndicator) else key for key in scores]
    try:
        known = EvaluationIndicator.objects.in_bulk([int(i) for i in ids])
    except (TypeError, ValueError):
        raise ValidationError({"scores": "考评指标不存在。"}) from None
    cleaned: dict[EvaluationIndicator, Decimal | None] = {}
    errors: dict[str, str] = {}
    for key, value in scores.items():
        indicator = known.get(int(key.pk if isinstance(key, EvaluationIndicator) else key))
        if indicator is None:
            errors["scores"] = "考评指标不存在。"
            continue
        score, message = _clean_score(indicator, value)
        if message:
            errors[indicator.code] = message
        elif not indicator.active and score is not None:
            errors[indicator.code] = f"{indicator.name}：该指标已停用，不能录入得分。"
        else:
            cleaned[indicator] = score
    return cleaned, errors


@service
def evaluation_save(*, by, school: PartySchool, year: int, scores: dict, note: str = "") -> SchoolEvaluation:
    """Enter or correct a school's annual evaluation (年度考评, Huangpi: 实地查看、查阅资料、学员评价、综合评定).

    Upserts the evaluation of (school, year) and the given scores in one transaction; `scores` maps indicators
    (or their ids) to a Decimal, None clearing that score; indicators not given keep their score. Each score
    lies within 0..indicator.max_score (else an error under the indicator's code naming it, e.g.
    "实地检查：得分应在0到100之间", and nothing is saved); the year is not in the future. The composite is
    recomputed by `selectors.evaluation.composite_for` with the school's records basis: the records score (台账) is
    the system's own data (classes held against the plan, person-times, the 六有 checklist), the entered
    records-check score at most an adjustment (`selectors.evaluation.records_score`); None while another active
    indicator has no score. Save again to take later data of the year into account. By a
    manager of the school's organization. The school row is locked, so two saves of the same school queue."""
    school = PartySchool.objects.select_for_update().get(pk=school.pk)
    require_manager(by, school.organization)
    errors: dict[str, str] = {}
    try:
        year = _clean_year(year)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    cleaned, score_errors = _resolve_scores(scores or {})
    errors.update(score_errors)
    if errors:
        raise ValidationError(errors)

    found = SchoolEvaluation.objects.filter(school=school, year=year).first()
    created = found is None
    evaluation = SchoolEvaluation(school=school, year=year) if found is None else found
    existing = {} if created else {s.indicator_id: s for s in evaluation.scores.select_related("indicator")}
    entered: dict[int, Decimal | None] = {indicator_id: s.score for indicator_id, s in existing.items()}
    for indicator, score in cleaned.items():
        entered[indicator.pk] = score
    values = {k: v for k, v in entered.items() if v is not None}

    records = records_bases([school.pk], year)[school.pk]
    evaluation.composite = composite_for(values, EvaluationIndicator.objects.filter(active=True), records=records)
    evaluation.note = (note or "").strip()
    evaluation.entered_by = acting_user(by)
    evaluation.full_clean(validate_unique=False)
    set_history(evaluation, by, "录入考评得分" if created else "修改考评得分")
    evaluation.save()

    for indicator, score in cleaned.items():
        row = existing.get(indicator.pk)
        if score is None:
            if row is not None:
                set_history(row, by, "清除考评得分")
                row.delete()
            continue
        if row is not None and row.score == score:
            continue
        row = row or IndicatorScore(evaluation=evaluation, indicator=indicator)
        row.score = score
        row.full_clean(validate_unique=False)
        set_history(row, by, "录入考评得分")
        row.save()
    return evaluation


@service
def ranking_publish(*, by, org: Organization, year: int) -> list[SchoolRanking]:
    """Publish the annual ranking of `org`'s subtree for `year` (Huangpi: 示范/优秀/合格/不合格, subsidies,
    不合格 → 约谈并限期整改), as computed by `selectors.evaluation.school_ranking`.

    Writes the SchoolRanking rows of (org, year), replacing an earlier publication of the same scope and year
    (rows updated in place; schools no longer ranked lose their row), and gives each 不合格 school a
    RectificationTask due today + rule.rectification_days — one per school and year, never duplicated on
    re-publish (an existing task keeps its deadline). An open task of this scope whose school is no longer
    不合格 is withdrawn with the publication it came from; closed tasks are kept. By a manager of `org`; the
    organization row is locked so that two publications of the same scope queue. An empty ranking raises a
    ValidationError under "year" and saves nothing; so does a ranking with a tie at a grade boundary the
    committee has not decided (`tie_decide`)."""
    require_manager(by, org)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    ranking = school_ranking(by, year, org=org)
    if ranking.empty:
        raise ValidationError({"year": ranking.message})
    if ranking.pending_rows:
        raise ValidationError({"year": ranking.undecided_message})

    existing = {r.school_id: r for r in SchoolRanking.objects.select_for_update().filter(scope=org, year=year)}
    published: list[SchoolRanking] = []
    for row in ranking.rows:
        record = existing.pop(row.school.pk, None) or SchoolRanking(scope=org, year=year, school=row.school)
        record.composite = row.composite
        record.rank = row.rank
        record.grade = row.grade
        record.subsidy = row.subsidy
        record.tie_note = row.tie_note[:300]
        record.published_by = acting_user(by)
        record.full_clean(validate_unique=False)
        set_history(record, by, "发布考评排名")
        record.save()
        published.append(record)

    unqualified = {r.school_id: r for r in published if r.grade == Grade.UNQUALIFIED}
    stale_tasks = RectificationTask.objects.select_for_update().filter(ranking__scope=org, ranking__year=year)
    for task in stale_tasks.exclude(school_id__in=list(unqualified)):
        if task.status == RectificationStatus.OPEN:
            set_history(task, by, "重新发布排名，撤销整改任务")
            task.delete()
        elif task.school_id in existing:
            task.ranking = None
            set_history(task, by, "重新发布排名")
            task.save()
    for stale in existing.values():
        set_history(stale, by, "重新发布排名，不再参加排名")
        stale.delete()

    deadline = timezone.localdate() + dt.timedelta(days=ranking.rule.rectification_days)
    for school_id, record in unqualified.items():
        found = RectificationTask.objects.select_for_update().filter(school_id=school_id, year=year).first()
        if found is None:
            task = RectificationTask(school_id=school_id, year=year, ranking=record, deadline=deadline)
        elif found.ranking_id is None:
            task = found
            task.ranking = record
        else:
            continue
        task.full_clean(validate_unique=False)
        set_history(task, by, "考评不合格，限期整改")
        task.save()
    return published


TIE_REASON_MAX = 300


def ranking_rule_gate(org: Organization, year: int) -> bool:
    return rule_for(org, year).honours_need_activity


@service
def tie_decide(*, by, org: Organization, year, school: PartySchool, grade: str, reason: str) -> TieDecision:
    """Record the work committee's decision on a tie at a grade boundary (并列等次决定): where schools share a
    composite and a 示范 / 优秀 / 不合格 quota boundary falls between them, the committee decides each school's grade,
    with its reason; the ranking applies the decisions once every school of the tie has one and together they
    hand out the tie's grades. One decision per school and year, corrected in place (the history keeps each
    version, with who and why).

    By a manager of the ranking scope `org` (which must contain the school). Refused, under the field, in Chinese:
    a bad year; a school that is not in such a tie of `org`'s ranking; a grade the tie does not leave open to it; an
    empty or too long reason. The organization row is locked, so decisions and publications of a scope queue."""
    require_manager(by, org)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    errors: dict[str, str] = {}
    try:
        year = _clean_year(year)
    except ValidationError as exc:
        raise ValidationError({k: v[0] for k, v in exc.message_dict.items()}) from None
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写决定理由（工委会议的决定及依据）。"
    elif len(reason) > TIE_REASON_MAX:
        errors["reason"] = f"决定理由不能超过{TIE_REASON_MAX}字。"
    if grade not in Grade.values:
        errors["grade"] = "请选择等次（示范、优秀、合格或不合格）。"
    row = next((r for r in school_ranking(by, year, org=org).rows if r.school.pk == school.pk), None)
    if row is None or not row.contested:
        errors["school"] = f"“{school.name}”在{year}年度“{org.name}”排名中不处于等次分界处的并列，无需决定。"
    elif "grade" not in errors and grade not in row.contested:
        labels = "、".join(Grade(g).label for g in row.contested)
        errors["grade"] = f"该并列只能在{labels}之间决定等次。"
    elif "grade" not in errors and grade in HONOURS and row.barred and ranking_rule_gate(org, year):
        errors["grade"] = f"“{school.name}”{row.barred}，不得评为示范、优秀。"
    if errors:
        raise ValidationError(errors)
    decision = TieDecision.objects.select_for_update().filter(school=school, year=year).first()
    created = decision is None
    decision = decision or TieDecision(school=school, year=year)
    decision.scope = org
    decision.grade = grade
    decision.reason = reason
    decision.decided_by = acting_user(by)
    decision.full_clean(validate_unique=False)
    set_history(decision, by, "工委会议决定并列等次" if created else "修改并列等次决定")
    decision.save()
    return decision


@service
def rectification_close(*, by, task: RectificationTask, note: str) -> RectificationTask:
    """Close a rectification task (整改任务) of a 不合格 school once its faults are fixed (Huangpi: 责令限期整改),
    with a note saying what was done (required). By a manager of the school's organization; an already closed
    task is refused. The task row is locked, so two closings never both pass."""
    task = (
        RectificationTask.objects.select_for_update(of=("self",)).select_related("school__organization").get(pk=task.pk)
    )
    require_manager(by, task.school.organization)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "请填写整改情况说明。"})
    if task.status != RectificationStatus.OPEN:
        raise ValidationError({"status": "该整改任务已办结，无需重复办结。"})
    task.status = RectificationStatus.DONE
    task.note = note
    task.closed_at = timezone.now()
    task.full_clean(validate_unique=False)
    set_history(task, by, "整改完成")
    task.save()
    return task
