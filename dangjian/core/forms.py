"""Form pieces shared by the area apps."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse

if TYPE_CHECKING:
    # The mixin is only ever mixed into a form: the type checker sees it as one.
    _FormBase = forms.BaseForm
else:
    _FormBase = object


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern): the cleaned value is a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


# A picked organization is shown as "名称（编码）"; the code in the full-width brackets is what counts.
_LABELLED_CODE = re.compile(r"（([^（）]+)）\s*$")


class OrgPickerInput(forms.TextInput):
    """The organization picker (党组织选择): a text box for the code that the page's `js/org_picker.js` turns into a
    search by name or code with the tree to browse (`orgs:pick`); without script it still takes a code or a name.
    The field hands it its queryset, so the chosen organization is shown by name."""

    queryset = None
    # The organization the field resolved while cleaning: shown by name without asking the database again.
    resolved = None

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["data-org-picker"] = reverse("orgs:pick")
        widget_attrs.setdefault("placeholder", "输入名称或编码搜索")
        given = str(value).strip() if value else ""
        resolved = self.resolved
        if resolved is not None and (given in (resolved.code, resolved.name) or given.endswith(f"（{resolved.code}）")):
            context["widget"]["value"] = resolved.code
            widget_attrs["data-label"] = f"{resolved.name}（{resolved.code}）"
        elif value and self.queryset is not None:
            row = self.queryset.filter(code=str(value).strip()).values_list("name", flat=True).first()
            if row is not None:
                widget_attrs["data-label"] = f"{row}（{str(value).strip()}）"
        return context


class ScopedCodeField(forms.CharField):
    """An organization picked by its code (党组织编码) — or by its exact name, or as the picker's "名称（编码）" —
    resolved only inside a given queryset.

    The client sends a code, never an id we trust: a code outside the queryset (the user's scope) is
    answered exactly like a code that does not exist. A required field with no initial value starts at the top of
    the queryset when that is one organization (a secretary's branch, a committee's root): the user's own.
    """

    widget = OrgPickerInput

    def __init__(self, *, queryset=None, preset_own: bool = True, **kwargs):
        kwargs.setdefault("max_length", 120)
        self.preset_own = preset_own
        self._queryset = None
        super().__init__(**kwargs)
        self.queryset = queryset

    # Field.initial is a plain attribute; here it may be computed from the queryset.
    @property
    def initial(self):
        # Only a picker the user sees starts somewhere; a hidden field carries what the page gave it.
        if self._initial is None and self.required and self.preset_own and isinstance(self.widget, OrgPickerInput):
            return self.own_organization_code()
        return self._initial

    @initial.setter
    def initial(self, value) -> None:
        self._initial = value

    @property
    def queryset(self):
        return self._queryset

    @queryset.setter
    def queryset(self, queryset) -> None:
        self._queryset = queryset
        self.widget.queryset = queryset

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.widget.queryset = self._queryset
        return result

    def own_organization_code(self) -> str | None:
        """The code of the queryset's one top organization, if it has exactly one."""
        if self._queryset is None:
            return None
        tops = list(self._queryset.order_by("depth", "path").values_list("code", "depth")[:2])
        if not tops or (len(tops) == 2 and tops[1][1] == tops[0][1]):
            return None
        return tops[0][0]

    def prepare_value(self, value):
        return getattr(value, "code", value)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        text = text.strip()
        labelled = _LABELLED_CODE.search(text)
        code = labelled.group(1).strip() if labelled else text
        found = self.queryset.filter(code=code).first()
        if found is None and not labelled:
            by_name = list(self.queryset.filter(name=text)[:2])
            if len(by_name) == 2:
                raise ValidationError("有多个名为“%(name)s”的党组织，请在列表中选择一个。", params={"name": text})
            found = by_name[0] if by_name else None
        if found is None:
            raise ValidationError(
                "找不到党组织编码“%(code)s”，或该组织不在您的管理范围内。请输入名称或编码，在列表中选择。",
                params={"code": text},
            )
        self.widget.resolved = found
        return found


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


_STOCK_REQUIRED = str(forms.Field.default_error_messages["required"])
_CHOSEN = (forms.Select, forms.RadioSelect, forms.CheckboxSelectMultiple, forms.FileInput, OrgPickerInput)


def required_message(field: forms.Field) -> str:
    """A missing value's message written for the field: 请填写姓名。/ 请选择所在党组织。 — not the stock wording."""
    verb = "请选择" if isinstance(field.widget, _CHOSEN) else "请填写"
    return f"{verb}{field.label or '此项'}。"


class BootstrapFormMixin(_FormBase):
    """Give every widget Bootstrap's classes, and mark invalid fields so the message shows beside them; a required
    field left empty is told in words of its own (`required_message`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if str(field.error_messages.get("required", "")) == _STOCK_REQUIRED:
                field.error_messages["required"] = required_message(field)
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
