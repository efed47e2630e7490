"""Filters of the catalog lists: the instructor pool (with the ranking year) and the course catalog."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone

from dangjian.schools.filters import BootstrapFilterSet
from dangjian.schools.forms.catalog import TARGET_FLAGS
from dangjian.schools.models import (
    ContentType,
    Course,
    CourseCategory,
    CourseFormat,
    Instructor,
    InstructorTeam,
    TargetGroup,
)

YES_NO = [("yes", "是"), ("no", "否")]


class InstructorFilter(BootstrapFilterSet):
    year = django_filters.NumberFilter(
        label="积分年度", method="by_year", widget=forms.NumberInput(attrs={"min": 2000, "max": 2100})
    )
    team = django_filters.ModelChoiceFilter(label="讲师团", queryset=InstructorTeam.objects.all(), empty_label="全部")
    topic = django_filters.CharFilter(label="擅长专题", field_name="topics", lookup_expr="icontains")
    employer = django_filters.CharFilter(label="工作单位", field_name="employer", lookup_expr="icontains")
    active = django_filters.ChoiceFilter(label="在库", choices=YES_NO, method="by_active", empty_label="全部")

    class Meta:
        model = Instructor
        fields = ["year", "team", "topic", "employer", "active"]

    def by_year(self, qs, name, value):
        return qs  # the selector annotates the year's points; see `ranking_year`

    def by_active(self, qs, name, value):
        return qs.filter(active=value == "yes") if value else qs

    def ranking_year(self) -> int:
        """The year whose points rank the pool: `?year=` when valid (2000-2100), else this year."""
        value = self.form.cleaned_data.get("year") if self.is_bound and self.form.is_valid() else None
        if value is not None and 2000 <= value <= 2100:
            return int(value)
        return timezone.localdate().year


class CourseFilter(BootstrapFilterSet):
    q = django_filters.CharFilter(
        label="搜索", method="search", widget=forms.TextInput(attrs={"placeholder": "课程名称或简介"})
    )
    category = django_filters.ChoiceFilter(label="课程类别", choices=CourseCategory.choices, empty_label="全部类别")
    format = django_filters.ChoiceFilter(label="课程形式", choices=CourseFormat.choices, empty_label="全部形式")
    content_type = django_filters.ChoiceFilter(label="内容类型", choices=ContentType.choices, empty_label="全部类型")
    target = django_filters.ChoiceFilter(
        label="培训对象", choices=TargetGroup.choices, method="by_target", empty_label="全部对象"
    )
    premium = django_filters.BooleanFilter(label="只看精品课程", method="by_premium", widget=forms.CheckboxInput)

    class Meta:
        model = Course
        fields = ["q", "category", "format", "content_type", "target", "premium"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["premium"].widget.attrs["class"] = "form-check-input d-block"

    def search(self, qs, name, value):
        value = value.strip()
        return (qs.filter(title__contains=value) | qs.filter(summary__contains=value)) if value else qs

    def by_target(self, qs, name, value):
        return qs.filter(**{TARGET_FLAGS[value]: True}) if value else qs

    def by_premium(self, qs, name, value):
        return qs.filter(premium_year__isnull=False) if value else qs
