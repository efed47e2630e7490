"""Forms of committee terms and organization setup: the list filters (organization by code inside the user's scope),
the election form (rows of member + position), the by-election and vacate forms, and the report period."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from dangjian.committees.models import Position, VacateReason
from dangjian.committees.selectors.setup import FlagRule, ReportPeriod
from dangjian.committees.selectors.terms import committee_organizations
from dangjian.committees.services import MAX_SEATS
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.orgs.models import OrgKind

YEAR_MIN, YEAR_MAX = 2000, 2100
# Above this many candidates, the election form offers the organization's own members, its leadership-team
# members and the current post holders of its subtree, not every member below it (a select per row stays short).
FULL_LIST_LIMIT = 300


class TermFilterForm(BootstrapFormMixin, forms.Form):
    STATUS_CHOICES = [
        ("ending", "即将届满"),
        ("overdue", "逾期未换届"),
        ("current", "本届"),
        ("ended", "已换届"),
        ("all", "全部"),
    ]
    org = ScopedCodeField(label="党组织", required=False)
    status = forms.ChoiceField(label="范围", choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(label="组织类别", choices=[("", "全部"), *OrgKind.choices], required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = committee_organizations(user)


class SetupFilterForm(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    rule = forms.ChoiceField(label="问题类型", choices=[("", "全部"), *FlagRule.LABELS.items()], required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = committee_organizations(user)


class ReportForm(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    year = forms.IntegerField(label="年度", required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    period = forms.ChoiceField(label="期间", choices=ReportPeriod.CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = committee_organizations(user)


class FilingForm(BootstrapFormMixin, forms.Form):
    """确认报送: the period (carried from the report shown) and an optional note."""

    year = forms.IntegerField(label="年度", min_value=YEAR_MIN, max_value=YEAR_MAX, widget=forms.HiddenInput)
    period = forms.ChoiceField(label="期间", choices=ReportPeriod.CHOICES, widget=forms.HiddenInput)
    note = forms.CharField(
        label="报送说明（可不填）",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.organization.name}）"


class ElectForm(BootstrapFormMixin, forms.Form):
    """换届选举: the date, the number of seats, and one row (member, position) per elected member."""

    elected_on = forms.DateField(label="选举日期", widget=DateInput())
    seats = forms.IntegerField(label="委员职数", min_value=1, max_value=MAX_SEATS, initial=3)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, candidates, rows: int = 7, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for i in range(rows):
            self.fields[f"member_{i}"] = MemberChoiceField(
                label=f"第{i + 1}名当选委员", queryset=candidates, required=False, empty_label="（不填）"
            )
            self.fields[f"position_{i}"] = forms.ChoiceField(
                label=f"第{i + 1}名职务",
                choices=Position.choices,
                initial=Position.SECRETARY if i == 0 else Position.MEMBER,
                required=False,
            )
        for name, field in self.fields.items():
            if name.startswith(("member_", "position_")):
                field.widget.attrs["class"] = "form-select"

    def row_fields(self):
        return [(self[f"member_{i}"], self[f"position_{i}"]) for i in range(self.rows)]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        members = [
            (data[f"member_{i}"], data.get(f"position_{i}") or Position.MEMBER)
            for i in range(self.rows)
            if data.get(f"member_{i}") is not None
        ]
        return {"elected_on": data["elected_on"], "seats": data["seats"], "notes": data["notes"], "members": members}


class ByElectionForm(BootstrapFormMixin, forms.Form):
    """补选: the vacated seat it fills (optional), the position, the member and the date."""

    seat = forms.ChoiceField(label="补选空缺职位", required=False)
    position = forms.ChoiceField(label="职务", choices=[("", "（与空缺职位相同）"), *Position.choices], required=False)
    member = MemberChoiceField(label="当选党员", queryset=None)
    date = forms.DateField(label="补选日期", widget=DateInput())

    def __init__(self, *args, candidates, vacated, **kwargs):
        super().__init__(*args, **kwargs)
        self.vacated = {str(s.pk): s for s in vacated}
        self.fields["seat"].choices = [("", "（新增空缺职位）")] + [
            (pk, f"{s.get_position_display()} · 原任{s.member.name}，{s.end_date:%Y-%m-%d}离任")
            for pk, s in self.vacated.items()
        ]
        self.fields["member"].queryset = candidates

    def clean_seat(self):
        value = self.cleaned_data.get("seat")
        return self.vacated.get(value) if value else None


class VacateForm(BootstrapFormMixin, forms.Form):
    """离任: which seat, the date and the reason."""

    seat = forms.ChoiceField(label="离任委员")
    date = forms.DateField(label="离任日期", widget=DateInput())
    reason = forms.ChoiceField(
        label="离任原因", choices=[(v, label) for v, label in VacateReason.choices if v != VacateReason.TERM_ENDED]
    )
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, open_seats, **kwargs):
        super().__init__(*args, **kwargs)
        self.open_seats = {str(s.pk): s for s in open_seats}
        self.fields["seat"].choices = [
            (pk, f"{s.member.name} · {s.get_position_display()}") for pk, s in self.open_seats.items()
        ]

    def clean_seat(self):
        return self.open_seats[self.cleaned_data["seat"]]


def this_year() -> int:
    return timezone.localdate().year
