"""The demo county's exams (演示数据 · 考试测评): the county's question bank (党章党规 and the rest, every kind of
question), a paper open now that the `member` login and their branch are assigned to, and this year's competence test
(履职能力测试) of the leadership teams around the `secretary` login's branch, with results: most passed, a few failed,
and in the secretary's own branch one who has not passed yet — on the secretary's and the committee's to-do lists.

Written row by row (a few hundred rows: each save writes its history row), with the answer sheets drawn as the
service draws them (`exams.drawing.draw`) and answered from the seed."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.exams.drawing import draw
from dangjian.exams.models import (
    Assignment,
    Attempt,
    AttemptStatus,
    Paper,
    PaperKind,
    PaperMode,
    Question,
    QuestionBank,
    QuestionKind,
)
from dangjian.exams.selectors.competence import required_members
from dangjian.exams.services.attempts import grade
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization

S, M, T, F = QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE, QuestionKind.FILL
QUESTIONS: tuple[tuple[str, str, list[str], list, list[str]], ...] = (
    (
        S,
        "党的最高领导机关是？",
        ["党的全国代表大会和它所产生的中央委员会", "党的中央纪律检查委员会", "党的地方各级代表大会", "党的基层组织"],
        [0],
        ["党章"],
    ),
    (S, "预备党员的预备期为多长时间？", ["半年", "一年", "两年", "三年"], [1], ["党章"]),
    (S, "党支部党员大会一般每季度召开几次？", ["一次", "两次", "三次", "每月一次"], [0], ["组织生活"]),
    (S, "党员每年集中学习培训时间一般不少于多少学时？", ["16学时", "24学时", "32学时", "56学时"], [2], ["学时"]),
    (
        M,
        "“三会一课”中的“三会”包括哪些？",
        ["支部党员大会", "支部委员会", "党小组会", "职工代表大会"],
        [0, 1, 2],
        ["组织生活"],
    ),
    (
        M,
        "党员的义务包括哪些？",
        ["认真学习", "全心全意为人民服务", "维护党的团结和统一", "只享受权利"],
        [0, 1, 2],
        ["党章"],
    ),
    (M, "党的纪律处分有哪些种类？", ["警告", "严重警告", "撤销党内职务", "罚款"], [0, 1, 2], ["纪律"]),
    (T, "正式党员有表决权、选举权和被选举权。", [], [True], ["党章"]),
    (T, "党员连续六个月不参加党的组织生活，不交纳党费，被认为是自行脱党。", [], [True], ["纪律"]),
    (T, "党支部委员会每届任期五年。", [], [False], ["组织生活"]),
    (F, "我们党的根本宗旨是全心全意为人民______。", [], ["服务"], ["党章"]),
    (F, "党的组织原则是______集中制。", [], ["民主"], ["党章"]),
)
COMPETENCE_SAMPLE = 120


def _answers(sheet: list[dict], rng: random.Random, right_share: float) -> dict[str, list]:
    out: dict[str, list] = {}
    for i, entry in enumerate(sheet):
        if rng.random() < right_share:
            out[str(i)] = list(entry["correct"])
        elif entry["kind"] == T:
            out[str(i)] = [not entry["correct"][0]]
        elif entry["kind"] == F:
            out[str(i)] = ["不知道"]
        else:
            out[str(i)] = [(entry["correct"][0] + 1) % len(entry["options"])]
    return out


def _sit(assignment: Assignment, paper: Paper, *, when: dt.datetime, rng: random.Random, right: float) -> Attempt:
    seed = rng.getrandbits(48)
    sheet = draw(paper, seed)
    answers = _answers(sheet, rng, right)
    score = grade(sheet, answers)
    return Attempt.objects.create(
        assignment=assignment,
        number=1,
        seed=seed,
        started_at=when,
        deadline=when + dt.timedelta(minutes=paper.time_limit),
        submitted_at=when + dt.timedelta(minutes=rng.randint(8, paper.time_limit - 1)),
        status=AttemptStatus.SUBMITTED,
        sheet=sheet,
        answers=answers,
        score=score,
        passed=score >= paper.pass_mark,
    )


def write_demo_exams(plan=None, *, seed: int = 1, today: dt.date | None = None) -> dict[str, int]:
    """Write the bank, the open paper and the competence test with its results; counts by what was written."""
    today = today or timezone.localdate()
    rng = random.Random(f"exams-{seed}")
    root = Organization.objects.dangerously_all().filter(depth=1).order_by("path").first()
    member = Member.objects.dangerously_all().filter(user__username="member").select_related("organization").first()
    secretary = Member.objects.dangerously_all().filter(user__username="secretary").first()
    if root is None or member is None:
        return {}
    now = timezone.now()
    bank = QuestionBank.objects.create(name="党章党规知识题库", organization=root, description="县教育工委统一题库")
    questions = [
        Question.objects.create(bank=bank, kind=k, text=text, options=options, answer=answer, tags=tags)
        for k, text, options, answer, tags in QUESTIONS
    ]
    # A paper open now for the member's branch: the `member` login sees an exam to take.
    quiz = Paper.objects.create(
        title=f"{today.year}年党章党规知识测试",
        organization=root,
        bank=bank,
        mode=PaperMode.FIXED,
        time_limit=20,
        max_attempts=2,
        opens_at=now - dt.timedelta(days=3),
        closes_at=now + dt.timedelta(days=14),
        year=today.year,
    )
    quiz.questions.set(questions)
    branch = member.organization
    branch_members = list(
        Member.objects.dangerously_all().filter(organization=branch, status=Status.ACTIVE).order_by("pk")
    )
    assignments = 0
    for person in branch_members:
        row = Assignment.objects.create(paper=quiz, member=person, organization=branch, assigned_on=today)
        assignments += 1
        if person.pk not in (member.pk, getattr(secretary, "pk", None)) and rng.random() < 0.5:
            _sit(
                row, quiz, when=now - dt.timedelta(days=rng.randint(1, 2), hours=rng.randint(0, 5)), rng=rng, right=0.85
            )
    # This year's competence test, drawn by topic, for the leadership teams around the secretary's branch.
    opened = max(timezone.make_aware(dt.datetime(today.year, 1, 2, 9)), now - dt.timedelta(days=40))
    test = Paper.objects.create(
        title=f"{today.year}年度领导班子成员履职能力测试",
        kind=PaperKind.COMPETENCE,
        organization=root,
        bank=bank,
        mode=PaperMode.RANDOM,
        draw_rules=[{"tag": "党章", "count": 4}, {"tag": "组织生活", "count": 2}, {"tag": "纪律", "count": 2}],
        time_limit=30,
        opens_at=opened,
        closes_at=now + dt.timedelta(days=30),
        year=today.year,
    )
    step = Organization.steplen
    area = Organization.objects.dangerously_all().filter(path=branch.path[:-step]).first() or branch
    required = list(
        required_members(by=Access.system_access(), org=area, year=today.year)
        .order_by("organization__path", "pk")
        .values_list("pk", "organization_id")[:COMPETENCE_SAMPLE]
    )
    # In the secretary's own branch one required member has not passed yet (the secretary's to-do list shows them).
    pending = next(
        (pk for pk, org_id in required if org_id == branch.pk and pk != getattr(secretary, "pk", None)), None
    )
    if pending is None:
        pending = next((pk for pk, org_id in required if org_id == branch.pk), None)
    attempts = 0
    span = max(1, int((now - opened).total_seconds() // 3600) - 1)
    for pk, org_id in required:
        row = Assignment.objects.create(paper=test, member_id=pk, organization_id=org_id, assigned_on=opened.date())
        assignments += 1
        if pk == pending:
            continue
        when = opened + dt.timedelta(hours=rng.randint(0, span))
        _sit(row, test, when=min(when, now - dt.timedelta(hours=1)), rng=rng, right=0.9 if rng.random() < 0.9 else 0.3)
        attempts += 1
    return {
        "banks": 1,
        "questions": len(questions),
        "papers": 2,
        "assignments": assignments,
        "attempts": attempts + Attempt.objects.dangerously_all().filter(assignment__paper=quiz).count(),
    }


def wipe_demo_exams() -> None:
    """Delete every exam row (attempts, then assignments, make-ups, papers and banks): they PROTECT members and
    organizations, so a test that empties the demo database removes them before the members."""
    Attempt.objects.dangerously_all().delete()
    Assignment.objects.dangerously_all().delete()
    Paper.objects.dangerously_all().exclude(makeup_of=None).delete()
    Paper.objects.dangerously_all().delete()
    QuestionBank.objects.dangerously_all().delete()
