"""Forms of organizational life: the report filter (organization by code, year, quarter or month) and the quick
record form (kinds as checkboxes, every active member of the branch pre-ticked as present, a reason beside each)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from dangjian.core.forms import BootstrapFormMixin, DateInput, MultipleFileField, MultipleFileInput, ScopedCodeField
from dangjian.core.versioning import VersionedFormMixin
from dangjian.members.models import Member
from dangjian.orglife.models import ActivityKind, AttachmentKind
from dangjian.orglife.selectors.compliance import YEAR_MAX, YEAR_MIN, orglife_organizations


def this_year() -> int:
    return timezone.localdate().year


SUBTREE_CHOICES = [("", "含下级"), ("own", "仅本级")]


class FilterForm(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    # The record list's only (the reports show an organization with its children already): `with_range`.
    sub = forms.ChoiceField(label="范围", required=False, choices=SUBTREE_CHOICES)
    year = forms.IntegerField(label="年度", required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)
    quarter = forms.TypedChoiceField(
        label="季度",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "全年"), *[(q, f"第{q}季度") for q in range(1, 5)]],
    )

    def __init__(self, *args, user, with_range: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orglife_organizations(user)
        if not with_range:
            del self.fields["sub"]


ROW_STATUSES = ("已完成", "进行中", "未完成")


class ComplianceRowFilter(BootstrapFormMixin, forms.Form):
    """The compliance page's per-organization rows narrowed by duty, status and organization name (a large subtree
    lists thousands); the report's own organization, year and quarter travel along as hidden fields."""

    duty = forms.ChoiceField(label="活动类型", required=False)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *((s, s) for s in ROW_STATUSES)]
    )
    q = forms.CharField(label="党组织名称", required=False, max_length=50)
    org = forms.CharField(required=False, widget=forms.HiddenInput)
    year = forms.CharField(required=False, widget=forms.HiddenInput)
    quarter = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, duty_labels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duty"].choices = [("", "全部活动类型"), *((label, label) for label in duty_labels)]

    def narrow(self, rows: list) -> list:
        """The rows that match the filter (all of them when it is empty or invalid)."""
        if not self.is_valid():
            return rows
        duty, status, q = (self.cleaned_data.get(k) or "" for k in ("duty", "status", "q"))
        q = q.strip()
        return [
            row
            for row in rows
            if (not duty or row.duty.label == duty)
            and (not status or row.status == status)
            and (not q or q in row.organization.name)
        ]


ATTACHMENT_ACCEPT = ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,image/*"


class AttachmentForm(BootstrapFormMixin, forms.Form):
    """Add attachments to a record (reason required once the record is locked)."""

    attachment_kind = forms.ChoiceField(label="附件类型", choices=AttachmentKind.choices, initial=AttachmentKind.PHOTO)
    attachments = MultipleFileField(
        label="选择文件（照片、签到表扫描件等，可多选）",
        widget=MultipleFileInput(attrs={"multiple": True, "accept": ATTACHMENT_ACCEPT}),
    )
    reason = forms.CharField(label="补充原因", max_length=200, required=False)

    def __init__(self, *args, locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if locked:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]


class RecordForm(VersionedFormMixin, BootstrapFormMixin, forms.Form):
    kinds = forms.MultipleChoiceField(
        label="活动类型（可多选）", choices=ActivityKind.choices, widget=forms.CheckboxSelectMultiple
    )
    date = forms.DateField(label="活动日期", widget=DateInput())
    topic = forms.CharField(label="主题", max_length=200)
    place = forms.CharField(label="地点", max_length=200, required=False)
    host = forms.CharField(label="主持人", max_length=50, required=False)
    lecturer = forms.ModelChoiceField(label="党课主讲人", queryset=None, required=False)
    agenda = forms.CharField(label="议程", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    minutes = forms.CharField(label="会议记录", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    decisions = forms.CharField(label="决定事项", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    major_decision = forms.BooleanField(label="涉及“三重一大”事项（已经支委会/党委会研究）", required=False)
    credit_hours = forms.DecimalField(
        label="计入学时（集中学习，选填）",
        required=False,
        min_value=0,
        max_digits=3,
        decimal_places=1,
        help_text="填写后，每名出席党员计入相应学时；修改出席名单或学时会自动冲销并重记。",
    )
    attachment_kind = forms.ChoiceField(
        label="附件类型", choices=AttachmentKind.choices, initial=AttachmentKind.PHOTO, required=False
    )
    attachments = MultipleFileField(
        label="附件（照片、签到表，可多选）",
        required=False,
        widget=MultipleFileInput(attrs={"multiple": True, "accept": ATTACHMENT_ACCEPT}),
    )
    reason = forms.CharField(label="更正原因", max_length=200, required=False)

    def __init__(self, *args, members, correcting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        self.correcting = correcting
        self.fields["lecturer"].queryset = self._member_queryset()
        self.fields["kinds"].widget.attrs["class"] = "form-check-input"
        if correcting:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]
        if self.initial.get("record_exists"):
            # An existing record's attachments are managed on its page (removal, additions after the lock).
            del self.fields["attachments"]
            del self.fields["attachment_kind"]
        for member in self.members:
            self.fields[f"present_{member.pk}"] = forms.BooleanField(
                label=member.name, required=False, initial=self.initial.get(f"present_{member.pk}", True)
            )
            self.fields[f"reason_{member.pk}"] = forms.CharField(
                label=f"{member.name}缺席原因", max_length=100, required=False
            )
        for name, field in self.fields.items():
            if name.startswith("present_"):
                field.widget.attrs["class"] = "form-check-input"
            elif name.startswith("reason_"):
                field.widget.attrs.update({"class": "form-control form-control-sm", "placeholder": "缺席原因"})

    def _member_queryset(self):
        return Member.objects.dangerously_all().filter(pk__in=[m.pk for m in self.members]).order_by("name")

    def member_rows(self):
        return [(member, self[f"present_{member.pk}"], self[f"reason_{member.pk}"]) for member in self.members]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        present = [m.pk for m in self.members if data.get(f"present_{m.pk}")]
        absent = {m.pk: data.get(f"reason_{m.pk}", "") for m in self.members if not data.get(f"present_{m.pk}")}
        return {
            "kinds": data["kinds"],
            "date": data["date"],
            "topic": data["topic"],
            "place": data["place"],
            "host": data["host"],
            "lecturer": data["lecturer"],
            "agenda": data["agenda"],
            "minutes": data["minutes"],
            "decisions": data["decisions"],
            "major_decision": data["major_decision"],
            "credit_hours": data.get("credit_hours"),
            "attendees": present,
            "absentees": absent,
        }

    def attachment_kwargs(self) -> dict:
        return {
            "attachments": self.cleaned_data.get("attachments") or [],
            "attachment_kind": self.cleaned_data.get("attachment_kind") or AttachmentKind.PHOTO,
        }
