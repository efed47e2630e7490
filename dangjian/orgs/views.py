"""Pages of the organization tree and the units."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render

from dangjian.accounts.access import access_for
from dangjian.accounts.services import is_security_admin
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.orgs import selectors, services
from dangjian.orgs.forms import OrganizationForm, OrganizationMoveForm, OrganizationSearchForm, UnitForm
from dangjian.orgs.models import Organization, Unit


def _require_structure_view(request):
    access = access_for(request.user)
    require(access.all_structure or bool(access.view_roots) or bool(access.own_org_ids), "您的角色无权查看党组织。")


@login_required
def tree(request):
    """党组织树: the roots of the user's view; branches open in place (htmx) one level at a time."""
    _require_structure_view(request)
    search = OrganizationSearchForm(request.GET or None)
    results = None
    if search.is_valid() and search.cleaned_data["q"]:
        results = paginate(request, selectors.organization_search(user=request.user, q=search.cleaned_data["q"]))
    return render(
        request,
        "orgs/tree.html",
        {"roots": selectors.organization_roots_for(user=request.user), "search": search, "results": results},
    )


@login_required
def pick(request):
    """The organization picker's answers (JSON): search by name or code, or open one level of the tree.
    Nothing beyond the user's view is offered, and a form still resolves the chosen code inside its own scope."""
    q = request.GET.get("q", "")[:50]
    parent = request.GET.get("parent", "")[:32]
    rows = selectors.organization_picks(user=request.user, q=q, parent_code=parent)
    return JsonResponse({"results": rows[: selectors.PICK_LIMIT], "more": len(rows) > selectors.PICK_LIMIT})


@login_required
def pick_grantable(request):
    """The grant form's organization picker (JSON, as `pick`): every organization, for the security admin only — the
    one who grants roles over the whole structure while seeing no organization's data (三员分立)."""
    require(is_security_admin(request.user), "只有安全管理员可以进行角色授权。")
    q = request.GET.get("q", "")[:50]
    parent = request.GET.get("parent", "")[:32]
    rows = selectors.organization_picks(
        user=request.user, q=q, parent_code=parent, within=Organization.objects.dangerously_all()
    )
    return JsonResponse({"results": rows[: selectors.PICK_LIMIT], "more": len(rows) > selectors.PICK_LIMIT})


@login_required
def pick_receiving(request):
    """The transfer form's picker of the receiving organization (JSON, as `pick`): every organization of the system,
    for those who may transfer members out — the receiving branch usually lies outside the sender's view, and only
    organizations' names and codes are offered, never their members."""
    require(access_for(request.user).can_edit_members, "您无权办理组织关系转接。")
    q = request.GET.get("q", "")[:50]
    parent = request.GET.get("parent", "")[:32]
    rows = selectors.organization_picks(
        user=request.user, q=q, parent_code=parent, within=Organization.objects.dangerously_all()
    )
    return JsonResponse({"results": rows[: selectors.PICK_LIMIT], "more": len(rows) > selectors.PICK_LIMIT})


@scoped(Organization)
def children(request, pk):
    org = get_visible_or_404(Organization, request.user, pk)
    nodes = selectors.organization_children(user=request.user, org=org)
    return render(request, "orgs/_nodes.html", {"nodes": nodes, "level": org.depth})


@scoped(Organization)
def detail(request, pk):
    org = get_visible_or_404(Organization, request.user, pk)
    access = access_for(request.user)
    return render(
        request,
        "orgs/detail.html",
        {
            "org": org,
            "ancestors": selectors.organization_ancestors(user=request.user, org=org),
            "children": paginate(request, selectors.organization_children(user=request.user, org=org)),
            "units": org.units.order_by("name")[:50],
            "member_total": selectors.subtree_member_count(org=org) if access.can_view_members else None,
            "can_edit": access.can_edit_org(org),
            "can_add_child": access.can_add_child_to(org),
        },
    )


def _create(request, parent):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = submit(form, lambda data: services.organization_create(by=request.user, parent=parent, **data))
        if org is not FAILED:
            messages.success(request, f"已新建党组织“{org.name}”。")
            return redirect(org)
    return render(request, "orgs/form.html", {"form": form, "parent": parent, "title": "新建党组织"})


@login_required
def create_root(request):
    require(access_for(request.user).all_structure, "只有系统管理员可以新建顶级党组织。")
    return _create(request, None)


@scoped(Organization)
def create_child(request, pk):
    parent = get_visible_or_404(Organization, request.user, pk)
    require(access_for(request.user).can_add_child_to(parent), "您无权在该党组织下新建组织。")
    return _create(request, parent)


@scoped(Organization)
def edit(request, pk):
    org = get_visible_or_404(Organization, request.user, pk)
    require(access_for(request.user).can_edit_org(org), "您无权修改该党组织。")
    form = OrganizationForm(request.POST or None, instance=Organization.objects.dangerously_all().get(pk=org.pk))
    if (
        request.method == "POST"
        and submit(form, lambda data: services.organization_update(by=request.user, org=org, **data)) is not FAILED
    ):
        messages.success(request, "党组织信息已保存。")
        return redirect(org)
    return render(request, "orgs/form.html", {"form": form, "org": org, "title": f"编辑党组织：{org.name}"})


@scoped(Organization)
def move(request, pk):
    org = get_visible_or_404(Organization, request.user, pk)
    access = access_for(request.user)
    require(access.can_edit_org(org), "您无权移动该党组织。")
    form = OrganizationMoveForm(request.POST or None, queryset=Organization.objects.visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        moved = submit(
            form, lambda data: services.organization_move(by=request.user, org=org, new_parent=data["new_parent"])
        )
        if moved is not FAILED:
            messages.success(
                request, f"已将“{org.name}”及其下级组织移动到“{form.cleaned_data['new_parent'].name}”之下。"
            )
            return redirect(org)
    return render(request, "orgs/move.html", {"form": form, "org": org})


@login_required
def unit_list(request):
    _require_structure_view(request)
    units = Unit.objects.visible_to(request.user).select_related("organization").order_by("kind", "name", "pk")
    q = request.GET.get("q", "").strip()
    if q:
        units = units.filter(name__contains=q)
    kind = request.GET.get("kind", "")
    if kind:
        units = units.filter(kind=kind)
    return render(
        request,
        "orgs/unit_list.html",
        {"page": paginate(request, units), "q": q, "kind": kind, "kinds": Unit._meta.get_field("kind").choices},
    )


@scoped(Unit)
def unit_detail(request, pk):
    unit = get_visible_or_404(Unit, request.user, pk)
    return render(request, "orgs/unit_detail.html", {"unit": unit, "can_edit": access_for(request.user).can_edit_orgs})


def _unit_form(request, unit):
    access = access_for(request.user)
    require(access.can_edit_orgs, "您无权维护单位信息。")
    form = UnitForm(request.POST or None, instance=unit, org_queryset=Organization.objects.visible_to(request.user))

    def save(data):
        with transaction.atomic():
            return services.unit_save(by=request.user, unit=form.save(commit=False))

    if request.method == "POST" and form.is_valid():
        saved = submit(form, save)
        if saved is not FAILED:
            messages.success(request, f"单位“{saved.name}”已保存。")
            return redirect(saved)
    return render(request, "orgs/unit_form.html", {"form": form, "unit": unit if unit.pk else None})


@login_required
def unit_create(request):
    return _unit_form(request, Unit())


@scoped(Unit)
def unit_edit(request, pk):
    unit = get_visible_or_404(Unit, request.user, pk)
    return _unit_form(request, unit)
