from django import forms

from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.orgs.models import Organization, Unit


class OrganizationForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["code", "name", "kind", "established_on"]
        widgets = {"established_on": DateInput()}


class OrganizationMoveForm(BootstrapFormMixin, forms.Form):
    new_parent = ScopedCodeField(label="新的上级党组织", help_text="该组织及其全部下级组织将一并移动。")

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = queryset


class OrganizationSearchForm(forms.Form):
    q = forms.CharField(label="名称或编码", required=False, max_length=50)


class UnitForm(BootstrapFormMixin, forms.ModelForm):
    organization = ScopedCodeField(label="所属党组织", required=False)
    managing_organization = ScopedCodeField(label="主管党组织", required=False)

    class Meta:
        model = Unit
        fields = ["name", "kind", "credit_code", "address", "organization", "managing_organization"]

    def __init__(self, *args, org_queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = org_queryset
        self.fields["managing_organization"].queryset = org_queryset
