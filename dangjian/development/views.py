"""Pages of member development (发展党员): the people of a scope as cards (phone-friendly), the registration of an
applicant, a person's timeline with the next step due and its deadline, the step form, the probation's extension,
the printable checklist (发展党员工作流程纪实表) and the yearly plan with its delivery.

Seen and recorded by the roles that act in member development (committee staff, secretaries) over a subtree
holding the person's branch; out of scope is 404. Organizations come by code inside the user's scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.development import services
from dangjian.development.forms import (
    CandidateForm,
    ExtensionForm,
    FilterForm,
    PlanFilterForm,
    QuotaForm,
    StepForm,
    acting_organizations,
)
from dangjian.development.models import Candidate
from dangjian.development.selectors.candidates import candidate_list as list_candidates
from dangjian.development.selectors.candidates import timeline, with_due
from dangjian.development.selectors.report import development_report

NO_ROLE = "您的角色无权办理发展党员工作。"


def _require_acting(user) -> None:
    access = access_for(user)
    require(access.system or bool(access.member_edit_roots), NO_ROLE)


@login_required
def candidate_list(request):
    _require_acting(request.user)
    form = FilterForm(request.GET or None, user=request.user)
    org = stage = q = None
    if form.is_bound and form.is_valid():
        org, stage, q = form.cleaned_data["org"], form.cleaned_data["stage"], form.cleaned_data["q"]
    qs = list_candidates(user=request.user, org=org, stage=stage or "", q=q or "")
    page = paginate(request, qs)
    rows = with_due(page.object_list, timezone.localdate())
    return render(request, "development/list.html", {"form": form, "page": page, "rows": rows})


@login_required
def candidate_create(request):
    _require_acting(request.user)
    form = CandidateForm(request.POST or None, user=request.user)
    if request.method == "POST":
        candidate = submit(form, lambda data: services.candidate_register(by=request.user, **data))
        if candidate is not FAILED:
            messages.success(request, f"已登记入党申请人“{candidate.name}”。")
            return redirect(candidate)
    return render(request, "development/candidate_form.html", {"form": form})


@scoped(Candidate)
def detail(request, pk):
    candidate = get_visible_or_404(Candidate, request.user, pk, request=request)
    today = timezone.localdate()
    path = timeline(candidate, today)
    return render(
        request,
        "development/detail.html",
        {"candidate": candidate, "path": path, "today": today, "extension_form": ExtensionForm()},
    )


@scoped(Candidate)
def step_record(request, pk):
    candidate = get_visible_or_404(Candidate, request.user, pk, request=request)
    path = timeline(candidate, timezone.localdate())
    if path.due is None:
        messages.info(request, "该人员的发展流程已全部完成或已终止，没有待登记的步骤。")
        return redirect(candidate)
    step = path.due.step
    form = StepForm(request.POST or None, user=request.user, candidate=candidate, step=step)
    if request.method == "POST":
        record = submit(
            form,
            lambda data: services.step_record(
                by=request.user,
                candidate=candidate,
                number=step.number,
                date=data["date"],
                people=data.get("people", ""),
                note=data.get("note", ""),
                exception_reason=data.get("exception_reason", ""),
                contacts=list(data.get("contacts") or []),
                course_days=data.get("course_days"),
                course_hours=data.get("course_hours"),
            ),
        )
        if record is not FAILED:
            messages.success(request, f"已登记{step.label}。")
            return redirect(candidate)
    return render(
        request, "development/step_form.html", {"candidate": candidate, "form": form, "step": step, "due": path.due}
    )


@scoped(Candidate)
def extend(request, pk):
    candidate = get_visible_or_404(Candidate, request.user, pk, request=request)
    form = ExtensionForm(request.POST or None)
    if request.method == "POST":
        ext = submit(form, lambda data: services.probation_extend(by=request.user, candidate=candidate, **data))
        if ext is not FAILED:
            messages.success(request, f"已登记延长预备期{ext.months}个月。")
            return redirect(candidate)
    return render(request, "development/extension_form.html", {"candidate": candidate, "form": form})


@scoped(Candidate)
def print_checklist(request, pk):
    candidate = get_visible_or_404(Candidate, request.user, pk, request=request)
    today = timezone.localdate()
    return render(
        request, "development/print.html", {"candidate": candidate, "path": timeline(candidate, today), "today": today}
    )


@login_required
def plan(request):
    """The yearly plan of the user's subtree with its delivery; committee staff set the quotas here."""
    _require_acting(request.user)
    today = timezone.localdate()
    access = access_for(request.user)
    filters = PlanFilterForm(request.GET or None, user=request.user)
    org, year = None, today.year
    if filters.is_bound and filters.is_valid():
        org = filters.cleaned_data["org"]
        year = filters.cleaned_data["year"] or year
    if org is None:
        org = acting_organizations(request.user).order_by("depth", "path").first()
    can_set = access.system or bool(access.roots_of({Role.COMMITTEE}))
    form = QuotaForm(request.POST or None, user=request.user) if can_set else None
    if request.method == "POST":
        require(can_set, services.plan.NOT_COMMITTEE)
        assert form is not None, "built above for those who may set quotas"
        row = submit(form, lambda data: services.quota_set(by=request.user, **data))
        if row is not FAILED:
            messages.success(request, f"已下达{row.organization.name}{row.year}年发展党员计划{row.quota}名。")
            return redirect(f"{reverse('development:plan')}?org={row.organization.code}&year={row.year}")
    rows = development_report(by=request.user, org=org, year=year, today=today) if org is not None else []
    return render(
        request, "development/plan.html", {"filters": filters, "form": form, "rows": rows, "year": year, "org": org}
    )
