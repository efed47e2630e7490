"""Papers: creation with its bad inputs, assignment (subtree, posts, list, the competence policy), make-up exams."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.exams.models import Assignment, Paper, PaperKind, PaperMode
from dangjian.exams.selectors.results import paper_results
from dangjian.exams.services.attempts import attempt_start, attempt_submit
from dangjian.exams.services.papers import paper_assign, paper_create, paper_makeup_create
from dangjian.exams.tests.factories import PaperFactory, assign, bank_with_questions
from dangjian.exams.tests.test_attempts import right_answers
from dangjian.members.models import Post
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory

pytestmark = pytest.mark.django_db


def _window():
    now = timezone.now()
    return {"opens_at": now - dt.timedelta(hours=1), "closes_at": now + dt.timedelta(days=1)}


def test_a_fixed_paper_takes_the_banks_questions(world):
    bank = bank_with_questions(world.orgs["A"])
    paper = paper_create(
        by=world.user(Role.SECRETARY), bank=bank, organization=world.orgs["A"], title="党章测试", **_window()
    )
    assert paper.questions.count() == 4 and paper.year == timezone.localdate().year


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"title": " "}, "title", "请填写试卷名称"),
        ({"mode": PaperMode.RANDOM, "draw_rules": [{"tag": "党章", "count": 9}]}, "draw_rules", "不足9道"),
        ({"mode": PaperMode.RANDOM, "draw_rules": []}, "draw_rules", "请填写抽题规则"),
        ({"closes_at": timezone.now() - dt.timedelta(days=2)}, "closes_at", "晚于开始时间"),
    ],
    ids=["no-title", "too-few-of-a-topic", "no-rules", "closes-before-it-opens"],
)
def test_bad_papers_are_refused_and_nothing_is_saved(world, changes, field, words):
    bank = bank_with_questions(world.orgs["A"])
    data = {"title": "测试", **_window(), **changes}
    with pytest.raises(ValidationError) as exc:
        paper_create(by=world.user(Role.SECRETARY), bank=bank, organization=world.orgs["A"], **data)
    assert any(words in m for m in exc.value.message_dict[field])
    assert not Paper.objects.dangerously_all().exists()


def test_a_secretary_cannot_make_a_paper_for_another_branch(world):
    bank = bank_with_questions(world.orgs["B"])
    with pytest.raises(PermissionDenied):
        paper_create(by=world.user(Role.SECRETARY), bank=bank, organization=world.orgs["B"], title="x", **_window())


def test_assign_by_subtree_by_post_and_by_list(world):
    paper = PaperFactory(organization=world.orgs["C1"])
    committee = world.user(Role.COMMITTEE)
    leader = MemberFactory(organization=world.orgs["B"], name="周乙书记")
    PartyPostFactory(member=leader, organization=world.orgs["B"], post=Post.SECRETARY, start_date=dt.date(2020, 1, 1))
    assert paper_assign(by=committee, paper=paper, posts=[Post.SECRETARY]) == 1
    assert paper_assign(by=committee, paper=paper, member_ids=[world.members["B"][0].pk]) == 1
    assert paper_assign(by=committee, paper=paper, org=world.orgs["A"]) == 2
    # A member outside the paper's organization's subtree is never assigned, whatever id is sent.
    with pytest.raises(ValidationError, match="没有可新增的应考人员"):
        paper_assign(by=committee, paper=paper, member_ids=[world.members["X"][0].pk])
    assert Assignment.objects.dangerously_all().filter(paper=paper).count() == 4


def test_assigning_needs_a_range(world):
    paper = PaperFactory(organization=world.orgs["A"])
    with pytest.raises(ValidationError, match="请选择应考人员的范围"):
        paper_assign(by=world.user(Role.SECRETARY), paper=paper)


def test_the_competence_policy_names_whom_to_assign(world):
    paper = PaperFactory(organization=world.orgs["C1"], kind=PaperKind.COMPETENCE)
    secretary = MemberFactory(organization=world.orgs["A"], name="吴甲书记")
    PartyPostFactory(
        member=secretary, organization=world.orgs["A"], post=Post.SECRETARY, start_date=dt.date(2020, 1, 1)
    )
    MemberFactory(organization=world.orgs["B"], name="郑乙班子", is_leadership=True)
    added = paper_assign(by=world.user(Role.COMMITTEE), paper=paper, competence=True)
    names = set(Assignment.objects.dangerously_all().filter(paper=paper).values_list("member__name", flat=True))
    assert added == 2 and names == {"吴甲书记", "郑乙班子"}


def test_a_makeup_exam_is_for_those_who_did_not_pass(world):
    paper = PaperFactory(organization=world.orgs["A"])
    other = world.members["A"][1]
    assign(paper, world.self_member)
    assign(paper, other)
    user = world.user(Role.MEMBER)
    attempt = attempt_start(by=user, paper=paper)
    attempt_submit(by=user, attempt=attempt, answers=right_answers(attempt))
    secretary = world.user(Role.SECRETARY)
    window = {"opens_at": timezone.now(), "closes_at": timezone.now() + dt.timedelta(days=3)}
    with pytest.raises(ValidationError, match="原考试截止后"):
        paper_makeup_create(by=secretary, paper=paper, **window)
    Paper.objects.dangerously_all().filter(pk=paper.pk).update(closes_at=timezone.now() - dt.timedelta(minutes=1))
    paper.refresh_from_db()
    makeup = paper_makeup_create(by=secretary, paper=paper, **window)
    assert makeup.makeup_of == paper and makeup.title.endswith("（补考）")
    assert list(Assignment.objects.dangerously_all().filter(paper=makeup).values_list("member_id", flat=True)) == [
        other.pk
    ]
    standings = {row.member.pk: row.outcome.standing for row in paper_results(by=secretary, paper=paper)}
    assert standings == {world.self_member.pk: "通过", other.pk: "未参加"}
