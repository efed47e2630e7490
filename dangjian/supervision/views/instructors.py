"""Party-building instructors (党建指导员): the appointments in scope (paginated, with the institutions assigned to
each and this month's visits), appointment (选派) and dismissal (离任), one instructor's page, and the year summary
of the Yiyang figures (visits, 以案说法 sessions, clues, enforcement actions taken part in) with .xlsx."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.exports import ExportAudit, request_params, xlsx_response
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.supervision import exports
from dangjian.supervision.forms import AppointForm, DismissForm, InstructorFilterForm, YearSummaryForm, this_year
from dangjian.supervision.models import Assignment, InstructorAppointment
from dangjian.supervision.selectors.visits import (
    appointments_in_year,
    instructor_month_rows,
    instructor_year_rows,
    instructor_year_summary,
    year_summary_of,
)
from dangjian.supervision.services import instructors as services
from dangjian.supervision.views.common import (
    is_committee,
    require_committee,
    require_viewer,
    wants_xlsx,
)


@login_required
def instructor_list(request):
    """党建指导员: the appointments in scope (在任 by default), each with its institutions and this month's visits."""
    require_viewer(request)
    today = timezone.localdate()
    form = InstructorFilterForm(request.GET or None)
    qs = InstructorAppointment.objects.visible_to(request.user).select_related("appointing_organization")
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status") or "active"
    if status == "active":
        qs = qs.filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
    elif status == "ended":
        qs = qs.filter(end_on__lt=today)
    if data.get("q"):
        qs = qs.filter(name__icontains=data["q"].strip())
    page = paginate(request, qs.order_by("name", "pk"))
    return render(
        request,
        "supervision/instructor_list.html",
        {
            "form": form,
            "page": page,
            "rows": instructor_month_rows(by=request.user, appointments=page.object_list, today=today),
            "can_appoint": is_committee(request.user),
            "today": today,
        },
    )


@login_required
def instructor_create(request):
    """选派党建指导员: an account, the source (bureau or school), the appointing organization, the start date."""
    require_committee(request)
    form = AppointForm(request.POST or None, user=request.user, initial={"start_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        appointment = submit(form, lambda data: services.instructor_appoint(by=request.user, **form.service_kwargs()))
        if appointment is not FAILED:
            messages.success(request, f"已选派党建指导员{appointment.name}。")
            return redirect("supervision:instructor_detail", pk=appointment.pk)
    return render(request, "supervision/instructor_form.html", {"form": form})


def _render_detail(request, appointment: InstructorAppointment, dismiss_form=None):
    year = this_year()
    can_dismiss = appointment.end_on is None and access_for(request.user).is_committee_over(
        appointment.appointing_organization
    )
    if can_dismiss and dismiss_form is None:
        dismiss_form = DismissForm(initial={"end_on": timezone.localdate()})
    assignments = (
        Assignment.objects.visible_to(request.user)
        .filter(appointment=appointment)
        .select_related("institution__unit")
        .order_by("-start_on", "-pk")
    )
    return render(
        request,
        "supervision/instructor_detail.html",
        {
            "appointment": appointment,
            "assignments": paginate(request, assignments),
            "month": instructor_month_rows(by=request.user, appointments=[appointment])[0],
            "summary": instructor_year_summary(by=request.user, year=year, instructor=appointment),
            "year": year,
            "dismiss_form": dismiss_form if can_dismiss else None,
        },
    )


def _appointment(request, pk) -> InstructorAppointment:
    appointment = get_visible_or_404(InstructorAppointment, request.user, pk, request=request)
    return (
        InstructorAppointment.objects.dangerously_all()
        .select_related("appointing_organization", "member", "user")
        .get(pk=appointment.pk)
    )


@scoped(InstructorAppointment)
def instructor_detail(request, pk):
    """一名党建指导员: the appointment, the assignments (those the user sees), this month and this year."""
    return _render_detail(request, _appointment(request, pk))


@scoped(InstructorAppointment)
@require_POST
def instructor_dismiss(request, pk):
    """离任: the appointment ends, and its open assignments with it."""
    appointment = _appointment(request, pk)
    require(access_for(request.user).is_committee_over(appointment.appointing_organization), services.NOT_COMMITTEE_ORG)
    require(appointment.end_on is None, "该指导员已离任。")
    form = DismissForm(request.POST)
    done = submit(
        form, lambda data: services.instructor_dismiss(by=request.user, appointment=appointment, end_on=data["end_on"])
    )
    if done is not FAILED:
        messages.success(request, f"{appointment.name}已离任，其派驻同日结束。")
        return redirect("supervision:instructor_detail", pk=appointment.pk)
    return _render_detail(request, appointment, form)


@login_required
def instructor_summary(request):
    """年度工作汇总: per instructor in office during the year (or one, `?instructor=`), with the total of the
    selection; `?format=xlsx` for every row."""
    require_viewer(request)
    form = YearSummaryForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else ({} if not form.is_bound else None)
    context = {"form": form, "rows": None}
    if data is not None:
        year = data.get("year") or this_year()
        appointments = appointments_in_year(by=request.user, year=year).order_by("name", "pk")
        if data.get("instructor"):
            appointments = appointments.filter(pk=data["instructor"].pk)
        if data.get("q"):
            appointments = appointments.filter(name__icontains=data["q"].strip())
        if wants_xlsx(request):
            rows = instructor_year_rows(year=year, appointments=appointments)
            return xlsx_response(
                filename=f"党建指导员年度工作汇总-{year}.xlsx",
                title="党建指导员年度工作汇总",
                headers=exports.YEAR_SUMMARY_HEADERS,
                lines=[
                    *(exports.year_summary_line(a.name, s) for a, s in rows),
                    exports.year_summary_line(
                        f"合计（{len(rows)}名）", year_summary_of(year=year, appointments=appointments)
                    ),
                ],
                audit=ExportAudit(
                    what="党建指导员年度工作汇总",
                    params={**request_params(request), "year": year},
                    object_type=InstructorAppointment._meta.label_lower,
                ),
            )
        page = paginate(request, appointments.select_related("appointing_organization"))
        context.update(
            year=year,
            page=page,
            rows=instructor_year_rows(year=year, appointments=page.object_list),
            total=year_summary_of(year=year, appointments=appointments),
            one=data.get("instructor"),
        )
    return render(request, "supervision/instructor_summary.html", context)
