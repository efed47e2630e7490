from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.learning.models import LearningPolicy


@admin.register(LearningPolicy)
class LearningPolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """The online-learning rules are rules, not member data: the system admin maintains them. Certificates,
    progress and completions hold member data and stay out of the admin."""

    list_display = ["name", "owner", "min_share", "daily_minutes", "yearly_hours", "valid_from", "valid_to", "active"]
    list_filter = ["active"]
    raw_id_fields = ["owner"]
