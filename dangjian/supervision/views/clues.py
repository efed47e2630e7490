"""The clue board (线索跟踪: columns by status, or one status paginated) and a clue's follow-up. The committee moves
a clue along its allowed transitions (待移交 → 已移交 → 查处中 or 不予立案; 查处中 → 已办结) from the board or the
clue's page; the reporting instructor may pass their own clue to enforcement. Only the allowed next statuses are
offered."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.supervision.forms import ClueStatusForm
from dangjian.supervision.models import CLUE_TRANSITIONS, Clue, ClueStatus
from dangjian.supervision.services import clues as services
from dangjian.supervision.views.common import require_viewer

BOARD_SHOWN = 20
NOT_HANDLER = "您无权办理该线索。"


def allowed_statuses(user, clue: Clue) -> frozenset[str] | None:
    """The statuses `user` may move the clue to: every allowed transition for the committee over its institution,
    passing it on for the instructor who reported it (while pending), none for anybody else. None: no form."""
    if access_for(user).is_committee_over_any(*clue.institution.supervising_organizations):
        return CLUE_TRANSITIONS[clue.status] or None
    reporter = clue.reported_by
    if (
        reporter is not None
        and reporter.user_id == getattr(user, "pk", None)
        and ClueStatus.PASSED in CLUE_TRANSITIONS[clue.status]
    ):
        return frozenset({ClueStatus.PASSED})
    return None


def _status_form(clue: Clue, allowed, data=None) -> ClueStatusForm:
    return ClueStatusForm(data, clue=clue, allowed=allowed, initial={"date": timezone.localdate()})


@login_required
def clue_board(request):
    """线索跟踪: the clues in scope by status, as columns (the newest of each, each open one with its next steps
    for the user who may take them), or one status paginated."""
    require_viewer(request)
    clues = Clue.objects.visible_to(request.user).select_related(
        "institution__unit__organization", "institution__unit__managing_organization", "reported_by"
    )
    counts = dict(clues.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    status = request.GET.get("status")
    if status in ClueStatus.values:
        page = paginate(request, clues.filter(status=status).order_by("-found_on", "-pk"))
        return render(
            request,
            "supervision/clue_list.html",
            {"status": ClueStatus(status), "page": page, "counts": counts},
        )
    columns = []
    for value, label in ClueStatus.choices:
        shown = list(clues.filter(status=value).order_by("-found_on", "-pk")[:BOARD_SHOWN])
        cards = []
        for clue in shown:
            allowed = allowed_statuses(request.user, clue)
            cards.append((clue, _status_form(clue, allowed) if allowed else None))
        columns.append((value, label, counts.get(value, 0), cards))
    return render(request, "supervision/clue_board.html", {"columns": columns, "shown": BOARD_SHOWN})


def _clue(request, pk) -> Clue:
    clue = get_visible_or_404(Clue, request.user, pk, request=request)
    return (
        Clue.objects.dangerously_all()
        .select_related(
            "institution__unit__organization", "institution__unit__managing_organization", "reported_by", "visit"
        )
        .get(pk=clue.pk)
    )


def _render_detail(request, clue: Clue, form: ClueStatusForm | None):
    return render(
        request,
        "supervision/clue_detail.html",
        {
            "clue": clue,
            "updates": list(clue.updates.select_related("by")),
            "form": form,
            "can_manage": access_for(request.user).is_committee_over_any(*clue.institution.supervising_organizations),
        },
    )


def _change_status(request, clue: Clue):
    """Apply a posted status change; the bound form (with its messages) on a bad input, None on success."""
    allowed = allowed_statuses(request.user, clue)
    require(allowed is not None, NOT_HANDLER)
    form = _status_form(clue, allowed, request.POST)
    done = submit(form, lambda data: services.clue_update_status(by=request.user, clue=clue, **data))
    if done is not FAILED:
        messages.success(request, f"线索办理状态已更新为“{ClueStatus(form.cleaned_data['status']).label}”。")
        return None
    return form


@scoped(Clue)
def clue_detail(request, pk):
    """线索详情: the clue, its follow-up log and, for who may act, the next status."""
    clue = _clue(request, pk)
    if request.method == "POST":
        form = _change_status(request, clue)
        if form is None:
            return redirect(clue)
        return _render_detail(request, clue, form)
    allowed = allowed_statuses(request.user, clue)
    return _render_detail(request, clue, _status_form(clue, allowed) if allowed else None)


@scoped(Clue)
@require_POST
def clue_status(request, pk):
    """The board's quick follow-up: back to the board on success; the clue's page with the messages otherwise."""
    clue = _clue(request, pk)
    form = _change_status(request, clue)
    if form is None:
        return redirect(reverse("supervision:clue_board"))
    return _render_detail(request, clue, form)
