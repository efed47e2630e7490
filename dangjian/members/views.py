"""Pages of the member roster."""

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.validators import age_on
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.jobs.services import job_start
from dangjian.members import selectors, services
from dangjian.members.exports import XLSX_CONTENT_TYPE, audit_filter, members_export
from dangjian.members.filters import MemberFilter
from dangjian.members.forms import (
    IncomingMemberForm,
    MakeFullForm,
    MemberForm,
    MemberStatusForm,
    PartyPostEndForm,
    PartyPostForm,
    TransferOutForm,
    TransferReturnForm,
    TransferStartForm,
)
from dangjian.members.import_views import job_threshold
from dangjian.members.models import Category, Member, MemberTransfer, PartyPost, Status, overdue_days
from dangjian.members.search import (
    ID_NUMBER,
    NAME,
    classify,
    number_search,
    search_token_issue,
    search_token_resolve,
)
from dangjian.orgs.models import Organization


def _editable_orgs(user):
    return Organization.objects.dangerously_all().within(access_for(user).member_edit_roots)


@login_required
def member_list(request):
    """党员名册: search, filters over the user's scope, pagination."""
    require(access_for(request.user).can_view_members, "您的角色无权查看党员信息。")
    filterset = MemberFilter(
        request.GET or None, queryset=selectors.member_list(user=request.user), user=request.user, request=request
    )
    if filterset.is_bound and not filterset.is_valid():
        rows = filterset.queryset.none()  # a rejected filter shows its error, not the unfiltered scope
    else:
        rows = filterset.qs
    page = paginate(request, rows)
    return render(
        request,
        "members/list.html",
        {
            "filter": filterset,
            "page": page,
            "number_search": filterset.number_search,
            "can_create": access_for(request.user).can_edit_members,
        },
    )


SEARCH_FILTERS = ("org", "sub", "category", "status")


@login_required
def member_search(request):
    """The list's search box (POST, so that no number enters a URL; see MemberFilter): a name goes back to the
    list as `?q=`; an ID number or a phone number is kept, as its keyed hash, in the session under a token
    (`?qt=`), and the search is audited with the number masked. The other filters pass through as they are.
    With `to=export`, to the export instead of the list. A GET searches nothing: back to the list."""
    require(access_for(request.user).can_view_members, "您的角色无权查看党员信息。")
    if request.method != "POST":
        return redirect("members:list")
    params = QueryDict(mutable=True)
    for name in SEARCH_FILTERS:
        value = request.POST.get(name, "").strip()
        if value:
            params[name] = value[:100]
    kind, value = classify(request.POST.get("q", "")[:100])
    if kind != NAME:
        search = number_search(kind, value)
        params["qt"] = search_token_issue(request.session, search)
        digest_field = "id_number_digest" if kind == ID_NUMBER else "phone_digest"
        matches = selectors.member_list(user=request.user).filter(**{digest_field: search.digest})
        audit_record(
            action=AuditAction.SEARCH,
            object_type=Member._meta.label_lower,
            object_repr="党员名册",
            detail={"kind": kind, "q": search.masked, "matches": matches.count()},
        )
    elif value:
        params["q"] = value
    elif search_token_resolve(request.session, request.POST.get("qt", "")) is not None:
        params["qt"] = request.POST["qt"]  # the filters changed under a number search still in force
    target = reverse("members:export" if request.POST.get("to") == "export" else "members:list")
    return redirect(f"{target}?{params.urlencode()}" if params else target)


@scoped(Member)
def member_detail(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    access = access_for(request.user)
    can_edit = access.can_edit_member_in(member.organization)
    pending = member.transfers.pending().select_related("from_organization", "to_organization", "started_by").first()
    can_decide = pending is not None and access.can_edit_member_in(pending.to_organization)
    # What the sending side may start: a member in transfer, or no longer 正常, is neither transferred nor
    # changed in status until the transfer is decided.
    can_change = can_edit and pending is None
    can_transfer = can_change and member.status == Status.ACTIVE
    version = {"version": member.version}
    posts = list(member.posts.select_related("organization"))
    for party_post in posts:
        # One dialog per open post: ids of its own, one field name for the view.
        party_post.dialog_id = f"post-end-{party_post.pk}"
        party_post.end_form = PartyPostEndForm(auto_id=f"id_post{party_post.pk}_%s") if can_edit else None
    return render(
        request,
        "members/detail.html",
        {
            "member": member,
            "posts": posts,
            "timeline": selectors.member_timeline(member=member),
            "can_edit": can_edit,
            "can_see_full_id": selectors.may_see_full_id(user=request.user, member=member),
            # Without full-ID rights the birth date is shown as an age only (see core.validators.mask_id_number).
            "age": age_on(member.birth_date, timezone.localdate()),
            "pending_transfer": pending,
            "pending_overdue": pending is not None and pending.is_overdue(),
            "overdue_days": overdue_days(),
            "can_decide": can_decide,
            "return_form": TransferReturnForm(initial={"transfer": pending.pk}) if can_decide else None,
            "status_form": MemberStatusForm(initial=version) if can_change else None,
            "post_form": PartyPostForm(org_queryset=_editable_orgs(request.user)) if can_edit else None,
            "make_full_form": (
                MakeFullForm(initial=version) if can_transfer and member.category == Category.PROBATIONARY else None
            ),
            "transfer_form": TransferStartForm(initial=version) if can_transfer else None,
            "transfer_out_form": TransferOutForm(initial=version) if can_transfer else None,
        },
    )


def _without_version(data: dict) -> dict:
    """A member form's data for a service that creates: the hidden version guards edits only."""
    return {k: v for k, v in data.items() if k != "version"}


@login_required
def member_create(request):
    require(access_for(request.user).can_edit_members, "您的角色无权登记党员。")
    form = MemberForm(request.POST or None, org_queryset=_editable_orgs(request.user), user=request.user)
    if request.method == "POST" and form.is_valid():
        member = submit(form, lambda data: services.member_create(by=request.user, **_without_version(data)))
        if member is not FAILED:
            messages.success(request, f"已登记党员“{member.name}”。")
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "title": "登记党员"})


@scoped(Member)
def member_edit(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权修改该党员的信息。")
    form = MemberForm(
        request.POST or None,
        instance=Member.objects.dangerously_all().get(pk=member.pk),
        org_queryset=_editable_orgs(request.user),
        user=request.user,
    )
    if request.method == "POST" and form.is_valid():
        updated = submit(
            form,
            lambda data: services.member_update(
                by=request.user, member=member, expected_version=data.pop("version"), **data
            ),
        )
        if updated is not FAILED:
            messages.success(request, "党员信息已保存。")
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "member": member, "title": f"编辑党员：{member.name}"})


@scoped(Member)
@require_POST
def member_status(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权变更该党员的党籍状态。")
    form = MemberStatusForm(request.POST)
    changed = submit(
        form,
        lambda data: services.member_change_status(
            by=request.user, member=member, expected_version=data.pop("version"), **data
        ),
    )
    if changed is not FAILED:
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
    if submit(form, lambda data: services.party_post_add(by=request.user, member=member, **data)) is not FAILED:
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
    form = PartyPostEndForm(request.POST)
    ended = submit(form, lambda data: services.party_post_end(by=request.user, party_post=party_post, **data))
    if ended is FAILED:
        _report_errors(request, form, "离任未记录：")
    else:
        messages.success(request, "已记录离任。")
    return redirect(member)


@scoped(Member)
@require_POST
def member_full_id(request, pk):
    """Show one member's full ID number, on request, to a role granted it; every viewing is audited."""
    member = get_visible_or_404(Member, request.user, pk)
    require(selectors.may_see_full_id(user=request.user, member=member), "您的角色无权查看完整的公民身份号码。")
    audit_record(action=AuditAction.VIEW_FULL_ID, obj=member)
    return render(request, "members/_full_id.html", {"member": member})


def _report_errors(request, form: forms.Form, prefix: str) -> None:
    """Show a refused form's errors as messages on the page it came from, each naming its field."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{prefix}{label}：{error}" if label else f"{prefix}{error}")


# ---------------------------------------------------------------------------------------------------------
# Export


@login_required
@require_GET
def member_export(request):
    """导出: exactly the rows the list shows for the same filters (the same filterset over the same scoped
    queryset, without pagination), as .xlsx in the import template's columns. Every export is audited."""
    require(access_for(request.user).can_view_members, "您的角色无权导出党员信息。")
    filterset = MemberFilter(
        request.GET or None, queryset=selectors.member_list(user=request.user), user=request.user, request=request
    )
    if filterset.is_bound and not filterset.is_valid():
        for name, errors in filterset.form.errors.items():
            label = filterset.form.fields[name].label if name in filterset.form.fields else ""
            for error in errors:
                messages.error(request, f"未导出：{label}：{error}")
        return redirect(f"{reverse('members:list')}?{request.GET.urlencode()}")
    filters = audit_filter(request.GET)
    if filterset.number_search is not None:  # a search by number: the trail names it masked
        filters["q"] = filterset.number_search.masked
    filename = f"党员名册-{timezone.localdate():%Y%m%d}.xlsx"
    if filterset.number_search is None and filterset.qs.count() > job_threshold():
        # A whole district: a worker writes the file; its page shows the progress and the link (members.jobs).
        job = job_start(
            by=request.user,
            kind="export_members",
            title="导出党员名册",
            params={"query": request.GET.urlencode(), "filename": filename},
        )
        return redirect("jobs:detail", pk=job.pk)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    members_export(by=request.user, queryset=filterset.qs, out=out, filters=filters)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


# ---------------------------------------------------------------------------------------------------------
# Probationary → full


@scoped(Member)
@require_POST
def member_make_full(request, pk):
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权为该党员办理转正。")
    form = MakeFullForm(request.POST)
    made_full = submit(
        form,
        lambda data: services.member_make_full(
            by=request.user,
            member=member,
            on=data["full_date"],
            reason=data["reason"],
            expected_version=data["version"],
        ),
    )
    if made_full is not FAILED:
        messages.success(request, "已转为正式党员。")
        return redirect(member)
    _report_errors(request, form, "未转正：")
    return redirect(member)


# ---------------------------------------------------------------------------------------------------------
# Transfers (组织关系接转)


@scoped(Member)
@require_POST
def member_transfer_start(request, pk):
    """The sending side starts a transfer inside the system."""
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权为该党员办理组织关系转接。")
    form = TransferStartForm(request.POST)
    transfer = submit(
        form,
        lambda data: services.member_transfer_start(
            by=request.user,
            member=member,
            to_organization=data["to_organization"],
            letter_number=data["letter_number"],
            expected_version=data["version"],
        ),
    )
    if transfer is not FAILED:
        messages.success(request, f"已发起组织关系转接，转往“{transfer.to_organization.name}”，等待对方接收。")
        return redirect(member)
    _report_errors(request, form, "组织关系转接未发起：")
    return redirect(member)


def _pending_transfer_or_none(request, member) -> MemberTransfer | None:
    """The transfer the form was built for (its id posted) if it is still this member's, else the pending one."""
    transfers = member.transfers.select_related("to_organization", "from_organization")
    posted = request.POST.get("transfer", "").strip()
    if not posted:
        return transfers.pending().first()
    try:
        pk = int(posted)
    except ValueError:
        return None
    return transfers.filter(pk=pk).first() if 0 < pk < 2**63 else None


@scoped(Member)
@require_POST
def member_transfer_accept(request, pk):
    """The receiving side accepts: the member moves to the receiving organization."""
    member = get_visible_or_404(Member, request.user, pk)
    transfer = _pending_transfer_or_none(request, member)
    if transfer is None:
        messages.error(request, "该党员没有待办理的组织关系转接。")
        return redirect(member)
    require(access_for(request.user).can_edit_member_in(transfer.to_organization), "只有接收党组织可以办理该转接。")
    try:
        services.member_transfer_accept(by=request.user, transfer=transfer)
    except ValidationError as exc:
        messages.error(request, "未接收：" + "；".join(exc.messages))
    else:
        messages.success(request, f"已接收“{member.name}”的组织关系，转入“{transfer.to_organization.name}”。")
    return redirect(member)


@scoped(Member)
@require_POST
def member_transfer_return(request, pk):
    """The receiving side returns the transfer with a reason; the member stays with the sending side."""
    member = get_visible_or_404(Member, request.user, pk)
    transfer = _pending_transfer_or_none(request, member)
    if transfer is None:
        messages.error(request, "该党员没有待办理的组织关系转接。")
        return redirect(member)
    require(access_for(request.user).can_edit_member_in(transfer.to_organization), "只有接收党组织可以办理该转接。")
    form = TransferReturnForm(request.POST)
    returned = submit(
        form, lambda data: services.member_transfer_return(by=request.user, transfer=transfer, reason=data["reason"])
    )
    if returned is not FAILED:
        messages.success(request, f"已退回“{member.name}”的组织关系转接。")
        # The member stays with the sending side, out of the receiver's view now.
        return redirect("members:transfers")
    _report_errors(request, form, "未退回：")
    return redirect(member)


@scoped(Member)
@require_POST
def member_transfer_out(request, pk):
    """转出系统外: the destination and letter are recorded; the member's status becomes 转出."""
    member = get_visible_or_404(Member, request.user, pk)
    require(access_for(request.user).can_edit_member_in(member.organization), "您无权为该党员办理组织关系转接。")
    form = TransferOutForm(request.POST)
    moved_out = submit(
        form,
        lambda data: services.member_transfer_out(
            by=request.user,
            member=member,
            destination=data["external_organization"],
            letter_number=data["letter_number"],
            on=data["transfer_date"],
            expected_version=data["version"],
        ),
    )
    if moved_out is not FAILED:
        messages.success(request, f"已办理组织关系转出，转往“{form.cleaned_data['external_organization']}”。")
        return redirect(member)
    _report_errors(request, form, "组织关系未转出：")
    return redirect(member)


@login_required
def member_incoming(request):
    """从系统外转入: register the member with where they come from and the introduction letter."""
    require(access_for(request.user).can_edit_members, "您的角色无权登记党员。")
    form = IncomingMemberForm(request.POST or None, org_queryset=_editable_orgs(request.user), user=request.user)

    def register(data):
        data = _without_version(data)
        origin, letter, on = data.pop("external_organization"), data.pop("letter_number"), data.pop("transfer_date")
        member, _ = services.member_register_incoming(
            by=request.user, origin=origin, letter_number=letter, on=on, **data
        )
        return member

    if request.method == "POST" and form.is_valid():
        member = submit(form, register)
        if member is not FAILED:
            messages.success(request, f"已登记从系统外转入的党员“{member.name}”。")
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "title": "登记从系统外转入的党员"})


PENDING_LIST_SIZE = 50


@login_required
def transfer_list(request):
    """组织关系接转: pending transfers into and out of the user's scope, and every transfer either side
    of which lies in it, newest first."""
    access = access_for(request.user)
    require(access.can_view_members, "您的角色无权查看党员信息。")
    incoming = selectors.transfers_incoming_pending(user=request.user)
    outgoing = selectors.transfers_outgoing_pending(user=request.user)
    page = paginate(request, selectors.transfers_recent(user=request.user))
    page.object_list = list(page.object_list)
    now = timezone.now()
    sections = {
        "incoming": list(incoming[:PENDING_LIST_SIZE]),
        "outgoing": list(outgoing[:PENDING_LIST_SIZE]),
        "recent": page.object_list,
    }
    for rows in sections.values():
        for transfer in rows:
            transfer.member_visible = selectors.member_visible_in_transfer(access, transfer)
            transfer.overdue = transfer.is_overdue(now)
    return render(
        request,
        "members/transfers.html",
        {
            **sections,
            "incoming_total": incoming.count() if len(sections["incoming"]) == PENDING_LIST_SIZE else None,
            "outgoing_total": outgoing.count() if len(sections["outgoing"]) == PENDING_LIST_SIZE else None,
            "page": page,
            "overdue_days": overdue_days(),
        },
    )
