"""Pages of organizational life (组织生活): a branch's records by month, the quick record form (for a phone), a
record with its corrections, its edit (or, once locked, correction) form, and the compliance of an organization's
subtree for a year or a quarter.

Lists take `?org=CODE&year=YYYY` (the organization by code inside the user's scope; default: the user's first
subtree or own branch, this year). Seeing needs a role that sees member data; recording needs a member-editing role
over the organization. Attendee names are shown only for the members the user may see.
"""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path

from dangjian.accounts.access import access_for
from dangjian.core.forms import add_service_errors
from dangjian.core.views_helpers import get_visible_or_404, require, scoped
from dangjian.members.models import Member, Status
from dangjian.orglife import services
from dangjian.orglife.selectors import compliance as selectors
from dangjian.orglife.forms import FilterForm, RecordForm, this_year
from dangjian.orglife.models import ActivityRecord

NO_VIEW = "您的角色无权查看组织生活记录。"
NOT_EDITOR = "您无权登记该党组织的组织生活记录。"


def _require_viewer(request) -> None:
    require(access_for(request.user).can_view_members, NO_VIEW)


def _params(request):
    """The filter form, the organization (default: the user's first subtree) and the year and quarter."""
    form = FilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None, form.cleaned_data.get("year") or this_year(), None
    data = form.cleaned_data if form.is_bound else {}
    org = data.get("org") or selectors.default_org(request.user)
    year = data.get("year") or this_year()
    quarter = data.get("quarter")
    if not form.is_bound:
        form = FilterForm(initial={"org": org.code if org else "", "year": year}, user=request.user)
    return form, org, year, quarter


def _active_members(request, org):
    return list(
        Member.objects.visible_to(request.user).filter(organization=org, status=Status.ACTIVE).order_by("name", "pk")
    )


def _form_members(request, record: ActivityRecord) -> list[Member]:
    """The rows of the edit form: the organization's active members and everyone already on the record, also
    those who have since left (the record is the branch's own document of that day; dropping them because they
    moved would rewrite history)."""
    members = _active_members(request, record.organization)
    shown = {m.pk for m in members}
    recorded = record.attendances.exclude(member_id__in=shown).values("member_id")
    departed = list(Member.objects.dangerously_all().filter(pk__in=recorded).order_by("name", "pk"))
    for member in departed:
        member.departed = True
    return members + departed


@login_required
def record_list(request):
    """活动记录: one organization's records of a year, grouped by month, like a calendar."""
    _require_viewer(request)
    form, org, year, _ = _params(request)
    months = []
    if org is not None:
        records = list(selectors.records_of(by=request.user, org=org, year=year))
        months = [(month, list(items)) for month, items in groupby(records, key=lambda r: r.date.month)]
    can_edit = org is not None and access_for(request.user).can_edit_member_in(org)
    return render(
        request,
        "orglife/record_list.html",
        {"form": form, "org": org, "year": year, "months": months, "can_edit": can_edit},
    )


@login_required
def record_create(request):
    """登记活动: the quick form; every active member of the branch is pre-ticked as present."""
    _require_viewer(request)
    code = request.GET.get("org") or request.POST.get("org")
    orgs = selectors.orglife_organizations(request.user)
    org = orgs.filter(code=code).first() if code else selectors.default_org(request.user)
    require(org is not None and access_for(request.user).can_edit_member_in(org), NOT_EDITOR)
    members = _active_members(request, org)
    form = RecordForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.record_create(by=request.user, organization=org, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "活动记录已保存。")
            return redirect(record)
    return render(request, "orglife/record_form.html", {"form": form, "org": org, "record": None})


def _attendance(request, record: ActivityRecord):
    """The record's attendance rows, names only of the members the user may see."""
    visible = set(
        Member.objects.visible_to(request.user)
        .filter(pk__in=record.attendances.values("member_id"))
        .values_list("pk", flat=True)
    )
    rows = list(record.attendances.select_related("member"))
    return {
        "present": [a for a in rows if a.present and a.member_id in visible],
        "absent": [a for a in rows if not a.present and a.member_id in visible],
        "present_count": sum(a.present for a in rows),
        "absent_count": sum(not a.present for a in rows),
        "hidden_count": sum(a.member_id not in visible for a in rows),
    }


@scoped(ActivityRecord)
def record_detail(request, pk):
    """活动记录详情: the record, its attendance and its corrections."""
    record = get_visible_or_404(ActivityRecord, request.user, pk, request=request)
    record = ActivityRecord.objects.select_related("organization", "lecturer").get(pk=record.pk)
    lecturer_visible = (
        record.lecturer_id is not None
        and Member.objects.visible_to(request.user).filter(pk=record.lecturer_id).exists()
    )
    context = {
        "record": record,
        "kinds": [k.get_kind_display() for k in record.kinds.all()],
        "corrections": list(record.corrections.select_related("corrected_by")),
        "can_edit": access_for(request.user).can_edit_member_in(record.organization),
        "locked": record.is_locked(),
        "lecturer_visible": lecturer_visible,
        **_attendance(request, record),
    }
    return render(request, "orglife/record_detail.html", context)


def _initial(record: ActivityRecord) -> dict:
    initial = {
        "kinds": list(record.kinds.values_list("kind", flat=True)),
        "date": record.date,
        "topic": record.topic,
        "place": record.place,
        "host": record.host,
        "lecturer": record.lecturer_id,
        "agenda": record.agenda,
        "minutes": record.minutes,
        "decisions": record.decisions,
        "major_decision": record.major_decision,
    }
    attendance = {a.member_id: a for a in record.attendances.all()}
    for member_id, row in attendance.items():
        initial[f"present_{member_id}"] = row.present
        initial[f"reason_{member_id}"] = row.absence_reason
    return initial


@scoped(ActivityRecord)
def record_edit(request, pk):
    """修改活动记录 while open; once locked, the correction form (a reason is required, the change is logged)."""
    record = get_visible_or_404(ActivityRecord, request.user, pk, request=request)
    record = ActivityRecord.objects.select_related("organization").get(pk=record.pk)
    require(access_for(request.user).can_edit_member_in(record.organization), NOT_EDITOR)
    locked = record.is_locked()
    members = _form_members(request, record)
    form = RecordForm(request.POST or None, members=members, correcting=locked, initial=_initial(record))
    if request.method == "POST" and form.is_valid():
        changes = form.service_kwargs()
        try:
            if locked:
                services.record_correct(by=request.user, record=record, reason=form.cleaned_data["reason"], **changes)
            else:
                services.record_update(by=request.user, record=record, **changes)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "更正已记录。" if locked else "活动记录已更新。")
            return redirect(record)
    return render(
        request,
        "orglife/record_form.html",
        {"form": form, "org": record.organization, "record": record, "locked": locked},
    )


@login_required
def compliance(request):
    """组织生活落实情况: per organization and duty, the required and held counts and the status; the roll-up per
    kind over the subtree as plain bars."""
    _require_viewer(request)
    form, org, year, quarter = _params(request)
    report = None
    if org is not None:
        report = selectors.compliance_for(by=request.user, org=org, year=year, quarter=quarter)
    return render(
        request,
        "orglife/compliance.html",
        {"form": form, "org": org, "year": year, "quarter": quarter, "report": report},
    )


urlpatterns = [
    path("", record_list, name="record_list"),
    path("records/new/", record_create, name="record_create"),
    path("records/<int:pk>/", record_detail, name="record_detail"),
    path("records/<int:pk>/edit/", record_edit, name="record_edit"),
    path("compliance/", compliance, name="compliance"),
]
