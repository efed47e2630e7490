"""Forms of member development: the list's filter, the applicant's registration, a step, the probation's
extension and a plan quota. Organizations are picked by code inside the user's scope; people by pk inside the
scoped list of the branch (never a trusted id)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.core.validators import validate_id_number
from dangjian.development.models import CandidateStage
from dangjian.development.steps import Step, step_list
from dangjian.members.models import Education, Gender, Member, Status
from dangjian.orgs.models import BRANCH_KINDS, Organization

ACTING_ROLES = {Role.COMMITTEE, Role.SECRETARY}


def acting_organizations(user):
    """The organizations a user acts in for member development (committee staff's and secretaries' subtrees)."""
    return Organization.objects.granted_to(user, ACTING_ROLES)


class FilterForm(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    stage = forms.ChoiceField(
        label="所处阶段", required=False, choices=[("", "全部（未转正）"), *CandidateStage.choices]
    )
    q = forms.CharField(label="姓名", required=False, max_length=50)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = acting_organizations(user)


class CandidateForm(BootstrapFormMixin, forms.Form):
    organization = ScopedCodeField(label="所在党支部")
    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(label="性别", choices=Gender.choices)
    birth_date = forms.DateField(label="出生日期", widget=DateInput)
    id_number = forms.CharField(label="公民身份号码", max_length=18, validators=[validate_id_number])
    phone = forms.CharField(label="手机号码", max_length=20, required=False)
    education = forms.ChoiceField(label="学历", choices=[("", "—"), *Education.choices], required=False)
    applied_on = forms.DateField(label="递交入党申请书日期", widget=DateInput)
    note = forms.CharField(label="情况说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = acting_organizations(user).filter(kind__in=BRANCH_KINDS)


class StepForm(BootstrapFormMixin, forms.Form):
    """The next step of a person's path: the date, the people involved, a note; the contact people or introducers
    for the steps that assign them, the course's days and hours for the course step, and an exception's reason
    where a time rule allows one."""

    date = forms.DateField(label="日期", widget=DateInput)
    people = forms.CharField(label="相关人员", required=False, max_length=200)
    contacts = forms.ModelMultipleChoiceField(
        label="培养联系人", queryset=Member.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    course_days = forms.IntegerField(label="培训天数", required=False, min_value=0, max_value=365)
    course_hours = forms.DecimalField(
        label="培训学时", required=False, min_value=0, max_value=1000, decimal_places=1, max_digits=5
    )
    note = forms.CharField(label="情况说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    exception_reason = forms.CharField(
        label="例外情况说明",
        required=False,
        max_length=300,
        help_text="仅在超过规定期限且规定允许特殊情况时填写，写明原因。",
    )

    def __init__(self, *args, user, candidate, step: Step, **kwargs):
        super().__init__(*args, **kwargs)
        self.step = step
        if step.people:
            self.fields["people"].label = step.people
        else:
            del self.fields["people"]
        if step.contacts is None:
            del self.fields["contacts"]
        else:
            field = self.fields["contacts"]
            field.label = "入党介绍人" if step.contacts.role == "introducer" else "培养联系人"
            # The branch's members with a normal status: the service refuses anybody but a full member, by name.
            field.queryset = (
                Member.objects.editable_by(user)
                .filter(organization=candidate.organization, status=Status.ACTIVE)
                .order_by("name")
            )
            field.label_from_instance = lambda m: f"{m.name}（{m.get_category_display()}）"
        if step.course is None:
            del self.fields["course_days"]
            del self.fields["course_hours"]
        if step.deadline is None or not step.deadline.exception:
            del self.fields["exception_reason"]
        self.fields["date"].initial = timezone.localdate()


class ExtensionForm(BootstrapFormMixin, forms.Form):
    months = forms.IntegerField(label="延长月数", min_value=1, max_value=24)
    decided_on = forms.DateField(label="支部大会决定日期", widget=DateInput)
    reason = forms.CharField(label="延长原因", max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        steps = step_list()
        self.fields[
            "months"
        ].help_text = f"{steps.extension_min_months}至{steps.extension_max_months}个月，只能延长一次。"


class QuotaForm(BootstrapFormMixin, forms.Form):
    organization = ScopedCodeField(label="党组织")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    quota = forms.IntegerField(label="计划发展数", min_value=0, max_value=10000)
    note = forms.CharField(label="备注", required=False, max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.granted_to(user, {Role.COMMITTEE})
        self.fields["year"].initial = timezone.localdate().year


class PlanFilterForm(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = acting_organizations(user)
