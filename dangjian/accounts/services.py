"""Role grants (角色授权): only the security admin grants and revokes (三员分立, 安全管理员)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dangjian.accounts.access import access_for, forget_access
from dangjian.accounts.models import THREE_ADMINS_MESSAGE, RoleAssignment, User
from dangjian.accounts.roles import Role


def _require_security_admin(by) -> None:
    access = access_for(by)
    if not (access.system or access.has_role(Role.SECURITY_ADMIN) or getattr(by, "is_superuser", False)):
        raise PermissionDenied("只有安全管理员可以授予或撤销角色。")


@transaction.atomic
def role_grant(*, by, user: User, role: str, organization=None) -> RoleAssignment:
    """Grant `role` over `organization`'s subtree. Refuses a second admin role and any mix of an admin
    role with business roles (三员分立); the database refuses it too, whoever writes."""
    _require_security_admin(by)
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialize grants per user
    assignment = RoleAssignment(user=user, role=role, organization=organization)
    assignment.full_clean()
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise ValidationError({"role": THREE_ADMINS_MESSAGE}) from None
    forget_access(user)
    return assignment


@transaction.atomic
def role_revoke(*, by, assignment: RoleAssignment) -> None:
    _require_security_admin(by)
    assignment.delete()
    forget_access(assignment.user)
