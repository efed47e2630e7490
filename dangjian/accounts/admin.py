from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin_site import is_system_admin
from dangjian.accounts.models import RoleAssignment, User


class SystemAdminOnly:
    """Admin pages are for system admins; permissions come from the role, not Django's model perms."""

    def has_module_permission(self, request):
        return is_system_admin(request)

    def has_view_permission(self, request, obj=None):
        return is_system_admin(request)

    def has_add_permission(self, request, obj=None):
        return is_system_admin(request)

    def has_change_permission(self, request, obj=None):
        return is_system_admin(request)

    def has_delete_permission(self, request, obj=None):
        # Accounts are deactivated, never deleted: their history must stay attributable.
        return False


class RoleAssignmentInline(SystemAdminOnly, admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["organization"]

    def has_delete_permission(self, request, obj=None):
        return is_system_admin(request)


@admin.register(User)
class UserAdmin(SystemAdminOnly, DjangoUserAdmin):
    list_display = ["username", "full_name", "is_active", "last_login"]
    search_fields = ["username", "full_name"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["full_name", "phone", "email"]}),
        ("状态", {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["username", "full_name", "password1", "password2"]})]
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    list_display = ["user", "role", "organization", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__full_name", "organization__name", "organization__code"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]

    def has_delete_permission(self, request, obj=None):
        return is_system_admin(request)
