"""The party-school area's configuration in the system admin (系统管理): the lists the seeds make
configurable — 六有 items, instructor teams, evaluation indicators, the 上讲台 duties. Business rows are managed
on the pages."""

from django.contrib import admin

from dangjian.accounts.admin import SystemAdminOnly
from dangjian.schools.models import EvaluationIndicator, InstructorTeam, LectureDuty, StandardItem


@admin.register(StandardItem)
class StandardItemAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["name", "scheme", "code", "order", "active"]
    list_filter = ["scheme", "active"]
    list_editable = ["order", "active"]


@admin.register(InstructorTeam)
class InstructorTeamAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["name", "description", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(EvaluationIndicator)
class EvaluationIndicatorAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "max_score", "weight", "order", "active"]
    list_filter = ["kind", "active"]
    list_editable = ["max_score", "weight", "order", "active"]


@admin.register(LectureDuty)
class LectureDutyAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["name", "who", "where", "times_per_year", "valid_from", "valid_to", "active"]
    list_filter = ["who", "where", "active"]
    list_editable = ["active"]
