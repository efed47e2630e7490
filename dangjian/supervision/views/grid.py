"""The grid (网格化: cells anchored on public schools, Yiyang) and the pairings (结对) of school branches with
institution branches, with their joint activities. Lists for every viewer; the forms for committee staff (the
services check the organizations)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.shortcuts import redirect, render
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.supervision.forms import GridCellForm, PairingActivityForm, PairingForm
from dangjian.supervision.models import GridCell, Pairing
from dangjian.supervision.services import grid as services
from dangjian.supervision.views.common import NOT_COMMITTEE, is_committee, require_viewer


def _create(request, form, call, success: str):
    """Run a create service with a posted form: True on success (message queued), False with the messages on the
    form. A service's refusal of the organizations comes back as a message, not a 403: the user is committee staff
    who picked the wrong one."""
    try:
        done = submit(form, call)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        return False
    if done is FAILED:
        return False
    messages.success(request, success)
    return True


@login_required
def grid_list(request):
    """网格: the cells the user sees with their schools and institutions; a new cell (committee staff)."""
    require_viewer(request)
    committee = is_committee(request.user)
    form = GridCellForm(request.POST or None, user=request.user) if committee else None
    if request.method == "POST":
        require(committee, NOT_COMMITTEE)
        if _create(
            request,
            form,
            lambda data: services.grid_cell_create(by=request.user, **data),
            f"已新建网格“{form.data.get('name', '').strip()}”。",
        ):
            return redirect("supervision:grid_list")
    cells = (
        GridCell.objects.visible_to(request.user)
        .select_related("school", "organization")
        .annotate(institution_count=Count("institutions"))
        .order_by("area", "name", "pk")
    )
    return render(request, "supervision/grid_list.html", {"page": paginate(request, cells), "form": form})


@login_required
def pairing_list(request):
    """结对: the pairings the user sees with their activities; a new pairing (committee staff)."""
    require_viewer(request)
    committee = is_committee(request.user)
    form = (
        PairingForm(request.POST or None, user=request.user, initial={"start_on": timezone.localdate()})
        if committee
        else None
    )
    if request.method == "POST":
        require(committee, NOT_COMMITTEE)
        if _create(
            request,
            form,
            lambda data: services.pairing_create(by=request.user, **data),
            "已建立结对关系。",
        ):
            return redirect("supervision:pairing_list")
    pairings = (
        Pairing.objects.visible_to(request.user)
        .select_related("school_branch", "institution_branch")
        .annotate(activity_count=Count("activities"), last_activity=Max("activities__date"))
        .order_by("-start_on", "pk")
    )
    return render(request, "supervision/pairing_list.html", {"page": paginate(request, pairings), "form": form})


def _can_record(user, pairing: Pairing) -> bool:
    return access_for(user).is_committee_over_any(pairing.institution_branch, pairing.school_branch)


@scoped(Pairing)
def pairing_detail(request, pk):
    """一对结对: its joint activities (paginated) and, for the committee over either branch, a new one."""
    pairing = get_visible_or_404(Pairing, request.user, pk, request=request)
    pairing = Pairing.objects.dangerously_all().select_related("school_branch", "institution_branch").get(pk=pairing.pk)
    can_record = _can_record(request.user, pairing)
    form = None
    if can_record:
        form = PairingActivityForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST":
        require(can_record, services.NOT_COMMITTEE_ORG)
        if _create(
            request,
            form,
            lambda data: services.pairing_activity_record(by=request.user, pairing=pairing, **data),
            "已记录结对活动。",
        ):
            return redirect("supervision:pairing_detail", pk=pairing.pk)
    activities = pairing.activities.order_by("-date", "-pk")
    return render(
        request,
        "supervision/pairing_detail.html",
        {"pairing": pairing, "page": paginate(request, activities), "form": form},
    )
