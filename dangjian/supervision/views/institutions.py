"""Institutions: the list (filters, pages, .xlsx), registration (机构登记) and edit, and the detail with the
committee's actions on it — assign the instructor (派驻, history shown), record a 三同步 check, enter or reverse
points, record a clue (also the assigned instructor), request the red list.

Each action is a POST to its own URL. A bad form re-renders the detail page with the message beside the field
(status 200, nothing saved); a success redirects to the detail. A user who sees the institution but may not act
gets 403, and the page offers them no form.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.exports import ExportAudit, request_params, xlsx_response
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.members.models import Member, Status
from dangjian.supervision import exports
from dangjian.supervision.forms import (
    AssignForm,
    CheckForm,
    ClueForm,
    InstitutionFilterForm,
    InstitutionForm,
    PointEventForm,
    PointReverseForm,
    this_year,
)
from dangjian.supervision.models import Assignment, Institution, PointEvent, RedListEntry
from dangjian.supervision.selectors.inspection import inspection_due, overdue_inspections
from dangjian.supervision.selectors.visits import required_items_for, visit_completeness
from dangjian.supervision.services import checks, clues, institutions, instructors, points
from dangjian.supervision.views.common import (
    is_committee,
    require_committee,
    require_viewer,
    scope_values,
    wants_xlsx,
)

NOT_REPORTER = "只有派驻该机构的党建指导员或工委工作人员可以登记线索。"


def _institutions(request, data: dict):
    qs = Institution.objects.visible_to(request.user).select_related(
        "unit__organization", "unit__managing_organization"
    )
    today = timezone.localdate()
    if data.get("org"):
        qs = qs.in_subtree(data["org"])
    for name in ("area", "subject_type", "approval_status"):
        if data.get(name):
            qs = qs.filter(**{name: data[name]})
    if data.get("q"):
        q = data["q"].strip()
        qs = qs.filter(Q(unit__name__icontains=q) | Q(licence_no__icontains=q))
    cover = data.get("coverage")
    if cover == "org":
        qs = qs.operating().filter(unit__organization__isnull=True)
    elif cover == "work":
        current = (
            Assignment.objects.dangerously_all()
            .filter(start_on__lte=today)
            .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
        )
        qs = qs.operating().exclude(pk__in=current.values("institution_id"))
    elif cover == "inspection":
        qs = qs.filter(pk__in=[d.pk for d in overdue_inspections(qs, today)])
    elif cover == "red":
        qs = qs.filter(pk__in=RedListEntry.objects.dangerously_all().filter(year=today.year).values("institution_id"))
    return qs.order_by("unit__name", "pk")


def _current_instructors(institution_ids) -> dict[int, str]:
    today = timezone.localdate()
    rows = (
        Assignment.objects.dangerously_all()
        .filter(institution_id__in=list(institution_ids), start_on__lte=today)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
        .values_list("institution_id", "appointment__name")
    )
    return dict(rows)


@login_required
def institution_list(request):
    """培训机构: the institutions in scope, filtered, paginated; `?format=xlsx` for every row of the filter."""
    require_viewer(request)
    form, data = scope_values(request, InstitutionFilterForm)
    qs = _institutions(request, data or {}) if data is not None else Institution.objects.none()
    if wants_xlsx(request) and data is not None:
        rows = list(qs)
        names = _current_instructors(i.pk for i in rows)
        return xlsx_response(
            filename="校外培训机构.xlsx",
            title="校外培训机构",
            headers=exports.INSTITUTION_HEADERS,
            lines=(exports.institution_line(i, names.get(i.pk, "")) for i in rows),
            audit=ExportAudit(
                what="校外培训机构", params=request_params(request), object_type=Institution._meta.label_lower
            ),
        )
    page = paginate(request, qs)
    names = _current_instructors(i.pk for i in page.object_list)
    rows = [(inst, names.get(inst.pk, "")) for inst in page.object_list]
    return render(
        request,
        "supervision/institution_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "can_register": is_committee(request.user),
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Registration and edit


@login_required
def institution_create(request):
    """机构登记: a new institution with its unit, for committee staff, under organizations of their subtrees."""
    require_committee(request)
    form = InstitutionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        inst = submit(form, lambda data: institutions.institution_create(by=request.user, **form.service_kwargs()))
        if inst is not FAILED:
            messages.success(request, f"已登记培训机构“{inst.name}”。")
            return redirect(inst)
    return render(request, "supervision/institution_form.html", {"form": form, "inst": None})


def _visible(request, pk) -> Institution:
    inst = get_visible_or_404(Institution, request.user, pk, request=request)
    return (
        Institution.objects.dangerously_all()
        .select_related("unit__organization", "unit__managing_organization", "grid_cell")
        .get(pk=inst.pk)
    )


def _managed(request, pk) -> Institution:
    """The institution: 404 out of scope, 403 for a viewer who may not manage it."""
    inst = _visible(request, pk)
    require(access_for(request.user).is_committee_over_any(*inst.supervising_organizations), institutions.NOT_COMMITTEE)
    return inst


@scoped(Institution)
def institution_edit(request, pk):
    """编辑机构: the unit and the registration; approving needs the passed approval check (三同步)."""
    inst = _managed(request, pk)
    form = InstitutionForm(request.POST or None, user=request.user, institution=inst)
    if request.method == "POST" and form.is_valid():
        done = submit(
            form,
            lambda data: institutions.institution_update(by=request.user, institution=inst, **form.service_kwargs()),
        )
        if done is not FAILED:
            messages.success(request, "机构信息已保存。")
            return redirect(inst)
    return render(request, "supervision/institution_form.html", {"form": form, "inst": inst})


# ---------------------------------------------------------------------------------------------------------
# Detail and its actions


def _assigned_today(user, inst: Institution) -> bool:
    assignment = instructors.assignment_on(inst, timezone.localdate())
    return assignment is not None and assignment.appointment.user_id == getattr(user, "pk", None)


def _visits_with_missing(inst: Institution) -> list:
    """The last 20 visits with their photos (prefetched: one query for all), each with `missing`: the labels of the
    “四个一” items its year's rule requires that it did not record (a partial visit, shown as such)."""
    visits = list(inst.visits.select_related("appointment").prefetch_related("photos").order_by("-date", "-pk")[:20])
    required: dict[int, tuple[str, ...]] = {}
    for v in visits:
        if v.month.year not in required:
            required[v.month.year] = required_items_for(inst, v.month.year)
        v.missing = v.missing_labels(required[v.month.year])
    return visits


def _detail(request, inst: Institution, **bound):
    """The detail page; `bound` holds the form that failed (its messages shown), the others are fresh."""
    today = timezone.localdate()
    year = this_year()
    user = request.user
    staff = Member.objects.visible_to(user).filter(unit=inst.unit, status=Status.ACTIVE).order_by("name")
    staff_total = Member.objects.dangerously_all().filter(unit=inst.unit, status=Status.ACTIVE).count()
    events = list(inst.point_events.filter(year=year).select_related("rule").order_by("-date", "-pk")[:50])
    reversed_ids = set(
        PointEvent.objects.dangerously_all()
        .filter(reverses__in=[e.pk for e in events])
        .values_list("reverses_id", flat=True)
    )
    can_manage = access_for(user).is_committee_over_any(*inst.supervising_organizations)
    can_report = can_manage or _assigned_today(user, inst)
    context = {
        "inst": inst,
        "staff": list(staff[:100]),
        "staff_total": staff_total,
        "assignments": list(inst.assignments.select_related("appointment").order_by("-start_on", "-pk")),
        "months": visit_completeness(institution=inst, year=year),
        "visits": _visits_with_missing(inst),
        "checks": list(inst.checks.order_by("-date", "-pk")),
        "events": events,
        "reversed_ids": reversed_ids,
        "points": sum(e.points for e in inst.point_events.filter(year=year)),
        "clues": list(inst.clues.order_by("-found_on", "-pk")[:20]),
        "red_list": list(inst.red_list_entries.order_by("-year")),
        "inspection": inspection_due(inst, today),
        "year": year,
        "can_manage": can_manage,
        "can_report": can_report,
    }
    initial_today = {"date": today}
    if can_manage:
        context.update(
            assign_form=bound.get("assign_form")
            or AssignForm(user=user, today=today, initial={"start_on": today}, auto_id="assign_%s"),
            check_form=bound.get("check_form")
            or CheckForm(institution=inst, initial=initial_today, auto_id="check_%s"),
            point_form=bound.get("point_form")
            or PointEventForm(user=user, institution=inst, initial=initial_today, auto_id="point_%s"),
            reverse_form=bound.get("reverse_form"),
        )
    if can_report:
        context["clue_form"] = bound.get("clue_form") or ClueForm(
            institution=inst, initial={"found_on": today}, auto_id="clue_%s"
        )
    return render(request, "supervision/institution_detail.html", context)


@scoped(Institution)
def institution_detail(request, pk):
    """机构详情: registration, organization, staff members (those the user sees), the instructor and the assignment
    history, this year's visits month by month, checks, points, clues and the red list; the committee's forms."""
    return _detail(request, _visible(request, pk))


def _act(request, inst, form, name: str, call, success: str):
    """Run a service with a valid form; on a bad input, the detail page with the form's messages."""
    if submit(form, call) is not FAILED:
        messages.success(request, success)
        return redirect(inst)
    return _detail(request, inst, **{name: form})


@scoped(Institution)
@require_POST
def institution_assign(request, pk):
    """派驻 / 更换党建指导员 (the previous assignment ends the day before; history kept)."""
    inst = _managed(request, pk)
    form = AssignForm(request.POST, user=request.user, today=timezone.localdate(), auto_id="assign_%s")
    return _act(
        request,
        inst,
        form,
        "assign_form",
        lambda data: instructors.institution_assign(by=request.user, institution=inst, **data),
        "已派驻党建指导员。",
    )


@scoped(Institution)
@require_POST
def check_create(request, pk):
    """三同步检查: at approval (with the party-building precondition), annual inspection or grading."""
    inst = _managed(request, pk)
    form = CheckForm(request.POST, institution=inst, auto_id="check_%s")
    return _act(
        request,
        inst,
        form,
        "check_form",
        lambda data: checks.check_record(by=request.user, institution=inst, **data),
        "已记录党建同步检查。",
    )


@scoped(Institution)
@require_POST
def point_event_create(request, pk):
    """记分: an entry of the points ledger under a rule (no rule, no points)."""
    inst = _managed(request, pk)
    form = PointEventForm(request.POST, user=request.user, institution=inst, auto_id="point_%s")
    return _act(
        request,
        inst,
        form,
        "point_form",
        lambda data: points.point_event_record(by=request.user, institution=inst, **data),
        "已登记过程监管积分。",
    )


@scoped(Institution)
@require_POST
def point_event_reverse(request, pk):
    """冲销: one of the institution's entries (chosen among its own), with a reason."""
    inst = _managed(request, pk)
    form = PointReverseForm(request.POST, institution=inst)
    return _act(
        request,
        inst,
        form,
        "reverse_form",
        lambda data: points.point_event_reverse(by=request.user, event=data["event"], reason=data["reason"]),
        "已冲销该积分记录。",
    )


@scoped(Institution)
@require_POST
def clue_create(request, pk):
    """登记线索: by the committee or the instructor assigned today, optionally from one of the visits."""
    inst = _visible(request, pk)
    require(
        access_for(request.user).is_committee_over_any(*inst.supervising_organizations)
        or _assigned_today(request.user, inst),
        NOT_REPORTER,
    )
    form = ClueForm(request.POST, institution=inst, auto_id="clue_%s")
    return _act(
        request,
        inst,
        form,
        "clue_form",
        lambda data: clues.clue_record(by=request.user, institution=inst, **data),
        "已登记违规线索（待移交）。",
    )


@scoped(Institution)
@require_POST
def red_list_request(request, pk):
    """列入红名单: the committee puts the institution on this year's red list (refused with open violations or
    outside the quota: the message is shown on the institution's page)."""
    inst = _managed(request, pk)
    try:
        points.red_list_request(by=request.user, institution=inst, year=this_year())
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "已列入本年度红名单，课后服务优先。")
    return redirect(inst)
