from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role


def has_admin_role(request, *roles: str) -> bool:
    user = request.user
    if not user.is_active:
        return False
    # The emergency superuser account may do anything, and every request of it is audited.
    return user.is_superuser or access_for(user).has_role(*roles)


def is_system_admin(request) -> bool:
    return has_admin_role(request, Role.SYSTEM_ADMIN)


def is_security_admin(request) -> bool:
    return has_admin_role(request, Role.SECURITY_ADMIN)


class DangjianAdminSite(admin.AdminSite):
    """Django admin, for the system admin (users, structure) and the security admin (role grants).

    Neither sees member data here: the member list goes through `visible_to`, which gives them nothing.
    """

    site_header = "党建云 · 系统管理"
    site_title = "党建云系统管理"
    index_title = "系统配置"

    def has_permission(self, request) -> bool:
        return has_admin_role(request, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)


class DangjianAdminConfig(AdminConfig):
    default_site = "dangjian.accounts.admin_site.DangjianAdminSite"
