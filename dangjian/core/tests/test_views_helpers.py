"""`submit`: a form's data through a service, the service's errors back on the form; the pagination include's links
(docs/development.md, "Forms in views")."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory

from dangjian.core.views_helpers import FAILED, submit


class NameForm(forms.Form):
    name = forms.CharField(max_length=10)
    note = forms.CharField(required=False)


def test_a_valid_form_gets_the_service_result_and_keeps_its_data():
    form = NameForm({"name": "一支部", "note": "x"})
    assert form.is_valid()

    def create(data):
        data.pop("note")  # the service gets a copy: popping leaves the form's data alone
        return ("created", data)

    assert submit(form, create) == ("created", {"name": "一支部"})
    assert form.cleaned_data == {"name": "一支部", "note": "x"}
    assert not form.errors


def test_a_service_returning_none_is_not_a_failure():
    form = NameForm({"name": "一支部"})
    assert submit(form, lambda data: None) is None


def test_service_errors_go_beside_the_field_they_name_or_on_the_form():
    form = NameForm({"name": "一支部"})

    def refuse(data):
        raise ValidationError({"name": "名称已被使用。", "organization": "不在管理范围内。"})

    assert submit(form, refuse) is FAILED
    assert form.errors["name"] == ["名称已被使用。"]
    # A field the form does not have: a form-wide error.
    assert form.non_field_errors() == ["不在管理范围内。"]
    assert not form.is_valid()


def test_a_plain_service_error_is_a_form_wide_error():
    form = NameForm({"name": "一支部"})

    def refuse(data):
        raise ValidationError("该年度已关账。")

    assert submit(form, refuse) is FAILED
    assert form.non_field_errors() == ["该年度已关账。"]


def test_an_invalid_form_never_reaches_the_service():
    form = NameForm({"name": ""})
    calls = []
    assert submit(form, calls.append) is FAILED
    assert calls == []
    assert "name" in form.errors


def test_permission_denied_propagates():
    form = NameForm({"name": "一支部"})

    def forbid(data):
        raise PermissionDenied("无权操作。")

    with pytest.raises(PermissionDenied):
        submit(form, forbid)
    assert not form.errors


# The pagination include: links keep the request's filters, or a page's own `params`.


def _pagination(query: str, **context) -> str:
    request = RequestFactory().get(f"/list/?{query}")
    page = Paginator(range(100), 10).page(2)
    return render_to_string("includes/pagination.html", {"page": page, **context}, request=request)


def test_page_links_keep_the_filters_and_replace_the_page():
    html = _pagination("status=active&page=2&org=BJ01")
    assert 'href="?status=active&amp;page=1&amp;org=BJ01"' in html
    assert 'href="?status=active&amp;page=3&amp;org=BJ01"' in html
    assert 'href="?status=active&amp;page=10&amp;org=BJ01"' in html


def test_page_links_carry_the_params_a_page_gives():
    html = _pagination("page=2", params=QueryDict("month=2026-03&school=7"))
    assert 'href="?month=2026-03&amp;school=7&amp;page=3"' in html


def test_an_empty_required_field_is_told_in_its_own_words():
    from django import forms

    from dangjian.core.forms import BootstrapFormMixin

    class Form(BootstrapFormMixin, forms.Form):
        name = forms.CharField(label="姓名")
        kind = forms.ChoiceField(label="组织类别", choices=[("a", "甲")])
        note = forms.CharField(label="说明", error_messages={"required": "说明写一句即可。"})

    form = Form({})
    assert not form.is_valid()
    assert form.errors == {"name": ["请填写姓名。"], "kind": ["请选择组织类别。"], "note": ["说明写一句即可。"]}
