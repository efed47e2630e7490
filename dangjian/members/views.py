"""Pages of the member roster."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.forms import add_service_errors
from dangjian.core.views_helpers import get_visible_or_404, paginate, require, scoped
from dangjian.members import selectors, services
from dangjian.members.filters import MemberFilter
from dangjian.members.forms import MemberForm, MemberStatusForm, PartyPostForm
from dangjian.members.models import Member, PartyPost
from dangjian.orgs.models import Organization, subtree_q


def _editable_orgs(user):
    return Organization.objects.filter(subtree_q(access_for(user).member_edit_roots))


@login_required
def member_list(request):
    """党员名册: search, filters over the user's scope, pagination."""
    require(access_for(request.user).can_view_members, "您的角色无权查看党员信息。")
    filterset = MemberFilter(request.GET or None, queryset=selectors.member_list(user=request.user), user=request.user)
    if filterset.is_bound and not filterset.is_valid():
        rows = filterset.queryset.none()  # a rejected filter shows its error, not the unfiltered scope
    else:
        rows = filterset.qs
    page = paginate(request, rows)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "members/list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_create": access_for(request.user).can_edit_members,
        },
    )


@scoped(Member)
def member_detail(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    access = access_for(request.user)
    can_edit = access.can_edit_member_in(member.organization)
    return render(
        request,
        "members/detail.html",
        {
            "member": member,
            "posts": member.posts.select_related("organization"),
            "history": selectors.member_history(member=member),
            "can_edit": can_edit,
            "can_see_full_id": _may_see_full_id(request.user, member),
            "status_form": MemberStatusForm(initial={"version": member.version}) if can_edit else None,
            "post_form": PartyPostForm(org_queryset=_editable_orgs(request.user)) if can_edit else None,
        },
    )


@login_required
def member_create(request):
    require(access_for(request.user).can_edit_members, "您的角色无权登记党员。")
    form = MemberForm(request.POST or None, org_queryset=_editable_orgs(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            member = services.member_create(by=request.user, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"已登记党员“{member.name}”。")
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "title": "登记党员"})


@scoped(Member)
def member_edit(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权修改该党员的信息。")
    form = MemberForm(
        request.POST or None, instance=Member.objects.get(pk=member.pk), org_queryset=_editable_orgs(request.user)
    )
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            services.member_update(by=request.user, member=member, expected_version=data.pop("version"), **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "党员信息已保存。")
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "member": member, "title": f"编辑党员：{member.name}"})


@scoped(Member)
@require_POST
def member_status(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权变更该党员的党籍状态。")
    form = MemberStatusForm(request.POST)
    if form.is_valid():
        try:
            data = dict(form.cleaned_data)
            services.member_change_status(by=request.user, member=member, expected_version=data.pop("version"), **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "党籍状态已变更。")
            return redirect(member)
    for error in form.errors.values():
        messages.error(request, "党籍状态未变更：" + "；".join(error))
    return redirect(member)


@scoped(Member)
@require_POST
def member_post_add(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权修改该党员的信息。")
    form = PartyPostForm(request.POST, org_queryset=_editable_orgs(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.party_post_add(by=request.user, member=member, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "党内职务已记录。")
            return redirect(member)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"党内职务未记录：{label} " + "；".join(errors))
    return redirect(member)


@scoped(Member)
@require_POST
def member_post_end(request, pk, post_pk):
    member = get_visible_or_404(Member, request.user, pk)
    party_post = get_object_or_404(PartyPost, pk=post_pk, member=member)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权修改该党员的信息。")
    try:
        end_date = forms.DateField(required=True).clean(request.POST.get("end_date", ""))
        services.party_post_end(by=request.user, party_post=party_post, end_date=end_date)
    except ValidationError as exc:
        messages.error(request, "离任未记录：" + "；".join(exc.messages))
    else:
        messages.success(request, "已记录离任。")
    return redirect(member)


def _may_see_full_id(user, member) -> bool:
    """Full ID numbers: for the roles granted it over the member's organization, and for the member themself."""
    access = access_for(user)
    if member.user_id is not None and member.user_id == access.user_id:
        return True
    roots = [root for role in settings.DANGJIAN_FULL_ID_ROLES for root in access.role_roots.get(role, ())]
    return access.covers(member.organization.path, tuple(roots))


@scoped(Member)
@require_POST
def member_full_id(request, pk):
    """Show one member's full ID number, on request, to a role granted it; every viewing is audited."""
    member = get_visible_or_404(Member, request.user, pk)
    require(_may_see_full_id(request.user, member), "您的角色无权查看完整的公民身份号码。")
    audit_record(action=AuditAction.VIEW_FULL_ID, obj=member)
    return render(request, "members/_full_id.html", {"member": member})
