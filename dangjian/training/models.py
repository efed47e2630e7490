"""Training and hours (培训与学时): classes and their sessions, filing before they run (办班事前备案), enrollment,
sign-in, the hours ledger (学时台账) with each member's yearly totals, and the hours requirements (学时要求).

Sources: the national member-education regulation (32 hours of concentrated study a year, cited by Xiqing), the
Jiangsu opinion (24 hours for members, 40 for leadership-team members), the Huangpi report (hours registered per
cadre; a short year bars 优秀 in the appraisal; three years' hours for promotion; teaching and premium courses earn
hours; its 办班事前备案 rules catch 多头调训, 重复调训, 长期漏训), the Xiqing report (quotas reconciled at year end).

Scope. A class belongs to its organizer (an organization; a school's class to the school's organization); it is seen
by the school roles and the branch roles whose subtrees hold the organizer, and — read-only, their own enrollment —
by the members enrolled. Ledger entries and totals follow the member (`Member.objects.visible_to`).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.accounts.access import access_for
from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import Organization, ancestor_paths, subtree_q

ZERO = Decimal("0")
HALF = Decimal("0.5")


# ---------------------------------------------------------------------------------------------------------
# Classes and sessions


class ClassStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    FILED = "filed", "已备案待审批"
    APPROVED = "approved", "已批准（报名中）"
    REJECTED = "rejected", "已退回"
    FINISHED = "finished", "已结班"


class TrainingClassQuerySet(models.QuerySet["TrainingClass"]):
    def visible_to(self, user) -> TrainingClassQuerySet:
        """Classes organized inside the user's school or branch subtrees; approved (and finished) classes organized
        above them — a district's class is open to the branches below it; and the classes they are enrolled in."""
        access = access_for(user)
        if access.system:
            return self.all()
        roots = access.school_view_roots
        q = subtree_q(roots, "organizer__path") | Q(
            organizer__path__in=ancestor_paths(roots), status__in=(ClassStatus.APPROVED, ClassStatus.FINISHED)
        )
        if access.user_id is not None:
            mine = Enrollment.objects.filter(member__user_id=access.user_id, withdrawn_at__isnull=True)
            q |= Q(pk__in=mine.values("training_class_id"))
        return self.filter(q)

    def managed_by(self, user) -> TrainingClassQuerySet:
        """Classes the user may run (organizer inside a school-managing role's subtree)."""
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(access.school_manage_roots, "organizer__path"))

    def dangerously_all(self) -> TrainingClassQuerySet:
        return self.all()


class TrainingClass(TimeStampedModel):
    """A training class (培训班): a run of sessions with enrolled members, organized by an organization or a school.

    Filed before it runs (办班事前备案, Huangpi) and approved by the committee of the organizer's scope before
    enrollment opens to the branches; the filing records the warnings found then over the planned roster
    (重复调训, 多头调训, 长期漏训 candidates)."""

    title = models.CharField("培训班名称", max_length=100)
    organizer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="training_classes", verbose_name="主办党组织"
    )
    school = models.ForeignKey(
        "schools.PartySchool",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="classes",
        verbose_name="承办党校",
    )
    target_group = models.CharField("培训对象", max_length=100, blank=True)
    description = models.TextField("培训内容", blank=True)
    planned_headcount = models.PositiveIntegerField("计划人数", default=0, validators=[MaxValueValidator(100000)])
    starts_on = models.DateField("开班日期")
    ends_on = models.DateField("结班日期")
    status = models.CharField("状态", max_length=12, choices=ClassStatus.choices, default=ClassStatus.DRAFT)
    filed_at = models.DateTimeField("备案时间", null=True, blank=True)
    filing_warnings = models.JSONField("备案提示", default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    rejection_reason = models.CharField("退回原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = TrainingClassQuerySet.as_manager()

    class Meta:
        verbose_name = "培训班"
        verbose_name_plural = "培训班"
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["organizer", "starts_on"], name="class_organizer_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="class_ends_after_start",
                violation_error_message="结班日期不能早于开班日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("training:class_detail", args=[self.pk])

    @property
    def enrollment_open(self) -> bool:
        return self.status == ClassStatus.APPROVED


class SessionStatus(models.TextChoices):
    OPEN = "open", "未结束"
    CLOSED = "closed", "已结束（考勤已确认）"


class TrainingSessionQuerySet(models.QuerySet["TrainingSession"]):
    def visible_to(self, user) -> TrainingSessionQuerySet:
        return self.filter(training_class__in=TrainingClass.objects.visible_to(user).values("pk"))

    def dangerously_all(self) -> TrainingSessionQuerySet:
        return self.all()


class TrainingSession(TimeStampedModel):
    """A session of a class (班次课程): date and time, venue, instructor, hours; its QR sign-in (扫码签到) is valid in
    its time window; attendance is final, and credited to the hours ledger, when the organizer closes it."""

    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.CASCADE, related_name="sessions", verbose_name="培训班"
    )
    title = models.CharField("课程名称", max_length=100)
    course = models.ForeignKey(
        "schools.Course", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="目录课程"
    )
    instructor = models.ForeignKey(
        "schools.Instructor",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_sessions",
        verbose_name="授课讲师",
    )
    booking = models.OneToOneField(
        "schools.BookingRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_session",
        verbose_name="来源约课",
    )
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    venue = models.CharField("地点", max_length=200, blank=True)
    hours = models.DecimalField(
        "学时", max_digits=4, decimal_places=1, validators=[MinValueValidator(HALF), MaxValueValidator(Decimal("24"))]
    )
    # The short code a member types when the QR code cannot be scanned; the QR code carries a signed token.
    short_code = models.CharField("签到码", max_length=8, unique=True)
    status = models.CharField("状态", max_length=10, choices=SessionStatus.choices, default=SessionStatus.OPEN)
    closed_at = models.DateTimeField("结束时间（确认考勤）", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        verbose_name = "培训课次"
        verbose_name_plural = "培训课次"
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_start",
                violation_error_message="结束时间必须晚于开始时间。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.training_class.title} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("training:session_detail", args=[self.pk])


class EnrollmentSource(models.TextChoices):
    MANUAL = "manual", "逐个报名"
    ORGANIZATION = "organization", "按组织报名"
    IMPORT = "import", "导入名单"


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def active(self) -> EnrollmentQuerySet:
        return self.filter(withdrawn_at__isnull=True)


class Enrollment(TimeStampedModel):
    """A member enrolled in a class (报名/调训). Withdrawal keeps the row."""

    training_class = models.ForeignKey(
        TrainingClass, on_delete=models.CASCADE, related_name="enrollments", verbose_name="培训班"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="enrollments", verbose_name="党员"
    )
    source = models.CharField("报名方式", max_length=16, choices=EnrollmentSource.choices)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField("退出时间", null=True, blank=True)
    history = HistoricalRecords()

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        ordering = ["training_class", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["training_class", "member"], name="enrollment_once_per_class"),
        ]

    def __str__(self) -> str:
        return f"{self.member} → {self.training_class}"


class AttendanceMethod(models.TextChoices):
    QR = "qr", "扫码签到"
    CODE = "code", "签到码"
    MANUAL = "manual", "组织者标记"


class Attendance(models.Model):
    """A member's attendance at a session (签到): by QR code, short code, or marked by the organizer."""

    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendances", verbose_name="课次"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="attendances", verbose_name="党员"
    )
    method = models.CharField("签到方式", max_length=10, choices=AttendanceMethod.choices)
    signed_at = models.DateTimeField("签到时间", auto_now_add=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "签到"
        verbose_name_plural = "签到"
        ordering = ["session", "signed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["session", "member"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.member} @ {self.session}"


# ---------------------------------------------------------------------------------------------------------
# The hours ledger (学时台账) and the yearly totals kept beside it


class HoursKind(models.TextChoices):
    CONCENTRATED = "concentrated", "集中培训"
    ONLINE = "online", "网络学习"
    TEACHING = "teaching", "授课奖励"
    PREMIUM = "premium", "精品课程奖励"
    EXTERNAL = "external", "外部认定"
    MANUAL = "manual", "手工补录"


# Kinds whose entries need a stated reason (they are not backed by a session of the system).
KINDS_NEEDING_REASON = frozenset({HoursKind.EXTERNAL, HoursKind.MANUAL})

# The column of MemberHoursYear that holds each kind's total.
KIND_FIELDS: dict[str, str] = {
    HoursKind.CONCENTRATED: "concentrated",
    HoursKind.ONLINE: "online",
    HoursKind.TEACHING: "teaching",
    HoursKind.PREMIUM: "premium",
    HoursKind.EXTERNAL: "external",
    HoursKind.MANUAL: "manual",
}


class HoursEntryQuerySet(models.QuerySet["HoursEntry"]):
    def visible_to(self, user) -> HoursEntryQuerySet:
        from dangjian.members.models import Member

        return self.filter(member__in=Member.objects.visible_to(user).values("pk"))

    def dangerously_all(self) -> HoursEntryQuerySet:
        return self.all()


class HoursEntry(models.Model):
    """One credit of the hours ledger (学时记录): member, date, hours (in steps of 0.5), kind, source, who recorded it.

    Never edited in place: a correction is a reversing entry (`reverses`, negated hours) plus a new one, so the
    ledger always adds up and shows its history. Every write goes through `training.services` (ledger), which
    keeps MemberHoursYear equal to the ledger's sums in the same transaction."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="hours_entries", verbose_name="党员"
    )
    year = models.PositiveSmallIntegerField("年度")
    date = models.DateField("日期")
    hours = models.DecimalField("学时", max_digits=5, decimal_places=1)
    kind = models.CharField("类型", max_length=16, choices=HoursKind.choices)
    session = models.ForeignKey(
        TrainingSession, on_delete=models.PROTECT, null=True, blank=True, related_name="hours_entries"
    )
    course = models.ForeignKey("schools.Course", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    document = models.CharField("依据", max_length=200, blank=True)
    reason = models.CharField("原因", max_length=200, blank=True)
    # Hours earned on another platform (省干部网络学院, another department's training): where, and the course's title
    # there. An import recognizes a row it has already credited by (source, member, title, date) (docs/imports.md).
    source = models.CharField("来源", max_length=100, blank=True)
    title = models.CharField("课程名称", max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name="冲销"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = HoursEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "学时记录"
        verbose_name_plural = "学时台账"
        ordering = ["-date", "-pk"]
        indexes = [
            models.Index(fields=["member", "year"], name="hours_member_year_idx"),
            models.Index(fields=["source", "member", "date"], name="hours_source_idx", condition=~models.Q(source="")),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.date} {self.get_kind_display()} {self.hours}"


class MemberHoursYear(models.Model):
    """A member's hours in a year by kind (学时年度汇总), kept equal to the ledger's sums: every ledger write updates
    it in the same transaction (F() updates), and `verify_hours` proves it. Reports read this, never re-add the
    whole ledger."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="hours_years", verbose_name="党员"
    )
    year = models.PositiveSmallIntegerField("年度")
    concentrated = models.DecimalField("集中培训", max_digits=6, decimal_places=1, default=ZERO)
    online = models.DecimalField("网络学习", max_digits=6, decimal_places=1, default=ZERO)
    teaching = models.DecimalField("授课奖励", max_digits=6, decimal_places=1, default=ZERO)
    premium = models.DecimalField("精品课程奖励", max_digits=6, decimal_places=1, default=ZERO)
    external = models.DecimalField("外部认定", max_digits=6, decimal_places=1, default=ZERO)
    manual = models.DecimalField("手工补录", max_digits=6, decimal_places=1, default=ZERO)
    total = models.DecimalField("合计", max_digits=7, decimal_places=1, default=ZERO)
    last_entry_on = models.DateField("最近记录日期", null=True, blank=True)

    class Meta:
        verbose_name = "学时年度汇总"
        verbose_name_plural = "学时年度汇总"
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="hours_year_once")]
        indexes = [models.Index(fields=["year", "member"], name="hours_year_member_idx")]

    def __str__(self) -> str:
        return f"{self.member} {self.year}年 {self.total}学时"


class HoursYearClose(TimeStampedModel):
    """A year's hours closed (学时年度关账) for an organization's subtree: once the committee has signed the year's
    figures, no entry is credited, reversed or corrected in that year for a member who belonged to the subtree at
    the year's end (`training.services.year_close`), so the signed reports never change (docs/rules.md, "How the rules
    combine": a report of a closed period never changes afterwards). Reopening deletes the row, with its reason in
    the history (and the audit trail)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="hours_year_closes", verbose_name="关账党组织"
    )
    year = models.PositiveSmallIntegerField("年度")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="关账人",
    )
    note = models.CharField("说明", max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "学时年度关账"
        verbose_name_plural = "学时年度关账"
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="hours_year_close_once")]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}年度学时关账"


# ---------------------------------------------------------------------------------------------------------
# Requirements (学时要求)


class PolicyApplies(models.TextChoices):
    ALL = "all", "全体党员"
    LEADERSHIP = "leadership", "班子成员"
    DISTRICT_CADRE = "district_cadre", "区管干部"
    SECRETARIES = "secretaries", "支部书记和委员"


class ProRating(models.TextChoices):
    """How a member who joined or left the party during the year is treated (a move between organizations never
    pro-rates: the member was in the party all year)."""

    FULL = "full", "按全年要求"
    MONTHS = "months", "按在党月数折算"


class HoursPolicyQuerySet(models.QuerySet["HoursPolicy"]):
    def visible_to(self, user) -> HoursPolicyQuerySet:
        """Policies owned inside the user's subtrees or by an ancestor of one of them (they apply downwards), and the
        system-wide ones, which apply to everybody (rules, not member data)."""
        access = access_for(user)
        if access.system:
            return self.all()
        roots = access.view_roots
        return self.filter(
            Q(owner__isnull=True) | subtree_q(roots, "owner__path") | Q(owner__path__in=ancestor_paths(roots))
        )

    def dangerously_all(self) -> HoursPolicyQuerySet:
        return self.all()


class HoursPolicy(TimeStampedModel):
    """A training-hours requirement (学时要求): hours of concentrated study (集中学习培训) a year, valid for a range of
    years and an owner's subtree, for all members or those with a flag. Seeded switched on (docs/rules.md, "How the
    rules combine"): 32 hours a year for every member (national regulation, cited by Xiqing); Jiangsu education: 24
    for members, 40 for leadership-team members; the optional 56 hours for secretaries and committee members is
    seeded off. Of the rules that apply to a member, the strictest (highest requirement) wins; its online cap and
    pro-rating come with it. Online hours count only up to `online_cap` (default 0; empty: no cap)."""

    name = models.CharField("名称", max_length=100)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="适用党组织"
    )  # None: the whole system
    applies_to = models.CharField("适用对象", max_length=20, choices=PolicyApplies.choices, default=PolicyApplies.ALL)
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2019)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    required_hours = models.DecimalField(
        "年度要求学时", max_digits=5, decimal_places=1, validators=[MinValueValidator(ZERO)]
    )
    online_cap = models.DecimalField(
        "网络学习计入上限",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        default=ZERO,
        validators=[MinValueValidator(ZERO)],
        help_text="要求的是集中学习培训：网络学习最多计入的学时，默认0（不计入）；留空为不设上限。",
    )
    pro_rating = models.CharField(
        "年中入党或离开党组织", max_length=10, choices=ProRating.choices, default=ProRating.FULL
    )
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = HoursPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = "学时要求"
        verbose_name_plural = "学时要求"
        ordering = ["valid_from", "pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.required_hours}学时）"
