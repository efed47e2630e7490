"""Two editors of one record (optimistic concurrency): the second to save is refused, nothing is lost.

An edit form carries, in a hidden field (`VersionField`, added by `VersionedFormMixin`), the version of the record
the editor loaded (`version_of`): the model's integer `version` column where it keeps one (a member), else its
`updated_at` time to the microsecond (every business record is a `TimeStampedModel`, whose `updated_at` changes on
every save). The service locks the record's row (`select_for_update`) and calls `check_version` before changing
anything: a different version means someone saved in between, and the change is refused with a `ValidationError`
naming who saved and when, so the form re-renders with the editor's input kept and nothing is written.

A form posted without a version (a caller that never loaded the record: a command, an import) is not checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

if TYPE_CHECKING:
    _FormBase = forms.BaseForm
else:
    _FormBase = object

STALE_MESSAGE = "{what}已被他人修改{by_whom}，请刷新后重新编辑。您的修改未保存。"
STALE_CODE = "stale"


def version_of(obj: Any) -> str:
    """The version of `obj` an editor loads: its integer `version` column, else `updated_at` (ISO 8601)."""
    version = getattr(obj, "version", None)
    if isinstance(version, int):
        return str(version)
    updated_at = getattr(obj, "updated_at", None)
    return updated_at.isoformat() if updated_at is not None else ""


def _last_change(obj: Any) -> tuple[str, str]:
    """Who made the record's latest change and when (local time, to the minute), as far as its history knows."""
    history = getattr(obj, "history", None)
    latest = history.order_by("-history_date", "-history_id").first() if history is not None else None
    user = getattr(latest, "history_user", None) if latest is not None else None
    who = (user.get_full_name() if hasattr(user, "get_full_name") else str(user)) if user is not None else ""
    at = getattr(latest, "history_date", None) if latest is not None else getattr(obj, "updated_at", None)
    when = f"{timezone.localtime(at):%Y-%m-%d %H:%M}" if at is not None else ""
    return who, when


def stale_message(obj: Any, *, what: str = "该记录") -> str:
    """The refusal's message: 该记录已被他人修改（张三，2026-03-01 10:15），请刷新后重新编辑。"""
    who, when = _last_change(obj)
    named = "，".join(part for part in (who, when) if part)
    return STALE_MESSAGE.format(what=what, by_whom=f"（{named}）" if named else "")


def check_version(obj: Any, expected: str | int | None, *, what: str = "该记录") -> None:
    """Refuse a change made on an outdated copy of `obj`, which the caller has locked (`select_for_update`) in the
    service's transaction; an empty `expected` (no version sent) is not checked."""
    if expected is None or str(expected).strip() == "":
        return
    if str(expected).strip() != version_of(obj):
        raise ValidationError(stale_message(obj, what=what), code=STALE_CODE)


class VersionField(forms.CharField):
    """The hidden field that carries the version the editor loaded."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)


class VersionedFormMixin(_FormBase):
    """A form with the hidden `version` field when it edits a record: pass `versioned=obj` (the record being
    edited, when the form is built for the page and when it is posted); a form that creates has no such field."""

    def __init__(self, *args, versioned: Any = None, **kwargs):
        super().__init__(*args, **kwargs)
        if versioned is not None:
            self.fields["version"] = VersionField()
            self.initial["version"] = version_of(versioned)

    @property
    def loaded_version(self) -> str | None:
        """The version the editor loaded (after `is_valid`); None for a form that creates."""
        return self.cleaned_data.get("version") or None
