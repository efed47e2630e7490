"""Form pieces shared by the area apps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

if TYPE_CHECKING:
    # The mixin is only ever mixed into a form: the type checker sees it as one.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ScopedCodeField(forms.CharField):
    """An organization picked by its code (党组织编码), resolved only inside a given queryset.

    The client sends a code, never an id we trust: a code outside the queryset (the user's scope) is
    answered exactly like a code that does not exist.
    """

    def __init__(self, *, queryset=None, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)
        self.queryset = queryset

    def prepare_value(self, value):
        return getattr(value, "code", value)

    def clean(self, value):
        code = super().clean(value)
        if not code:
            return None
        try:
            return self.queryset.get(code=code.strip())
        except self.queryset.model.DoesNotExist:
            raise ValidationError(
                "找不到党组织编码“%(code)s”，或该组织不在您的管理范围内。", params={"code": code}
            ) from None


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: to the named field where the form has it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            if field == NON_FIELD_ERRORS:
                target = None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


class BootstrapFormMixin(_FormBase):
    """Give every widget Bootstrap's classes, and mark invalid fields so the message shows beside them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"
                widget.attrs["aria-invalid"] = "true"
