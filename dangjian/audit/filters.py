import django_filters
from django import forms
from django.apps import apps
from django.db.models import Q

from dangjian.accounts.models import User
from dangjian.audit.models import AuditAction, AuditEvent, AuditResult
from dangjian.audit.selectors import OTHER_KINDS
from dangjian.core.forms import DateInput

# The apps whose models the trail names (Django's own and the libraries' are left out of the choice).
PROJECT_APPS = "dangjian."


def object_type_choices() -> list[tuple[str, str]]:
    """Every kind of object the trail can name, by its Chinese name (with the app's where two share one)."""
    models = [
        m
        for m in apps.get_models()
        if m.__module__.startswith(PROJECT_APPS) and not m.__name__.startswith("Historical")
    ]
    names: dict[str, int] = {}
    for model in models:
        names[str(model._meta.verbose_name)] = names.get(str(model._meta.verbose_name), 0) + 1
    choices = []
    for model in models:
        label = str(model._meta.verbose_name)
        if names[label] > 1:
            label = f"{label}（{model._meta.app_config.verbose_name}）"
        choices.append((model._meta.label_lower, label))
    seen = [label for _, label in choices]
    choices = [
        (value, f"{label}·{value.split('.')[1]}" if seen.count(label) > 1 else label) for value, label in choices
    ]
    choices += list(OTHER_KINDS.items())
    return sorted(choices, key=lambda choice: choice[1])


class AuditEventFilter(django_filters.FilterSet):
    """The audit page's filters: the person (username or name), the action (by its Chinese name), the result, the
    kind of object (and its id) and a date range (dates in local time)."""

    actor = django_filters.CharFilter(label="操作人（账号或姓名）", method="filter_actor")
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, label="操作", empty_label="全部操作")
    result = django_filters.ChoiceFilter(choices=AuditResult.choices, label="结果", empty_label="全部结果")
    object_type = django_filters.ChoiceFilter(label="对象类型", empty_label="全部对象")
    object_id = django_filters.CharFilter(label="对象ID", lookup_expr="exact")
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label="起始日期", widget=DateInput())
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label="截止日期", widget=DateInput())

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "result", "object_type", "object_id", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["object_type"].extra["choices"] = object_type_choices()
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        named = User.objects.filter(full_name__icontains=value).values("pk")
        return queryset.filter(Q(actor_username__icontains=value) | Q(actor_id__in=named))
