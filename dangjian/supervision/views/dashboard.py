"""The coverage dashboard (两个全覆盖): totals, per child organization and per area (table and bars; no map), the
uncovered institutions, the instructors' figures of the year and the missing visits of the month."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from dangjian.core.exports import ExportAudit, request_params, xlsx_response
from dangjian.supervision import exports
from dangjian.supervision.forms import this_year
from dangjian.supervision.models import Institution, first_of_month
from dangjian.supervision.selectors import coverage as coverage_selectors
from dangjian.supervision.selectors.visits import instructor_year_summary, visits_missing
from dangjian.supervision.views.common import require_viewer, scope_values, wants_xlsx


@login_required
def dashboard(request):
    """两个全覆盖 over the chosen organization (by code) and area, with .xlsx."""
    require_viewer(request)
    form, data = scope_values(request)
    context = {"form": form, "report": None}
    if data is not None:
        # An instructor without a subtree has no default root: their assigned institutions, wherever they sit.
        root = data.get("org") or coverage_selectors.default_root(request.user)
        area = data.get("area") or None
        year = data.get("year") or this_year()
        report = coverage_selectors.coverage(by=request.user, root=root, area=area)
        if wants_xlsx(request):
            lines = [exports.coverage_line(r) for r in (*report.by_child, *report.by_area, report.total)]
            return xlsx_response(
                filename=f"两个全覆盖-{root.code if root else '全部'}.xlsx",
                title="两个全覆盖",
                headers=exports.COVERAGE_HEADERS,
                lines=lines,
                audit=ExportAudit(
                    what="两个全覆盖",
                    params={**request_params(request), "org": root.code if root else None},
                    object_type=Institution._meta.label_lower,
                ),
            )
        month = first_of_month(timezone.localdate())
        context.update(
            report=report,
            root=root,
            year=year,
            summary=instructor_year_summary(by=request.user, year=year),
            missing_count=len(visits_missing(by=request.user, month=month)),
            month=month,
            export_query=urlencode({"org": root.code if root else "", "area": area or "", "format": "xlsx"}),
        )
    return render(request, "supervision/dashboard.html", context)
