"""The course catalog (课程): courses with their category, format and hours, modules (the 40/40/20 mix, Xiqing)
and premium-course rounds (精品课程评选, Huangpi) with their entries."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import Organization
from dangjian.schools.models.instructors import Instructor
from dangjian.schools.models.scope import ZERO, school_scoped


class CourseCategory(models.TextChoices):
    POLITICAL_THEORY = "political_theory", "政治理论类"
    ECONOMY_FINANCE = "economy_finance", "经济金融类"
    PUBLIC_ADMIN = "public_admin", "公共管理类"
    LAW = "law", "法律法规类"
    PROFESSIONAL = "professional", "业务知识类"
    GENERAL = "general", "综合素养类"
    ONSITE = "onsite", "现场教学类"


class CourseFormat(models.TextChoices):
    MICRO = "micro", "15分钟微党课"
    PACK = "pack", "4学时课程包"
    INTENSIVE = "intensive", "3天集中轮训"
    ONLINE = "online", "网络课程"
    ONSITE = "onsite", "现场教学"


# Default hours of each format (a course may set its own). 3 days at 8 hours a day: docs/rules.md notes there is no
# national day-to-hours conversion; DANGJIAN_COURSE_FORMAT_HOURS overrides any of these.
DEFAULT_FORMAT_HOURS: dict[str, Decimal] = {
    CourseFormat.MICRO: Decimal("0.5"),
    CourseFormat.PACK: Decimal("4"),
    CourseFormat.INTENSIVE: Decimal("24"),
    CourseFormat.ONLINE: Decimal("1"),
    CourseFormat.ONSITE: Decimal("4"),
}


def format_hours(fmt: str) -> Decimal:
    overrides = getattr(settings, "DANGJIAN_COURSE_FORMAT_HOURS", {}) or {}
    return Decimal(str(overrides.get(fmt, DEFAULT_FORMAT_HOURS[fmt])))


class ContentType(models.TextChoices):
    """Xiqing's three content types: a separate axis from the seven categories."""

    POLITICAL_THEORY = "political_theory", "政治理论"
    GRASSROOTS_PRACTICE = "grassroots_practice", "基层实务"
    EXEMPLARY_MODEL = "exemplary_model", "先进模范"


class TargetGroup(models.TextChoices):
    SECRETARIES = "secretaries", "书记"
    PARTY_WORKERS = "party_workers", "党务工作者"
    MEMBERS = "members", "普通党员"


class Course(TimeStampedModel):
    """A course of the catalog (课程): category, format and hours, content type, instructors, target groups."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="courses", verbose_name="所属党组织")
    title = models.CharField("课程名称", max_length=100)
    category = models.CharField("课程类别", max_length=20, choices=CourseCategory.choices)
    format = models.CharField("课程形式", max_length=20, choices=CourseFormat.choices)
    hours = models.DecimalField(
        "学时",
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("200"))],
    )
    content_type = models.CharField("内容类型", max_length=24, choices=ContentType.choices)
    for_secretaries = models.BooleanField("面向书记", default=False)
    for_party_workers = models.BooleanField("面向党务工作者", default=False)
    for_members = models.BooleanField("面向普通党员", default=True)
    summary = models.TextField("课程简介", blank=True)
    materials = models.TextField("课程资料", blank=True)
    material_file = models.FileField("资料附件", upload_to="schools/materials/%Y/", blank=True)
    instructors = models.ManyToManyField(Instructor, blank=True, related_name="courses", verbose_name="授课讲师")
    premium_year = models.PositiveSmallIntegerField("精品课程年度", null=True, blank=True)
    active = models.BooleanField("在用", default=True)
    history = HistoricalRecords(m2m_fields=[instructors])

    objects = school_scoped("owner", shared=True).as_manager()

    class Meta:
        verbose_name = "课程"
        verbose_name_plural = "课程"
        ordering = ["category", "title", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("schools:course_detail", args=[self.pk])

    @property
    def target_groups(self) -> list[str]:
        flags = (
            (self.for_secretaries, TargetGroup.SECRETARIES),
            (self.for_party_workers, TargetGroup.PARTY_WORKERS),
            (self.for_members, TargetGroup.MEMBERS),
        )
        return [group.label for on, group in flags if on]


class CourseModule(TimeStampedModel):
    """A module (教学模块: 乡村振兴, 基层治理, 党务工作 …) grouping courses, with its target mix by content type
    (Xiqing: 40% political theory, 40% grassroots practice, 20% exemplary models, by hours)."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="所属党组织")
    name = models.CharField("模块名称", max_length=50)
    description = models.CharField("说明", max_length=200, blank=True)
    courses = models.ManyToManyField(Course, blank=True, related_name="modules", verbose_name="课程")
    target_political = models.DecimalField(
        "政治理论目标占比（%）",
        max_digits=5,
        decimal_places=1,
        default=Decimal("40"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    target_practice = models.DecimalField(
        "基层实务目标占比（%）",
        max_digits=5,
        decimal_places=1,
        default=Decimal("40"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    target_model = models.DecimalField(
        "先进模范目标占比（%）",
        max_digits=5,
        decimal_places=1,
        default=Decimal("20"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    tolerance = models.DecimalField(
        "允许偏差（百分点）",
        max_digits=4,
        decimal_places=1,
        default=Decimal("5"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("50"))],
    )
    history = HistoricalRecords(m2m_fields=[courses])

    objects = school_scoped("owner", shared=True).as_manager()

    class Meta:
        verbose_name = "教学模块"
        verbose_name_plural = "教学模块"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("schools:module_detail", args=[self.pk])


class PremiumRoundStatus(models.TextChoices):
    OPEN = "open", "评选中"
    CLOSED = "closed", "已公布"


# Hours a selected course's in-district instructor earns (精品课程奖励). The Huangpi seed (《黄陂区干部教育培训精品课程
# 评选办法（试行）》: 区内教师入选精品课程的，奖励培训学时) names no number: 4 hours (one 4学时课程包) is our default.
DEFAULT_PREMIUM_REWARD_HOURS = Decimal("4")


class PremiumRound(TimeStampedModel):
    """An annual premium-course round (精品课程评选) for one category: entries are scored; at closing the best
    `quota` entries are selected, their courses marked, and their instructors earn the configured reward: points
    by the points rules, and — for an instructor linked to a member of the district (区内教师) — `reward_hours`
    through the hours ledger (精品课程奖励), once per member, course and year. The seed gives no number of hours;
    the default (DEFAULT_PREMIUM_REWARD_HOURS, 4) is ours and is set per round."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="组织单位")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    category = models.CharField("课程类别", max_length=20, choices=CourseCategory.choices)
    quota = models.PositiveSmallIntegerField("入选名额", default=3, validators=[MinValueValidator(1)])
    reward_hours = models.DecimalField(
        "区内讲师奖励学时",
        max_digits=4,
        decimal_places=1,
        default=DEFAULT_PREMIUM_REWARD_HOURS,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("200"))],
        help_text="入选课程的区内讲师（在师资库中关联了党员的讲师）各计一次的学时（精品课程奖励）；0为不计学时。"
        "黄陂办法只说“奖励培训学时”，未给数字，默认4学时是本系统的取值。",
    )
    status = models.CharField(
        "状态", max_length=10, choices=PremiumRoundStatus.choices, default=PremiumRoundStatus.OPEN
    )
    closed_at = models.DateTimeField("公布时间", null=True, blank=True)
    history = HistoricalRecords()

    objects = school_scoped("owner", shared=True).as_manager()

    class Meta:
        verbose_name = "精品课程评选"
        verbose_name_plural = "精品课程评选"
        ordering = ["-year", "category"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "year", "category"], name="premium_round_once"),
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.get_category_display()}精品课程评选"

    def get_absolute_url(self) -> str:
        return reverse("schools:premium_detail", args=[self.pk])


class PremiumEntry(TimeStampedModel):
    """A course entered in a premium round, with its score (0-100) and whether it was selected."""

    round = models.ForeignKey(PremiumRound, on_delete=models.CASCADE, related_name="entries", verbose_name="评选")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="premium_entries", verbose_name="课程")
    score = models.DecimalField(
        "评分",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    selected = models.BooleanField("入选", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "精品课程参评"
        verbose_name_plural = "精品课程参评"
        ordering = ["round", "-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "course"], name="premium_entry_once")]

    def __str__(self) -> str:
        return f"{self.round} · {self.course}"
