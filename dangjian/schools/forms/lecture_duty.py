"""The 上讲台 report's filter: year, organization (by code, inside the user's scope), duty, and whether to show
everyone who owes a duty or only who has not yet taught enough."""

from __future__ import annotations

from django import forms

from dangjian.core.forms import BootstrapFormMixin, ScopedCodeField
from dangjian.schools.models import LectureDuty

SHOW_CHOICES = [("pending", "未完成"), ("all", "全部")]


class LectureDutyReportForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(
        label="年度",
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={
            "invalid": "请填写四位数字年份。",
            "min_value": "年度应在2000至2100之间。",
            "max_value": "年度应在2000至2100之间。",
        },
    )
    org = ScopedCodeField(label="党组织", required=False)
    duty = forms.ModelChoiceField(
        label="上讲台任务",
        queryset=LectureDuty.objects.filter(active=True),
        required=False,
        empty_label="全部任务",
        error_messages={"invalid_choice": "所选上讲台任务不存在或已停用。"},
    )
    show = forms.ChoiceField(
        label="显示",
        choices=SHOW_CHOICES,
        required=False,
        error_messages={"invalid_choice": "显示方式无效，请选择“未完成”或“全部”。"},
    )

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_queryset
