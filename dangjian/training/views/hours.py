"""Pages of training and hours: hours (my hours, a member's hours and ledger, the branch view, the committee
dashboard, the member report, the schools' year-end reconciliation) and the hours requirements (policies).

Reports take `?org=CODE&year=YYYY` (the organization by code inside the user's scope; default: the user's first
subtree and this year) and `?format=xlsx` for the .xlsx file of the same report. Organizer pages need a role that
sees party-school data (`can_view_schools`); changing a member's hours needs a member-editing role over the member's
organization; policies are changed by work-committee staff over the owner.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core import summaries
from dangjian.core.exports import ExportAudit, xlsx_response
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.members.models import Member
from dangjian.orgs.models import Organization
from dangjian.schools.models import PartySchool
from dangjian.training.exports import (
    CHILDREN_HEADERS,
    MEMBER_DETAIL_HEADERS,
    RECONCILIATION_HEADERS,
    children_lines,
    member_detail_line,
    reconciliation_line,
)
from dangjian.training.forms.hours import CorrectForm, CreditForm, EnrollForm, PolicyForm, ReportForm, this_year
from dangjian.training.models import HoursEntry, HoursPolicy
from dangjian.training.selectors import compliance as selectors
from dangjian.training.services import ledger, year_close
from dangjian.training.services.policies import (
    policy_save,
    policy_set_active,
)

NO_SCHOOL_VIEW = "您的角色无权查看学时统计。"
NOT_EDITOR = "您无权登记或更正该党员的学时。"


def _require_organizer(request) -> None:
    require(access_for(request.user).can_view_schools, NO_SCHOOL_VIEW)


def _report_params(request):
    """The report form over `?org=&year=`, the organization (default: the user's first subtree) and the year.
    A rejected form gives no organization: the page shows the message beside the field."""
    form = ReportForm(request.GET or None, user=request.user)
    year = this_year()
    if form.is_bound and not form.is_valid():
        return form, None, form.cleaned_data.get("year") or year
    data = form.cleaned_data if form.is_bound else {}
    org = data.get("org") or selectors.default_report_org(request.user)
    year = data.get("year") or year
    if not form.is_bound:  # show what the report is for
        form = ReportForm(initial={"org": org.code if org else "", "year": year}, user=request.user)
    return form, org, year


def _report_context(request, form, org, year) -> dict:
    context = {"form": form, "org": org, "year": year}
    if org is not None:
        context["report_query"] = urlencode({"org": org.code, "year": year})
        context["export_url"] = "?" + urlencode({"org": org.code, "year": year, "format": "xlsx"})
        context["closure"] = year_close.closure_covering(org, year)
        context["may_close"] = access_for(request.user).is_committee_over(org)
        context["year_over"] = year < timezone.localdate().year
    return context


def _xlsx_response(request, *, filename: str, title: str, headers, lines, org, year, report: str, object_type: str):
    """The report as .xlsx, recorded in the audit trail (what: the title; filter: organization, year, report)."""
    audit = ExportAudit(
        what=title,
        params={"org": org.code, "year": year, "report": report},
        object_type=object_type,
        # The member lines carry masked ID numbers only (`member_line`).
        extra={"masked": True} if object_type == Member._meta.label_lower else {},
    )
    return xlsx_response(filename=filename, title=title, headers=headers, lines=lines, audit=audit)


def _wants_xlsx(request) -> bool:
    return request.GET.get("format") == "xlsx"


# ---------------------------------------------------------------------------------------------------------
# Closing a year (学时年度关账)


def _closing(request, action):
    """Close or reopen the posted `org` (a code the user may see) and `year`, then back to the dashboard. A GET goes
    back to the dashboard."""
    if request.method != "POST":
        return redirect("training:dashboard")
    form = ReportForm(request.POST, user=request.user)
    if not form.is_valid() or not form.cleaned_data.get("org"):
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("training:dashboard")
    org, year = form.cleaned_data["org"], form.cleaned_data["year"]
    if year is None:
        messages.error(request, "年度：请填写年度。")
        return redirect("training:dashboard")
    try:
        done = action(org, year)
    except PermissionDenied as error:
        messages.error(request, str(error))
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, done)
    return redirect(f"{reverse('training:dashboard')}?{urlencode({'org': org.code, 'year': year})}")


@login_required
def year_close_view(request):
    def close(org, year):
        year_close.hours_year_close(by=request.user, org=org, year=year, note=request.POST.get("note", ""))
        return f"已关账：{org.name}{year}年度学时。"

    return _closing(request, close)


@login_required
def year_reopen_view(request):
    def reopen(org, year):
        year_close.hours_year_reopen(by=request.user, org=org, year=year, reason=request.POST.get("reason", ""))
        return f"已重新开账：{org.name}{year}年度学时。"

    return _closing(request, reopen)


# ---------------------------------------------------------------------------------------------------------
# My hours


@login_required
@require_GET
def my_hours(request):
    """我的学时: this year's requirement (and why), counted hours with a progress bar, hours by kind, the ledger of
    the year and the last three years."""
    member = (
        Member.objects.visible_to(request.user).filter(user_id=request.user.pk).select_related("organization").first()
    )
    context = {"member": member}
    if member is not None:
        years = selectors.member_years(member)
        current = years[0]
        context.update(
            current=current,
            years=years,
            page=paginate(request, selectors.member_entries(member, year=current.year)),
        )
    return render(request, "training/hours/my_hours.html", context)


# ---------------------------------------------------------------------------------------------------------
# A member's hours (organizers and secretaries)


def _member_context(request, member: Member, *, credit_form=None, correct_form=None, correct_entry=None) -> dict:
    can_edit = access_for(request.user).can_edit_member_in(member.organization)
    years = selectors.member_years(member)
    return {
        "member": member,
        "years": years,
        "current": years[0],
        "page": paginate(request, selectors.member_entries(member)),
        "can_edit": can_edit,
        "credit_form": (credit_form or CreditForm()) if can_edit else None,
        "correct_form": correct_form,
        "correct_entry": correct_entry,
    }


@scoped(Member)
def member_hours(request, pk):
    """党员学时: the member's ledger, three years for promotion review and the consequence flag; for who may edit
    the member, a form to credit hours (POST here) and a correction per entry."""
    member = get_visible_or_404(Member, request.user, pk, request=request)
    is_self = member.user_id is not None and member.user_id == request.user.pk
    require(is_self or access_for(request.user).can_view_schools, NO_SCHOOL_VIEW)
    if request.method != "POST":
        return render(request, "training/hours/member_hours.html", _member_context(request, member))
    require(access_for(request.user).can_edit_member_in(member.organization), NOT_EDITOR)
    form = CreditForm(request.POST)
    done = submit(
        form,
        lambda data: ledger.hours_credit(
            by=request.user,
            member=member,
            on=data["date"],
            hours=data["hours"],
            kind=data["kind"],
            document=data["document"],
            reason=data["reason"],
        ),
    )
    if done is not FAILED:
        messages.success(request, f"已为“{member.name}”登记{form.cleaned_data['hours']}学时。")
        return redirect("training:member_hours", pk=member.pk)
    return render(request, "training/hours/member_hours.html", _member_context(request, member, credit_form=form))


@scoped(HoursEntry)
@require_POST
def entry_correct(request, pk):
    """更正/冲销 one ledger entry: a reversing entry, and for a correction a new entry with the right hours."""
    entry = get_visible_or_404(HoursEntry, request.user, pk, request=request)
    member = Member.objects.dangerously_all().select_related("organization").get(pk=entry.member_id)
    require(access_for(request.user).can_edit_member_in(member.organization), NOT_EDITOR)
    form = CorrectForm(request.POST, prefix=f"e{entry.pk}")

    def correct(data):
        if data["action"] == "reverse":
            return ledger.hours_reverse(by=request.user, entry=entry, reason=data["reason"])
        return ledger.hours_correct(by=request.user, entry=entry, hours=data["hours"], reason=data["reason"])

    if submit(form, correct) is not FAILED:
        reversed_ = form.cleaned_data["action"] == "reverse"
        messages.success(request, "学时记录已冲销。" if reversed_ else "学时记录已更正。")
        return redirect("training:member_hours", pk=member.pk)
    context = _member_context(request, member, correct_form=form, correct_entry=entry)
    return render(request, "training/hours/member_hours.html", context)


# ---------------------------------------------------------------------------------------------------------
# The committee dashboard, the member report, the branch view


@login_required
@require_GET
def dashboard(request):
    """学时统计: compliance by child organization (bar chart and table, drill-down), subtree totals and the trend of
    hours credited per month."""
    _require_organizer(request)
    form, org, year = _report_params(request)
    context = _report_context(request, form, org, year)
    if org is not None:
        # Kept a short while (core.summaries): over a county the two grouped queries read a year of the ledger.
        key = (summaries.scope_of(request.user), org.pk, org.path, year, timezone.localdate())
        report = summaries.cached(
            ["hours"],
            "hours-children",
            key,
            lambda: selectors.compliance_children(by=request.user, org=org, year=year),
            user=request.user,
        )
        if _wants_xlsx(request):
            return _xlsx_response(
                request,
                filename=f"学时达标-按组织-{org.code}-{year}.xlsx",
                title="学时达标（按组织）",
                headers=CHILDREN_HEADERS,
                lines=children_lines(report, with_own_and_total=True),
                org=org,
                year=year,
                report="children",
                object_type=Organization._meta.label_lower,
            )
        trend = summaries.cached(
            ["hours"],
            "hours-trend",
            key,
            lambda: selectors.monthly_trend(by=request.user, org=org, year=year),
            user=request.user,
        )
        peak = max((hours for _, hours in trend), default=0) or 1
        context.update(
            report=report,
            trend=[(month, hours, max(0, min(100, float(hours) * 100 / float(peak)))) for month, hours in trend],
            trend_total=sum((hours for _, hours in trend), 0),
        )
    return render(request, "training/hours/dashboard.html", context)


@login_required
@require_GET
def member_report(request):
    """党员学时达标明细: every member of the subtree with required, completed by kind, counted, shortfall, status."""
    _require_organizer(request)
    form, org, year = _report_params(request)
    context = _report_context(request, form, org, year)
    if org is not None:
        members = selectors.compliance_members(by=request.user, org=org, year=year)
        if _wants_xlsx(request):
            rows = (member_detail_line(selectors.compliance_row(m, year)) for m in selectors.iterate(members))
            return _xlsx_response(
                request,
                filename=f"学时达标-党员明细-{org.code}-{year}.xlsx",
                title="学时达标（党员明细）",
                headers=MEMBER_DETAIL_HEADERS,
                lines=rows,
                org=org,
                year=year,
                report="members",
                object_type=Member._meta.label_lower,
            )
        page = paginate(request, members)
        context.update(page=page, rows=selectors.compliance_rows(page.object_list, year))
    return render(request, "training/hours/member_report.html", context)


def _enroll_form(request, org, year, data=None) -> EnrollForm | None:
    """The one-click enrollment form, if the classes seam offers classes to this user."""
    try:
        from dangjian.training.selectors.classes import upcoming_classes_for
    except ImportError:  # the classes seam is not there yet
        return None
    if org is None or not access_for(request.user).can_edit_member_in(org):
        return None
    members = selectors.report_members(by=request.user, org=org, year=year)
    return EnrollForm(
        data,
        classes=upcoming_classes_for(request.user),
        members=members,
        initial={"org": org.code, "year": year},
        auto_id="id_enroll_%s",
    )


def _render_branch(request, form, org, year, enroll_form=None):
    context = _report_context(request, form, org, year)
    if org is not None:
        page = paginate(request, selectors.compliance_members(by=request.user, org=org, year=year, behind_only=True))
        enroll_form = enroll_form or _enroll_form(request, org, year)
        selected = set()
        if enroll_form is not None and enroll_form.is_bound:
            selected = {int(v) for v in enroll_form.data.getlist("members") if str(v).isdigit()}
        context.update(
            page=page,
            rows=selectors.compliance_rows(page.object_list, year),
            enroll_form=enroll_form,
            can_enroll=enroll_form is not None and enroll_form.fields["training_class"].queryset.exists(),
            selected=selected,
        )
    return render(request, "training/hours/branch.html", context)


@login_required
@require_GET
def branch(request):
    """支部学时: who is behind in the organization (most behind first), with one-click enrollment into an upcoming
    approved class."""
    _require_organizer(request)
    form, org, year = _report_params(request)
    if org is not None and _wants_xlsx(request):
        members = selectors.compliance_members(by=request.user, org=org, year=year, behind_only=True)
        rows = (member_detail_line(selectors.compliance_row(m, year)) for m in selectors.iterate(members))
        return _xlsx_response(
            request,
            filename=f"学时未达标名单-{org.code}-{year}.xlsx",
            title="学时未达标名单",
            headers=MEMBER_DETAIL_HEADERS,
            lines=rows,
            org=org,
            year=year,
            report="behind",
            object_type=Member._meta.label_lower,
        )
    return _render_branch(request, form, org, year)


@login_required
def branch_enroll(request):
    """One click (POST): enroll the selected members into the chosen class (through the classes seam's
    enrollment_add). A GET goes back to the branch view."""
    _require_organizer(request)
    if request.method != "POST":
        return redirect("training:branch")
    form = ReportForm({"org": request.POST.get("org", ""), "year": request.POST.get("year", "")}, user=request.user)
    if not form.is_valid() or form.cleaned_data.get("org") is None:
        messages.error(request, "未报名：请先选择党组织。")
        return redirect("training:branch")
    org, year = form.cleaned_data["org"], form.cleaned_data.get("year") or this_year()
    enroll_form = _enroll_form(request, org, year, data=request.POST)
    require(enroll_form is not None, "您无权为该党组织的党员报名。")
    from dangjian.training.services.enrollment import enrollment_add

    count = submit(
        enroll_form,
        lambda data: enrollment_add(by=request.user, training_class=data["training_class"], members=data["members"]),
    )
    if count is not FAILED:
        messages.success(request, f"已为{count}名党员报名“{enroll_form.cleaned_data['training_class'].title}”。")
        return redirect(f"{reverse('training:branch')}?org={org.code}&year={year}")
    return _render_branch(request, form, org, year, enroll_form=enroll_form)


# ---------------------------------------------------------------------------------------------------------
# Year-end reconciliation (年终对账)


@login_required
@require_GET
def reconciliation(request):
    """年终对账: per school, the year's claimed quotas against the classes it ran and their distinct attendees."""
    _require_organizer(request)
    form, org, year = _report_params(request)
    context = _report_context(request, form, org, year)
    if org is not None:
        schools = selectors.school_reconciliation(by=request.user, year=year, org=org)
        if _wants_xlsx(request):
            return _xlsx_response(
                request,
                filename=f"年终对账-{org.code}-{year}.xlsx",
                title="年终对账",
                headers=RECONCILIATION_HEADERS,
                lines=(reconciliation_line(school) for school in schools),
                org=org,
                year=year,
                report="reconciliation",
                object_type=PartySchool._meta.label_lower,
            )
        context["page"] = paginate(request, schools)
    return render(request, "training/hours/reconciliation.html", context)


# ---------------------------------------------------------------------------------------------------------
# Policies (学时要求)


def _require_policy_reader(request) -> None:
    """The policy page: the roles that see the hours pages, and the system admin (who keeps the configuration and
    switches the system-wide rules on and off)."""
    access = access_for(request.user)
    require(access.can_view_schools or Role.SYSTEM_ADMIN in access.roles, NO_SCHOOL_VIEW)


def _is_policy_maker(user) -> bool:
    access = access_for(user)
    return access.system or bool(access.roots_of([Role.COMMITTEE]))


@login_required
@require_GET
def policy_list(request):
    """学时要求: the requirements that apply in the user's scope (system-wide ones included), each with its source
    document and the people it applies to; who may switch a rule sees 启用/停用, who may set it also 编辑."""
    _require_policy_reader(request)
    page = paginate(request, selectors.policy_list(user=request.user))
    access = access_for(request.user)
    for policy in page.object_list:
        owner = policy.owner if policy.owner_id else None
        policy.can_manage = access.is_committee_over(owner)
        policy.can_switch = access.can_switch_policy_of(owner)
    return render(
        request,
        "training/hours/policy_list.html",
        {"page": page, "can_create": _is_policy_maker(request.user)},
    )


def _policy_form_page(request, form, *, policy=None):
    title = f"编辑学时要求：{policy.name}" if policy else "新增学时要求"
    return render(request, "training/hours/policy_form.html", {"form": form, "policy": policy, "title": title})


def _save_policy(request, form, policy=None):
    saved = submit(form, lambda data: policy_save(by=request.user, policy=policy, **data))
    if saved is not FAILED:
        messages.success(request, f"学时要求“{saved.name}”已保存。")
        return redirect("training:policies")
    return _policy_form_page(request, form, policy=policy)


@login_required
def policy_create(request):
    _require_organizer(request)
    require(_is_policy_maker(request.user), "只有工委工作人员可以设置学时要求。")
    form = PolicyForm(request.POST or None, user=request.user)
    if request.method == "POST":
        return _save_policy(request, form)
    return _policy_form_page(request, form)


@scoped(HoursPolicy)
def policy_edit(request, pk):
    policy = get_visible_or_404(HoursPolicy, request.user, pk, request=request)
    _require_organizer(request)
    require(access_for(request.user).is_committee_over(policy.owner), "您无权修改该学时要求。")
    if request.method == "POST":
        return _save_policy(request, PolicyForm(request.POST, user=request.user), policy)
    return _policy_form_page(
        request, PolicyForm(initial=PolicyForm.initial_for(policy), user=request.user), policy=policy
    )


@scoped(HoursPolicy)
@require_POST
def policy_toggle(request, pk):
    """启用/停用 a policy (`active=1` or `active=0`)."""
    policy = get_visible_or_404(HoursPolicy, request.user, pk, request=request)
    _require_policy_reader(request)
    require(access_for(request.user).can_switch_policy_of(policy.owner), "您无权修改该学时要求。")
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        messages.error(request, "未修改：请选择启用或停用。")
        return redirect("training:policies")
    try:
        policy = policy_set_active(by=request.user, policy=policy, active=wanted == "1")
    except ValidationError as exc:
        messages.error(request, "未启用：" + "；".join(exc.messages))
    else:
        messages.success(request, f"学时要求“{policy.name}”已{'启用' if policy.active else '停用'}。")
    return redirect("training:policies")
