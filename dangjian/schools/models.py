"""Party schools (党校): schools, their venues, principals, plans, money and the 六有 checklist; the instructor
pool (师资库) and its points (积分); the course catalog (课程), modules and premium-course rounds (精品课程评选);
menu-style booking (约课 → 选课点单 → 排课派单); the annual evaluation and ranking (考评).

Sources: the Xiqing report (street/town party schools: 六有, three instructor teams, the 40/40/20 module mix,
quotas and 年终对账) and the Huangpi report (amateur schools: 六有/六个一, seven course categories, instructor
points, the annual ranking top 3 → 示范, top 15% → 优秀, the last → 不合格).

Scope. A school belongs to the organization that runs it; the catalog, the instructor pool, modules, point
rules and premium rounds belong to an owning organization too and are shared downwards: a user sees what is
owned inside their subtrees and what is owned by an ancestor of one of their subtree roots (a town school
picks from the district's catalog). Changes need a school-managing role (工委工作人员 or 党校管理员) over the
owner.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.accounts.access import access_for
from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import Organization, ScopedQuerySet, Unit, ancestor_paths, subtree_q

school_code_validator = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z_-]{1,31}$", "编码只能由字母、数字、下划线或短横线组成，长度2-32位。"
)
ZERO = Decimal("0")


def school_view_roots(user) -> tuple[str, ...]:
    """The subtree roots in which the user sees party-school data."""
    return access_for(user).school_view_roots


def school_manage_roots(user) -> tuple[str, ...]:
    """The subtree roots in which the user may change party-school data."""
    return access_for(user).school_manage_roots


def shared_q(user, field: str = "owner") -> Q:
    """Rows owned inside the user's school subtrees, or by an ancestor of one of them (shared downwards)."""
    roots = school_view_roots(user)
    return subtree_q(roots, f"{field}__path") | Q(**{f"{field}__path__in": ancestor_paths(roots)})


class SchoolScopedQuerySet(ScopedQuerySet):
    """Party-school rows (`orgs.models.ScopedQuerySet`) seen through the school roles' subtrees; with
    `shared_downwards`, also the rows owned by an ancestor (a district's catalog serves the schools below)."""

    shared_downwards = False

    def scope_roots(self, access) -> tuple[str, ...]:
        return school_view_roots(access)

    def visible_to(self, user):
        if self.shared_downwards and not access_for(user).system:
            return self.filter(shared_q(access_for(user), self.scope_field))
        return super().visible_to(user)

    def manageable_by(self, user):
        """The rows the user may change: owned inside a subtree of a school-managing role."""
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(school_manage_roots(access), f"{self.scope_field}__path"))


def school_scoped(field: str, *, shared: bool = False) -> type[SchoolScopedQuerySet]:
    return type(
        f"SchoolScopedQuerySet_{field}", (SchoolScopedQuerySet,), {"scope_field": field, "shared_downwards": shared}
    )


# ---------------------------------------------------------------------------------------------------------
# Schools


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


# ---------------------------------------------------------------------------------------------------------
# Instructor pool (师资库) and points (积分)


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


# ---------------------------------------------------------------------------------------------------------
# Course catalog (课程)


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


# ---------------------------------------------------------------------------------------------------------
# The 上讲台 duty (Huangpi: leaders teach at party schools)


class LectureDutyWho(models.TextChoices):
    DISTRICT_LEADERS = "district_leaders", "区级领导（最上级党组织的现任书记、副书记、委员）"
    DISTRICT_CADRES = "district_cadres", "处级干部（标记为区管干部的党员）"
    LEADERSHIP = "leadership", "班子成员（标记为班子成员的党员）"


class LectureDutyWhere(models.TextChoices):
    DISTRICT = "district", "区委党校"
    AMATEUR = "amateur", "业余党校（含片区业余党校）"
    TOWN = "town", "街镇党校"
    ANY = "any", "任一党校"


# The school levels at which a lecture counts for each `where`.
LECTURE_DUTY_LEVELS: dict[str, tuple[str, ...]] = {
    LectureDutyWhere.DISTRICT: (SchoolLevel.DISTRICT,),
    LectureDutyWhere.AMATEUR: (SchoolLevel.AMATEUR, SchoolLevel.AREA_AMATEUR),
    LectureDutyWhere.TOWN: (SchoolLevel.TOWN,),
    LectureDutyWhere.ANY: tuple(SchoolLevel.values),
}


class LectureDuty(TimeStampedModel):
    """A 上讲台 duty (领导干部上讲台任务): who must teach (`who`: district leaders by their party posts at the top
    organization, division-level cadres by the 区管干部 flag, or leadership-team members by the 班子成员 flag), where
    (`where`: the level of the party school), how many times a year, for a range of years. Seeded switched on from
    the Huangpi seed (《关于建立黄陂区领导干部上讲台制度的实施意见（试行）》: 区级领导每年至少上党校讲台一次，
    处级干部每年至少在业余党校、本系统论坛讲坛授课一次). A lecture is a completed booking (约课) or a closed
    session (课次) taught by an instructor linked to the member, at a school of that level
    (`selectors.lecture_duty`)."""

    name = models.CharField("名称", max_length=100)
    who = models.CharField("任务对象", max_length=20, choices=LectureDutyWho.choices)
    where = models.CharField("授课党校", max_length=20, choices=LectureDutyWhere.choices)
    times_per_year = models.PositiveSmallIntegerField(
        "每年至少次数", default=1, validators=[MinValueValidator(1), MaxValueValidator(52)]
    )
    valid_from = models.PositiveSmallIntegerField(
        "起始年度", default=2000, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    valid_to = models.PositiveSmallIntegerField(
        "截止年度", null=True, blank=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    source = models.CharField("依据", max_length=300, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "上讲台任务"
        verbose_name_plural = "上讲台任务"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="lecture_duty_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def levels(self) -> tuple[str, ...]:
        return LECTURE_DUTY_LEVELS[self.where]


# ---------------------------------------------------------------------------------------------------------
# Menu-style booking (约课 → 选课点单 → 排课派单)


class BookingStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    SCHEDULED = "scheduled", "已排课"
    COMPLETED = "completed", "已完成"
    RETURNED = "returned", "已退回"


class BookingRequest(TimeStampedModel):
    """A booking request (约课邀请函): a school names its needs and picks catalog courses; the district party
    school schedules it, assigning an instructor, a time and a venue (排课派单)."""

    school = models.ForeignKey(PartySchool, on_delete=models.PROTECT, related_name="bookings", verbose_name="约课党校")
    dispatcher = models.ForeignKey(
        PartySchool, on_delete=models.PROTECT, related_name="dispatched_bookings", verbose_name="派单党校"
    )
    topic = models.CharField("培训主题", max_length=100)
    target_group = models.CharField("培训对象", max_length=20, choices=TargetGroup.choices)
    headcount = models.PositiveIntegerField("人数", validators=[MinValueValidator(1), MaxValueValidator(10000)])
    wanted_from = models.DateField("期望开始日期")
    wanted_to = models.DateField("期望截止日期")
    venue_note = models.CharField("期望场地", max_length=200, blank=True)
    courses = models.ManyToManyField(Course, related_name="bookings", verbose_name="所选课程")
    status = models.CharField("状态", max_length=12, choices=BookingStatus.choices, default=BookingStatus.DRAFT)
    instructor = models.ForeignKey(
        Instructor, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings", verbose_name="授课讲师"
    )
    starts_at = models.DateTimeField("开始时间", null=True, blank=True)
    ends_at = models.DateTimeField("结束时间", null=True, blank=True)
    venue = models.ForeignKey(
        SchoolVenue, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings", verbose_name="场地"
    )
    returned_reason = models.CharField("退回原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[courses])

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "约课"
        verbose_name_plural = "约课"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["instructor", "starts_at"], name="booking_instructor_time_idx"),
            models.Index(fields=["venue", "starts_at"], name="booking_venue_time_idx"),
            models.Index(fields=["dispatcher", "status"], name="booking_dispatcher_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name}：{self.topic}"

    def get_absolute_url(self) -> str:
        return reverse("schools:booking_detail", args=[self.pk])


class BookingEvent(models.Model):
    """One step of a booking's trail: who moved it from which state to which, when, and why."""

    booking = models.ForeignKey(BookingRequest, on_delete=models.CASCADE, related_name="events", verbose_name="约课")
    from_status = models.CharField("原状态", max_length=12, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=12, choices=BookingStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "约课办理记录"
        verbose_name_plural = "约课办理记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.booking} {self.get_to_status_display()}"


# ---------------------------------------------------------------------------------------------------------
# Annual evaluation and ranking (考评)


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
