"""Factories of the exams. `bank_with_questions` builds a bank with one question of each kind; `paper` a paper open
now; `assign` an assignment (the member's organization recorded)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from dangjian.exams.models import Assignment, Attempt, Paper, PaperMode, Question, QuestionBank, QuestionKind
from dangjian.orgs.tests.factories import OrganizationFactory


class QuestionBankFactory(DjangoModelFactory):
    class Meta:
        model = QuestionBank

    name = factory.Sequence(lambda n: f"测试题库{n:03d}")
    organization = factory.SubFactory(OrganizationFactory)


class QuestionFactory(DjangoModelFactory):
    class Meta:
        model = Question

    bank = factory.SubFactory(QuestionBankFactory)
    kind = QuestionKind.SINGLE
    text = factory.Sequence(lambda n: f"测试试题{n:04d}")
    options = factory.LazyFunction(lambda: ["甲", "乙", "丙", "丁"])
    answer = factory.LazyFunction(lambda: [0])
    tags = factory.LazyFunction(lambda: ["党章"])


def bank_with_questions(org, **kwargs) -> QuestionBank:
    """A bank with one single-choice, one multiple-choice, one true/false and one fill-in question."""
    bank = QuestionBankFactory(organization=org, **kwargs)
    QuestionFactory(
        bank=bank,
        kind=QuestionKind.SINGLE,
        text="党的最高领导机关是？",
        options=["党的全国代表大会和它所产生的中央委员会", "国务院", "全国人大", "政协"],
        answer=[0],
        tags=["党章"],
    )
    QuestionFactory(
        bank=bank,
        kind=QuestionKind.MULTIPLE,
        text="三会一课包括哪些？",
        options=["支部党员大会", "支委会", "党小组会", "运动会"],
        answer=[0, 1, 2],
        tags=["组织生活"],
    )
    QuestionFactory(
        bank=bank,
        kind=QuestionKind.TRUE_FALSE,
        text="预备党员的预备期为一年。",
        options=[],
        answer=[True],
        tags=["党章"],
    )
    QuestionFactory(
        bank=bank,
        kind=QuestionKind.FILL,
        text="党员每年集中学习培训时间一般不少于多少学时？",
        options=[],
        answer=["32", "32学时"],
        tags=["学时"],
    )
    return bank


class PaperFactory(DjangoModelFactory):
    class Meta:
        model = Paper
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"测试试卷{n:03d}")
    organization = factory.SubFactory(OrganizationFactory)
    bank = factory.LazyAttribute(lambda o: bank_with_questions(o.organization))
    mode = PaperMode.FIXED
    time_limit = 30
    max_attempts = 1
    pass_mark = Decimal("60")
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=7))
    year = factory.LazyFunction(lambda: timezone.localdate().year)

    @factory.post_generation
    def with_questions(self, create, extracted, **kwargs):
        if create and self.mode == PaperMode.FIXED and extracted is not False:
            self.questions.set(self.bank.questions.all())


def assign(paper: Paper, member, **kwargs) -> Assignment:
    return Assignment.objects.create(paper=paper, member=member, organization=member.organization, **kwargs)


def attempt_of(member) -> Attempt:
    """An attempt in progress of `member` at a paper of their organization (drawn as the service draws it)."""
    from dangjian.exams.drawing import draw

    paper = PaperFactory(organization=member.organization)
    assignment = assign(paper, member)
    now = timezone.now()
    return Attempt.objects.create(
        assignment=assignment,
        number=1,
        seed=1,
        started_at=now,
        deadline=now + dt.timedelta(minutes=paper.time_limit),
        sheet=draw(paper, 1),
    )
