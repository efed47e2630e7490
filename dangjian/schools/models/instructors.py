"""The instructor pool (师资库, Xiqing's three teams) and its points (积分, Huangpi): instructors, point rules and
the points ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import Organization
from dangjian.schools.models.scope import school_scoped


class InstructorTeam(models.Model):
    """An instructor team (configurable; Xiqing's three: 领学宣讲团, 专业讲师团, 骨干讲师团)."""

    name = models.CharField("名称", max_length=50, unique=True)
    description = models.CharField("说明", max_length=200, blank=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "讲师团"
        verbose_name_plural = "讲师团"
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Instructor(TimeStampedModel):
    """An instructor of the pool (师资库讲师): team, employer, titles, topics, appointment letter dates.

    `member` links an instructor who is a party member, so that teaching credits their hours ledger.
    """

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="instructors", verbose_name="所属党组织"
    )
    name = models.CharField("姓名", max_length=50)
    team = models.ForeignKey(
        InstructorTeam, on_delete=models.PROTECT, related_name="instructors", verbose_name="讲师团"
    )
    employer = models.CharField("工作单位", max_length=100, blank=True)
    title = models.CharField("职务职称", max_length=100, blank=True)
    topics = models.CharField("擅长专题", max_length=300, blank=True)
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="instructor_profiles",
        verbose_name="对应党员",
    )
    appointed_on = models.DateField("聘任日期", null=True, blank=True)
    appointment_ends_on = models.DateField("聘期截止", null=True, blank=True)
    active = models.BooleanField("在库", default=True)
    history = HistoricalRecords()

    objects = school_scoped("owner", shared=True).as_manager()

    class Meta:
        verbose_name = "讲师"
        verbose_name_plural = "师资库"
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("schools:instructor_detail", args=[self.pk])


class PointEvent(models.TextChoices):
    CLASS_TAUGHT = "class_taught", "授课"
    TRAINEE_RATING = "trainee_rating", "学员评价"
    PREMIUM_SELECTED = "premium_selected", "精品课程入选"
    OTHER = "other", "其他"


class PointRule(TimeStampedModel):
    """A points rule of the instructor pool (积分规则): how many points an event earns, valid for a range of
    years and an owning organization's subtree (Huangpi's 积分管理). The most specific valid rule applies."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="适用党组织")
    event = models.CharField("积分事项", max_length=20, choices=PointEvent.choices)
    points = models.DecimalField("积分", max_digits=6, decimal_places=1)
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2000)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    description = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = school_scoped("owner", shared=True).as_manager()

    class Meta:
        verbose_name = "积分规则"
        verbose_name_plural = "积分规则"
        ordering = ["event", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.get_event_display()} {self.points}分"


class PointEntry(models.Model):
    """One entry of an instructor's points ledger (积分台账). Never edited: a correction is a reversing entry."""

    instructor = models.ForeignKey(
        Instructor, on_delete=models.PROTECT, related_name="point_entries", verbose_name="讲师"
    )
    year = models.PositiveSmallIntegerField("年度")
    date = models.DateField("日期")
    event = models.CharField("积分事项", max_length=20, choices=PointEvent.choices)
    points = models.DecimalField("积分", max_digits=6, decimal_places=1)
    rule = models.ForeignKey(
        PointRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="积分规则"
    )
    source = models.CharField("来源", max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name="冲销"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = school_scoped("instructor__owner", shared=True).as_manager()

    class Meta:
        verbose_name = "积分记录"
        verbose_name_plural = "积分记录"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["instructor", "year"], name="point_instructor_year_idx")]

    def __str__(self) -> str:
        return f"{self.instructor} {self.date} {self.get_event_display()} {self.points}"
