from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role


def is_system_admin(request) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or access_for(user).has_role(Role.SYSTEM_ADMIN)))


class DangjianAdminSite(admin.AdminSite):
    """Django admin, open to system admins only (configuration, not member data)."""

    site_header = "党建云 · 系统管理"
    site_title = "党建云系统管理"
    index_title = "系统配置"

    def has_permission(self, request) -> bool:
        return is_system_admin(request)


class DangjianAdminConfig(AdminConfig):
    default_site = "dangjian.accounts.admin_site.DangjianAdminSite"
