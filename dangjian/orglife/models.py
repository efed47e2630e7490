"""Organizational life (组织生活): the regular duties of party organizations (三会一课 and the rest) as policy rows,
and the records of the meetings and activities that fulfil them.

Sources (docs/rules.md, the Jianshi and Jiangsu seeds): the branch work regulation (支部党员大会 quarterly, 支委会 and
党小组会 monthly, 党课 quarterly), the member-education regulation (主题党日 monthly, 组织生活会 and 民主评议党员
yearly; 支委会 only where a committee exists: 正式党员7人以上的党支部设立支部委员会), the Jiangsu education work
committee's opinion (中心组学习 at least 6 times a year with at least 90% attendance of the group, branch
self-study monthly with 95% participation of the members), Jianshi's 2020 notice (建教党〔2020〕9号: party-building
work studied twice a year, each leadership-team member's yearly party lecture, the ideology work: a risk analysis
every month, two dedicated studies and one briefing a year, for every level of organization).

Scope. A record belongs to its organization: it is seen by whoever sees that organization's member data (the
roles granted on a subtree holding it) and by the members of that organization; it is written by the member
editors of the organization (committee staff above it, its secretary). Duties are rules that apply downwards:
seen like the hours policies.
"""

from __future__ import annotations

import datetime as dt
import uuid
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
from dangjian.orgs.models import BRANCH_KINDS, DownwardRuleQuerySet, Organization, OrgKind, ScopedQuerySet, subtree_q


class ActivityKind(models.TextChoices):
    GENERAL_MEETING = "general_meeting", "支部党员大会"
    COMMITTEE_MEETING = "committee_meeting", "支委会"
    GROUP_MEETING = "group_meeting", "党小组会"
    PARTY_LECTURE = "party_lecture", "党课"
    THEME_DAY = "theme_day", "主题党日"
    LIFE_MEETING = "life_meeting", "组织生活会"
    MEMBER_EVALUATION = "member_evaluation", "民主评议党员"
    CENTRAL_GROUP_STUDY = "central_group_study", "中心组学习"
    SELF_STUDY = "self_study", "支部自学交流"
    PARTY_WORK_STUDY = "party_work_study", "专题研究党建工作"
    IDEOLOGY_RISK = "ideology_risk", "意识形态风险研判"
    IDEOLOGY_STUDY = "ideology_study", "意识形态专题研究"
    IDEOLOGY_BRIEFING = "ideology_briefing", "意识形态工作通报"


class DutyApplies(models.TextChoices):
    BRANCHES = "branches", "党支部"
    ALL = "all", "全部党组织"
    LEADERSHIP = "leadership", "党委和党总支（领导班子）"
    COMMITTEES = "committees", "设委员会的党组织（党委、党总支、设支部委员会的党支部）"


# The organization kinds each `DutyApplies` covers.
LEADERSHIP_KINDS = frozenset({OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH})


def duty_applies_to_kind(applies_to: str, org_kind: str) -> bool:
    """Whether a duty of `applies_to` may apply to an organization of `org_kind`. A branch may still be left out by
    the duty's `min_members` (its full members as of the period): that is decided per period by the compliance
    selector, which knows the roster."""
    if applies_to == DutyApplies.ALL:
        return True
    if applies_to == DutyApplies.BRANCHES:
        return org_kind in BRANCH_KINDS
    if applies_to == DutyApplies.COMMITTEES:
        return org_kind in LEADERSHIP_KINDS or org_kind in BRANCH_KINDS
    return org_kind in LEADERSHIP_KINDS


class AttendanceBase(models.TextChoices):
    """Whom an attendance minimum is measured against: the people who should have attended on the record's date."""

    MEMBERS = "members", "本组织在册党员"
    LEADERSHIP = "leadership", "班子成员（中心组成员）"


class Frequency(models.TextChoices):
    MONTH = "month", "每月"
    QUARTER = "quarter", "每季度"
    HALF_YEAR = "half_year", "每半年"
    YEAR = "year", "每年"


# Months in one period of each frequency.
FREQUENCY_MONTHS: dict[str, int] = {
    Frequency.MONTH: 1,
    Frequency.QUARTER: 3,
    Frequency.HALF_YEAR: 6,
    Frequency.YEAR: 12,
}


class DutyQuerySet(DownwardRuleQuerySet):
    """Duties apply downwards: seen like every policy row (`orgs.models.DownwardRuleQuerySet`)."""


class Duty(TimeStampedModel):
    """An organizational-life requirement (组织生活要求): an activity kind that the organizations of a kind (branches,
    all, leadership teams, organizations with a committee) must hold at least `min_count` times in every period of
    `frequency`, optionally with a minimum attendance rate measured against `attendance_base` (the members on the
    roster of the record's date, or the leadership members); valid for a range of years and an owner's subtree
    (None: the whole system). `min_members` leaves out the branches with fewer full members (正式党员) at the end of
    the period (支委会: only branches of 7 or more, which elect a committee). For an organization, of the duties of
    one kind that match it, the most specific owner wins (then a duty for its own kind of organization over an
    all-organization one, then the newer one)."""

    name = models.CharField("名称", max_length=100)
    kind = models.CharField("活动类型", max_length=24, choices=ActivityKind.choices)
    applies_to = models.CharField(
        "适用党组织", max_length=12, choices=DutyApplies.choices, default=DutyApplies.BRANCHES
    )
    frequency = models.CharField("周期", max_length=12, choices=Frequency.choices)
    min_count = models.PositiveSmallIntegerField(
        "每周期最少次数", default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    min_attendance = models.DecimalField(
        "最低参会率（%）",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    attendance_base = models.CharField(
        "参会率计算基数",
        max_length=12,
        choices=AttendanceBase.choices,
        default=AttendanceBase.MEMBERS,
        help_text="设置最低参会率时，按活动当日应参加的人员计算：本组织在册党员，或班子成员（中心组成员）。",
    )
    min_members = models.PositiveSmallIntegerField(
        "党支部最少正式党员数",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="设置后，党支部仅在周期末正式党员达到该人数时适用（如支委会：正式党员7人以上的党支部设立支部委员会）；"
        "党委、党总支不受此限。",
    )
    per_member = models.BooleanField(
        "按每名班子成员计",
        default=False,
        help_text="勾选后，要求次数针对该党组织的每名班子成员（如每名班子成员每年至少讲1次党课），按主讲人统计。",
    )
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2019)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = DutyQuerySet.as_manager()

    class Meta:
        verbose_name = "组织生活要求"
        verbose_name_plural = "组织生活要求"
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="duty_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_frequency_display()}{self.min_count}次）"


# ---------------------------------------------------------------------------------------------------------
# Records


def lock_days() -> int:
    """Days after its date during which a record may still be edited (DANGJIAN_ORGLIFE_LOCK_DAYS, default 30)."""
    return int(getattr(settings, "DANGJIAN_ORGLIFE_LOCK_DAYS", 30))


class ActivityRecordQuerySet(ScopedQuerySet["ActivityRecord"]):
    """Records of the organizations whose member data the user sees (granted subtrees) and of their own branch."""

    own_branch = True

    def editable_by(self, user) -> ActivityRecordQuerySet:
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(access.member_edit_roots, "organization__path"))

    def in_subtree(self, org: Organization) -> ActivityRecordQuerySet:
        return self.filter(organization__path__startswith=org.path)

    def dangerously_all(self) -> ActivityRecordQuerySet:
        return self.all()


class ActivityRecord(TimeStampedModel):
    """A record of a meeting or activity (活动记录): organization, date, place, host, topic, agenda, minutes,
    decisions, attendance. One record may count for several kinds (a 主题党日 that is also the month's 党小组会:
    `ActivityRecordKind`). A party lecture names its lecturer. It locks `lock_days()` after its date; later changes
    go through `record_correct` and are logged (`RecordCorrection`). Written only through `orglife.services`."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="activity_records", verbose_name="党组织"
    )
    date = models.DateField("活动日期")
    place = models.CharField("地点", max_length=200, blank=True)
    host = models.CharField("主持人", max_length=50, blank=True)
    topic = models.CharField("主题", max_length=200)
    agenda = models.TextField("议程", blank=True)
    minutes = models.TextField("会议记录", blank=True)
    decisions = models.TextField("决定事项", blank=True)
    major_decision = models.BooleanField("“三重一大”事项", default=False)
    lecturer = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lectures_given",
        verbose_name="党课主讲人",
    )
    credit_hours = models.DecimalField(
        "计入学时",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="作为集中学习计入出席党员的学时台账（0.5的整数倍，不超过8学时）；不计入则留空。",
    )
    attendees = models.ManyToManyField(
        "members.Member", through="ActivityAttendance", related_name="activity_records", verbose_name="参会人员"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = ActivityRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "活动记录"
        verbose_name_plural = "活动记录"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["organization", "date"], name="activity_org_date_idx")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.topic}"

    def get_absolute_url(self) -> str:
        return reverse("orglife:record_detail", args=[self.pk])

    @property
    def locked_at(self) -> dt.date:
        """The day from which the record is locked (its date plus the lock period)."""
        return self.date + dt.timedelta(days=lock_days() + 1)

    def is_locked(self, today: dt.date | None = None) -> bool:
        return (today or timezone.localdate()) >= self.locked_at


class ActivityRecordKind(models.Model):
    """A kind a record counts for (活动类型): one row per record and kind, so that counting per kind is one indexed
    query on both databases."""

    record = models.ForeignKey(ActivityRecord, on_delete=models.CASCADE, related_name="kinds", verbose_name="活动记录")
    kind = models.CharField("活动类型", max_length=24, choices=ActivityKind.choices)

    class Meta:
        verbose_name = "活动类型"
        verbose_name_plural = "活动类型"
        ordering = ["record", "kind"]
        constraints = [models.UniqueConstraint(fields=["record", "kind"], name="activity_kind_once")]
        indexes = [models.Index(fields=["kind", "record"], name="activity_kind_record_idx")]

    def __str__(self) -> str:
        return self.get_kind_display()


class ActivityAttendance(models.Model):
    """A member's attendance at an activity (参会情况): present, or absent with the reason (请假/缺席原因). Only the
    organization's active members; a member is listed once, so the attendance rate cannot exceed 100%."""

    record = models.ForeignKey(
        ActivityRecord, on_delete=models.CASCADE, related_name="attendances", verbose_name="活动记录"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="activity_attendances", verbose_name="党员"
    )
    present = models.BooleanField("出席", default=True)
    absence_reason = models.CharField("缺席原因", max_length=100, blank=True)

    class Meta:
        verbose_name = "参会情况"
        verbose_name_plural = "参会情况"
        ordering = ["record", "-present", "pk"]
        constraints = [models.UniqueConstraint(fields=["record", "member"], name="activity_attendance_once")]

    def __str__(self) -> str:
        return f"{self.member} {'出席' if self.present else '缺席'}"


class RecordCorrection(models.Model):
    """A correction of a locked record (更正记录): who, when, what changed (field → [old, new]) and why."""

    record = models.ForeignKey(
        ActivityRecord, on_delete=models.CASCADE, related_name="corrections", verbose_name="活动记录"
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    corrected_at = models.DateTimeField("更正时间", default=timezone.now)
    changes = models.JSONField("更正内容", default=dict)
    reason = models.CharField("更正原因", max_length=200)

    class Meta:
        verbose_name = "更正记录"
        verbose_name_plural = "更正记录"
        ordering = ["-corrected_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.record} 更正于 {self.corrected_at:%Y-%m-%d}"


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", "活动照片"
    SIGN_IN = "sign_in", "签到表"
    MATERIAL = "material", "会议材料"
    OTHER = "other", "其他"


def _attachment_path(instance: RecordAttachment, filename: str) -> str:
    # The stored name is ours, not the uploader's: the original name is kept in `name` for display.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"orglife/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.{suffix}"


class RecordAttachment(models.Model):
    """An attachment of a record (附件): a photo, a sign-in sheet scan, the meeting's materials. Served only through
    the record's scope (never statically). Added to a locked record only through the correction path (logged)."""

    record = models.ForeignKey(
        ActivityRecord, on_delete=models.CASCADE, related_name="attachments", verbose_name="活动记录"
    )
    kind = models.CharField("附件类型", max_length=12, choices=AttachmentKind.choices, default=AttachmentKind.PHOTO)
    file = models.FileField("文件", upload_to=_attachment_path)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "活动附件"
        verbose_name_plural = "活动附件"
        ordering = ["record", "kind", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.file.name.rsplit(".", 1)[-1].lower() in ("jpg", "jpeg", "png")


class RecordHoursCredit(models.Model):
    """The hours-ledger entries a study record wrote (学时计入): one row per entry, so that changing the record's
    attendance or hours reverses exactly what it credited. Owned by orglife: the ledger does not know about
    records."""

    record = models.ForeignKey(
        ActivityRecord, on_delete=models.PROTECT, related_name="hours_credits", verbose_name="活动记录"
    )
    entry = models.OneToOneField(
        "training.HoursEntry", on_delete=models.PROTECT, related_name="activity_credit", verbose_name="学时记录"
    )

    class Meta:
        verbose_name = "组织生活学时"
        verbose_name_plural = "组织生活学时"

    def __str__(self) -> str:
        return f"{self.record} → {self.entry_id}"
