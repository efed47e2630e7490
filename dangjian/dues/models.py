"""Party dues (党费): the dues policy (rates, brackets, rounding, fixed amounts, limits), each member's base, approved
reductions and exemptions, payments with one ledger entry per member-month covered, and the branch's month close.

Source: 中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》(2008), docs/dues.md. Money is `Decimal` in yuan
with two decimals everywhere.

Scope. Dues are the business of the branch secretaries and the committee staff above them (`DUES_ROLES`): a row
is seen by whoever holds one of those roles over its organization, and by the member it is about. Policies apply
downwards (seen like every policy row). Writes go through `dues.services`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.models import TimeStampedModel
from dangjian.dues.rules import DEFAULT_RATES, Standing, month_label
from dangjian.members.models import Member
from dangjian.orgs.models import DownwardRuleQuerySet, Organization, ScopedQuerySet, subtree_q

# The roles that act in dues: the branch secretary collects, the committee reconciles and approves.
DUES_ROLES = frozenset({Role.COMMITTEE, Role.SECRETARY})

D = Decimal
MONEY = {"max_digits": 12, "decimal_places": 2}
PERCENT = {"max_digits": 5, "decimal_places": 2}


class StandingChoice(models.TextChoices):
    EMPLOYED = Standing.EMPLOYED, "在职（按月工资收入）"
    RETIRED = Standing.RETIRED, "离退休（按月离退休费）"
    STUDENT = Standing.STUDENT, "学生"
    UNEMPLOYED = Standing.UNEMPLOYED, "下岗失业"
    SUBSISTENCE = Standing.SUBSISTENCE, "领取最低生活保障"


class Rounding(models.TextChoices):
    HALF_UP = "half_up", "四舍五入到分"
    DOWN = "down", "分以下舍去"


class Way(models.TextChoices):
    CASH = "cash", "现金"
    BANK = "bank", "银行转账"
    ONLINE = "online", "网上缴纳"
    PAYROLL = "payroll", "工资代扣"


# The ways that carry a reference (流水号) the member or the bank gives.
WAYS_WITH_REFERENCE = frozenset({Way.BANK, Way.ONLINE})


class BaseSource(models.TextChoices):
    ANNUAL = "annual", "年度核定"
    MEMBER = "member", "本人申报"
    PAYROLL = "payroll", "财务部门提供"
    CHANGE = "change", "年中调整"


class ReductionKind(models.TextChoices):
    REDUCE = "reduce", "减交"
    EXEMPT = "exempt", "免交"


class EntryKind(models.TextChoices):
    PAYMENT = "payment", "缴纳"
    REVERSAL = "reversal", "冲正"


# ---------------------------------------------------------------------------------------------------------
# Scope


class DuesScopedQuerySet(ScopedQuerySet):
    """Rows of an organization's dues: seen by the dues roles (`DUES_ROLES`) over it and by the member concerned.
    `scope_field` reaches the organization, `member_field` the member."""

    scope_field = "organization"
    member_field = "member"

    def scope_roots(self, access) -> tuple[str, ...]:
        return access.roots_of(DUES_ROLES)

    def visible_to(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(self.scope_roots(access), f"{self.scope_field}__path")
        if access.user_id is not None and self.member_field:
            q |= Q(**{f"{self.member_field}__user_id": access.user_id})
        return self.filter(q)

    def editable_by(self, user):
        """The rows a secretary or committee user may write: in their subtrees, never their own as a member."""
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(self.scope_roots(access), f"{self.scope_field}__path"))


class PolicyQuerySet(DownwardRuleQuerySet):
    """Dues policies apply downwards: seen like every policy row."""


class MemberRowQuerySet(DuesScopedQuerySet):
    """Rows about a member (bases, reductions): scoped through the member's organization."""

    scope_field = "member__organization"


class CloseQuerySet(DuesScopedQuerySet):
    member_field = ""


# ---------------------------------------------------------------------------------------------------------
# Policy


class DuesPolicy(TimeStampedModel):
    """A dues policy (党费收缴标准): the brackets and rates (percent of the monthly base, the whole base at one rate),
    the retirees' bracket, the fixed monthly amount of students, the unemployed and members on subsistence allowance,
    the rounding to the fen, the largest plausible base, how many months one payment may cover, and the arrears
    thresholds of the to-do list (a reminder) and of a case for the branch (自行脱党 procedure). Valid for a range of
    years and an owner's subtree (None: the whole system); for an organization the most specific owner wins."""

    name = models.CharField("名称", max_length=100)
    bracket_1 = models.DecimalField("第一档上限（元）", default=DEFAULT_RATES.bracket_1, **MONEY)
    rate_1 = models.DecimalField("第一档比例（%）", default=DEFAULT_RATES.rate_1, **PERCENT)
    bracket_2 = models.DecimalField("第二档上限（元）", default=DEFAULT_RATES.bracket_2, **MONEY)
    rate_2 = models.DecimalField("第二档比例（%）", default=DEFAULT_RATES.rate_2, **PERCENT)
    bracket_3 = models.DecimalField("第三档上限（元）", default=DEFAULT_RATES.bracket_3, **MONEY)
    rate_3 = models.DecimalField("第三档比例（%）", default=DEFAULT_RATES.rate_3, **PERCENT)
    rate_4 = models.DecimalField("第四档比例（%）", default=DEFAULT_RATES.rate_4, **PERCENT)
    retiree_bracket = models.DecimalField("离退休分档线（元）", default=DEFAULT_RATES.retiree_bracket, **MONEY)
    retiree_rate_low = models.DecimalField(
        "离退休分档线以下比例（%）", default=DEFAULT_RATES.retiree_rate_low, **PERCENT
    )
    retiree_rate_high = models.DecimalField(
        "离退休分档线以上比例（%）", default=DEFAULT_RATES.retiree_rate_high, **PERCENT
    )
    fixed_amount = models.DecimalField(
        "学生、下岗失业、低保党员每月（元）", default=DEFAULT_RATES.fixed_amount, max_digits=6, decimal_places=2
    )
    rounding = models.CharField("取整规则", max_length=10, choices=Rounding.choices, default=Rounding.HALF_UP)
    max_base = models.DecimalField("基数上限（元/月）", default=D("1000000.00"), **MONEY)
    max_months = models.PositiveSmallIntegerField(
        "一次补交或预交最多月数", default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    arrears_notice_months = models.PositiveSmallIntegerField(
        "欠交提醒月数", default=3, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    arrears_case_months = models.PositiveSmallIntegerField(
        "连续欠交需处置月数", default=6, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2008)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = "党费收缴标准"
        verbose_name_plural = "党费收缴标准"
        ordering = ["valid_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(bracket_1__lt=models.F("bracket_2")) & Q(bracket_2__lt=models.F("bracket_3")),
                name="dues_policy_brackets_rise",
                violation_error_message="各档上限须逐档递增。",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="dues_policy_valid_range",
                violation_error_message="截止年度不能早于起始年度。",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------------------
# Bases and reductions


class DuesBase(TimeStampedModel):
    """A member's dues base (党费计缴基数) from a month on: their standing (在职, 离退休, 学生 …), the monthly base in
    yuan (after-tax pay; none for the fixed-amount standings), and the rate and monthly amount the policy gave when it
    was set. Set once a year (usually each January); a change within the year carries its reason and takes effect
    from the next month. Never edited: a new row from a later month replaces it."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="dues_bases", verbose_name="党员")
    standing = models.CharField(
        "缴纳类别", max_length=16, choices=StandingChoice.choices, default=StandingChoice.EMPLOYED
    )
    amount = models.DecimalField("月计缴基数（元）", null=True, blank=True, **MONEY)
    effective = models.DateField("起始月份")
    rate = models.DecimalField("比例（%）", null=True, blank=True, **PERCENT)
    monthly_due = models.DecimalField("每月应交（元）", **MONEY)
    source = models.CharField("基数来源", max_length=10, choices=BaseSource.choices, default=BaseSource.ANNUAL)
    reason = models.CharField("调整原因", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords()

    objects = MemberRowQuerySet.as_manager()

    class Meta:
        verbose_name = "党费基数"
        verbose_name_plural = "党费基数"
        ordering = ["member", "-effective"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "effective"],
                name="dues_base_one_per_month",
                violation_error_message="该党员该月已有党费基数。",
            ),
            models.CheckConstraint(
                condition=Q(monthly_due__gte=0),
                name="dues_base_due_not_negative",
                violation_error_message="应交金额不能为负。",
            ),
        ]
        indexes = [models.Index(fields=["member", "effective"], name="dues_base_member_month_idx")]

    def __str__(self) -> str:
        return f"{self.member} {month_label(self.effective)}起 每月{self.monthly_due}元"


class DuesReduction(TimeStampedModel):
    """A reduction or exemption of a member's dues (党费减交、免交) for a period of months, with its reason, approved by
    the next-higher committee (上一级党委) of the member's branch: the reduced monthly amount, or nothing."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="dues_reductions", verbose_name="党员")
    kind = models.CharField("类型", max_length=8, choices=ReductionKind.choices)
    monthly_amount = models.DecimalField("减交后每月（元）", null=True, blank=True, **MONEY)
    start = models.DateField("起始月份")
    end = models.DateField("截止月份")
    reason = models.CharField("原因", max_length=200)
    approved_by_org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name="批准党组织"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="批准人",
    )
    approved_on = models.DateField("批准日期")
    history = HistoricalRecords()

    objects = MemberRowQuerySet.as_manager()

    class Meta:
        verbose_name = "党费减免"
        verbose_name_plural = "党费减免"
        ordering = ["member", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")),
                name="dues_reduction_range",
                violation_error_message="截止月份不能早于起始月份。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()} {month_label(self.start)}–{month_label(self.end)}"

    def covers(self, month: dt.date) -> bool:
        return self.start <= month <= self.end


# ---------------------------------------------------------------------------------------------------------
# Payments and the ledger


class DuesPayment(TimeStampedModel):
    """One payment (党费缴纳) with its numbered receipt (收据): a member pays for one or more consecutive months (at
    most the policy's `max_months`) on a day, by a way (cash, bank transfer, online payment with its reference,
    payroll deduction); `amount` is what the months owed and `extra` what the member volunteered above it. The
    ledger holds one `DuesEntry` per month covered. A correction is a reversing entry, never an edit."""

    receipt_no = models.CharField("收据编号", max_length=24, unique=True)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="dues_payments", verbose_name="党员")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="dues_payments", verbose_name="收缴党支部"
    )
    paid_on = models.DateField("缴纳日期")
    first_month = models.DateField("起始月份")
    months = models.PositiveSmallIntegerField("月数")
    way = models.CharField("缴纳方式", max_length=10, choices=Way.choices, default=Way.CASH)
    reference = models.CharField("交易流水号", max_length=64, blank=True)
    amount = models.DecimalField("应交金额（元）", **MONEY)
    extra = models.DecimalField("自愿多交（元）", default=D("0"), **MONEY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords()

    objects = DuesScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党费缴纳"
        verbose_name_plural = "党费缴纳"
        ordering = ["-paid_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.receipt_no} {self.member} {self.total}元"

    @property
    def total(self) -> Decimal:
        return self.amount + self.extra

    @property
    def last_month(self) -> dt.date:
        from dangjian.dues.rules import add_months

        return add_months(self.first_month, self.months - 1)


class DuesEntry(models.Model):
    """A line of the dues ledger (党费明细): one member-month of a payment (`amount` owed and `extra` volunteered), or
    the reversal (冲正) of such a line with its reason — negative amounts, linked to the line it reverses, which is
    then marked `reversed`. At most one live payment line per member and month (a database constraint: two identical
    submissions at once record one payment). `booked` is the month whose books hold the line (the month it was
    received), which must not be closed."""

    payment = models.ForeignKey(DuesPayment, on_delete=models.PROTECT, related_name="entries", verbose_name="缴纳记录")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="dues_entries", verbose_name="党员")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="dues_entries", verbose_name="收缴党支部"
    )
    period = models.DateField("所属月份")
    booked = models.DateField("入账月份")
    kind = models.CharField("类型", max_length=10, choices=EntryKind.choices, default=EntryKind.PAYMENT)
    amount = models.DecimalField("应交部分（元）", **MONEY)
    extra = models.DecimalField("自愿多交（元）", default=D("0"), **MONEY)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal", verbose_name="冲正的明细"
    )
    reversed = models.BooleanField("已冲正", default=False)
    reason = models.CharField("冲正原因", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    history = HistoricalRecords()

    objects = DuesScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "党费明细"
        verbose_name_plural = "党费明细"
        ordering = ["period", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "period"],
                condition=Q(kind="payment", reversed=False),
                name="dues_entry_one_live_payment",
                violation_error_message="该党员该月党费已缴纳。",
            ),
            models.CheckConstraint(
                condition=Q(kind="payment", reverses__isnull=True) | Q(kind="reversal", reverses__isnull=False),
                name="dues_entry_reversal_links",
                violation_error_message="冲正明细须指向被冲正的明细。",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "period"], name="dues_entry_org_period_idx"),
            models.Index(fields=["member", "period"], name="dues_entry_member_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {month_label(self.period)} {self.get_kind_display()} {self.amount + self.extra}元"

    @property
    def total(self) -> Decimal:
        return self.amount + self.extra


class DuesMonthClose(models.Model):
    """A branch's month close (党费月度结账): after it nothing is booked into that month; the month's figures as they
    stood at the close are kept here and every report of the month reads them (a closed period never changes)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="dues_closes", verbose_name="党支部"
    )
    month = models.DateField("月份")
    closed_at = models.DateTimeField("结账时间", auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结账人",
    )
    due_count = models.PositiveIntegerField("应交人数")
    paid_count = models.PositiveIntegerField("已交人数")
    due_amount = models.DecimalField("应交金额（元）", **MONEY)
    paid_amount = models.DecimalField("实交金额（元）", **MONEY)
    arrears_count = models.PositiveIntegerField("欠交人数")
    history = HistoricalRecords()

    objects = CloseQuerySet.as_manager()

    class Meta:
        verbose_name = "党费月度结账"
        verbose_name_plural = "党费月度结账"
        ordering = ["organization", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="dues_close_once", violation_error_message="该月已结账。"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {month_label(self.month)} 结账"
