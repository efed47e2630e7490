"""Member development (发展党员): every person on the way from applicant to full member, the record of each of the
25 steps, the contact people and introducers assigned, the one probation extension, and the yearly plan's quotas.

Source: 《中国共产党发展党员工作细则》(2014), summarised with its time rules in docs/development-of-members.md; the
step list itself is data (`data/steps.toml`, `development.steps`).

Scope. A person on the path belongs to their branch (`organization`): seen and recorded by the roles that act in
member development over a subtree holding it — committee staff and the branch secretary (the member editors); not
by party-school admins, instructors or plain members, for whom applicants' files are none of their business.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.core.fields import BlindIndexField, EncryptedTextField
from dangjian.core.models import TimeStampedModel
from dangjian.core.validators import mask_id_number, mask_phone, validate_not_future, validate_phone
from dangjian.members.models import Education, Gender, Member
from dangjian.orgs.models import Organization, ScopedQuerySet

DUPLICATE_CANDIDATE_MESSAGE = "该公民身份号码已登记在发展党员名册中，不能重复登记。"


class CandidateStage(models.TextChoices):
    """Where a person stands on the path (what the last recorded step made of them)."""

    APPLICANT = "applicant", "入党申请人"
    ACTIVIST = "activist", "入党积极分子"
    DEVELOPMENT = "development", "发展对象"
    PROBATIONARY = "probationary", "预备党员"
    FULL = "full", "已转正"


class DevelopmentQuerySet(ScopedQuerySet):
    """Rows seen by the roles that act in member development (the member editors: committee staff, secretaries)
    over a subtree holding the row's organization."""

    def scope_roots(self, access) -> tuple[str, ...]:
        return access.member_edit_roots


class CandidateQuerySet(DevelopmentQuerySet):
    scope_field = "organization"

    def open(self) -> CandidateQuerySet:
        """People still on the path (not yet full members, not stopped)."""
        return self.exclude(stage=CandidateStage.FULL).filter(stopped_on__isnull=True)


class Candidate(TimeStampedModel):
    """A person on the development path (发展对象名册中的人员: 入党申请人 → 入党积极分子 → 发展对象 → 预备党员 →
    正式党员). Their ID number and phone are encrypted at rest and shown masked; the number is found only whole,
    through its keyed hash. `stage` and `last_step` follow the recorded steps (written only by the services);
    reports read the dated step records instead, so that a closed year never changes."""

    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_date = models.DateField("出生日期", validators=[validate_not_future])
    id_number = EncryptedTextField("公民身份号码")
    id_number_digest = BlindIndexField(
        "公民身份号码索引", source="id_number", unique=True, error_messages={"unique": DUPLICATE_CANDIDATE_MESSAGE}
    )
    phone = EncryptedTextField("手机号码", max_length=20, blank=True, validators=[validate_phone])
    education = models.CharField("学历", max_length=32, choices=Education.choices, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="development_candidates", verbose_name="所在党支部"
    )
    stage = models.CharField(
        "所处阶段", max_length=16, choices=CandidateStage.choices, default=CandidateStage.APPLICANT
    )
    last_step = models.PositiveSmallIntegerField("已完成步骤", default=0)
    member = models.OneToOneField(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="development_candidate",
        verbose_name="党员名册记录",
    )
    stopped_on = models.DateField("终止培养日期", null=True, blank=True)
    stopped_reason = models.CharField("终止原因", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = CandidateQuerySet.as_manager()

    class Meta:
        verbose_name = "发展党员对象"
        verbose_name_plural = "发展党员对象"
        ordering = ["organization", "name", "pk"]
        indexes = [models.Index(fields=["organization", "stage"], name="dev_candidate_org_stage_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("development:detail", args=[self.pk])

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class StepRecordQuerySet(DevelopmentQuerySet):
    scope_field = "candidate__organization"


class StepRecord(models.Model):
    """The record of one step of one person's path (发展党员步骤纪实): its date, the people involved, a note, and —
    where a time rule allows one — the explicit exception and its reason. Each step is recorded once."""

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="steps", verbose_name="发展对象")
    number = models.PositiveSmallIntegerField("步骤", validators=[MinValueValidator(1), MaxValueValidator(99)])
    date = models.DateField("日期", validators=[validate_not_future])
    people = models.CharField("相关人员", max_length=200, blank=True)
    note = models.TextField("情况说明", blank=True, max_length=2000)
    exception_reason = models.CharField("例外情况说明", max_length=300, blank=True)
    exception_rule = models.CharField("例外所涉规定", max_length=300, blank=True)
    course_days = models.PositiveSmallIntegerField("培训天数", null=True, blank=True)
    course_hours = models.DecimalField("培训学时", max_digits=5, decimal_places=1, null=True, blank=True)
    hours_from_ledger = models.BooleanField("学时取自学时台账", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)
    history = HistoricalRecords()

    objects = StepRecordQuerySet.as_manager()

    class Meta:
        verbose_name = "发展步骤记录"
        verbose_name_plural = "发展步骤记录"
        ordering = ["candidate", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "number"],
                name="dev_step_once",
                violation_error_message="该步骤已登记，每个步骤只登记一次。",
            ),
            models.CheckConstraint(
                condition=models.Q(course_hours__isnull=True) | models.Q(course_hours__gte=Decimal("0")),
                name="dev_step_hours_positive",
            ),
        ]
        indexes = [models.Index(fields=["number", "date"], name="dev_step_number_date_idx")]

    def __str__(self) -> str:
        return f"{self.candidate}：第{self.number}步"


class ContactRole(models.TextChoices):
    CONTACT = "contact", "培养联系人"
    INTRODUCER = "introducer", "入党介绍人"


class ContactAssignmentQuerySet(DevelopmentQuerySet):
    scope_field = "candidate__organization"


class ContactAssignment(models.Model):
    """A full member of the branch assigned to a person on the path (培养联系人 / 入党介绍人), by the step that
    assigned them."""

    candidate = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="contacts", verbose_name="发展对象")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+", verbose_name="党员")
    role = models.CharField("身份", max_length=12, choices=ContactRole.choices)
    step = models.ForeignKey(StepRecord, on_delete=models.PROTECT, related_name="contacts", verbose_name="步骤")
    history = HistoricalRecords()

    objects = ContactAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = "培养联系人和入党介绍人"
        verbose_name_plural = "培养联系人和入党介绍人"
        ordering = ["candidate", "role", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["candidate", "member", "role"], name="dev_contact_once"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate}的{self.get_role_display()}{self.member}"


class ProbationExtensionQuerySet(DevelopmentQuerySet):
    scope_field = "candidate__organization"


class ProbationExtension(models.Model):
    """The one extension of a probationary member's probation (延长预备期), decided by the branch meeting at its end:
    6 to 12 months, once (the OneToOne keeps it to one)."""

    candidate = models.OneToOneField(
        Candidate, on_delete=models.PROTECT, related_name="extension", verbose_name="预备党员"
    )
    months = models.PositiveSmallIntegerField("延长月数", validators=[MinValueValidator(6), MaxValueValidator(12)])
    decided_on = models.DateField("支部大会决定日期", validators=[validate_not_future])
    reason = models.CharField("延长原因", max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = ProbationExtensionQuerySet.as_manager()

    class Meta:
        verbose_name = "延长预备期"
        verbose_name_plural = "延长预备期"

    def __str__(self) -> str:
        return f"{self.candidate}延长预备期{self.months}个月"


class PlanQuotaQuerySet(DevelopmentQuerySet):
    scope_field = "organization"


class PlanQuota(TimeStampedModel):
    """One organization's quota in a committee's yearly development plan (年度发展党员计划): how many people it plans
    to admit as probationary members in `year`. Delivery is counted from the approvals recorded (step 17)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="development_quotas", verbose_name="党组织"
    )
    year = models.PositiveSmallIntegerField("年度", validators=[MinValueValidator(2000), MaxValueValidator(2100)])
    quota = models.PositiveSmallIntegerField("计划发展数", validators=[MaxValueValidator(10000)])
    note = models.CharField("备注", max_length=200, blank=True)
    history = HistoricalRecords()

    objects = PlanQuotaQuerySet.as_manager()

    class Meta:
        verbose_name = "年度发展党员计划"
        verbose_name_plural = "年度发展党员计划"
        ordering = ["-year", "organization__path"]
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="dev_quota_once")]

    def __str__(self) -> str:
        return f"{self.organization}{self.year}年计划发展{self.quota}名"
