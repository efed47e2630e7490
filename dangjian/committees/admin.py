from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.committees.models import SetupPolicy, TermPolicy


@admin.register(TermPolicy)
class TermPolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """Term policies are rules, not member data: the system admin maintains them. Terms and seats hold member data
    and stay out of the admin (they change only through the election services)."""

    list_display = ["org_kind", "term_years", "warn_months", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["org_kind", "active"]
    raw_id_fields = ["owner"]


@admin.register(SetupPolicy)
class SetupPolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    list_display = [
        "name",
        "min_full_members",
        "committee_required_at",
        "max_members",
        "max_joint_units",
        "owner",
        "valid_from",
        "valid_to",
        "active",
    ]
    list_filter = ["active"]
    raw_id_fields = ["owner"]
