from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.development.models import PlanQuota


@admin.register(PlanQuota)
class PlanQuotaAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """The plan's quotas are numbers, not personal data: the system admin may correct them. The people on the path,
    their steps and contacts hold personal data and stay out of the admin (they change only through the services)."""

    list_display = ["organization", "year", "quota", "note"]
    list_filter = ["year"]
    raw_id_fields = ["organization"]
