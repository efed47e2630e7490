"""Tests and exams (考试测评): question banks, papers, who is assigned to sit them, the attempts with their kept answer
sheets, and the yearly competence test (履职能力测试) of the leadership teams.

Sources (docs/exams.md, "Sources"): Huangpi's 区管领导班子成员履职能力测试制度 (a yearly test of the leadership
teams' political theory, general competence and ability to do their job, held with the annual appraisal); Jianshi's
2020 notice (exams on the county's education platform to check what every member learnt). Every number (time limit,
attempts, pass mark, the grace after the limit, who must sit the competence test) is a field or a policy row.

Scope. A bank and a paper belong to an organization: seen by whoever sees that organization's subtree, written by its
member editors (committee staff, the secretary) and the party-school managers over it. A member sees the papers they
are assigned to and their own attempts; an attempt is also seen by whoever sees the member's organization at the time
of the assignment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.accounts.access import access_for
from dangjian.core.models import TimeStampedModel
from dangjian.members.models import Member, Post
from dangjian.orgs.models import DownwardRuleQuerySet, Organization, ScopedQuerySet, subtree_q


def manager_roots(access) -> tuple[str, ...]:
    """The subtrees where `access` may write banks and papers: member editors (工委工作人员, 支部书记) and party-school
    managers (工委工作人员, 党校管理员)."""
    return tuple(sorted({*access.member_edit_roots, *access.school_manage_roots}))


def may_manage(access, org: Organization) -> bool:
    return access.system or any(org.path.startswith(root) for root in manager_roots(access))


class ManagedQuerySet(ScopedQuerySet):
    def editable_by(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(manager_roots(access), f"{self.scope_field}__path"))


# ---------------------------------------------------------------------------------------------------------
# Question banks


class QuestionKind(models.TextChoices):
    SINGLE = "single", "单选题"
    MULTIPLE = "multiple", "多选题"
    TRUE_FALSE = "true_false", "判断题"
    FILL = "fill", "填空题"


CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE})
MAX_OPTIONS = 8
OPTION_LETTERS = "ABCDEFGH"


class QuestionBank(TimeStampedModel):
    """A question bank (题库) of an organization or of a party school (then its organization is the school's)."""

    name = models.CharField("题库名称", max_length=100)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="所属党组织"
    )
    school = models.ForeignKey(
        "schools.PartySchool",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属党校",
    )
    description = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = ManagedQuerySet.as_manager()

    class Meta:
        verbose_name = "题库"
        verbose_name_plural = "题库"
        ordering = ["organization__path", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("exams:bank_detail", args=[self.pk])


class QuestionQuerySet(ManagedQuerySet):
    scope_field = "bank__organization"


class Question(TimeStampedModel):
    """A question (试题) of a bank: single or multiple choice (options and the right letters), true/false, or fill-in
    (the accepted answers, compared after `dangjian.core.sheets.text.clean_text`). `tags` name its topics (知识点),
    by which a paper draws questions at random."""

    bank = models.ForeignKey(QuestionBank, on_delete=models.CASCADE, related_name="questions", verbose_name="题库")
    kind = models.CharField("题型", max_length=12, choices=QuestionKind.choices)
    text = models.TextField("题干", max_length=2000)
    options = models.JSONField("选项", default=list, blank=True)
    # Choice: the 0-based indices of the right options; true/false: [true] or [false]; fill-in: the accepted texts.
    answer = models.JSONField("答案", default=list)
    tags = models.JSONField("知识点", default=list, blank=True)
    explanation = models.CharField("解析", max_length=500, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = QuestionQuerySet.as_manager()

    class Meta:
        verbose_name = "试题"
        verbose_name_plural = "试题"
        ordering = ["bank", "pk"]

    def __str__(self) -> str:
        return self.text[:40]

    @property
    def answer_text(self) -> str:
        if self.kind in CHOICE_KINDS:
            return "".join(OPTION_LETTERS[i] for i in self.answer if 0 <= i < len(OPTION_LETTERS))
        if self.kind == QuestionKind.TRUE_FALSE:
            return "正确" if self.answer and self.answer[0] else "错误"
        return " | ".join(str(a) for a in self.answer)


# ---------------------------------------------------------------------------------------------------------
# Papers


class PaperKind(models.TextChoices):
    REGULAR = "regular", "考试"
    COMPETENCE = "competence", "履职能力测试"


class PaperMode(models.TextChoices):
    FIXED = "fixed", "固定试题"
    RANDOM = "random", "按知识点随机抽题"


class Counting(models.TextChoices):
    BEST = "best", "取最高成绩"
    LAST = "last", "取最后一次成绩"


class PaperQuerySet(ManagedQuerySet):
    """Papers of the organizations in the user's subtrees, and the papers the user is assigned to sit."""

    def visible_to(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(access.view_roots, "organization__path")
        if access.user_id is not None:
            q |= Q(pk__in=Assignment.objects.filter(member__user_id=access.user_id).values("paper_id"))
        return self.filter(q)


class Paper(TimeStampedModel):
    """A paper (试卷): fixed questions or drawn by topic and count, a time limit, shuffling, how many attempts and
    which counts (best or last), the pass mark (of 100), the window it is open in. A make-up exam (补考) is a paper
    with `makeup_of` set, for those who did not pass the original. The competence test (履职能力测试) of a year is a
    paper of kind competence with that year."""

    title = models.CharField("试卷名称", max_length=100)
    kind = models.CharField("类型", max_length=12, choices=PaperKind.choices, default=PaperKind.REGULAR)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="组织党组织"
    )
    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="papers", verbose_name="题库")
    mode = models.CharField("组卷方式", max_length=8, choices=PaperMode.choices, default=PaperMode.FIXED)
    questions = models.ManyToManyField(Question, blank=True, related_name="+", verbose_name="试题")
    # Random mode: [{"tag": "党章", "count": 5}, …]; a tag "" draws from the whole bank.
    draw_rules = models.JSONField("抽题规则", default=list, blank=True)
    time_limit = models.PositiveSmallIntegerField(
        "答题时限（分钟）", default=30, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    shuffle_questions = models.BooleanField("试题乱序", default=True)
    shuffle_options = models.BooleanField("选项乱序", default=True)
    max_attempts = models.PositiveSmallIntegerField(
        "可答题次数", default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    counting = models.CharField("计分方式", max_length=8, choices=Counting.choices, default=Counting.BEST)
    pass_mark = models.DecimalField(
        "及格分数",
        max_digits=4,
        decimal_places=1,
        default=Decimal("60"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    opens_at = models.DateTimeField("开始时间")
    closes_at = models.DateTimeField("截止时间")
    year = models.PositiveSmallIntegerField("年度")
    makeup_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="makeups", verbose_name="补考原试卷"
    )
    history = HistoricalRecords()

    objects = PaperQuerySet.as_manager()

    class Meta:
        verbose_name = "试卷"
        verbose_name_plural = "试卷"
        ordering = ["-opens_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="exams_paper_window",
                violation_error_message="截止时间应晚于开始时间。",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("exams:paper_detail", args=[self.pk])

    @property
    def root(self) -> Paper:
        """The original paper of a make-up exam (itself otherwise)."""
        return self.makeup_of if self.makeup_of_id else self

    def is_open(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.opens_at <= now <= self.closes_at


class AssignmentQuerySet(ScopedQuerySet["Assignment"]):
    """Assignments seen through the member's organization when assigned, and a member's own."""

    def visible_to(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(access.view_roots, "organization__path")
        if access.user_id is not None:
            q |= Q(member__user_id=access.user_id)
        return self.filter(q)


class Assignment(TimeStampedModel):
    """An assignment (应考人员): a member who is to sit a paper, with the organization they belonged to when assigned
    (the report counts them there, so a closed year's figures never change)."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="assignments", verbose_name="试卷")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name="党员")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="所在党组织"
    )
    assigned_on = models.DateField("指定日期", default=timezone.localdate)
    history = HistoricalRecords()

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = "应考人员"
        verbose_name_plural = "应考人员"
        ordering = ["paper", "member__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "member"], name="exams_assignment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.paper} · {self.member}"


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "答题中"
    SUBMITTED = "submitted", "已交卷"


class AttemptQuerySet(AssignmentQuerySet):
    """Attempts seen like their assignment."""

    def visible_to(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(access.view_roots, "assignment__organization__path")
        if access.user_id is not None:
            q |= Q(assignment__member__user_id=access.user_id)
        return self.filter(q)


def grace_seconds() -> int:
    """Seconds after the time limit within which a submission is still taken (DANGJIAN_EXAM_GRACE_SECONDS, default
    30): the time the page takes to send the answers when the countdown ends."""
    return int(getattr(settings, "DANGJIAN_EXAM_GRACE_SECONDS", 30))


class Attempt(TimeStampedModel):
    """An attempt (答卷): the n-th sitting of an assigned member, its deadline (the start plus the time limit, or the
    paper's close if earlier), the seed that drew and shuffled it and the answer sheet (`sheet`: each question as
    shown, with its right answer, so the sheet reads the same whatever later happens to the bank), the answers given
    and the grade. An attempt not submitted by its deadline is finished, unanswered (score 0)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="attempts", verbose_name="应考")
    number = models.PositiveSmallIntegerField("第几次")
    seed = models.BigIntegerField("随机种子")
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    deadline = models.DateTimeField("截止时间")
    submitted_at = models.DateTimeField("交卷时间", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS)
    sheet = models.JSONField("答题卡", default=list)
    answers = models.JSONField("作答", default=dict, blank=True)
    score = models.DecimalField("得分", max_digits=4, decimal_places=1, null=True, blank=True)
    passed = models.BooleanField("通过", default=False)
    history = HistoricalRecords()

    objects = AttemptQuerySet.as_manager()

    class Meta:
        verbose_name = "答卷"
        verbose_name_plural = "答卷"
        ordering = ["assignment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "number"], name="exams_attempt_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment} 第{self.number}次"

    def get_absolute_url(self) -> str:
        return reverse("exams:attempt", args=[self.pk])

    def is_finished(self, now: dt.datetime | None = None) -> bool:
        """Submitted, or past its deadline and the grace (then it counts, unanswered)."""
        if self.status == AttemptStatus.SUBMITTED:
            return True
        now = now or timezone.now()
        return now > self.deadline + dt.timedelta(seconds=grace_seconds())

    @property
    def final_score(self) -> Decimal:
        return self.score if self.score is not None else Decimal("0")


# ---------------------------------------------------------------------------------------------------------
# The competence test


class CompetencePolicyQuerySet(DownwardRuleQuerySet):
    """Policies apply downwards: seen like every policy row."""


class CompetencePolicy(TimeStampedModel):
    """Who must sit the competence test (履职能力测试) each year: the members holding one of `posts` (党内职务) in an
    organization of the owner's subtree during the year, and with `leadership` the leadership-team members (班子成员).
    Valid for a range of years and an owner's subtree (None: the whole system). Where several apply, a member who
    any of them names must sit it (the strictest wins: docs/rules.md)."""

    name = models.CharField("名称", max_length=100)
    posts = models.JSONField("党内职务", default=list, blank=True)
    leadership = models.BooleanField("班子成员", default=True)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2017)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = CompetencePolicyQuerySet.as_manager()

    class Meta:
        verbose_name = "履职能力测试要求"
        verbose_name_plural = "履职能力测试要求"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def post_labels(self) -> str:
        labels = dict(Post.choices)
        return "、".join(str(labels.get(p, p)) for p in self.posts)
