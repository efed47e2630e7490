import django_filters
from django import forms

from dangjian.audit.models import AuditAction, AuditEvent, AuditResult
from dangjian.core.forms import DateInput


class AuditEventFilter(django_filters.FilterSet):
    """The audit page's filters: actor, action, result, object and a time range (dates in local time)."""

    actor = django_filters.CharFilter(field_name="actor_username", label="操作人", lookup_expr="exact")
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, label="操作", empty_label="全部操作")
    result = django_filters.ChoiceFilter(choices=AuditResult.choices, label="结果", empty_label="全部结果")
    object_type = django_filters.CharFilter(label="对象类型", lookup_expr="exact")
    object_id = django_filters.CharFilter(label="对象ID", lookup_expr="exact")
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label="起始日期", widget=DateInput())
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label="截止日期", widget=DateInput())

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "result", "object_type", "object_id", "since", "until"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
