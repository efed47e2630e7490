from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.accounts.admin_site import is_security_admin, is_system_admin
from dangjian.orgs import services
from dangjian.orgs.models import Organization, Unit


@admin.register(Organization)
class OrganizationAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """Organizations are created and moved on the tree pages (the tree's paths are kept by the service);
    the admin corrects their own fields."""

    list_display = ["name", "code", "kind", "depth", "established_on"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    fields = ["code", "name", "kind", "established_on"]
    ordering = ["path"]

    def get_queryset(self, request):
        if is_security_admin(request) and not is_system_admin(request):
            # The security admin picks organizations to grant roles on: the structure, no member data.
            return Organization.objects.dangerously_all()
        return Organization.objects.visible_to(request.user)

    def has_view_permission(self, request, obj=None):
        return is_system_admin(request) or is_security_admin(request)

    def has_module_permission(self, request):
        return is_system_admin(request)

    def has_add_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        services.organization_update(by=request.user, org=obj, **{f: form.cleaned_data[f] for f in self.fields})


@admin.register(Unit)
class UnitAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    list_display = ["name", "kind", "organization", "managing_organization"]
    list_filter = ["kind"]
    search_fields = ["name", "credit_code"]
    autocomplete_fields = ["organization", "managing_organization"]
    list_select_related = ["organization", "managing_organization"]

    def get_queryset(self, request):
        return Unit.objects.visible_to(request.user)

    def save_model(self, request, obj, form, change):
        services.unit_save(by=request.user, unit=obj)
