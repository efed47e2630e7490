"""Pages of the workbench (工作台): the home page with each role's own work (workbench.home) and the first of the
user's to-do items, the whole to-do list (全部待办), and the members flagged as absent from organizational life."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import ADMIN_ROLES, Role
from dangjian.core.exports import ExportAudit, xlsx_response
from dangjian.core.views_helpers import paginate, require
from dangjian.members.models import Member
from dangjian.orglife.selectors.absence import absence_months, absent_members, with_last_present
from dangjian.orglife.selectors.compliance import default_org, orglife_organizations
from dangjian.workbench.home import RolePanels, admin_home, kept_role_panels, member_home
from dangjian.workbench.selectors import ITEMS_SHOWN, kept_todo_items, kept_workbench_counts, todo_groups

# The roles with a panel of their own work on the home page (workbench.home).
PANEL_ROLES = frozenset({Role.SECRETARY, Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.COMMITTEE})
ABSENT_HEADERS = ("党员姓名", "所在党组织", "入党日期", "最近一次参加组织生活")


@login_required
def home(request):
    """工作台: each role's own work first — a panel per business role held (the secretary's branch, the party school,
    the instructor's visits, the committee's subtree compliance; workbench.home) or the 三员's own figures — then the
    first ITEMS_SHOWN of the other to-do items (those no panel shows) grouped by kind (overdue marked), the member's
    own work (我的: hours against the requirement, the next session and its sign-in, the branch's latest
    organizational life), and for a committee the counts of its subtree, compact (never a figure of 0)."""
    grants = request.user.role_assignments.select_related("organization").order_by("role")
    roles = {grant.role for grant in grants}
    # A member with no other role sees their own work, not the statistics of their branch.
    only_member = roles == {Role.MEMBER}
    # The 三员 hold no business role: their own panels, and no business figures (which would all read 0).
    only_admin = bool(roles) and roles <= ADMIN_ROLES
    panels = kept_role_panels(request.user) if roles & PANEL_ROLES else RolePanels()
    every = kept_todo_items(user=request.user)
    todos = [item for item in every if not panels.covers(item)]
    return render(
        request,
        "workbench/home.html",
        {
            "mine": member_home(request.user),
            "only_member": only_member,
            "panels": panels,
            "counts": kept_workbench_counts(user=request.user) if Role.COMMITTEE in roles else None,
            "admin_panels": admin_home(request.user) if roles & ADMIN_ROLES else [],
            "only_admin": only_admin,
            "todos": todos[:ITEMS_SHOWN],
            "todo_groups": todo_groups(todos[:ITEMS_SHOWN]),
            "todo_total": len(todos),
            "todo_more": max(0, len(todos) - ITEMS_SHOWN),
            "todo_overdue": sum(item.overdue for item in todos),
            "todo_in_panels": len(every) - len(todos),
            "todo_all": len(every),
            "grants": grants,
        },
    )


@login_required
@require_GET
def todo(request):
    """全部待办: the user's whole to-do list, overdue first, paginated."""
    todos = kept_todo_items(user=request.user)
    page = paginate(request, todos)
    return render(
        request,
        "workbench/todo.html",
        {
            "page": page,
            "todo_groups": todo_groups(list(page.object_list)),
            "todo_total": len(todos),
            "todo_overdue": sum(item.overdue for item in todos),
        },
    )


def _absent_org(request):
    """The organization of `?org=CODE` inside the user's scope (default: their first subtree); None if unknown."""
    code = (request.GET.get("org") or "").strip()
    if code:
        return orglife_organizations(request.user).filter(code=code).first()
    return default_org(request.user)


@login_required
@require_GET
def absent(request):
    """连续未参加组织生活的党员: the members of an organization's subtree flagged by the absence rule (the system flags,
    the branch decides), with the last activity each attended; paginated, `?format=xlsx` exports them (masked
    nothing: name, organization, dates)."""
    access = access_for(request.user)
    require(bool(access.member_edit_roots), "您的角色无权查看该名单。")
    org = _absent_org(request)
    months = absence_months()
    members = (
        with_last_present(absent_members(by=request.user, org=org, months=months)) if org else Member.objects.none()
    )
    if org is not None and request.GET.get("format") == "xlsx":
        return _absent_xlsx(org, months, members)
    return render(
        request,
        "workbench/absent.html",
        {
            "org": org,
            "org_code": org.code if org else (request.GET.get("org") or "").strip()[:32],
            "months": months,
            "page": paginate(request, members),
            "unknown_org": org is None and bool(request.GET.get("org")),
        },
    )


def _absent_xlsx(org, months: int, members):
    title = f"连续{months}个月未参加组织生活党员-{org.code}"
    lines = (
        (m.name, m.organization.name, m.join_date, m.last_present or "从未参加")
        for m in members.iterator(chunk_size=2000)
    )
    return xlsx_response(
        filename=f"{title}.xlsx",
        title=title,
        headers=ABSENT_HEADERS,
        lines=lines,
        audit=ExportAudit(
            what=f"连续{months}个月未参加组织生活党员",
            params={"org": org.code, "report": "orglife-absent"},
            object_type=Member._meta.label_lower,
        ),
    )
