"""Filters of the party-school lists (the page and its export share them)."""

from __future__ import annotations

import django_filters
from django import forms

from dangjian.schools.models import BuildMode, PartySchool, SchoolLevel


class BootstrapFilterSet(django_filters.FilterSet):
    """A filterset whose widgets carry Bootstrap's classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"


class SchoolFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        label="搜索", method="search", widget=forms.TextInput(attrs={"placeholder": "党校名称或编码"})
    )
    level = django_filters.ChoiceFilter(label="党校层级", choices=SchoolLevel.choices, empty_label="全部层级")
    build_mode = django_filters.ChoiceFilter(label="建校模式", choices=BuildMode.choices, empty_label="全部模式")

    class Meta:
        model = PartySchool
        fields = ["q", "level", "build_mode"]

    def search(self, qs, name, value):
        value = value.strip()
        return qs.filter(name__contains=value) | qs.filter(code__iexact=value) if value else qs
