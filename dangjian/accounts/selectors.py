"""The lists of the account pages: accounts with their grants (用户管理) and the grants (角色授权), each at a fixed
number of queries whatever the page shows."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from dangjian.accounts.models import RoleAssignment, User


def accounts(*, q: str = "", role: str = "", active: str = "") -> QuerySet[User]:
    """Accounts by username, each with its grants (role and organization) prefetched in one more query."""
    qs = User.objects.prefetch_related(
        Prefetch(
            "role_assignments",
            queryset=RoleAssignment.objects.select_related("organization").order_by("kind", "role", "pk"),
        )
    ).order_by("username")
    q = q.strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    if role:
        qs = qs.filter(Exists(RoleAssignment.objects.filter(user=OuterRef("pk"), role=role)))
    if active in ("0", "1"):
        qs = qs.filter(is_active=active == "1")
    return qs


def grants(*, user: str = "", role: str = "", organization: str = "") -> QuerySet[RoleAssignment]:
    """Role grants, newest first, with their user and organization (one query per page)."""
    qs = RoleAssignment.objects.select_related("user", "organization").order_by("-granted_at", "-pk")
    user = user.strip()
    if user:
        qs = qs.filter(Q(user__username__icontains=user) | Q(user__full_name__icontains=user))
    if role:
        qs = qs.filter(role=role)
    organization = organization.strip()
    if organization:
        qs = qs.filter(Q(organization__name__icontains=organization) | Q(organization__code__icontains=organization))
    return qs


def security_policy() -> list[tuple[str, str]]:
    """The security policy in force (安全策略), read from the validators and settings that enforce it, as
    (item, value) rows in Chinese (docs/security.md, 1 and 2)."""
    from django.conf import settings
    from django.contrib.auth import password_validation as pv

    from dangjian.accounts.passwords import (
        CharacterClassesValidator,
        MaximumLengthValidator,
        PasswordHistoryValidator,
    )
    from dangjian.accounts.roles import Role

    rows: list[tuple[str, str]] = []
    for validator in pv.get_default_password_validators():
        if isinstance(validator, pv.MinimumLengthValidator):
            rows.append(("密码最短长度", f"{validator.min_length} 个字符"))
        elif isinstance(validator, MaximumLengthValidator):
            rows.append(("密码最大长度", f"{validator.max_length} 个字符"))
        elif isinstance(validator, CharacterClassesValidator):
            rows.append(("密码复杂度", f"大写字母、小写字母、数字、特殊字符中至少 {validator.min_classes} 类"))
        elif isinstance(validator, PasswordHistoryValidator):
            rows.append(("历史密码", f"不得重复使用最近 {validator.keep} 次用过的密码"))
        elif isinstance(validator, pv.CommonPasswordValidator):
            rows.append(("常见密码", "拒绝使用常见弱密码"))
        elif isinstance(validator, pv.NumericPasswordValidator):
            rows.append(("纯数字密码", "拒绝使用"))
        elif isinstance(validator, pv.UserAttributeSimilarityValidator):
            rows.append(("与用户名、姓名相近的密码", "拒绝使用"))
    days = settings.DANGJIAN_PASSWORD_MAX_AGE_DAYS
    rows.append(("密码有效期", f"{days} 天，到期须修改" if days else "不限（已关闭）"))
    rows.append(("管理员设置的密码", "本人下次登录时必须修改"))
    window = int(settings.DANGJIAN_LOCKOUT_WINDOW.total_seconds() // 60)
    duration = int(settings.DANGJIAN_LOCKOUT_DURATION.total_seconds() // 60)
    rows.append(
        ("登录失败处理", f"{window} 分钟内连续失败 {settings.DANGJIAN_LOCKOUT_FAILURES} 次，锁定账号 {duration} 分钟")
    )
    rows.append(("会话空闲超时", f"{settings.SESSION_COOKIE_AGE // 60} 分钟"))
    rows.append(("会话最长时间", f"{settings.DANGJIAN_SESSION_MAX_AGE // 60} 分钟"))
    if settings.DANGJIAN_OTP_ENFORCE:
        labels = "、".join(Role(r).label for r in settings.DANGJIAN_OTP_REQUIRED_ROLES if r in Role.values)
        rows.append(("双因素认证（动态口令）", f"强制：{labels}"))
    else:
        rows.append(("双因素认证（动态口令）", "未强制（用户可自行绑定）"))
    return rows
