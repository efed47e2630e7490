"""The services kit: what every app's state changes share (docs/development.md, "Rules of the house: Writes").

- `acting_user(by)`: the user account behind a service's `by` — a user, or the `Access` of a job or command (no
  account: None).
- `set_history(obj, by, reason)`: name the author and the reason on the history row the next save writes.
- `service`: the decorator of a service function — one transaction, and every history row written inside names
  `by` as its author (`acting_as`), so rows written outside a request (commands, imports, the demo) name their
  author as the request middleware does for pages.
- `Errors`: collects messages per field, so the user sees every problem at once; `raise_if_any` raises them as one
  `ValidationError` keyed by field.
- `require(condition, message)` and `require_editor(access, organization)`: refuse with `PermissionDenied`.

`core` imports no area app: the access object is passed in (anything with `can_edit_member_in`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from simple_history.models import HistoricalRecords

if TYPE_CHECKING:
    # For the annotations only: at run time core imports no area app.
    from dangjian.accounts.models import User

NOT_EDITOR = "该党组织不在您的管理范围内。"
F = TypeVar("F", bound=Callable[..., Any])


def acting_user(by) -> User | None:
    """The authenticated user account behind `by`; None for the access of a job or command, or an anonymous user."""
    if isinstance(by, AbstractBaseUser) and by.is_authenticated:
        # AUTH_USER_MODEL is accounts.User, the one user model.
        return cast("User", by)
    return None


def set_history(obj: Any, by, reason: str = "") -> None:
    """Name who made the change (also outside a request: commands, imports) and why, on the history row the next
    save of `obj` writes."""
    user = acting_user(by)
    if user is not None:
        obj._history_user = user
    reason = (reason or "").strip()[:100]
    if reason:
        obj._change_reason = reason


def _request_user():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and getattr(user, "is_authenticated", False) else None


@contextmanager
def acting_as(by) -> Iterator[None]:
    """Inside the block, history rows name `by`'s user as their author, as the request middleware does for a page:
    a stand-in request is set for django-simple-history when there is no authenticated request already."""
    user = acting_user(by)
    if user is None or _request_user() is not None:
        yield
        return
    previous = getattr(HistoricalRecords.context, "request", None)
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del HistoricalRecords.context.request
        else:
            HistoricalRecords.context.request = previous


def service(fn: F) -> F:
    """Decorate a service function (keyword-only `by`): one transaction, and its history rows name `by`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with transaction.atomic(), acting_as(kwargs.get("by")):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Errors:
    """Messages per field, collected so that every bad input is reported at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def add(self, field: str | None, message: str) -> None:
        self.errors.setdefault(field or NON_FIELD_ERRORS, []).append(message)

    def extend(self, field: str | None, messages) -> None:
        for message in messages:
            self.add(field, message)

    def merge(self, exc: ValidationError) -> None:
        """Add a model's or another service's ValidationError, field by field."""
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                self.extend(field, messages)
        else:
            self.extend(None, exc.messages)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def require(condition: bool, message: str) -> None:
    """Refuse (PermissionDenied with `message`) unless `condition` holds."""
    if not condition:
        raise PermissionDenied(message)


def require_editor(access, organization, message: str = NOT_EDITOR) -> None:
    """Refuse unless `access` (an `accounts.access.Access`) may edit the members of `organization`."""
    require(access.can_edit_member_in(organization), message)
