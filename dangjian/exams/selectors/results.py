"""Results (考试结果): what each attempt counts for, per person and per organization (docs/exams.md, "Results").

A member's result on a paper is read from their finished attempts (submitted, or past the deadline and its grace:
unanswered, 0): the best or the last one by the paper's counting policy, passed when it reaches the pass mark. Who
did not pass the original passes through a make-up exam they pass. The figures of a year are computed from dated
rows (assignments made and attempts started up to the year's end, each member counted in the organization they
belonged to when assigned), so a closed year's figures never change."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from dangjian.exams.models import Assignment, Attempt, Counting, Paper, PaperKind
from dangjian.orgs.models import Organization

ONE_PLACE = Decimal("0.1")


class Standing:
    NOT_TAKEN = "未参加"
    IN_PROGRESS = "答题中"
    PASSED = "通过"
    MAKEUP_PASSED = "补考通过"
    FAILED = "未通过"


def counted(attempts: Iterable[Attempt], paper: Paper, now: dt.datetime) -> tuple[Decimal, bool] | None:
    """(score, passed) of the finished attempts of one member on one paper, by the paper's counting policy; None when
    none is finished."""
    finished = sorted((a for a in attempts if a.is_finished(now)), key=lambda a: a.number)
    if not finished:
        return None
    if paper.counting == Counting.LAST:
        score = finished[-1].final_score
    else:
        score = max(a.final_score for a in finished)
    return score, score >= paper.pass_mark


@dataclass
class Outcome:
    taken: bool = False
    passed: bool = False
    makeup: bool = False
    in_progress: bool = False
    score: Decimal | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def standing(self) -> str:
        if self.passed:
            return Standing.MAKEUP_PASSED if self.makeup else Standing.PASSED
        if self.in_progress:
            return Standing.IN_PROGRESS
        return Standing.FAILED if self.taken else Standing.NOT_TAKEN


def outcome_of(root: Paper, makeups: list[Paper], by_paper: dict[int, list[Attempt]], now: dt.datetime) -> Outcome:
    """A member's outcome on `root` and its make-ups, from their attempts per paper id."""
    out = Outcome()
    for paper in [root, *makeups]:
        attempts = by_paper.get(paper.pk, [])
        out.attempts.extend(attempts)
        out.in_progress |= any(not a.is_finished(now) for a in attempts)
        result = counted(attempts, paper, now)
        if result is None:
            continue
        out.taken = True
        score, passed = result
        out.score = score if out.score is None else max(out.score, score)
        if passed and not out.passed:
            out.passed, out.makeup = True, paper is not root
    return out


def _attempts_by_member(papers: list[Paper], member_ids, until: dt.datetime | None) -> dict[int, dict[int, list]]:
    """member id → paper id → attempts (the members were reached through the scope)."""
    rows = Attempt.objects.dangerously_all().filter(
        assignment__paper__in=[p.pk for p in papers], assignment__member_id__in=list(member_ids)
    )
    if until is not None:
        rows = rows.filter(started_at__lte=until)
    out: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for attempt in rows.select_related("assignment").order_by("number"):
        out[attempt.assignment.member_id][attempt.assignment.paper_id].append(attempt)
    return out


def _makeups(root: Paper) -> list[Paper]:
    return list(Paper.objects.dangerously_all().filter(makeup_of=root).order_by("opens_at", "pk"))


@dataclass
class ResultRow:
    assignment: Assignment
    outcome: Outcome

    @property
    def member(self):
        return self.assignment.member

    @property
    def last_attempt(self) -> Attempt | None:
        return self.outcome.attempts[-1] if self.outcome.attempts else None


def paper_results(*, by, paper: Paper, now: dt.datetime | None = None) -> list[ResultRow]:
    """Every assigned member of the paper's original that `by` sees, with their outcome (make-ups included)."""
    now = now or timezone.now()
    root = paper.root
    makeups = _makeups(root)
    assignments = list(
        Assignment.objects.visible_to(by)
        .filter(paper=root)
        .select_related("member", "organization")
        .order_by("organization__path", "member__name", "pk")
    )
    attempts = _attempts_by_member([root, *makeups], [a.member_id for a in assignments], None)
    return [ResultRow(a, outcome_of(root, makeups, attempts.get(a.member_id, {}), now)) for a in assignments]


def not_passed_member_ids(root: Paper, now: dt.datetime | None = None) -> list[int]:
    """The members assigned to `root` who have passed neither it nor a make-up (for a new make-up exam; the paper was
    reached through the scope)."""
    now = now or timezone.now()
    makeups = _makeups(root)
    ids = list(Assignment.objects.dangerously_all().filter(paper=root).values_list("member_id", flat=True))
    attempts = _attempts_by_member([root, *makeups], ids, None)
    return [i for i in ids if not outcome_of(root, makeups, attempts.get(i, {}), now).passed]


def member_papers(*, by, now: dt.datetime | None = None) -> list[tuple[Paper, Assignment, Outcome]]:
    """The papers the user is assigned to sit (their own assignments), newest first, with their outcome."""
    now = now or timezone.now()
    user_id = getattr(by, "pk", None)
    assignments = list(
        Assignment.objects.visible_to(by)
        .filter(member__user_id=user_id)
        .select_related("paper", "member")
        .order_by("-paper__opens_at", "pk")
    )
    papers = [a.paper for a in assignments]
    attempts = _attempts_by_member(papers, [a.member_id for a in assignments], None)
    return [(a.paper, a, outcome_of(a.paper, [], attempts.get(a.member_id, {}), now)) for a in assignments]


# ---------------------------------------------------------------------------------------------------------
# Per organization


@dataclass
class SummaryRow:
    organization: Organization
    required: int = 0
    taken: int = 0
    passed: int = 0

    @property
    def rate(self) -> Decimal:
        """通过率: passed of required in percent, one decimal (0.0 for nobody required)."""
        if not self.required:
            return Decimal("0.0")
        return (Decimal(self.passed) * 100 / self.required).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def year_end(year: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, 12, 31, 23, 59, 59, 999999))


def exam_summary(
    *, by, org: Organization, year: int, paper: Paper | None = None, now: dt.datetime | None = None
) -> list[SummaryRow]:
    """应考, 已考 and 通过 people for `org`'s subtree (the first row) and each of its children's subtrees (the rows that
    follow), for `paper` (its original and make-ups) or, without it, the year's competence test (履职能力测试, every
    original competence paper of the year). A member assigned to several papers is 已考 once they finished one and
    通过 once they passed every one (the original or a make-up). Only assignments `by` sees; assignments made and
    attempts started after the year's end are not counted."""
    now = now or timezone.now()
    end = year_end(year)
    if paper is not None:
        roots = [paper.root]
    else:
        roots = list(
            Paper.objects.dangerously_all().filter(kind=PaperKind.COMPETENCE, year=year, makeup_of__isnull=True)
        )
    makeups = {root.pk: _makeups(root) for root in roots}
    assignments = list(
        Assignment.objects.visible_to(by)
        .filter(paper__in=[r.pk for r in roots], organization__path__startswith=org.path, assigned_on__lte=end.date())
        .values_list("member_id", "paper_id", "organization__path")
    )
    attempts = _attempts_by_member(
        [*roots, *(m for ms in makeups.values() for m in ms)], {m for m, _, _ in assignments}, end
    )
    by_root = {r.pk: r for r in roots}
    people: dict[int, dict] = {}
    for member_id, paper_id, path in assignments:
        root = by_root[paper_id]
        result = outcome_of(root, makeups[root.pk], attempts.get(member_id, {}), now)
        person = people.setdefault(member_id, {"path": path, "taken": False, "passed": True})
        person["taken"] |= result.taken
        person["passed"] &= result.passed
    children = list(Organization.objects.dangerously_all().filter(path__startswith=org.path, depth=org.depth + 1))
    rows = [SummaryRow(org), *(SummaryRow(child) for child in children)]
    for person in people.values():
        for row in rows:
            if person["path"].startswith(row.organization.path):
                row.required += 1
                row.taken += person["taken"]
                row.passed += person["passed"]
    return rows
