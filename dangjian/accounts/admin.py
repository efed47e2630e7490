from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts import services
from dangjian.accounts.admin_site import is_security_admin, is_system_admin
from dangjian.accounts.models import RoleAssignment, User
from dangjian.core import request_context
from dangjian.core.fields import EncryptedTextField
from dangjian.core.signals import security_event


class PasswordSetForm(AdminPasswordChangeForm):
    """The admin's "set password" form, saved through `accounts.services.password_set`: refused for the three
    admins' accounts, audited, and the password must be changed at the next login. The actor is the request's
    user, read from the request context (the admin builds this form without the request)."""

    usable_password = None  # no "disable password login" switch: an account is deactivated instead

    def save(self, commit=True):
        context = request_context.current()
        services.password_set(
            by=context.user if context else None, user=self.user, raw_password=self.cleaned_data["password1"]
        )
        return self.user


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
    # The phone is stored encrypted in a text column: still a one-line input.
    formfield_overrides = {EncryptedTextField: {"widget": forms.TextInput(attrs={"maxlength": 20})}}

    def has_view_permission(self, request, obj=None):
        # The security admin looks accounts up to grant roles, without changing them.
        return is_system_admin(request) or is_security_admin(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    change_password_form = PasswordSetForm

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, unquote(id))
        if target is not None and not services.may_set_password(by=request.user, user=target):
            raise PermissionDenied(services.THREE_ADMINS_PASSWORD_MESSAGE)
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.account_created(by=request.user, user=obj, via="admin")
            return
        services.account_changed(by=request.user, user=obj, fields=list(form.changed_data))
        if "is_active" in form.changed_data and not obj.is_active:
            # Its sessions end on their next request (SessionPolicyMiddleware); the deactivation is audited.
            security_event.send(sender=type(self), action="account_deactivate", user=obj, actor=request.user)


class RoleAssignmentForm(forms.ModelForm):
    """A grant's form: a business role needs an organization and an admin role has none, said on the field (the
    database's check constraint would otherwise only surface on save)."""

    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "organization"]

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        # The service's own rules (accounts.services.grant_errors), so the admin and the page refuse the same.
        errors = services.grant_errors(
            user=data.get("user"), role=data.get("role"), organization=data.get("organization")
        )
        for field, messages in errors.errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        return data


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
    form = RoleAssignmentForm

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
