"""Forms of the dues: the sheet's and the report's filters (organization by code inside the user's dues scope, a
month), and the forms of a member's base, payment, reversal and reduction. Months travel as YYYY-MM (a month input);
the services read and check them and name the field of any error."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from dangjian.core.commands import YEAR_MAX, YEAR_MIN
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.dues.models import BaseSource, ReductionKind, StandingChoice, Way
from dangjian.dues.selectors.sheet import dues_organizations


class MonthInput(forms.TextInput):
    input_type = "month"


def month_field(label: str, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label, required=required, max_length=10, widget=MonthInput)


class SheetFilter(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    month = month_field("月份")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = dues_organizations(user)


class ReportFilter(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    year = forms.IntegerField(label="年度", required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    month = forms.TypedChoiceField(
        label="月份",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "全年"), *[(m, f"{m}月") for m in range(1, 13)]],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = dues_organizations(user)


class BaseForm(BootstrapFormMixin, forms.Form):
    standing = forms.ChoiceField(label="缴纳类别", choices=StandingChoice.choices, initial=StandingChoice.EMPLOYED)
    amount = forms.CharField(
        label="月计缴基数（元）", required=False, max_length=20, help_text="工资收入扣除个人所得税和社会保险后的月收入"
    )
    effective = month_field("起始月份")
    source = forms.ChoiceField(label="基数来源", choices=BaseSource.choices, initial=BaseSource.ANNUAL, required=False)
    reason = forms.CharField(label="调整原因", required=False, max_length=200)


class PaymentForm(BootstrapFormMixin, forms.Form):
    first_month = month_field("起始月份")
    months = forms.IntegerField(label="月数", initial=1, min_value=1, max_value=24)
    paid_on = forms.DateField(label="缴纳日期", required=False, widget=DateInput)
    way = forms.ChoiceField(label="缴纳方式", choices=Way.choices, initial=Way.CASH)
    reference = forms.CharField(label="交易流水号", required=False, max_length=64)
    extra = forms.CharField(label="自愿多交（元）", required=False, max_length=20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class ReverseForm(BootstrapFormMixin, forms.Form):
    receipt = forms.CharField(widget=forms.HiddenInput, max_length=24)
    reason = forms.CharField(label="冲正原因", max_length=200, required=False)


class ReductionForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=ReductionKind.choices)
    monthly_amount = forms.CharField(label="减交后每月（元）", required=False, max_length=20)
    start = month_field("起始月份")
    end = month_field("截止月份")
    reason = forms.CharField(label="原因", max_length=200, required=False)


class DeductionUploadForm(BootstrapFormMixin, forms.Form):
    month = month_field("代扣月份", required=True)
    paid_on = forms.DateField(label="代扣日期", required=False, widget=DateInput)
    file = forms.FileField(label="代扣名单（.xlsx / .xls / .csv）")
