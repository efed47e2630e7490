from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.exams.models import CompetencePolicy


@admin.register(CompetencePolicy)
class CompetencePolicyAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """Who must sit the competence test is a rule, not member data: the system admin maintains it (党内职务 as the
    members app's post values: secretary, deputy_secretary, committee_member). Banks, papers and attempts are kept on
    the exam pages."""

    list_display = ["name", "posts", "leadership", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["active", "leadership"]
    raw_id_fields = ["owner"]
