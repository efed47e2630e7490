import django_filters
from django import forms

from dangjian.core.forms import ScopedCodeField
from dangjian.members.models import Category, Member, Status, id_number_digest
from dangjian.orgs.models import Organization


class OrganizationCodeFilter(django_filters.Filter):
    """Members of an organization's whole subtree, the organization named by its code within scope."""

    field_class = ScopedCodeField

    def filter(self, qs, value):
        if value is None:
            return qs
        # IN (subquery) rather than a join: the planner picks the few organizations first, then their
        # members by index, instead of walking the whole roster in name order looking for matches.
        return qs.filter(organization__in=Organization.objects.filter(path__startswith=value.path).values("pk"))


class MemberFilter(django_filters.FilterSet):
    """The member list's search and filters; the page, and later its export, share it."""

    q = django_filters.CharFilter(
        label="搜索", method="search", widget=forms.TextInput(attrs={"placeholder": "姓名、完整公民身份号码或手机号码"})
    )
    org = OrganizationCodeFilter(label="党组织编码（含下级）")
    category = django_filters.ChoiceFilter(label="人员类别", choices=Category.choices, empty_label="全部类别")
    status = django_filters.ChoiceFilter(label="党籍状态", choices=Status.choices, empty_label="全部状态")

    class Meta:
        model = Member
        fields = ["q", "org", "category", "status"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["org"].extra["queryset"] = Organization.objects.visible_to(user)
        for field in self.form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css

    def search(self, qs, name, value):
        """Names by substring; a full ID number exactly (it is stored encrypted, so only its keyed hash
        can be matched); phone numbers by prefix."""
        value = value.strip()
        if not value:
            return qs
        compact = value.replace(" ", "").upper()
        if len(compact) == 18 and compact[:17].isdigit():
            return qs.filter(id_number_digest=id_number_digest(compact))
        if compact.isdigit():
            return qs.filter(phone__startswith=compact)
        return qs.filter(name__contains=value)
