"""What every party-school service shares: who may change what, and who the history names."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from dangjian.accounts.access import Access
from dangjian.orgs.models import Organization
from dangjian.schools.models import can_manage_in

NOT_MANAGER_MESSAGE = "您的角色无权管理该党校（或该组织）的党校工作。"


def require_manager(by, org: Organization, message: str = NOT_MANAGER_MESSAGE) -> None:
    """Refuse unless `by` holds a school-managing role (工委工作人员 / 党校管理员) over `org`."""
    if not can_manage_in(by, org):
        raise PermissionDenied(message)


def actor(by):
    """The user account behind `by` (None for the Access of a job or command)."""
    if isinstance(by, Access) or not getattr(by, "is_authenticated", False):
        return None
    return by


def set_history(obj, by, reason: str = "") -> None:
    """Name who made the change and why on the history row (also outside a request)."""
    user = actor(by)
    if user is not None:
        obj._history_user = user
    reason = (reason or "").strip()[:100]
    if reason:
        obj._change_reason = reason
