"""The organization picker: nobody types a code. Its answers stay inside the user's view, and the field behind it
takes a code, an exact name or the picker's "名称（编码）", always resolved inside the form's own queryset."""

from __future__ import annotations

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.core.forms import ScopedCodeField
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

URL = reverse("orgs:pick")


@pytest.fixture
def tree():
    root = OrganizationFactory(code="PKR", name="滨江区教育工委", kind=OrgKind.COMMITTEE)
    school = OrganizationFactory(code="PKS", name="滨江一中党委", kind=OrgKind.COMMITTEE, parent=root)
    first = OrganizationFactory(code="PKS01", name="第一党支部", parent=school)
    root.refresh_from_db()
    school.refresh_from_db()
    second = OrganizationFactory(code="PKT", name="滨江二中党委", kind=OrgKind.COMMITTEE, parent=root)
    root.refresh_from_db()
    same_name = OrganizationFactory(code="PKT01", name="第一党支部", parent=second)
    other = OrganizationFactory(code="PKX", name="临湖县教育工委", kind=OrgKind.COMMITTEE)
    return {"root": root, "school": school, "first": first, "second": second, "same": same_name, "other": other}


def committee_of(org):
    user = UserFactory()
    grant(user, Role.COMMITTEE, org)
    return user


def picks(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.json()


def test_roots_then_children_then_search_stay_in_view(client, tree):
    client.force_login(committee_of(tree["school"]))
    roots = picks(client)["results"]
    assert [r["code"] for r in roots] == ["PKS"]
    assert roots[0]["children"] is True
    children = picks(client, parent="PKS")["results"]
    assert [(r["code"], r["name"], r["children"]) for r in children] == [("PKS01", "第一党支部", False)]
    # Searching by name finds only what the user views: the other school's branch of the same name is not offered.
    found = picks(client, q="第一")["results"]
    assert [r["code"] for r in found] == ["PKS01"]
    assert found[0]["trail"] == "滨江一中党委"
    assert [r["code"] for r in picks(client, q="pks0")["results"]] == ["PKS01"]
    # Out of view: a search finds nothing, a parent outside is answered like an unknown one.
    assert picks(client, q="临湖")["results"] == []
    assert picks(client, parent="PKX")["results"] == []
    assert picks(client, parent="NOPE")["results"] == []


def test_same_names_read_apart_by_their_trail(client, tree):
    client.force_login(committee_of(tree["root"]))
    found = picks(client, q="第一党支部")["results"]
    assert {(r["code"], r["trail"]) for r in found} == {
        ("PKS01", "滨江区教育工委 › 滨江一中党委"),
        ("PKT01", "滨江区教育工委 › 滨江二中党委"),
    }


def test_many_matches_are_capped_and_queries_do_not_grow(client, tree):
    client.force_login(committee_of(tree["root"]))
    with CaptureQueriesContext(connection) as few:
        picks(client, q="党")
    for n in range(35):
        OrganizationFactory(code=f"PKM{n:02d}", name=f"多党支部{n}", parent=Organization.objects.get(code="PKT"))
    with CaptureQueriesContext(connection) as many:
        data = picks(client, q="党")
    assert len(data["results"]) == 30 and data["more"] is True
    assert len(many) == len(few)


def test_anonymous_and_no_role_get_nothing(client, tree):
    assert client.get(URL, {"q": "滨江"}).status_code == 302
    client.force_login(UserFactory())
    assert picks(client, q="滨江")["results"] == []


class PickForm(forms.Form):
    org = ScopedCodeField(label="党组织")
    optional = ScopedCodeField(label="范围", required=False)

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = queryset
        self.fields["optional"].queryset = queryset


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("PKS01", "PKS01"), (" PKS01 ", "PKS01"), ("第一党支部（PKS01）", "PKS01"), ("滨江一中党委", "PKS")],
)
def test_field_takes_a_code_a_label_or_an_exact_name(tree, typed, expected):
    form = PickForm({"org": typed}, queryset=Organization.objects.in_subtree(tree["school"]))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["org"].code == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("PKX", "找不到党组织编码“PKX”，或该组织不在您的管理范围内。"),
        ("临湖县教育工委", "找不到党组织编码“临湖县教育工委”"),
        ("临湖县教育工委（PKX）", "找不到党组织编码“临湖县教育工委（PKX）”"),
        ("第一党支部", "有多个名为“第一党支部”的党组织，请在列表中选择一个。"),
    ],
)
def test_field_refuses_out_of_scope_and_ambiguous_names(tree, typed, message):
    form = PickForm({"org": typed}, queryset=Organization.objects.in_subtree(tree["root"]))
    assert not form.is_valid()
    assert message in form.errors["org"][0]


def test_required_field_starts_at_the_users_own_organization(tree):
    form = PickForm(queryset=Organization.objects.in_subtree(tree["school"]))
    html = str(form["org"])
    assert 'value="PKS"' in html and 'data-label="滨江一中党委（PKS）"' in html
    assert "data-org-picker" in html
    # An optional field (a filter) starts empty; two tops (no one own organization) preset nothing.
    assert 'value="PKS"' not in str(form["optional"])
    two_tops = Organization.objects.filter(code__in=["PKS", "PKT"])
    assert "value=" not in str(PickForm(queryset=two_tops)["org"])
