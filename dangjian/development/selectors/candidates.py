"""Lists and pages of member development: the people of a scope with their next step due, one person's timeline."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from dangjian.development.models import Candidate, CandidateStage, ProbationExtension, StepRecord
from dangjian.development.selectors.path import Due, next_due, probation_end
from dangjian.development.steps import Step, step_list
from dangjian.orgs.models import Organization, ScopedQuerySet


def candidate_list(*, user, org: Organization | None = None, stage: str = "", q: str = "") -> ScopedQuerySet[Candidate]:
    """The people on the path the user sees, in `org`'s subtree, at `stage` (default: those not yet full members)."""
    qs = Candidate.objects.visible_to(user).select_related("organization")
    if org is not None:
        qs = qs.filter(organization__path__startswith=org.path)
    qs = qs.filter(stage=stage) if stage else qs.exclude(stage=CandidateStage.FULL)
    if q:
        qs = qs.filter(name__contains=q.strip())
    return qs.order_by("organization__path", "name", "pk")


@dataclass(frozen=True)
class CandidateRow:
    candidate: Candidate
    due: Due | None
    overdue: bool


def path_dates(candidate_ids: Iterable[int]) -> tuple[dict[int, dict[int, dt.date]], dict[int, ProbationExtension]]:
    """The dated steps and the extension of each of `candidate_ids` (already reached through the scope): two queries."""
    ids = list(candidate_ids)
    dates: dict[int, dict[int, dt.date]] = defaultdict(dict)
    rows = (
        StepRecord.objects.dangerously_all().filter(candidate_id__in=ids).values_list("candidate_id", "number", "date")
    )
    for cid, number, date in rows:
        dates[cid][number] = date
    extensions = {e.candidate_id: e for e in ProbationExtension.objects.dangerously_all().filter(candidate_id__in=ids)}
    return dates, extensions


def with_due(candidates: Iterable[Candidate], today: dt.date) -> list[CandidateRow]:
    """Each candidate with the next step due and whether it is overdue on `today`."""
    people = list(candidates)
    dates, extensions = path_dates(c.pk for c in people)
    out = []
    for c in people:
        ext = extensions.get(c.pk)
        due = next_due(dates.get(c.pk, {}), ext.months if ext else 0) if c.stopped_on is None else None
        out.append(CandidateRow(c, due, bool(due and due.overdue(today))))
    return out


@dataclass(frozen=True)
class TimelineRow:
    step: Step
    record: StepRecord | None
    stage_name: str
    first_of_stage: bool


@dataclass(frozen=True)
class Timeline:
    rows: list[TimelineRow]
    due: Due | None
    overdue: bool
    probation_end: dt.date | None
    extension: ProbationExtension | None


def timeline(candidate: Candidate, today: dt.date) -> Timeline:
    """One person's whole path (发展党员工作流程纪实): every step with its record or none, and the next step due."""
    steps = step_list()
    records = {
        r.number: r
        for r in StepRecord.objects.dangerously_all()
        .filter(candidate=candidate)
        .prefetch_related("contacts__member")
        .select_related("recorded_by")
    }
    ext = ProbationExtension.objects.dangerously_all().filter(candidate=candidate).first()
    dates = {n: r.date for n, r in records.items()}
    rows = []
    previous_stage = 0
    for step in steps.steps:
        rows.append(
            TimelineRow(step, records.get(step.number), steps.stage(step.stage).name, step.stage != previous_stage)
        )
        previous_stage = step.stage
    due = next_due(dates, ext.months if ext else 0) if candidate.stopped_on is None else None
    return Timeline(
        rows=rows,
        due=due,
        overdue=bool(due and due.overdue(today)),
        probation_end=probation_end(dates, ext.months if ext else 0),
        extension=ext,
    )
