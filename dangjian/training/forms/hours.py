"""Forms of the hours seam: report filters, policies, credits and corrections, one-click enrollment.

Nothing a client sends is trusted as an id: organizations are named by code inside the user's scope
(`ScopedCodeField`), classes and members are chosen only among querysets scoped to the user."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.members.models import Member
from dangjian.training.models import HoursKind, PolicyApplies, ProRating, TrainingClass
from dangjian.training.selectors.compliance import YEAR_MAX, YEAR_MIN, report_organizations
from dangjian.training.services.policies import policy_orgs

CREDIT_KINDS = (HoursKind.MANUAL, HoursKind.EXTERNAL, HoursKind.ONLINE)


def this_year() -> int:
    return timezone.localdate().year


def year_field(**kwargs) -> forms.IntegerField:
    kwargs.setdefault("label", "年度")
    return forms.IntegerField(
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        error_messages={
            "invalid": "年度应为四位数字。",
            "min_value": f"年度不能早于{YEAR_MIN}年。",
            "max_value": f"年度不能晚于{YEAR_MAX}年。",
        },
        **kwargs,
    )


class ReportForm(BootstrapFormMixin, forms.Form):
    """The organization (by code, inside the user's scope) and year of a report; both optional."""

    org = ScopedCodeField(label="党组织", required=False)
    year = year_field(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = report_organizations(user)


class PolicyForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    owner = ScopedCodeField(
        label="适用党组织", required=False, help_text="本级及下级党组织适用；全系统适用的学时要求只能由系统设置。"
    )
    applies_to = forms.ChoiceField(label="适用对象", choices=PolicyApplies.choices, initial=PolicyApplies.ALL)
    valid_from = year_field(label="起始年度", initial=this_year)
    valid_to = year_field(label="截止年度", required=False, help_text="留空表示长期有效。")
    required_hours = forms.DecimalField(label="年度要求学时", max_digits=5, decimal_places=1, min_value=0)
    online_cap = forms.DecimalField(
        label="网络学习计入上限",
        max_digits=5,
        decimal_places=1,
        min_value=0,
        required=False,
        initial=0,
        help_text="要求的是集中学习培训：默认0，网络学习单独列示、不计入；留空表示不设上限。",
    )
    pro_rating = forms.ChoiceField(
        label="年中入党或离开党组织",
        choices=ProRating.choices,
        initial=ProRating.FULL,
        help_text="按在党月数折算只看入党和出党、去世、停止党籍的月份；组织关系转接不折算。",
    )
    source = forms.CharField(label="依据", max_length=200, required=False)
    active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = policy_orgs(user)

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None and not access_for(self.user).system:
            raise ValidationError("请填写适用党组织编码：全系统适用的学时要求只能由系统设置。")
        return owner

    @classmethod
    def initial_for(cls, policy) -> dict:
        return {
            "name": policy.name,
            "owner": policy.owner.code if policy.owner_id else "",
            "applies_to": policy.applies_to,
            "valid_from": policy.valid_from,
            "valid_to": policy.valid_to,
            "required_hours": policy.required_hours,
            "online_cap": policy.online_cap,
            "pro_rating": policy.pro_rating,
            "source": policy.source,
            "active": policy.active,
        }


class CreditForm(BootstrapFormMixin, forms.Form):
    """A credit entered by hand: 手工补录 and 外部认定 need a reason (checked by the ledger service)."""

    kind = forms.ChoiceField(
        label="学时类型", choices=[(kind.value, kind.label) for kind in CREDIT_KINDS], initial=HoursKind.MANUAL
    )
    date = forms.DateField(label="日期", widget=DateInput(), initial=timezone.localdate)
    hours = forms.DecimalField(
        label="学时",
        max_digits=6,
        decimal_places=2,
        help_text="0.5的整数倍。",
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0.5"}),
    )
    document = forms.CharField(label="依据（证书、文件等）", max_length=200, required=False)
    reason = forms.CharField(label="原因", max_length=200, required=False, help_text="手工补录和外部认定须填写原因。")


class CorrectForm(BootstrapFormMixin, forms.Form):
    """更正 (reverse and re-enter with the right hours) or 冲销 (reverse only) one ledger entry."""

    action = forms.ChoiceField(label="操作", choices=[("correct", "更正学时"), ("reverse", "冲销")], initial="correct")
    hours = forms.DecimalField(label="正确学时", max_digits=6, decimal_places=2, required=False)
    reason = forms.CharField(label="更正原因", max_length=200)

    def clean(self):
        data = super().clean()
        if data.get("action") == "correct" and data.get("hours") is None and "hours" not in self.errors:
            self.add_error("hours", "更正学时须填写正确的学时。")
        return data


class EnrollForm(BootstrapFormMixin, forms.Form):
    """One-click enrollment of selected members into an upcoming approved class."""

    org = forms.CharField(widget=forms.HiddenInput, required=False)
    year = forms.IntegerField(widget=forms.HiddenInput, required=False)
    training_class = forms.ModelChoiceField(
        label="培训班", queryset=TrainingClass.objects.none(), empty_label="请选择即将开班的培训班"
    )
    members = forms.ModelMultipleChoiceField(
        label="党员", queryset=Member.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, classes, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["training_class"].queryset = classes
        self.fields["members"].queryset = members
        self.fields["members"].error_messages["required"] = "请勾选要报名的党员。"
        self.fields["members"].error_messages["invalid_choice"] = "所选党员不在本支部的名单中。"
        self.fields["training_class"].error_messages["required"] = "请选择培训班。"
        self.fields["training_class"].error_messages["invalid_choice"] = "该培训班不存在或不可报名。"
