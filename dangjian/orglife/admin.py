from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.orglife.models import Duty


@admin.register(Duty)
class DutyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """The organizational-life requirements are rules, not member data: the system admin maintains them. Records
    hold member data (attendance) and stay out of the admin."""

    list_display = [
        "name",
        "kind",
        "applies_to",
        "frequency",
        "min_count",
        "min_attendance",
        "min_members",
        "owner",
        "active",
    ]
    list_filter = ["kind", "applies_to", "frequency", "active"]
    raw_id_fields = ["owner"]
