"""The annual evaluation and ranking (考评, Huangpi): indicators, a school's evaluation and scores, ranking rules,
rankings, tie decisions and rectification tasks."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import Organization
from dangjian.schools.models.schools import PartySchool
from dangjian.schools.models.scope import ZERO, school_scoped


class IndicatorKind(models.TextChoices):
    STANDARD = "standard", "“六有”建设"
    FIELD_CHECK = "field_check", "实地检查"
    RECORDS_CHECK = "records_check", "台账检查"
    TRAINEE_RATING = "trainee_rating", "学员评价"
    OTHER = "other", "其他"


class EvaluationIndicator(models.Model):
    """An indicator of the annual evaluation (考评指标), configurable. A school's composite score is the sum over
    the active indicators of score / max_score × weight."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=50)
    kind = models.CharField("类型", max_length=20, choices=IndicatorKind.choices)
    max_score = models.DecimalField(
        "满分", max_digits=6, decimal_places=2, default=Decimal("100"), validators=[MinValueValidator(Decimal("0.01"))]
    )
    weight = models.DecimalField(
        "权重", max_digits=6, decimal_places=2, default=Decimal("10"), validators=[MinValueValidator(ZERO)]
    )
    order = models.PositiveSmallIntegerField("顺序", default=0)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "考评指标"
        verbose_name_plural = "考评指标"
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class SchoolEvaluation(TimeStampedModel):
    """A school's evaluation for a year (年度考评): its indicator scores and the composite score."""

    school = models.ForeignKey(PartySchool, on_delete=models.PROTECT, related_name="evaluations", verbose_name="党校")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    composite = models.DecimalField("综合得分", max_digits=7, decimal_places=2, null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "年度考评"
        verbose_name_plural = "年度考评"
        ordering = ["-year", "school"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="evaluation_once_per_year")]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year}年度考评"

    def get_absolute_url(self) -> str:
        return reverse("schools:evaluation_detail", args=[self.pk])


class IndicatorScore(models.Model):
    """A school's score on one indicator in one evaluation."""

    evaluation = models.ForeignKey(
        SchoolEvaluation, on_delete=models.CASCADE, related_name="scores", verbose_name="考评"
    )
    indicator = models.ForeignKey(
        EvaluationIndicator, on_delete=models.PROTECT, related_name="scores", verbose_name="指标"
    )
    score = models.DecimalField("得分", max_digits=6, decimal_places=2, validators=[MinValueValidator(ZERO)])
    history = HistoricalRecords()

    class Meta:
        verbose_name = "指标得分"
        verbose_name_plural = "指标得分"
        ordering = ["evaluation", "indicator__order"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "indicator"], name="score_once")]

    def __str__(self) -> str:
        return f"{self.evaluation} {self.indicator.name} {self.score}"


class Grade(models.TextChoices):
    DEMONSTRATION = "demonstration", "示范"
    EXCELLENT = "excellent", "优秀"
    QUALIFIED = "qualified", "合格"
    UNQUALIFIED = "unqualified", "不合格"


class RankingRule(TimeStampedModel):
    """The ranking rule of the annual evaluation (configurable; default Huangpi's): the top `demonstration_count`
    → 示范; of the rest the top `excellent_rate` (rounded down, at least `excellent_min` when there are any) →
    优秀; the lowest `unqualified_count` → 不合格; the rest → 合格. Subsidies per grade; 不合格 schools get a
    rectification task due `rectification_days` after publication. Valid for a range of years and the
    owner's subtree; the most specific valid rule applies, else the defaults of this model."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="适用党组织")
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2000)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    demonstration_count = models.PositiveSmallIntegerField("示范名额", default=3)
    excellent_rate = models.DecimalField(
        "优秀比例",
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.15"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("1"))],
    )
    excellent_min = models.PositiveSmallIntegerField("优秀最少名额", default=1)
    unqualified_count = models.PositiveSmallIntegerField("不合格名额", default=1)
    subsidy_demonstration = models.DecimalField(
        "示范补助（元）", max_digits=10, decimal_places=2, default=Decimal("20000")
    )
    subsidy_excellent = models.DecimalField("优秀补助（元）", max_digits=10, decimal_places=2, default=Decimal("10000"))
    subsidy_qualified = models.DecimalField("合格补助（元）", max_digits=10, decimal_places=2, default=ZERO)
    subsidy_unqualified = models.DecimalField("不合格补助（元）", max_digits=10, decimal_places=2, default=ZERO)
    rectification_days = models.PositiveSmallIntegerField("整改期限（天）", default=30)
    honours_need_activity = models.BooleanField(
        "示范、优秀须当年办班且“六有”达标",
        default=True,
        help_text="开启时，当年未办班（培训班或已完成的约课）或“六有”检查未全部达标的党校不得评为示范、优秀，"
        "其名额依次由符合条件的党校递补（黄陂：按“六有”标准综合评定）。",
    )
    history = HistoricalRecords()

    objects = school_scoped("owner", shared=True).as_manager()

    class Meta:
        verbose_name = "排名规则"
        verbose_name_plural = "排名规则"
        ordering = ["-valid_from", "pk"]

    def __str__(self) -> str:
        return f"{self.owner} 排名规则（{self.valid_from}年起）"

    def subsidy_for(self, grade: str) -> Decimal:
        return {
            Grade.DEMONSTRATION: self.subsidy_demonstration,
            Grade.EXCELLENT: self.subsidy_excellent,
            Grade.QUALIFIED: self.subsidy_qualified,
            Grade.UNQUALIFIED: self.subsidy_unqualified,
        }[grade]


class SchoolRanking(TimeStampedModel):
    """A published ranking result of a school for a year within a scope (an organization's subtree)."""

    scope = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="排名范围")
    year = models.PositiveSmallIntegerField("年度")
    school = models.ForeignKey(PartySchool, on_delete=models.PROTECT, related_name="rankings", verbose_name="党校")
    composite = models.DecimalField("综合得分", max_digits=7, decimal_places=2)
    rank = models.PositiveIntegerField("名次")
    grade = models.CharField("等次", max_length=16, choices=Grade.choices)
    subsidy = models.DecimalField("补助（元）", max_digits=10, decimal_places=2, default=ZERO)
    tie_note = models.CharField("并列说明", max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "考评排名"
        verbose_name_plural = "考评排名"
        ordering = ["scope", "-year", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "year", "school"], name="ranking_once_per_scope_year"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.school.name} 第{self.rank}名 {self.get_grade_display()}"


class TieDecision(TimeStampedModel):
    """A committee's decision on a tie at a grade boundary (并列等次决定): where schools share a composite score and
    the quota of 示范 / 优秀 (or the 不合格 place) falls between them, the ranking orders them by nothing else — the
    work committee decides which grade each gets, and the decision is recorded per school and year with who made
    it, in which ranking scope, and why. Changes are kept by the history."""

    school = models.ForeignKey(PartySchool, on_delete=models.PROTECT, related_name="tie_decisions", verbose_name="党校")
    year = models.PositiveSmallIntegerField("考评年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    scope = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="排名范围")
    grade = models.CharField("决定等次", max_length=16, choices=Grade.choices)
    reason = models.CharField("决定理由", max_length=300)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "并列等次决定"
        verbose_name_plural = "并列等次决定"
        ordering = ["-year", "school"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="tie_decision_once_per_year")]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year}年度并列等次决定：{self.get_grade_display()}"


class RectificationStatus(models.TextChoices):
    OPEN = "open", "整改中"
    DONE = "done", "已整改"


class RectificationTask(TimeStampedModel):
    """A rectification task (整改任务) of a school graded 不合格: summoned, it must fix its faults by the deadline."""

    school = models.ForeignKey(
        PartySchool, on_delete=models.PROTECT, related_name="rectifications", verbose_name="党校"
    )
    year = models.PositiveSmallIntegerField("考评年度")
    ranking = models.OneToOneField(
        SchoolRanking, on_delete=models.PROTECT, null=True, blank=True, related_name="rectification"
    )
    deadline = models.DateField("整改期限")
    status = models.CharField(
        "状态", max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    note = models.CharField("整改说明", max_length=500, blank=True)
    closed_at = models.DateTimeField("完成时间", null=True, blank=True)
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "整改任务"
        verbose_name_plural = "整改任务"
        ordering = ["status", "deadline"]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year}年度考评整改"

    @property
    def overdue(self) -> bool:
        return self.status == RectificationStatus.OPEN and self.deadline < timezone.localdate()
