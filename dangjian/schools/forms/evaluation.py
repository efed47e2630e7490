"""Forms of the evaluation seam: score entry, the ranking's year and scope, publication, rectification close.

Score ranges are checked by the service (`evaluation_save`), whose messages name the indicator; the score
fields carry the range only as browser hints."""

from __future__ import annotations

from django import forms

from dangjian.core.forms import BootstrapFormMixin, ScopedCodeField
from dangjian.schools.models import EvaluationIndicator, RectificationStatus

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
            self.fields[indicator.code] = forms.CharField(
                label=f"{indicator.name}（满分{maximum}，权重{indicator.weight.normalize():f}）",
                required=False,
                widget=forms.NumberInput(attrs={"class": "form-control", "min": "0", "max": maximum, "step": "0.01"}),
            )
        self.order_fields(["year", *(i.code for i in indicators), "note"])

    def scores(self) -> dict[EvaluationIndicator, str | None]:
        """The entered scores by indicator (blank: no score); the service converts and checks them."""
        return {ind: (self.cleaned_data.get(ind.code) or "").strip() or None for ind in self.indicators}


class RankingQueryForm(BootstrapFormMixin, forms.Form):
    """The ranking page's year and scope (an organization picked by code inside the user's scope)."""

    year = year_field(required=False, min_value=2000, max_value=2100)
    org = ScopedCodeField(label="排名范围（党组织编码）", required=False)

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.orgs = org_queryset
        self.fields["org"].queryset = org_queryset


class RankingPublishForm(BootstrapFormMixin, forms.Form):
    year = year_field(widget=forms.HiddenInput)
    org = ScopedCodeField(label="排名范围（党组织编码）", widget=forms.HiddenInput)

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = org_queryset
        self.fields["org"].error_messages["required"] = "请先选择排名范围（党组织编码）再发布。"


class RectificationCloseForm(BootstrapFormMixin, forms.Form):
    task = forms.IntegerField(widget=forms.HiddenInput, error_messages={"required": "请指定整改任务。"})
    note = forms.CharField(
        label="整改情况说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RectificationFilterForm(BootstrapFormMixin, forms.Form):
    year = year_field(required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *RectificationStatus.choices])
