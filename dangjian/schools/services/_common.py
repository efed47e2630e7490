"""What every party-school service shares: who may change what (who the history names comes from the services
kit, `core.services`)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from dangjian.accounts.access import access_for
from dangjian.orgs.models import Organization

NOT_MANAGER_MESSAGE = "您的角色无权管理该党校（或该组织）的党校工作。"


def require_manager(by, org: Organization, message: str = NOT_MANAGER_MESSAGE) -> None:
    """Refuse unless `by` holds a school-managing role (工委工作人员 / 党校管理员) over `org`."""
    if not access_for(by).can_manage_schools_in(org):
        raise PermissionDenied(message)
