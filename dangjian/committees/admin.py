from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.committees.models import ReportSchedule, SetupPolicy, TermPolicy
from dangjian.orgs.models import OrgKind


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


class ReportScheduleForm(forms.ModelForm):
    org_kinds = forms.MultipleChoiceField(
        label="报送党组织类别", choices=OrgKind.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ReportSchedule
        fields = [
            "kind",
            "org_kinds",
            "due_days",
            "early_filing",
            "owner",
            "valid_from",
            "valid_to",
            "source",
            "active",
        ]


@admin.register(ReportSchedule)
class ReportScheduleAdmin(SystemAdminOnly, SimpleHistoryAdmin):
    """Report schedules are rules: the system admin maintains them. Filings (who confirmed which period) change
    only through `committees.services.setup_report_file` and stay out of the admin."""

    form = ReportScheduleForm
    list_display = ["kind", "org_kind_labels", "due_days", "early_filing", "owner", "valid_from", "valid_to", "active"]
    list_filter = ["kind", "active"]
    raw_id_fields = ["owner"]
