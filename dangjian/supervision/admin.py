from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.supervision.models import InspectionPolicy, PointRule, RedListPolicy, VisitPolicy


@admin.register(PointRule)
class PointRuleAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """The points rules and red-list policies are rules, not member data: the system admin maintains them. The
    institutions' records (visits, clues, checks, points) stay out of the admin."""

    list_display = ["code", "name", "category", "points", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["category", "active"]
    raw_id_fields = ["owner"]


@admin.register(RedListPolicy)
class RedListPolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "min_points", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["active"]
    raw_id_fields = ["owner"]


@admin.register(VisitPolicy)
class VisitPolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["active"]
    raw_id_fields = ["owner"]


@admin.register(InspectionPolicy)
class InspectionPolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    list_display = ["__str__", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["active"]
    raw_id_fields = ["owner"]
