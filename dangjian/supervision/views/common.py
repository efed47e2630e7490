"""What the supervision pages share: who may see the area, who may act as the committee, the filter forms' values
and the .xlsx response."""

from __future__ import annotations

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import require
from dangjian.supervision.forms import ScopeForm
from dangjian.supervision.selectors.visits import current_appointment
from dangjian.supervision.services._common import committee_roots

NO_VIEW = "您的角色无权查看校外培训机构党建工作。"
NOT_COMMITTEE = "只有工委工作人员可以进行此操作。"


def can_view(user) -> bool:
    access = access_for(user)
    return access.system or bool(access.view_roots) or current_appointment(user) is not None


def require_viewer(request) -> None:
    require(can_view(request.user), NO_VIEW)


def is_committee(user) -> bool:
    """Committee staff somewhere (or the system access): the pages that create rows offer their forms."""
    return access_for(user).system or bool(committee_roots(user))


def require_committee(request) -> None:
    require_viewer(request)
    require(is_committee(request.user), NOT_COMMITTEE)


def wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


def scope_values(request, form_class=ScopeForm):
    """The bound filter form and its cleaned values (an invalid form: no values, the message beside the field)."""
    form = form_class(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        return form, None
    return form, (form.cleaned_data if form.is_bound else {})
