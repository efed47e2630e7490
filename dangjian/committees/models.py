"""Committee terms (换届) and organization setup (组织设置): the policy rows that set the terms and the setup
thresholds, the terms of office of organizations' committees and the seats held in them; the schedules of the
periodic setup reports (报送安排) and the filings of them (组织设置报送).

Sources. Jianshi seed (004, 建教党〔2020〕9号): "每季度对各学校基层党组织设置情况进行一次清理，每半年将组织设置情况
上报一次；上级党组织对任期届满的党支部提前6个月通知，提醒做好换届准备；对因人事变化出现的支委委员在任期内空缺的，
及时进行补选". docs/rules.md, from the branch work regulation (中国共产党支部工作条例（试行）, 2018): a branch needs at
least 3 full members and usually has at most 50; a joint branch covers at most 5 units; a branch of 7 or more full
members sets up a committee; branch committees serve 3 years; 基层党委 5 years (2020 election regulation). Every
number is a policy row (data migration 0002) that a scope may override.

Reports. The same seed: "每季度对各学校基层党组织设置情况进行一次清理，每半年将组织设置情况上报一次" — a quarterly
review and a half-year report, owed by default by the work committees and 党委 (data migration 0004), due 15
days after the period (a project default: the seed gives no deadline).

Scope. A term and its seats belong to the organization: seen by whoever sees that organization's member data (the
roles granted on a subtree holding it) and by the members of the organization; written by its member editors
(committee staff above it, its secretary). Policies are rules that apply downwards: seen like orglife duties.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import DownwardRuleQuerySet, Organization, OrgKind, ScopedQuerySet


class PolicyQuerySet(DownwardRuleQuerySet):
    """Committee policies apply downwards: seen like every policy row (`orgs.models.DownwardRuleQuerySet`)."""


class PolicyBase(TimeStampedModel):
    """What every committee policy row has: an owner's subtree (None: the whole system) and a range of years."""

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2018)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)

    objects = PolicyQuerySet.as_manager()

    class Meta:
        abstract = True


class TermPolicy(PolicyBase):
    """A term policy (任期规定): the committees of organizations of one kind serve `term_years`; their
    re-election is announced `warn_months` before the term ends (建始: 提前6个月通知). For an organization, of the
    policies for its kind valid in the year, the most specific owner wins, then the newer row."""

    org_kind = models.CharField("组织类别", max_length=20, choices=OrgKind.choices)
    term_years = models.PositiveSmallIntegerField(
        "每届任期（年）", validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    warn_months = models.PositiveSmallIntegerField(
        "提前提醒（月）", default=6, validators=[MinValueValidator(0), MaxValueValidator(24)]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "任期规定"
        verbose_name_plural = "任期规定"
        ordering = ["org_kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="term_policy_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_org_kind_display()}每届{self.term_years}年"


class SetupPolicy(PolicyBase):
    """The organization-setup thresholds (组织设置规定) of the branch work regulation: a branch needs at least
    `min_full_members` full members; from `committee_required_at` full members it sets up a committee; it should
    not exceed `max_members` members; a joint branch should not cover more than `max_joint_units` units. The most
    specific owner valid in the year wins, then the newer row."""

    name = models.CharField("名称", max_length=100, default="党组织设置规定")
    min_full_members = models.PositiveSmallIntegerField(
        "最少正式党员数", default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    committee_required_at = models.PositiveSmallIntegerField(
        "应设支委会的正式党员数", default=7, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    max_members = models.PositiveSmallIntegerField(
        "党员数上限", default=50, validators=[MinValueValidator(1), MaxValueValidator(5000)]
    )
    max_joint_units = models.PositiveSmallIntegerField(
        "联合党支部覆盖单位上限", default=5, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "组织设置规定"
        verbose_name_plural = "组织设置规定"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="setup_policy_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TermStatus(models.TextChoices):
    CURRENT = "current", "本届"
    ENDED = "ended", "已换届"


class CommitteeTermQuerySet(ScopedQuerySet["CommitteeTerm"]):
    """Terms of the organizations whose member data the user sees (granted subtrees) and of their own branch."""

    own_branch = True

    def current(self) -> CommitteeTermQuerySet:
        return self.filter(status=TermStatus.CURRENT)


class CommitteeTerm(TimeStampedModel):
    """A term of office of an organization's committee (届): elected on `elected_on` (换届选举) for `term_years`
    (the term policy's value at the election, stored so that a later policy change does not move it), ending on
    `ends_on` (the last day of the term). At most one current term per organization; a new election ends it
    (`ended_on`: the day before the new election). `seats`: how many committee members the term has (委员职数).
    Written only through `committees.services`."""

    # CASCADE only matters when whole data sets are wiped (tests, demo): the app deletes neither organizations
    # holding records nor members.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="committee_terms", verbose_name="党组织"
    )
    elected_on = models.DateField("选举日期")
    term_years = models.PositiveSmallIntegerField("任期（年）", validators=[MinValueValidator(1)])
    ends_on = models.DateField("任期届满日期")
    status = models.CharField("状态", max_length=12, choices=TermStatus.choices, default=TermStatus.CURRENT)
    ended_on = models.DateField("结束日期", null=True, blank=True)
    seats = models.PositiveSmallIntegerField(
        "委员职数", validators=[MinValueValidator(1), MaxValueValidator(31)], default=3
    )
    notes = models.TextField("备注", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = CommitteeTermQuerySet.as_manager()

    class Meta:
        verbose_name = "委员会任期"
        verbose_name_plural = "委员会任期"
        ordering = ["-elected_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(status="current"),
                name="committee_term_one_current",
                violation_error_message="该党组织已有本届委员会。",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("elected_on")),
                name="committee_term_ends_after_election",
                violation_error_message="任期届满日期应晚于选举日期。",
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_on"], name="committee_term_status_end_idx")]

    def __str__(self) -> str:
        return f"{self.organization} {self.elected_on:%Y-%m-%d}选举（{self.term_years}年）"

    @property
    def is_current(self) -> bool:
        return self.status == TermStatus.CURRENT

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_current and today > self.ends_on


class Position(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    ORGANIZATION = "organization", "组织委员"
    PUBLICITY = "publicity", "宣传委员"
    DISCIPLINE = "discipline", "纪检委员"
    MEMBER = "member", "委员"


# Positions one person holds at a time in a committee; 副书记 and 委员 may be several.
SINGLE_POSITIONS = frozenset({Position.SECRETARY, Position.ORGANIZATION, Position.PUBLICITY, Position.DISCIPLINE})


class SeatSource(models.TextChoices):
    ELECTION = "election", "换届选举"
    BY_ELECTION = "by_election", "补选"


class VacateReason(models.TextChoices):
    TERM_ENDED = "term_ended", "任期届满换届"
    TRANSFER = "transfer", "工作调动"
    RETIRED = "retired", "退休"
    RESIGNED = "resigned", "辞职"
    DISMISSED = "dismissed", "免职"
    DECEASED = "deceased", "去世"
    OTHER = "other", "其他"


class CommitteeSeatQuerySet(ScopedQuerySet["CommitteeSeat"]):
    """Seats of the terms the user sees (like `CommitteeTerm.visible_to`)."""

    scope_field = "term__organization"
    own_branch = True

    def open(self) -> CommitteeSeatQuerySet:
        return self.filter(end_date__isnull=True)


class CommitteeSeat(TimeStampedModel):
    """A seat held in a committee term (委员任职): a member of the organization in a position (书记, 副书记, 组织委员 …)
    from `start_date` (the election or the by-election) until `end_date` (vacated: `vacate_reason`). A by-election
    (补选) fills a vacated seat (`replaces`). Each seat keeps the member's party post (`members.PartyPost`) in step,
    so the member's record and the rules that read posts (hours of secretaries and committee members) see it."""

    term = models.ForeignKey(CommitteeTerm, on_delete=models.CASCADE, related_name="holdings", verbose_name="任期")
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="committee_seats", verbose_name="党员"
    )
    position = models.CharField("职务", max_length=20, choices=Position.choices)
    source = models.CharField("产生方式", max_length=12, choices=SeatSource.choices, default=SeatSource.ELECTION)
    start_date = models.DateField("任职日期")
    end_date = models.DateField("离任日期", null=True, blank=True)
    vacate_reason = models.CharField("离任原因", max_length=12, choices=VacateReason.choices, blank=True)
    vacate_note = models.CharField("离任说明", max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name="补选接替",
    )
    party_post = models.OneToOneField(
        "members.PartyPost",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="committee_seat",
        verbose_name="党内职务",
    )
    history = HistoricalRecords()

    objects = CommitteeSeatQuerySet.as_manager()

    class Meta:
        verbose_name = "委员任职"
        verbose_name_plural = "委员任职"
        ordering = ["term", "start_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "member"],
                condition=Q(end_date__isnull=True),
                name="committee_seat_member_once",
                violation_error_message="该党员已在本届委员会任职。",
            ),
            models.UniqueConstraint(
                fields=["term", "position"],
                condition=Q(end_date__isnull=True, position__in=sorted(p.value for p in SINGLE_POSITIONS)),
                name="committee_seat_single_position",
                violation_error_message="该职务已有人担任。",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="committee_seat_dates",
                violation_error_message="离任日期不能早于任职日期。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term.organization} {self.get_position_display()}"

    @property
    def is_open(self) -> bool:
        return self.end_date is None


# ---------------------------------------------------------------------------------------------------------
# Periodic setup reports (组织设置排查 / 组织设置报告)


class ReportKind(models.TextChoices):
    """The periodic reports on organization setup (Jianshi seed 004: "每季度对各学校基层党组织设置情况进行一次清理，
    每半年将组织设置情况上报一次"): the quarterly review (Q1–Q4) and the half-year report (H1, H2)."""

    SETUP_REVIEW = "setup_review", "组织设置排查"
    SETUP_REPORT = "setup_report", "组织设置报告"


# The period letter of each kind's period codes ("2026-Q4", "2026-H2").
REPORT_PERIOD_LETTER = {ReportKind.SETUP_REVIEW: "Q", ReportKind.SETUP_REPORT: "H"}


def validate_org_kinds(value) -> None:
    if not isinstance(value, list) or not value or any(kind not in OrgKind.values for kind in value):
        raise ValidationError("请选择至少一种组织类别。")


class ReportSchedule(PolicyBase):
    """A report schedule (报送安排): the organizations of `org_kinds` owe the report `kind` for every period (a
    quarter for the review, a half-year for the report), due `due_days` after the period's last day. With
    `early_filing` the report may be filed, and is reminded, from the first day of the period's last month (the
    review is done within the quarter: 每季度清理一次); without it, only once the period has ended. For an
    organization, of the schedules of the kind valid in the year, the most specific owner wins, then the newer row
    (a scope's row replaces the system's, kinds of organization included)."""

    kind = models.CharField("报送事项", max_length=20, choices=ReportKind.choices)
    org_kinds = models.JSONField("报送党组织类别", default=list, validators=[validate_org_kinds])
    due_days = models.PositiveSmallIntegerField(
        "期末后报送期限（日）", default=15, validators=[MinValueValidator(0), MaxValueValidator(120)]
    )
    early_filing = models.BooleanField("期末月内可提前报送", default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "报送安排"
        verbose_name_plural = "报送安排"
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="report_schedule_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（期末后{self.due_days}日内报送）"

    @property
    def org_kind_labels(self) -> str:
        return "、".join(OrgKind(k).label for k in self.org_kinds if k in OrgKind.values)


class SetupReportFilingQuerySet(ScopedQuerySet["SetupReportFiling"]):
    """Filings of the organizations in the user's granted subtrees (like the setup report itself)."""


class SetupReportFiling(TimeStampedModel):
    """A periodic setup report confirmed as filed (确认报送) by a committee user: the organization, the report kind,
    the period ("2026-Q4", "2026-H2"), who filed it and when, a note, and the report's headline figures at the
    time of filing (`snapshot`: organizations by kind, members, committees in office, flags, changes), so that a
    later change of the tree does not rewrite what was reported. One per organization, kind and period; written
    only through `committees.services.setup_report_file`."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="setup_report_filings", verbose_name="党组织"
    )
    kind = models.CharField("报送事项", max_length=20, choices=ReportKind.choices)
    period = models.CharField("期间", max_length=7)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="报送人",
    )
    filed_at = models.DateTimeField("报送时间")
    note = models.TextField("说明", blank=True, max_length=500)
    snapshot = models.JSONField("报送时概况", default=dict)
    history = HistoricalRecords()

    objects = SetupReportFilingQuerySet.as_manager()

    class Meta:
        verbose_name = "组织设置报送"
        verbose_name_plural = "组织设置报送"
        ordering = ["-period", "kind", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "period"],
                name="setup_report_filing_once",
                violation_error_message="该期间已报送。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period} {self.get_kind_display()}"

    @property
    def period_label(self) -> str:
        """ "2026年第4季度", "2026年下半年" for "2026-Q4", "2026-H2"."""
        year, _, part = self.period.partition("-")
        if part.startswith("Q"):
            return f"{year}年第{part[1:]}季度"
        return f"{year}年{'上半年' if part == 'H1' else '下半年'}" if part in ("H1", "H2") else self.period
