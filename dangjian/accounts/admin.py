from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts import services
from dangjian.accounts.admin_site import is_security_admin, is_system_admin
from dangjian.accounts.models import RoleAssignment, User
from dangjian.core.signals import security_event


class SystemAdminOnly:
    """Admin pages of the structure and the accounts: for the system admin. Permissions come from the
    role, not from Django's per-model permissions."""

    def has_module_permission(self, request):
        return is_system_admin(request)

    def has_view_permission(self, request, obj=None):
        return is_system_admin(request)

    def has_add_permission(self, request, obj=None):
        return is_system_admin(request)

    def has_change_permission(self, request, obj=None):
        return is_system_admin(request)

    def has_delete_permission(self, request, obj=None):
        # Nothing here is deleted: accounts are deactivated, so their history stays attributable.
        return False


@admin.register(User)
class UserAdmin(SystemAdminOnly, DjangoUserAdmin):
    list_display = ["username", "full_name", "is_active", "last_login"]
    search_fields = ["username", "full_name"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("个人信息", {"fields": ["full_name", "phone", "email"]}),
        ("状态", {"fields": ["is_active", "last_login", "date_joined", "password_changed_at"]}),
    ]
    readonly_fields = ["last_login", "date_joined", "password_changed_at"]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["username", "full_name", "password1", "password2"]})]

    def has_view_permission(self, request, obj=None):
        # The security admin looks accounts up to grant roles, without changing them.
        return is_system_admin(request) or is_security_admin(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Its sessions end on their next request (SessionPolicyMiddleware); the deactivation is audited.
            security_event.send(sender=type(self), action="account_deactivate", user=obj)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(SimpleHistoryAdmin):
    """Role grants: the security admin's (三员分立). Saved through accounts.services, which refuses any mix
    of the three admin roles or of an admin role with business roles."""

    list_display = ["user", "role", "organization", "granted_at"]
    list_filter = ["role", "kind"]
    search_fields = ["user__username", "user__full_name", "organization__name", "organization__code"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]
    fields = ["user", "role", "organization"]

    def has_module_permission(self, request):
        return is_security_admin(request)

    def has_view_permission(self, request, obj=None):
        return is_security_admin(request)

    def has_add_permission(self, request, obj=None):
        return is_security_admin(request)

    def has_change_permission(self, request, obj=None):
        return False  # a grant is revoked and granted anew, never edited in place

    def has_delete_permission(self, request, obj=None):
        return is_security_admin(request)

    def save_model(self, request, obj, form, change):
        try:
            assignment = services.role_grant(
                by=request.user, user=obj.user, role=obj.role, organization=obj.organization
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            raise
        # The admin's own log (LogEntry) names the object it saved.
        obj.pk, obj.kind, obj.granted_at = assignment.pk, assignment.kind, assignment.granted_at

    def delete_model(self, request, obj):
        services.role_revoke(by=request.user, assignment=obj)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            services.role_revoke(by=request.user, assignment=assignment)
