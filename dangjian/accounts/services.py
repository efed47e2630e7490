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
from dangjian.accounts.models import THREE_ADMINS_MESSAGE, LockoutRelease, RoleAssignment, RoleKind, User
from dangjian.accounts.roles import ADMIN_ROLES, Role
from dangjian.core.services import Errors, acting_user, require, service
from dangjian.core.signals import security_event

THREE_ADMINS_PASSWORD_MESSAGE = (
    "三员分立：系统管理员、安全管理员、审计管理员及应急账号的密码只能由本人修改；"
    "确需重置时由运维人员在服务器上使用 reset_password 命令（记入审计）。"
)


NOT_SECURITY_ADMIN = "只有安全管理员可以授予或撤销角色。"
NOT_SYSTEM_ADMIN = "只有系统管理员可以管理用户账号。"
ADMIN_ROLE_WITH_ORGANIZATION = "三员角色不指定党组织。"
BUSINESS_ROLE_WITHOUT_ORGANIZATION = "业务角色必须指定授权党组织（角色覆盖该组织及其全部下级）。"
INACTIVE_ACCOUNT = "该账号已停用，不能授予角色。"


def is_security_admin(by) -> bool:
    access = access_for(by)
    return access.system or access.has_role(Role.SECURITY_ADMIN) or getattr(by, "is_superuser", False)


def is_system_admin(by) -> bool:
    access = access_for(by)
    return access.system or access.has_role(Role.SYSTEM_ADMIN) or getattr(by, "is_superuser", False)


def _require_security_admin(by, message: str = NOT_SECURITY_ADMIN) -> None:
    require(is_security_admin(by), message)


def grant_errors(*, user: User | None, role: str | None, organization=None) -> Errors:
    """What is wrong with granting `role` on `organization` to `user`, per field: the three admin roles have no
    organization, a business role needs one, an inactive account gets nothing. The service and the admin's form
    both ask here, so both refuse the same."""
    errors = Errors()
    if role and role not in Role.values:
        errors.add("role", "请选择有效的角色。")
    elif role in ADMIN_ROLES and organization is not None:
        errors.add("organization", ADMIN_ROLE_WITH_ORGANIZATION)
    elif role and role not in ADMIN_ROLES and organization is None:
        errors.add("organization", BUSINESS_ROLE_WITHOUT_ORGANIZATION)
    if user is not None and not user.is_active:
        errors.add("user", INACTIVE_ACCOUNT)
    if (
        user is not None
        and role
        and role not in ADMIN_ROLES  # a second admin grant gets the 三员分立 message from the model
        and "organization" not in errors
        and RoleAssignment.objects.filter(user=user, role=role, organization=organization).exists()
    ):
        errors.add("role", "该用户已拥有这一授权，无需重复授予。")
    return errors


@service
def role_grant(*, by, user: User, role: str, organization=None) -> RoleAssignment:
    """Grant `role` over `organization`'s subtree. Refuses a second admin role and any mix of an admin
    role with business roles (三员分立); the database refuses it too, whoever writes. A business role needs an
    organization, an admin role has none, an inactive account gets nothing (`grant_errors`)."""
    _require_security_admin(by)
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialize grants per user
    grant_errors(user=user, role=role, organization=organization).raise_if_any()
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
    """Revoke a grant (the security admin's). Not one's own: a security admin revoking their own role would leave
    the grants without their keeper."""
    _require_security_admin(by)
    actor = acting_user(by)
    require(actor is None or actor.pk != assignment.user_id, "不能撤销自己的角色，请由其他安全管理员办理。")
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


@service
def account_create(*, by, username: str, full_name: str, raw_password: str, phone: str = "") -> User:
    """A new account (新建账号) made by the system admin with a first password the admin sets: audited, and the
    password must be changed at the first login (`account_created`). A taken username or a weak password is
    refused on its field, and nothing is saved."""
    require(is_system_admin(by), NOT_SYSTEM_ADMIN)
    errors = Errors()
    username = (username or "").strip()
    if username and User.objects.filter(username__iexact=username).exists():
        errors.add("username", f"用户名“{username}”已被使用，请换一个。")
    user = User(username=username, full_name=(full_name or "").strip(), phone=(phone or "").strip(), is_active=True)
    try:
        password_validation.validate_password(raw_password, user)
    except ValidationError as exc:
        errors.extend("password", exc.messages)
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as exc:
        errors.merge(exc)
    errors.raise_if_any()
    user.set_password(raw_password)
    user.must_change_password = True
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same name saved meanwhile
        raise ValidationError({"username": f"用户名“{username}”已被使用，请换一个。"}) from None
    account_created(by=by, user=user, via="page")
    return user


@service
def account_update(*, by, user: User, full_name: str, phone: str = "", is_active: bool = True) -> list[str]:
    """Change an account's name, phone and active flag (the system admin's). An account is deactivated, never
    deleted; its sessions end on their next request. Returns the names of the fields changed (audited)."""
    require(is_system_admin(by), NOT_SYSTEM_ADMIN)
    if not is_active and getattr(by, "pk", None) == user.pk:
        raise ValidationError({"is_active": "不能停用自己的账号。"})
    require(not user.is_superuser or getattr(by, "is_superuser", False), "应急账号只能由运维人员在服务器上维护。")
    values = {"full_name": (full_name or "").strip(), "phone": (phone or "").strip(), "is_active": bool(is_active)}
    changed = [name for name, value in values.items() if getattr(user, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(user, name, values[name])
    user.full_clean(exclude=["password"])
    user.save(update_fields=changed)
    account_changed(by=by, user=user, fields=changed)
    if "is_active" in changed and not user.is_active:
        security_event.send(sender=account_update, action="account_deactivate", user=user, actor=by)
    forget_access(user)
    return changed


@service
def account_unlock(*, by, username: str) -> LockoutRelease:
    """Unlock a login name locked after repeated failures (解锁), as the security admin: the failures before now no
    longer count (`accounts.lockout`); axes' failure log stays whole. Audited as a change of the account."""
    _require_security_admin(by, "只有安全管理员可以解除账号锁定。")
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "请指定要解锁的用户名。"})
    release = LockoutRelease.objects.create(username=username, released_by=acting_user(by))
    security_event.send(
        sender=account_unlock,
        action="account_update",
        user=User.objects.filter(username=username).first(),
        actor=by,
        detail={"target": username, "fields": ["lockout"], "via": "unlock"},
    )
    return release
