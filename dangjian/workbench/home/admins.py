"""What the 三员 see first on the home page: the system, security and audit admins see their own work, never the
(for them empty) business figures (三员分立, docs/security.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.lockout import locked_accounts
from dangjian.accounts.models import RoleAssignment
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent


@dataclass(frozen=True)
class AdminTile:
    label: str
    value: int
    url: str
    warn: bool = False  # a number that asks for action (locked accounts, failed logins)


@dataclass(frozen=True)
class AdminPanel:
    title: str
    tiles: list[AdminTile]
    links: list[tuple[str, str]]


def admin_home(user, *, now: dt.datetime | None = None) -> list[AdminPanel]:
    """One panel per admin role the user holds (三员分立, docs/security.md): the system admin's accounts, the
    security admin's grants and locked accounts, the audit admin's day of audit records and the week's failed logins.
    A few counts each, a fixed number of queries."""
    access = access_for(user)
    now = now or timezone.now()
    panels: list[AdminPanel] = []
    if Role.SYSTEM_ADMIN in access.roles:
        accounts = get_user_model().objects.all()
        users_url = reverse("account_list")
        panels.append(
            AdminPanel(
                "系统管理员",
                [
                    AdminTile("启用的账号", accounts.filter(is_active=True).count(), f"{users_url}?active=1"),
                    AdminTile("已停用的账号", accounts.filter(is_active=False).count(), f"{users_url}?active=0"),
                    AdminTile(
                        "待本人修改密码",
                        accounts.filter(is_active=True, must_change_password=True).count(),
                        users_url,
                    ),
                ],
                [("用户管理", users_url), ("党组织树", reverse("orgs:tree")), ("单位", reverse("orgs:unit_list"))],
            )
        )
    if Role.SECURITY_ADMIN in access.roles:
        locked = locked_accounts(now)
        panels.append(
            AdminPanel(
                "安全管理员",
                [
                    AdminTile("角色授权", RoleAssignment.objects.count(), reverse("grant_list")),
                    AdminTile("锁定中的账号", len(locked), reverse("security_settings"), warn=bool(locked)),
                ],
                [("角色授权", reverse("grant_list")), ("安全设置", reverse("security_settings"))],
            )
        )
    if Role.AUDIT_ADMIN in access.roles:
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        failures = AuditEvent.objects.filter(
            action=AuditAction.LOGIN_FAILURE, at__gte=now - dt.timedelta(days=7)
        ).count()
        audit_url = reverse("audit:list")
        panels.append(
            AdminPanel(
                "审计管理员",
                [
                    AdminTile("今日审计记录", AuditEvent.objects.filter(at__gte=midnight).count(), audit_url),
                    AdminTile(
                        "近7日登录失败",
                        failures,
                        f"{audit_url}?action={AuditAction.LOGIN_FAILURE.value}",
                        warn=bool(failures),
                    ),
                ],
                [("审计日志", audit_url)],
            )
        )
    return panels
