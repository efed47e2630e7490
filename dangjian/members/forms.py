from django import forms

from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.core.validators import normalize_id_number
from dangjian.members.models import Member, PartyPost, Status


class MemberForm(BootstrapFormMixin, forms.ModelForm):
    """Create or edit a member. The organization is named by code and resolved inside the user's
    editable scope; the rules of Member.clean run on every save. The hidden version lets the service
    refuse a save made on an outdated copy."""

    organization = ScopedCodeField(label="所在党组织编码")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Member
        fields = [
            "name",
            "gender",
            "ethnicity",
            "birth_date",
            "id_number",
            "phone",
            "education",
            "join_date",
            "full_date",
            "category",
            "organization",
            "is_leadership",
            "is_district_cadre",
        ]
        widgets = {
            "birth_date": DateInput(),
            "join_date": DateInput(),
            "full_date": DateInput(),
            "id_number": forms.TextInput(attrs={"autocomplete": "off", "maxlength": 22}),
        }

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = org_queryset
        if self.instance.pk:
            # Editing never shows the full number (masked by default; a full view is a separate, audited
            # action). Left blank, the number stays as it is.
            field = self.fields["id_number"]
            field.required = False
            field.widget.attrs["placeholder"] = self.instance.masked_id_number
            field.help_text = "不修改请留空。"
            self.initial["id_number"] = ""
            self.initial["version"] = self.instance.version

    def clean_id_number(self):
        number = normalize_id_number(self.cleaned_data.get("id_number") or "")
        if not number and self.instance.pk:
            return self.instance.id_number
        return number


class MemberStatusForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    status = forms.ChoiceField(label="新的党籍状态", choices=Status.choices)
    on = forms.DateField(label="变更日期", widget=DateInput())
    reason = forms.CharField(label="变更原因", max_length=100)


class PartyPostForm(BootstrapFormMixin, forms.ModelForm):
    organization = ScopedCodeField(label="任职党组织编码")

    class Meta:
        model = PartyPost
        fields = ["organization", "post", "start_date", "end_date"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = org_queryset
