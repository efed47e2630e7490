"""The points ranking (过程监管积分排名) with the red list, and the rules in force beside it (read-only: the system
admin maintains them in the admin)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from dangjian.core.exports import ExportAudit, request_params, xlsx_response
from dangjian.core.views_helpers import paginate
from dangjian.supervision import exports
from dangjian.supervision.forms import this_year
from dangjian.supervision.models import Institution
from dangjian.supervision.selectors.points import active_rules, points_ranking
from dangjian.supervision.views.common import require_viewer, scope_values, wants_xlsx

RULES_SHOWN = 200


@login_required
def points(request):
    """积分排名: the approved institutions by points of the year, with the red list and the rules; `?format=xlsx`."""
    require_viewer(request)
    form, data = scope_values(request)
    if data is None:
        return render(request, "supervision/points.html", {"form": form, "ranking": None})
    year = data.get("year") or this_year()
    ranking = points_ranking(by=request.user, year=year, root=data.get("org"))
    rows = ranking.rows
    if data.get("area"):
        rows = [r for r in rows if r.area == data["area"]]
    if wants_xlsx(request):
        return xlsx_response(
            filename=f"过程监管积分排名-{year}.xlsx",
            title="过程监管积分排名",
            headers=exports.RANKING_DETAIL_HEADERS,
            lines=(exports.ranking_detail_line(r) for r in rows),
            audit=ExportAudit(
                what="过程监管积分排名",
                params={**request_params(request), "year": year},
                object_type=Institution._meta.label_lower,
            ),
        )
    rules = list(active_rules(by=request.user, year=year, root=data.get("org"))[: RULES_SHOWN + 1])
    return render(
        request,
        "supervision/points.html",
        {
            "form": form,
            "ranking": ranking,
            "page": paginate(request, rows),
            "year": year,
            "rules": rules[:RULES_SHOWN],
            "rules_more": len(rules) > RULES_SHOWN,
        },
    )
