"""Forms of online courses: a course's material, an offer to an organization or a class."""

from __future__ import annotations

from django import forms

from dangjian.accounts.roles import SCHOOL_MANAGE_ROLES
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.learning.models import MaterialKind
from dangjian.orgs.models import Organization
from dangjian.schools.models import PartySchool
from dangjian.training.models import ClassStatus, TrainingClass


class MaterialForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="资料名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=MaterialKind.choices)
    duration_minutes = forms.IntegerField(
        label="时长（分钟）", min_value=1, max_value=24 * 60, help_text="视频的播放时长；文档为规定的阅读时长。"
    )
    file = forms.FileField(label="文件", required=False, help_text="视频：MP4或WebM；文档：PDF。")
    url = forms.URLField(label="视频平台链接", required=False, max_length=500, assume_scheme="https")
    position = forms.IntegerField(label="顺序", min_value=0, max_value=999, initial=0, required=False)


class OfferForm(BootstrapFormMixin, forms.Form):
    organization = ScopedCodeField(
        label="指派党组织", required=False, help_text="该组织及其下级组织的全部党员；选择培训班时可不填。"
    )
    training_class = forms.ModelChoiceField(
        label="培训班", queryset=TrainingClass.objects.none(), required=False, help_text="只指派给该班的学员。"
    )
    school = forms.ModelChoiceField(label="指派党校", queryset=PartySchool.objects.none(), required=False)
    required = forms.BooleanField(label="指定学习（不勾选为选学）", required=False, initial=True)
    due_on = forms.DateField(label="完成期限", required=False, widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.granted_to(user, SCHOOL_MANAGE_ROLES)
        self.fields["training_class"].queryset = (
            TrainingClass.objects.managed_by(user)
            .filter(status__in=(ClassStatus.APPROVED, ClassStatus.FINISHED))
            .order_by("-starts_on", "-pk")
        )
        self.fields["school"].queryset = PartySchool.objects.manageable_by(user).filter(active=True).order_by("code")

    def clean(self):
        data = super().clean()
        if not data.get("organization") and not data.get("training_class"):
            self.add_error("organization", "请选择指派的党组织或培训班。")
        return data
