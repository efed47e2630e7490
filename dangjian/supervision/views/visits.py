"""The instructor's visit form (for a phone) with its photos, a visit's photo (only through the visit's scope) and
the missing visits of a month."""

from __future__ import annotations

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from dangjian.core.exports import ExportAudit, xlsx_response
from dangjian.core.kept_uploads import KeptUploads
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.supervision import exports
from dangjian.supervision.forms import MonthForm, VisitForm
from dangjian.supervision.models import Visit, VisitPhoto, first_of_month
from dangjian.supervision.selectors.visits import (
    assigned_institutions,
    current_appointment,
    visit_month_missing,
    visits_missing,
)
from dangjian.supervision.services import visits as services
from dangjian.supervision.views.common import require_viewer, wants_xlsx

NOT_INSTRUCTOR = "只有在任的党建指导员可以登记走访。"


@login_required
def visit_create(request):
    """登记走访: the instructor's quick form for one of the institutions assigned to them today."""
    today = timezone.localdate()
    appointment = current_appointment(request.user, today)
    require(appointment is not None, NOT_INSTRUCTOR)
    institutions = assigned_institutions(appointment, today)
    initial = {"date": today}
    wanted = request.GET.get("institution")
    if wanted and wanted.isdigit() and institutions.filter(pk=int(wanted)).exists():
        initial["institution"] = int(wanted)
    form = VisitForm(request.POST or None, request.FILES or None, institutions=institutions, initial=initial)
    # Photos chosen on a refused submit wait on the server for the next one (core.kept_uploads).
    photos = KeptUploads(
        request,
        form,
        "photos",
        label=services.PHOTO_LABEL,
        allowed=services.PHOTO_EXTENSIONS,
        limit=services.MAX_PHOTOS,
    )
    if request.method == "POST" and form.is_valid():
        visit = submit(
            form,
            lambda data: services.visit_record(
                by=request.user, **{**form.service_kwargs(), "photos": photos.with_new(data["photos"])}
            ),
        )
        if visit is not FAILED:
            photos.discard()
            messages.success(request, f"已登记{form.cleaned_data['institution']}的走访记录。")
            lacking = visit_month_missing(visit)
            if lacking:
                messages.warning(
                    request,
                    f"本月“四个一”尚未完成（缺：{'、'.join(lacking)}），仍在待办中；完成后请登记补充走访。",
                )
            return redirect("supervision:visit_create")
    photos.keep_refused()
    month = first_of_month(today)
    missing = visits_missing(by=request.user, month=month, appointment=appointment)
    return render(
        request,
        "supervision/visit_form.html",
        {"form": form, "appointment": appointment, "missing": missing, "month": month},
    )


@login_required
def missing_visits(request):
    """本月未走访: the assigned institutions without the month's regular visit (`?month=YYYY-MM`), with .xlsx."""
    require_viewer(request)
    form = MonthForm(request.GET or None)
    month = first_of_month(timezone.localdate())
    rows = []
    if not form.is_bound or form.is_valid():
        month = (form.cleaned_data.get("month") if form.is_bound else None) or month
        rows = visits_missing(by=request.user, month=month)
        if wants_xlsx(request):
            return xlsx_response(
                filename=f"未走访机构-{month:%Y-%m}.xlsx",
                title="未走访机构",
                headers=exports.MISSING_HEADERS,
                lines=(exports.missing_line(r) for r in rows),
                audit=ExportAudit(
                    what="未走访机构",
                    params={"month": f"{month:%Y-%m}"},
                    object_type=Visit._meta.label_lower,
                ),
            )
    if not form.is_bound:
        form = MonthForm(initial={"month": f"{month:%Y-%m}"})
    return render(
        request,
        "supervision/visits_missing.html",
        {"form": form, "month": month, "page": paginate(request, rows)},
    )


@scoped(VisitPhoto)
def visit_photo(request, pk):
    """A visit's photo (走访照片), shown inline, for whoever sees the visit (files are never served statically)."""
    photo = get_visible_or_404(VisitPhoto, request.user, pk, request=request)
    try:
        handle = photo.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("照片文件已不存在。") from None
    return FileResponse(handle, as_attachment=False, filename=photo.name or os.path.basename(photo.file.name or ""))
