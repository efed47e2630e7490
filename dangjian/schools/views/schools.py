"""Pages of the party-school area: the schools seam (list, detail, venues, principals, plans, money, 六有)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import paginate, require
from dangjian.schools.filters import SchoolFilter
from dangjian.schools.selectors.schools import school_list


def require_school_viewer(request) -> None:
    require(access_for(request.user).can_view_schools, "您的角色无权查看党校信息。")


@login_required
def school_list_view(request):
    """党校: the schools in the user's scope, searchable and filtered by level and build mode."""
    require_school_viewer(request)
    filterset = SchoolFilter(request.GET or None, queryset=school_list(user=request.user))
    rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else filterset.queryset.none()
    page = paginate(request, rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "schools/school_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_manage": access_for(request.user).can_manage_schools,
        },
    )


urlpatterns: list = [
    path("", school_list_view, name="list"),
]
