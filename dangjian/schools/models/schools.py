"""Schools (党校): levels and build modes, venues, the member units of a joint school, principals, annual plans,
money (funding lines) and the 六有 checklist (standard items and checks)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import Organization, Unit
from dangjian.schools.models.scope import ZERO, school_code_validator, school_scoped


class SchoolLevel(models.TextChoices):
    DISTRICT = "district", "区委党校"
    TOWN = "town", "街镇党校"
    AMATEUR = "amateur", "业余党校"
    AREA_AMATEUR = "area_amateur", "片区业余党校"
    OTHER = "other", "其他党校"


class BuildMode(models.TextChoices):
    INDEPENDENT = "independent", "独立建校"
    JOINT = "joint", "联合建校"
    EXTENDED = "extended", "延伸建校"


class PartySchool(TimeStampedModel):
    """A party school (党校): run by an organization (the committee behind it), at a level, in a build mode.

    A joint school (联合建校) lists its member units, whose secretaries take turns as principal; an extended
    school (延伸建校) hangs under a parent school. The district party school (区委党校) schedules the bookings
    of the schools below it.
    """

    code = models.CharField(
        "党校编码",
        max_length=32,
        unique=True,
        validators=[school_code_validator],
        error_messages={"unique": "党校编码已存在，请换一个编码。"},
    )
    name = models.CharField("党校名称", max_length=100)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="party_schools", verbose_name="主办党组织"
    )
    level = models.CharField("党校层级", max_length=20, choices=SchoolLevel.choices)
    build_mode = models.CharField("建校模式", max_length=20, choices=BuildMode.choices, default=BuildMode.INDEPENDENT)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="extensions",
        verbose_name="上级党校（延伸建校）",
    )
    address = models.CharField("地址", max_length=200, blank=True)
    equipment = models.TextField("教学设备", blank=True)
    deputy_principal = models.CharField("副校长", max_length=50, blank=True)
    liaison = models.CharField("区委党校联络员", max_length=50, blank=True)
    established_on = models.DateField("成立日期", null=True, blank=True)
    active = models.BooleanField("在办", default=True)
    history = HistoricalRecords()

    objects = school_scoped("organization").as_manager()

    class Meta:
        verbose_name = "党校"
        verbose_name_plural = "党校"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(build_mode="extended") | Q(parent__isnull=False),
                name="school_extended_has_parent",
                violation_error_message="延伸建校须指定上级党校。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("schools:detail", args=[self.pk])


class SchoolVenue(TimeStampedModel):
    """A venue of a school (教学场所): where its classes and scheduled sessions take place."""

    school = models.ForeignKey(PartySchool, on_delete=models.CASCADE, related_name="venues", verbose_name="党校")
    name = models.CharField("场所名称", max_length=100)
    address = models.CharField("地址", max_length=200, blank=True)
    capacity = models.PositiveIntegerField("容纳人数", null=True, blank=True)
    equipment = models.CharField("设备", max_length=200, blank=True)
    active = models.BooleanField("可用", default=True)
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "教学场所"
        verbose_name_plural = "教学场所"
        ordering = ["school", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="venue_unique_name_per_school"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name} · {self.name}"


class JointSchoolUnit(TimeStampedModel):
    """A member unit of a joint school (联合建校成员单位), in the order the principalship rotates."""

    school = models.ForeignKey(PartySchool, on_delete=models.CASCADE, related_name="member_units", verbose_name="党校")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="joint_schools", verbose_name="成员单位")
    rotation_order = models.PositiveSmallIntegerField("轮值顺序")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "联合建校成员单位"
        verbose_name_plural = "联合建校成员单位"
        ordering = ["school", "rotation_order"]
        constraints = [
            models.UniqueConstraint(fields=["school", "unit"], name="joint_unit_once_per_school"),
            models.UniqueConstraint(fields=["school", "rotation_order"], name="joint_unit_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name} · {self.unit.name}（第{self.rotation_order}位）"


class PrincipalTerm(TimeStampedModel):
    """Who is principal (校长) of a school in a year. In a joint school the principalship rotates yearly among
    the member units' secretaries: the system proposes next year's term, a person confirms it."""

    school = models.ForeignKey(
        PartySchool, on_delete=models.CASCADE, related_name="principal_terms", verbose_name="党校"
    )
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    name = models.CharField("校长姓名", max_length=50)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="党员"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="轮值单位"
    )
    confirmed = models.BooleanField("已确认", default=False)
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "校长任期"
        verbose_name_plural = "校长任期"
        ordering = ["school", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year"], name="principal_one_per_year"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year}年校长 {self.name}"


class SchoolAnnualPlan(TimeStampedModel):
    """A school's training plan for a year (年度培训计划), with the quotas it claimed at the start of the year
    (Xiqing: each school claims its training tasks; 年终对账 reconciles them at year end)."""

    school = models.ForeignKey(PartySchool, on_delete=models.CASCADE, related_name="plans", verbose_name="党校")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    plan = models.TextField("培训计划", blank=True)
    planned_classes = models.PositiveIntegerField("计划办班数", default=0)
    planned_trainees = models.PositiveIntegerField("计划培训人次", default=0)
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "年度培训计划"
        verbose_name_plural = "年度培训计划"
        ordering = ["school", "-year"]
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="plan_one_per_school_year")]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year}年度计划"


class FundingPurpose(models.TextChoices):
    TEACHING = "teaching", "教学培训"
    INSTRUCTORS = "instructors", "师资课酬"
    VENUE = "venue", "场地设备"
    MATERIALS = "materials", "教材资料"
    OTHER = "other", "其他"


class FundingLine(TimeStampedModel):
    """A line of a school's money for a year (经费), by purpose: allocated and spent (Xiqing's 三专: dedicated
    money, dedicated audit), so that a year's money can be checked against its classes."""

    school = models.ForeignKey(PartySchool, on_delete=models.CASCADE, related_name="funding", verbose_name="党校")
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    purpose = models.CharField("用途", max_length=20, choices=FundingPurpose.choices)
    allocated = models.DecimalField(
        "下拨金额（元）", max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    spent = models.DecimalField(
        "支出金额（元）", max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(ZERO)]
    )
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "经费"
        verbose_name_plural = "经费"
        ordering = ["school", "-year", "purpose"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "purpose"], name="funding_one_line_per_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year} {self.get_purpose_display()}"


class StandardScheme(models.TextChoices):
    XIQING = "xiqing", "西青“六有”（街镇党校）"
    HUANGPI = "huangpi", "黄陂“六有”（业余党校）"


class StandardItem(models.Model):
    """An item of the "六有" standard (configurable; defaults from the Xiqing and Huangpi seeds)."""

    scheme = models.CharField("标准", max_length=20, choices=StandardScheme.choices)
    code = models.CharField("编码", max_length=32)
    name = models.CharField("名称", max_length=50)
    description = models.CharField("说明", max_length=200, blank=True)
    order = models.PositiveSmallIntegerField("顺序", default=0)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "“六有”标准项"
        verbose_name_plural = "“六有”标准项"
        ordering = ["scheme", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="standard_item_code_unique")]

    def __str__(self) -> str:
        return self.name


def scheme_for(school: PartySchool) -> str:
    """Which 六有 standard applies to a school: Huangpi's for amateur schools, Xiqing's otherwise."""
    if school.level in (SchoolLevel.AMATEUR, SchoolLevel.AREA_AMATEUR):
        return StandardScheme.HUANGPI
    return StandardScheme.XIQING


class StandardCheck(TimeStampedModel):
    """A school's 六有 checklist entry for a year: whether the item is met, with a note and evidence."""

    school = models.ForeignKey(
        PartySchool, on_delete=models.CASCADE, related_name="standard_checks", verbose_name="党校"
    )
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    item = models.ForeignKey(StandardItem, on_delete=models.PROTECT, related_name="checks", verbose_name="标准项")
    met = models.BooleanField("达标", default=False)
    note = models.CharField("说明", max_length=500, blank=True)
    evidence = models.FileField("佐证材料", upload_to="schools/evidence/%Y/", blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "“六有”检查"
        verbose_name_plural = "“六有”检查"
        ordering = ["school", "-year", "item__order"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "item"], name="standard_check_once"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name} {self.year} {self.item.name}"
