"""Sitting a paper (答题): start an attempt, submit it, grade it (docs/exams.md, "Attempts").

Refused, with nothing changed: a start by someone not assigned, outside the paper's window, or beyond the attempts
allowed; a submission by anyone but the attempt's member, a second submission of the same attempt, and one after the
deadline (server time) and its small grace. The attempt's row is locked while it is checked, and the grade is written
by a conditional update of an attempt still in progress, so two identical submissions at the same moment grade once.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import secrets
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.core.services import acting_user, service, set_history
from dangjian.exams.drawing import NotEnoughQuestions, draw
from dangjian.exams.models import (
    CHOICE_KINDS,
    Assignment,
    Attempt,
    AttemptStatus,
    Paper,
    QuestionKind,
    grace_seconds,
)
from dangjian.exams.questions import normalized

NOT_ASSIGNED = "您不在本场考试的应考人员名单中。"
NOT_YOURS = "这不是您的答卷。"
ALREADY_SUBMITTED = "本次答卷已交卷，不能重复提交。"
TOO_LATE = "已超过答题时限，本次提交未被接收。"
MAX_FILL_LENGTH = 200
# The learning app's certificate service, called when an attempt passes (if that app is installed).
CERTIFICATES_MODULE = "dangjian.learning.services.certificates"


def _member_of(by, paper: Paper) -> Assignment:
    user = acting_user(by)
    if user is None:
        raise PermissionDenied(NOT_ASSIGNED)
    assignment = (
        Assignment.objects.dangerously_all()
        .select_for_update()
        .filter(paper=paper, member__user=user)
        .select_related("member")
        .first()
    )
    if assignment is None:
        raise PermissionDenied(NOT_ASSIGNED)
    return assignment


@service
def attempt_start(*, by, paper: Paper, now: dt.datetime | None = None) -> Attempt:
    """The user's attempt at `paper`: the one in progress if any (resumed on any device), else a new one with a fresh
    seed and its answer sheet drawn, its deadline the time limit from now (the paper's close if earlier)."""
    now = now or timezone.now()
    assignment = _member_of(by, paper)  # locked: two starts at once make one attempt
    if now < paper.opens_at:
        raise ValidationError(f"考试尚未开始（{timezone.localtime(paper.opens_at):%Y-%m-%d %H:%M}开始）。")
    attempts = list(Attempt.objects.dangerously_all().filter(assignment=assignment).order_by("number"))
    open_attempt = next((a for a in attempts if not a.is_finished(now) and a.deadline >= now), None)
    if open_attempt is not None:
        return open_attempt
    if now > paper.closes_at:
        raise ValidationError("考试已截止。")
    if len(attempts) >= paper.max_attempts:
        raise ValidationError(f"您已用完本场考试的{paper.max_attempts}次答题机会。")
    seed = secrets.randbits(48)
    try:
        sheet = draw(paper, seed)
    except NotEnoughQuestions as exc:
        raise ValidationError(f"试卷无法组卷：{exc}") from None
    attempt = Attempt(
        assignment=assignment,
        number=len(attempts) + 1,
        seed=seed,
        started_at=now,
        deadline=min(now + dt.timedelta(minutes=paper.time_limit), paper.closes_at),
        sheet=sheet,
    )
    set_history(attempt, by, "开始答题")
    attempt.save()
    return attempt


def read_answers(sheet: list[dict], raw: Mapping[str, object]) -> dict[str, list]:
    """The answers of a submission, keyed by the question's position ("0", "1" …): option positions for a choice
    question, [true]/[false] for true/false, [text] for fill-in. Keys that are no question are ignored; a value that
    cannot be an answer to its question is refused (ValidationError naming the question)."""
    answers: dict[str, list] = {}
    for index, entry in enumerate(sheet):
        key = str(index)
        value = raw.get(key)
        values = [str(v) for v in (value if isinstance(value, list | tuple) else [value]) if v not in (None, "")]
        if not values:
            continue
        kind = entry["kind"]
        where = f"第{index + 1}题"
        if kind in CHOICE_KINDS:
            try:
                picked = sorted({int(v) for v in values})
            except ValueError:
                raise ValidationError(f"{where}的答案无效。") from None
            if any(not 0 <= p < len(entry["options"]) for p in picked):
                raise ValidationError(f"{where}的答案不是本题的选项。")
            if kind == QuestionKind.SINGLE and len(picked) > 1:
                raise ValidationError(f"{where}是单选题，只能选一个答案。")
            answers[key] = picked
        elif kind == QuestionKind.TRUE_FALSE:
            if values[0] not in ("true", "false"):
                raise ValidationError(f"{where}的答案应为“正确”或“错误”。")
            answers[key] = [values[0] == "true"]
        else:
            text = values[0].strip()
            if len(text) > MAX_FILL_LENGTH:
                raise ValidationError(f"{where}的答案不能超过{MAX_FILL_LENGTH}个字。")
            answers[key] = [text]
    return answers


def is_right(entry: dict, answer: list | None) -> bool:
    if not answer:
        return False
    if entry["kind"] == QuestionKind.FILL:
        return normalized(answer[0]) in {normalized(a) for a in entry["correct"]}
    return list(answer) == list(entry["correct"])


def grade(sheet: list[dict], answers: Mapping[str, list]) -> Decimal:
    """The score of 100, one decimal: every question weighs the same."""
    if not sheet:
        return Decimal("0.0")
    right = sum(is_right(entry, answers.get(str(i))) for i, entry in enumerate(sheet))
    return (Decimal(right) * 100 / len(sheet)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@service
def attempt_submit(*, by, attempt: Attempt, answers: Mapping[str, object], now: dt.datetime | None = None) -> Attempt:
    """Submit `attempt` with `answers` (see `read_answers`) and grade it. A passed attempt issues its certificate
    (考试合格证书) when the learning app is installed."""
    now = now or timezone.now()
    locked = (
        Attempt.objects.dangerously_all()
        .select_for_update()
        .select_related("assignment__member", "assignment__paper")
        .get(pk=attempt.pk)
    )
    user = acting_user(by)
    if user is None or locked.assignment.member.user_id != user.pk:
        raise PermissionDenied(NOT_YOURS)
    if locked.status == AttemptStatus.SUBMITTED:
        raise ValidationError(ALREADY_SUBMITTED)
    if now > locked.deadline + dt.timedelta(seconds=grace_seconds()):
        raise ValidationError(TOO_LATE)
    given = read_answers(locked.sheet, answers)
    score = grade(locked.sheet, given)
    paper = locked.assignment.paper
    passed = score >= paper.pass_mark
    done = (
        Attempt.objects.dangerously_all()
        .filter(pk=locked.pk, status=AttemptStatus.IN_PROGRESS)
        .update(
            status=AttemptStatus.SUBMITTED, submitted_at=now, answers=given, score=score, passed=passed, updated_at=now
        )
    )
    if not done:
        raise ValidationError(ALREADY_SUBMITTED)
    # The row is ours now: saved once more so its history names the submission and its author.
    locked.status, locked.submitted_at, locked.answers, locked.score, locked.passed = (
        AttemptStatus.SUBMITTED,
        now,
        given,
        score,
        passed,
    )
    set_history(locked, by, "交卷")
    locked.save()
    if passed:
        _issue_certificate(locked, paper, now)
    return locked


def _issue_certificate(attempt: Attempt, paper: Paper, now: dt.datetime) -> None:
    """The one call site of the learning app's certificates: issued by the paper's organization, idempotent."""
    if importlib.util.find_spec(CERTIFICATES_MODULE.rpartition(".")[0]) is None:
        return
    try:
        certificates = importlib.import_module(CERTIFICATES_MODULE)
    except ImportError:
        return
    certificates.issue_certificate(
        member=attempt.assignment.member,
        title=paper.root.title,
        kind="exam",
        source=attempt,
        issuer=paper.organization,
        on=timezone.localtime(now).date(),
    )
