from django.contrib import admin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.members.models import Member


@admin.register(Member)
class MemberAdmin(SystemAdminOnly, admin.ModelAdmin):
    """Listed so the admin shows the roster exists, but scoped like every page: the system admin holds no
    business role, so `visible_to` shows them no member (三员分立). Edits go through the member pages."""

    list_display = ["name", "organization", "category", "status"]
    search_fields = ["name"]
    list_select_related = ["organization"]

    def get_queryset(self, request):
        return Member.objects.visible_to(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
