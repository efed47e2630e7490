"""Forms of the schools seam. Nothing a client sends is trusted as an id: organizations are named by code
inside the user's school-managing scope, parent schools by code inside what the user sees, units by name or
credit code inside what the user sees, and a school's own rows (terms, member units) only among that school's."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.accounts.roles import SCHOOL_MANAGE_ROLES
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.orgs.models import Organization, Unit
from dangjian.schools.models import (
    BuildMode,
    FundingPurpose,
    PartySchool,
    SchoolLevel,
    SchoolVenue,
    StandardItem,
    scheme_for,
    school_code_validator,
)
from dangjian.schools.services.schools import EVIDENCE_EXTENSIONS


def manageable_orgs(user):
    """The organizations in which the user may run party schools (工委工作人员 / 党校管理员 subtrees)."""
    return Organization.objects.granted_to(user, SCHOOL_MANAGE_ROLES)


def this_year() -> int:
    return timezone.localdate().year


YEAR_FIELD_KWARGS = {"label": "年度", "min_value": 2000, "max_value": 2100}


class SchoolCodeField(forms.CharField):
    """A school picked by its code, resolved only inside a queryset (the schools the user sees): an unknown
    code and one out of scope get the same message."""

    def __init__(self, *, queryset=None, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)
        self.queryset = queryset

    def prepare_value(self, value):
        return getattr(value, "code", value)

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        try:
            return self.queryset.get(code=code.strip())
        except self.queryset.model.DoesNotExist:
            raise ValidationError(
                "找不到党校编码“%(code)s”，或该党校不在您的查看范围内。", params={"code": code}
            ) from None


class SchoolForm(BootstrapFormMixin, forms.Form):
    """Create or edit a party school. Its rules (build mode and parent, unique code) run in the service."""

    code = forms.CharField(label="党校编码", max_length=32, validators=[school_code_validator])
    name = forms.CharField(label="党校名称", max_length=100)
    organization = ScopedCodeField(label="主办党组织")
    level = forms.ChoiceField(label="党校层级", choices=SchoolLevel.choices)
    build_mode = forms.ChoiceField(label="建校模式", choices=BuildMode.choices, initial=BuildMode.INDEPENDENT)
    parent = SchoolCodeField(label="上级党校编码（延伸建校）", required=False, help_text="仅延伸建校填写。")
    address = forms.CharField(label="地址", max_length=200, required=False)
    equipment = forms.CharField(label="教学设备", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deputy_principal = forms.CharField(label="副校长", max_length=50, required=False)
    liaison = forms.CharField(label="区委党校联络员", max_length=50, required=False)
    established_on = forms.DateField(label="成立日期", required=False, widget=DateInput())
    active = forms.BooleanField(label="在办", required=False, initial=True)

    def __init__(self, *args, user, instance: PartySchool | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", {name: getattr(instance, name) for name in self.base_fields})
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = manageable_orgs(user)
        parents = PartySchool.objects.visible_to(user)
        if instance is not None:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents


class VenueForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = SchoolVenue
        fields = ["name", "address", "capacity", "equipment", "active"]


class JointUnitForm(BootstrapFormMixin, forms.Form):
    """A unit to add to a joint school, by its 统一社会信用代码 or its exact name, among the units the user sees."""

    unit = forms.CharField(label="成员单位（名称或统一社会信用代码）", max_length=100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = Unit.objects.visible_to(user)

    def clean_unit(self):
        text = self.cleaned_data["unit"].strip()
        found = list(self.units.filter(credit_code=text)[:2]) if text else []
        if not found:
            found = list(self.units.filter(name=text)[:2])
        if not found:
            raise ValidationError("找不到单位“%(text)s”，或该单位不在您的查看范围内。", params={"text": text})
        if len(found) > 1:
            raise ValidationError("有多个名为“%(text)s”的单位，请填写统一社会信用代码。", params={"text": text})
        return found[0]


class MemberUnitChangeForm(forms.Form):
    """Remove a member unit or move it in the rotation order: the row is looked up among the school's own."""

    ACTIONS = (("up", "上移"), ("down", "下移"), ("remove", "移除"))
    member_unit = forms.ModelChoiceField(queryset=None, label="成员单位")
    action = forms.ChoiceField(choices=ACTIONS, label="操作")

    def __init__(self, *args, school: PartySchool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_unit"].queryset = school.member_units.all()


class PrincipalProposeForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(**YEAR_FIELD_KWARGS)


class PrincipalConfirmForm(forms.Form):
    term = forms.ModelChoiceField(queryset=None, label="校长任期")

    def __init__(self, *args, school: PartySchool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = school.principal_terms.all()


class PrincipalSetForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(**YEAR_FIELD_KWARGS)
    name = forms.CharField(label="校长姓名", max_length=50)


class PlanForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(**YEAR_FIELD_KWARGS)
    planned_classes = forms.IntegerField(label="计划办班数", min_value=0, initial=0)
    planned_trainees = forms.IntegerField(label="计划培训人次", min_value=0, initial=0)
    plan = forms.CharField(label="培训计划", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class FundingForm(BootstrapFormMixin, forms.Form):
    year = forms.IntegerField(**YEAR_FIELD_KWARGS)
    purpose = forms.ChoiceField(label="用途", choices=FundingPurpose.choices)
    allocated = forms.DecimalField(label="下拨金额（元）", max_digits=12, decimal_places=2)
    spent = forms.DecimalField(label="支出金额（元）", max_digits=12, decimal_places=2)
    note = forms.CharField(label="说明", max_length=200, required=False, help_text="支出超过下拨金额时须写明原因。")


class StandardCheckForm(BootstrapFormMixin, forms.Form):
    """One item of the 六有 checklist: met or not, a note, and an optional evidence file."""

    year = forms.IntegerField(widget=forms.HiddenInput, min_value=2000, max_value=2100)
    item = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput, label="检查项")
    met = forms.BooleanField(label="达标", required=False)
    note = forms.CharField(label="说明", max_length=500, required=False)
    evidence = forms.FileField(
        label="佐证材料",
        required=False,
        help_text="可选；PDF、JPG、PNG、DOCX或XLSX，不超过10 MB。",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{ext}" for ext in EVIDENCE_EXTENSIONS)}),
    )

    def __init__(self, *args, school: PartySchool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = StandardItem.objects.filter(scheme=scheme_for(school), active=True)
        self.fields["item"].error_messages["invalid_choice"] = "该检查项不属于本校适用的“六有”标准，或已停用。"
