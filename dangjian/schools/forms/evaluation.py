"""Forms of the evaluation seam: score entry, the ranking's year and scope, publication, rectification close.

Score ranges are checked by the service (`evaluation_save`), whose messages name the indicator; the score
fields carry the range only as browser hints."""

from __future__ import annotations

from django import forms

from dangjian.core.forms import BootstrapFormMixin, ScopedCodeField
from dangjian.schools.models import EvaluationIndicator, Grade, IndicatorKind, RectificationStatus

RECORDS_HELP = (
    "台账得分由系统按当年办班、培训人次（对照年度计划）和“六有”检查计算；此处录入的检查得分只作调整，"
    "最多增减满分的10%，可不填。"
)
YEAR_ERRORS = {"invalid": "请填写四位数字年份。", "required": "请填写考评年度。"}


def year_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(label="考评年度", error_messages=YEAR_ERRORS, **kwargs)


class EvaluationEntryForm(BootstrapFormMixin, forms.Form):
    """One score field per active indicator (named by the indicator's code, as the service names its errors),
    the year and a note."""

    year = year_field()
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, indicators: list[EvaluationIndicator], **kwargs):
        self.indicators = indicators
        super().__init__(*args, **kwargs)
        for indicator in indicators:
            maximum = f"{indicator.max_score.normalize():f}"
            adjustment = indicator.kind == IndicatorKind.RECORDS_CHECK
            self.fields[indicator.code] = forms.CharField(
                label=f"{indicator.name}（满分{maximum}，权重{indicator.weight.normalize():f}）",
                required=False,
                help_text=RECORDS_HELP if adjustment else "",
                widget=forms.NumberInput(attrs={"class": "form-control", "min": "0", "max": maximum, "step": "0.01"}),
            )
        self.order_fields(["year", *(i.code for i in indicators), "note"])

    def scores(self) -> dict[EvaluationIndicator, str | None]:
        """The entered scores by indicator (blank: no score); the service converts and checks them."""
        return {ind: (self.cleaned_data.get(ind.code) or "").strip() or None for ind in self.indicators}


class RankingQueryForm(BootstrapFormMixin, forms.Form):
    """The ranking page's year and scope (an organization picked by code inside the user's scope)."""

    year = year_field(required=False, min_value=2000, max_value=2100)
    org = ScopedCodeField(label="排名范围", required=False)

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.orgs = org_queryset
        self.fields["org"].queryset = org_queryset


class RankingPublishForm(BootstrapFormMixin, forms.Form):
    year = year_field(widget=forms.HiddenInput)
    org = ScopedCodeField(label="排名范围", widget=forms.HiddenInput)

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_queryset
        self.fields["org"].error_messages["required"] = "请先选择排名范围再发布。"


class TieDecisionForm(BootstrapFormMixin, forms.Form):
    """The committee's decision on a tie at a grade boundary: the ranking's year and scope (hidden), the school,
    the grade and the reason. Whether the school is in such a tie, and which grades are open, the service checks."""

    year = year_field(widget=forms.HiddenInput)
    org = ScopedCodeField(label="排名范围", widget=forms.HiddenInput)
    school = forms.IntegerField(
        label="党校", widget=forms.HiddenInput, error_messages={"required": "请指定党校。", "invalid": "请指定党校。"}
    )
    grade = forms.ChoiceField(
        label="决定等次",
        choices=[("", "请选择等次"), *Grade.choices],
        error_messages={"required": "请选择等次。", "invalid_choice": "请选择等次（示范、优秀、合格或不合格）。"},
    )
    reason = forms.CharField(
        label="决定理由",
        max_length=300,
        error_messages={
            "required": "请填写决定理由（工委会议的决定及依据）。",
            "max_length": "决定理由不能超过300字。",
        },
        widget=forms.TextInput(attrs={"placeholder": "如：经2025年12月工委会议研究决定……"}),
    )

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_queryset
        self.fields["org"].error_messages["required"] = "请先选择排名范围。"


class RectificationCloseForm(BootstrapFormMixin, forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": "请指定整改任务。"})
    note = forms.CharField(
        label="整改情况说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RectificationFilterForm(BootstrapFormMixin, forms.Form):
    year = year_field(required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *RectificationStatus.choices])
