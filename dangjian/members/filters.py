import django_filters
from django import forms
from django.core.exceptions import ValidationError

from dangjian.core.forms import ScopedCodeField
from dangjian.members.models import Category, Member, Status
from dangjian.members.search import ID_NUMBER, NAME, NumberSearch, classify, search_token_resolve
from dangjian.orgs.models import Organization

NUMBER_IN_URL_MESSAGE = "公民身份号码和手机号码请在搜索框中输入后点“查询”：号码不能写在网址中。"
TOKEN_EXPIRED_MESSAGE = "按号码查询的结果已失效，请重新在搜索框中输入号码查询。"


SUBTREE_CHOICES = [("", "含下级"), ("own", "仅本级")]


class OrganizationCodeFilter(django_filters.Filter):
    """Members of an organization's whole subtree — or of that organization alone when the filter set's `sub` says
    仅本级 — the organization named (picked) within scope."""

    field_class = ScopedCodeField

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.parent.form.cleaned_data.get("sub") == "own":
            return qs.filter(organization=value)
        # IN (subquery) rather than a join: the planner picks the few organizations first, then their
        # members by index, instead of walking the whole roster in name order looking for matches.
        return qs.filter(
            organization__in=Organization.objects.dangerously_all().filter(path__startswith=value.path).values("pk")
        )


class NameSearchField(forms.CharField):
    """The `q` of a URL: a name (or part of one). A number is refused: it is searched only through the search
    box's POST (see MemberFilter)."""

    def clean(self, value):
        value = super().clean(value)
        if value and classify(value)[0] != NAME:
            raise ValidationError(NUMBER_IN_URL_MESSAGE, code="number_in_url")
        return value


class SearchTokenField(forms.CharField):
    """The `qt` of a URL: the token of a number search kept in the user's session, cleaned to its NumberSearch."""

    widget = forms.HiddenInput

    def __init__(self, *args, session=None, **kwargs):
        self.session = session
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        search = search_token_resolve(self.session, value)
        if search is None:
            raise ValidationError(TOKEN_EXPIRED_MESSAGE, code="search_expired")
        return search


class NameSearchFilter(django_filters.CharFilter):
    field_class = NameSearchField


class SearchTokenFilter(django_filters.CharFilter):
    field_class = SearchTokenField


class MemberFilter(django_filters.FilterSet):
    """The member list's search and filters; the page and its export share it.

    Names are matched by substring, through `?q=` (a plain GET: bookmarkable, paginated). ID numbers and phone
    numbers are matched only whole, through their keyed hashes (the columns are encrypted), the same way for every
    role, so that a role that sees them masked cannot recover a number digit by digit. And a number never travels
    in a URL: the page's search box is POSTed to `members:search` (members.search), which keeps the number's
    keyed hash in the user's session under a short-lived random token and redirects here with `?qt=<token>`;
    pagination and the export link carry the token, which means nothing in another session or after an hour.
    Such a search is audited (SEARCH, the number masked) when it is made. A number put into `?q=` by hand is
    refused with a message rather than searched.
    """

    q = NameSearchFilter(
        label="搜索",
        method="search",
        widget=forms.TextInput(attrs={"placeholder": "姓名，或完整的公民身份号码、手机号码", "autocomplete": "off"}),
    )
    qt = SearchTokenFilter(label="按号码查询", method="search_by_number")
    org = OrganizationCodeFilter(label="党组织")
    sub = django_filters.ChoiceFilter(
        label="范围", choices=SUBTREE_CHOICES[1:], empty_label=SUBTREE_CHOICES[0][1], method="by_org_filter"
    )
    category = django_filters.ChoiceFilter(label="人员类别", choices=Category.choices, empty_label="全部类别")
    status = django_filters.ChoiceFilter(label="党籍状态", choices=Status.choices, empty_label="全部状态")

    class Meta:
        model = Member
        fields = ["q", "qt", "org", "sub", "category", "status"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["org"].extra["queryset"] = Organization.objects.visible_to(user)
        self.filters["qt"].extra["session"] = getattr(self.request, "session", None)
        for field in self.form.fields.values():
            if isinstance(field.widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css

    def by_org_filter(self, qs, name, value):
        # Read by the `org` filter: the range alone narrows nothing.
        return qs

    @property
    def number_search(self) -> NumberSearch | None:
        """The number search in force (from `qt`), once the filter is valid."""
        if not self.is_bound or not self.is_valid():
            return None
        return self.form.cleaned_data.get("qt")

    def search(self, qs, name, value):
        """Names by substring (a number never reaches here: the field refuses it)."""
        value = value.strip()
        if not value:
            return qs
        return qs.filter(name__contains=value)

    def search_by_number(self, qs, name, value: NumberSearch | None):
        """A whole ID number or phone number, by its keyed hash."""
        if value is None:
            return qs
        if value.kind == ID_NUMBER:
            return qs.filter(id_number_digest=value.digest)
        return qs.filter(phone_digest=value.digest)
