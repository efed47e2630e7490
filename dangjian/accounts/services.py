"""Accounts and role grants: only the security admin grants and revokes roles, and nobody holds the keys of
the three admins but themselves (三员分立, GB/T 22239-2019 8.1.4.2).

Every change here lands in the audit trail through `core.signals.security_event` (accounts sits below the
audit app and never imports it).
"""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dangjian.accounts.access import access_for, forget_access
from dangjian.accounts.models import THREE_ADMINS_MESSAGE, RoleAssignment, RoleKind, User
from dangjian.accounts.roles import Role
from dangjian.core.services import service
from dangjian.core.signals import security_event

THREE_ADMINS_PASSWORD_MESSAGE = (
    "三员分立：系统管理员、安全管理员、审计管理员及应急账号的密码只能由本人修改；"
    "确需重置时由运维人员在服务器上使用 reset_password 命令（记入审计）。"
)


def _require_security_admin(by) -> None:
    access = access_for(by)
    if not (access.system or access.has_role(Role.SECURITY_ADMIN) or getattr(by, "is_superuser", False)):
        raise PermissionDenied("只有安全管理员可以授予或撤销角色。")


@service
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


@service
def role_revoke(*, by, assignment: RoleAssignment) -> None:
    _require_security_admin(by)
    assignment.delete()
    forget_access(assignment.user)


def is_protected_account(user: User) -> bool:
    """The accounts whose credentials only their holder sets: the three admins and the emergency superuser."""
    return user.is_superuser or RoleAssignment.objects.filter(user=user, kind=RoleKind.ADMIN).exists()


def may_set_password(*, by, user: User) -> bool:
    """Who may set `user`'s password: the user themself; the system admin for any account but a protected one
    (三员分立: a system admin who could set the auditor's password could become the auditor); nobody else.
    `by=None` is the operator's `reset_password` command on the server (the emergency path)."""
    if by is None or by.pk == user.pk:
        return True
    if is_protected_account(user):
        return False
    return access_for(by).has_role(Role.SYSTEM_ADMIN) or getattr(by, "is_superuser", False)


@service
def password_set(*, by, user: User, raw_password: str, via: str = "page") -> None:
    """Set `user`'s password as `by`. A password set by someone else must be changed at the next login, and the
    setting is audited (actor, target, source IP, time). Refused for the protected accounts (`may_set_password`)."""
    if not may_set_password(by=by, user=user):
        raise PermissionDenied(THREE_ADMINS_PASSWORD_MESSAGE)
    password_validation.validate_password(raw_password, user)
    user.set_password(raw_password)
    own = by is not None and by.pk == user.pk
    user.must_change_password = not own
    user.save()
    security_event.send(
        sender=password_set,
        action="password_change" if own else "password_set",
        user=user,
        actor=user if own else by,
        detail={"target": user.get_username(), "via": via, "must_change": not own},
    )


def account_created(*, by, user: User, via: str = "page") -> None:
    """Record a new account made by `by`; its first password was set by someone else, so it must be changed."""
    if not user.must_change_password and user.has_usable_password():
        User.objects.filter(pk=user.pk).update(must_change_password=True)
        user.must_change_password = True
    security_event.send(
        sender=account_created,
        action="account_create",
        user=user,
        actor=by,
        detail={"target": user.get_username(), "via": via},
    )


def account_changed(*, by, user: User, fields: list[str]) -> None:
    """Record a change of an account's own fields (names only, never values)."""
    if fields:
        security_event.send(
            sender=account_changed,
            action="account_update",
            user=user,
            actor=by,
            detail={"target": user.get_username(), "fields": sorted(fields)},
        )
