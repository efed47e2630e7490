"""Sitting a paper: who may start, the drawn and kept answer sheet, grading, and the refused submissions (late, twice,
not one's own) that change nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.exams.drawing import draw
from dangjian.exams.models import Attempt, AttemptStatus, Counting, PaperMode, QuestionKind
from dangjian.exams.selectors.results import paper_results
from dangjian.exams.services.attempts import attempt_start, attempt_submit
from dangjian.exams.tests.factories import PaperFactory, QuestionFactory, assign, bank_with_questions

pytestmark = pytest.mark.django_db


def right_answers(attempt: Attempt) -> dict:
    out = {}
    for i, entry in enumerate(attempt.sheet):
        if entry["kind"] == QuestionKind.TRUE_FALSE:
            out[str(i)] = ["true" if entry["correct"][0] else "false"]
        elif entry["kind"] == QuestionKind.FILL:
            out[str(i)] = ["３２ "]  # full-width, with a space: still right
        else:
            out[str(i)] = [str(c) for c in entry["correct"]]
    return out


@pytest.fixture
def setup(world):
    paper = PaperFactory(organization=world.orgs["A"])
    member_user = world.user(Role.MEMBER)
    assign(paper, world.self_member)
    return paper, member_user


def test_an_assigned_member_sits_and_passes(setup):
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    assert len(attempt.sheet) == 4 and attempt.status == AttemptStatus.IN_PROGRESS
    done = attempt_submit(by=user, attempt=attempt, answers=right_answers(attempt))
    assert done.score == Decimal("100.0") and done.passed and done.status == AttemptStatus.SUBMITTED
    assert done.answers  # the answer sheet is kept with the answers given


def test_starting_again_resumes_the_open_attempt(setup):
    paper, user = setup
    first = attempt_start(by=user, paper=paper)
    assert attempt_start(by=user, paper=paper).pk == first.pk
    assert Attempt.objects.dangerously_all().count() == 1


def test_someone_not_assigned_cannot_start(setup, world):
    paper, _ = setup
    with pytest.raises(PermissionDenied):
        attempt_start(by=world.user(Role.SECRETARY), paper=paper)
    assert not Attempt.objects.dangerously_all().exists()


def test_a_second_submission_is_refused_and_changes_nothing(setup):
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    attempt_submit(by=user, attempt=attempt, answers=right_answers(attempt))
    before = Attempt.objects.dangerously_all().get(pk=attempt.pk)
    with pytest.raises(ValidationError, match="不能重复提交"):
        attempt_submit(by=user, attempt=attempt, answers={})
    after = Attempt.objects.dangerously_all().get(pk=attempt.pk)
    assert (after.score, after.answers, after.submitted_at) == (before.score, before.answers, before.submitted_at)


def test_a_stale_copy_submitted_again_grades_once(setup):
    """Two identical submissions of the same attempt (two tabs, a double tap): the second finds it submitted."""
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    tab_one, tab_two = (
        Attempt.objects.dangerously_all().get(pk=attempt.pk),
        Attempt.objects.dangerously_all().get(pk=attempt.pk),
    )
    attempt_submit(by=user, attempt=tab_one, answers=right_answers(attempt))
    with pytest.raises(ValidationError):
        attempt_submit(by=user, attempt=tab_two, answers=right_answers(attempt))
    assert attempt.history.filter(history_change_reason="交卷").count() == 1


def test_a_late_submission_is_refused_and_changes_nothing(setup, settings):
    settings.DANGJIAN_EXAM_GRACE_SECONDS = 30
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    late = attempt.deadline + dt.timedelta(seconds=31)
    with pytest.raises(ValidationError, match="已超过答题时限"):
        attempt_submit(by=user, attempt=attempt, answers=right_answers(attempt), now=late)
    fresh = Attempt.objects.dangerously_all().get(pk=attempt.pk)
    assert fresh.status == AttemptStatus.IN_PROGRESS and fresh.score is None and fresh.answers == {}
    # Within the grace it is taken.
    ok = attempt_submit(by=user, attempt=attempt, answers={}, now=attempt.deadline + dt.timedelta(seconds=29))
    assert ok.status == AttemptStatus.SUBMITTED and ok.score == Decimal("0.0")


def test_someone_else_cannot_submit_a_members_attempt(setup, world):
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    with pytest.raises(PermissionDenied):
        attempt_submit(by=world.user(Role.SECRETARY), attempt=attempt, answers=right_answers(attempt))
    assert Attempt.objects.dangerously_all().get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS


def test_a_tampered_answer_is_refused(setup):
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    single = next(i for i, e in enumerate(attempt.sheet) if e["kind"] == QuestionKind.SINGLE)
    with pytest.raises(ValidationError, match=f"第{single + 1}题"):
        attempt_submit(by=user, attempt=attempt, answers={str(single): ["9"]})
    assert Attempt.objects.dangerously_all().get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS


def test_the_window_and_the_attempts_allowed(setup, world):
    paper, user = setup
    with pytest.raises(ValidationError, match="尚未开始"):
        attempt_start(by=user, paper=paper, now=paper.opens_at - dt.timedelta(minutes=1))
    with pytest.raises(ValidationError, match="已截止"):
        attempt_start(by=user, paper=paper, now=paper.closes_at + dt.timedelta(minutes=1))
    attempt = attempt_start(by=user, paper=paper)
    attempt_submit(by=user, attempt=attempt, answers={})
    with pytest.raises(ValidationError, match="1次答题机会"):
        attempt_start(by=user, paper=paper)


def test_the_sheet_is_reproducible_from_its_seed(world):
    paper = PaperFactory(organization=world.orgs["A"])
    assert draw(paper, 12345) == draw(paper, 12345)
    orders = {tuple(e["id"] for e in draw(paper, seed)) for seed in range(30)}
    assert len(orders) > 1  # shuffled per attempt


def test_options_shuffled_keep_the_right_answer(world):
    paper = PaperFactory(organization=world.orgs["A"])
    for seed in range(20):
        for entry in draw(paper, seed):
            if entry["kind"] == QuestionKind.SINGLE:
                assert entry["options"][entry["correct"][0]] == "党的全国代表大会和它所产生的中央委员会"


def test_random_draw_by_topic_and_count(world):
    bank = bank_with_questions(world.orgs["A"])
    for n in range(5):
        QuestionFactory(bank=bank, text=f"纪律题{n}", tags=["纪律"])
    paper = PaperFactory(
        organization=world.orgs["A"],
        bank=bank,
        mode=PaperMode.RANDOM,
        draw_rules=[{"tag": "纪律", "count": 3}, {"tag": "党章", "count": 1}],
    )
    sheet = draw(paper, 7)
    texts = [e["text"] for e in sheet]
    assert len(sheet) == 4 and sum(t.startswith("纪律题") for t in texts) == 3


def test_best_or_last_attempt_counts(world):
    user = world.user(Role.MEMBER)
    for counting, expected in ((Counting.BEST, True), (Counting.LAST, False)):
        paper = PaperFactory(organization=world.orgs["A"], max_attempts=2, counting=counting)
        assign(paper, world.self_member)
        first = attempt_start(by=user, paper=paper)
        attempt_submit(by=user, attempt=first, answers=right_answers(first))
        second = attempt_start(by=user, paper=paper)
        attempt_submit(by=user, attempt=second, answers={})
        (row,) = paper_results(by=world.user(Role.SECRETARY), paper=paper)
        assert row.outcome.passed is expected, counting


def test_an_attempt_left_past_its_deadline_counts_unanswered(setup, world):
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    later = timezone.now() + dt.timedelta(minutes=paper.time_limit + 5)
    (row,) = paper_results(by=world.user(Role.SECRETARY), paper=paper, now=later)
    assert row.outcome.taken and not row.outcome.passed and row.outcome.score == Decimal("0")
    assert attempt.pk


def test_a_passed_attempt_issues_its_certificate_once(setup):
    certificates = pytest.importorskip("dangjian.learning.models")
    paper, user = setup
    attempt = attempt_start(by=user, paper=paper)
    attempt_submit(by=user, attempt=attempt, answers=right_answers(attempt))
    issued = certificates.Certificate.objects.dangerously_all().filter(kind="exam")
    assert issued.count() == 1 and issued.get().title == paper.title
