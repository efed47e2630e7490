"""Pages of the party-school area: the schools seam (list, detail, venues, principals, plans, money, 六有).

The detail page has tabs (`?tab=`), each loading only its own data; `?year=` picks the year of the plan, money
and 六有 tabs (default this year). Changes are POST-only actions on the school; a bad form re-renders the
page's tab with the message beside the field (status 200), a success redirects back to the tab.
"""

from __future__ import annotations

import contextlib
import os
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.schools.filters import SchoolFilter
from dangjian.schools.forms.schools import (
    FundingForm,
    JointUnitForm,
    MemberUnitChangeForm,
    PlanForm,
    PrincipalConfirmForm,
    PrincipalProposeForm,
    PrincipalSetForm,
    SchoolForm,
    StandardCheckForm,
    VenueForm,
    this_year,
)
from dangjian.schools.models import (
    PartySchool,
    SchoolAnnualPlan,
    SchoolVenue,
    StandardCheck,
    StandardScheme,
)
from dangjian.schools.selectors import schools as selectors
from dangjian.schools.services import schools as services

TABS = (
    ("info", "基本信息"),
    ("venues", "场所"),
    ("units", "成员单位与校长轮值"),
    ("plans", "年度计划"),
    ("funding", "经费"),
    ("standards", "“六有”检查"),
    ("records", "约课与考评记录"),
)
TAB_KEYS = {key for key, _ in TABS}
YEAR_TABS = {"plans", "funding", "standards"}
NOT_MANAGER = "您的角色无权管理该党校。"


def require_school_viewer(request) -> None:
    require(access_for(request.user).can_view_schools, "您的角色无权查看党校信息。")


def _visible_school(request, pk) -> PartySchool:
    school = get_visible_or_404(PartySchool, request.user, pk, request=request)
    require_school_viewer(request)
    return school


def _managed_school(request, pk) -> PartySchool:
    """The school, 404 out of scope, 403 for a viewer who may not change it."""
    school = _visible_school(request, pk)
    require(access_for(request.user).can_manage_schools_in(school.organization), NOT_MANAGER)
    return school


def _year(value, default: int | None = None) -> int:
    """A year from a query or form value, within 2000-2100; otherwise the default (this year)."""
    with contextlib.suppress(TypeError, ValueError):
        year = int(value)
        if 2000 <= year <= 2100:
            return year
    return default or this_year()


def _detail_url(school: PartySchool, tab: str = "info", year: int | None = None) -> str:
    query = {"tab": tab}
    if year is not None and tab in YEAR_TABS:
        query["year"] = year
    return f"{reverse('schools:detail', args=[school.pk])}?{urlencode(query)}"


# ---------------------------------------------------------------------------------------------------------
# List, create, edit


@login_required
def school_list_view(request):
    """党校: the schools in the user's scope, searchable and filtered by level and build mode."""
    require_school_viewer(request)
    filterset = SchoolFilter(request.GET or None, queryset=selectors.school_list(user=request.user))
    rows = filterset.qs if not filterset.is_bound or filterset.is_valid() else filterset.queryset.none()
    page = paginate(request, rows)
    return render(
        request,
        "schools/school_list.html",
        {
            "filter": filterset,
            "page": page,
            "can_manage": access_for(request.user).can_manage_schools,
        },
    )


@login_required
def school_create(request):
    """新建党校: for a school-managing role, in an organization of their scope."""
    require_school_viewer(request)
    require(access_for(request.user).can_manage_schools, "您的角色无权新建党校。")
    form = SchoolForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        school = submit(form, lambda data: services.school_create(by=request.user, **data))
        if school is not FAILED:
            messages.success(request, f"已新建党校“{school.name}”。")
            return redirect(school)
    return render(request, "schools/school_form.html", {"form": form, "title": "新建党校"})


@scoped(PartySchool)
def school_edit(request, pk):
    school = _managed_school(request, pk)
    form = SchoolForm(request.POST or None, user=request.user, instance=school)
    if request.method == "POST" and form.is_valid():
        done = submit(form, lambda data: services.school_update(by=request.user, school=school, **data))
        if done is not FAILED:
            messages.success(request, "党校信息已保存。")
            return redirect(school)
    return render(
        request, "schools/school_form.html", {"form": form, "school": school, "title": f"编辑党校：{school.name}"}
    )


# ---------------------------------------------------------------------------------------------------------
# Detail


@scoped(PartySchool)
def school_detail(request, pk):
    """党校详情: one tab at a time (基本信息/场所/成员单位与校长轮值/年度计划/经费/“六有”检查/约课与考评记录)."""
    school = _visible_school(request, pk)
    return _render_detail(request, school, tab=request.GET.get("tab"), year=_year(request.GET.get("year")))


def _render_detail(request, school: PartySchool, *, tab, year: int, forms: dict | None = None):
    """The detail page on one tab; `forms` replaces the tab's blank forms with bound ones showing errors."""
    tab = tab if tab in TAB_KEYS else "info"
    user = request.user
    can_manage = access_for(user).can_manage_schools_in(school.organization)
    forms = forms or {}
    context = {
        "school": school,
        "tabs": TABS,
        "tab": tab,
        "year": year,
        "can_manage": can_manage,
        "is_joint": selectors.is_joint(school),
    }
    builder = _TAB_CONTEXT[tab]
    context.update(builder(request, school, year, can_manage, forms))
    return render(request, "schools/school_detail.html", context)


def _info_context(request, school, year, can_manage, forms):
    parent_visible = (
        school.parent_id is not None
        and PartySchool.objects.visible_to(request.user).filter(pk=school.parent_id).exists()
    )
    return {
        "organization": school.organization,
        "parent": school.parent,
        "parent_visible": parent_visible,
        "extensions": PartySchool.objects.visible_to(request.user).filter(parent=school).order_by("code"),
        "current_term": school.principal_terms.filter(year=this_year()).first(),
    }


def _venues_context(request, school, year, can_manage, forms):
    return {
        "venues": selectors.school_venues(school=school),
        "venue_form": forms.get("venue_form") or (VenueForm(initial={"active": True}) if can_manage else None),
    }


def _units_context(request, school, year, can_manage, forms):
    joint = selectors.is_joint(school)
    context = {"terms": selectors.principal_terms(school=school)}
    if joint:
        context["member_units"] = selectors.member_units_with_secretaries(user=request.user, school=school)
    if can_manage:
        if joint:
            context["unit_form"] = forms.get("unit_form") or JointUnitForm(user=request.user)
            context["propose_form"] = forms.get("propose_form") or PrincipalProposeForm(
                initial={"year": selectors.next_proposal_year(school=school)}
            )
            context["confirm_errors"] = forms.get("confirm_errors")
        else:
            context["set_form"] = forms.get("set_form") or PrincipalSetForm(initial={"year": this_year()})
    return context


def _plans_context(request, school, year, can_manage, forms):
    plan = SchoolAnnualPlan.objects.dangerously_all().filter(school=school, year=year).first()
    initial = {"year": year}
    if plan is not None:
        initial.update(plan=plan.plan, planned_classes=plan.planned_classes, planned_trainees=plan.planned_trainees)
    return {
        "plans": selectors.school_plans(school=school),
        "plan": plan,
        "plan_form": forms.get("plan_form") or (PlanForm(initial=initial) if can_manage else None),
    }


def _funding_context(request, school, year, can_manage, forms):
    return {
        "funding": selectors.funding_for_year(school=school, year=year),
        "money": selectors.money_check(school=school),
        "funding_form": forms.get("funding_form") or (FundingForm(initial={"year": year}) if can_manage else None),
    }


def _standards_context(request, school, year, can_manage, forms):
    checklist = selectors.standard_checklist(school=school, year=year)
    bound = forms.get("check_form")
    rows = []
    for row in checklist.rows:
        form = None
        if can_manage and year <= this_year():
            if bound is not None and str(bound.data.get("item")) == str(row.item.pk):
                form = bound
            else:
                initial = {"year": year, "item": row.item.pk}
                if row.check is not None:
                    initial.update(met=row.check.met, note=row.check.note)
                form = StandardCheckForm(initial=initial, school=school, auto_id=f"id_check{row.item.pk}_%s")
        rows.append((row, form))
    return {
        "checklist": checklist,
        "scheme_label": StandardScheme(checklist.scheme).label,
        "future_year": year > this_year(),
        "check_rows": rows,
        "stray_check_form": bound if bound is not None and not any(f is bound for _, f in rows) else None,
    }


def _records_context(request, school, year, can_manage, forms):
    page = paginate(request, selectors.school_bookings(school=school))
    return {
        "page": page,
        "classes": selectors.school_classes(school=school),
        "evaluations": selectors.school_evaluations(school=school),
        "rankings": selectors.school_rankings(school=school),
    }


_TAB_CONTEXT = {
    "info": _info_context,
    "venues": _venues_context,
    "units": _units_context,
    "plans": _plans_context,
    "funding": _funding_context,
    "standards": _standards_context,
    "records": _records_context,
}


# ---------------------------------------------------------------------------------------------------------
# Actions (POST only)


def _submit(request, school, *, form, form_key: str, tab: str, run, success: str):
    """Validate the form, run the service; on success redirect to the tab, else re-render it with the errors."""
    year = _year(form.data.get("year"))
    if submit(form, run) is not FAILED:
        messages.success(request, success)
        return redirect(_detail_url(school, tab, form.cleaned_data.get("year", year)))
    return _render_detail(request, school, tab=tab, year=year, forms={form_key: form})


@scoped(PartySchool)
@require_POST
def venue_add(request, pk):
    school = _managed_school(request, pk)
    return _submit(
        request,
        school,
        form=VenueForm(request.POST),
        form_key="venue_form",
        tab="venues",
        run=lambda data: services.venue_add(by=request.user, school=school, **data),
        success="教学场所已添加。",
    )


@scoped(SchoolVenue)
def venue_edit(request, pk):
    """Edit one venue (a page of its own: the school's page lists them)."""
    venue = get_visible_or_404(SchoolVenue, request.user, pk, request=request)
    require_school_viewer(request)
    school = venue.school
    require(access_for(request.user).can_manage_schools_in(school.organization), NOT_MANAGER)
    form = VenueForm(request.POST or None, instance=SchoolVenue.objects.dangerously_all().get(pk=venue.pk))
    if request.method == "POST" and form.is_valid():
        done = submit(form, lambda data: services.venue_update(by=request.user, venue=venue, **data))
        if done is not FAILED:
            messages.success(request, "教学场所已保存。")
            return redirect(_detail_url(school, "venues"))
    return render(request, "schools/schools/venue_form.html", {"form": form, "school": school, "venue": venue})


@scoped(PartySchool)
@require_POST
def unit_add(request, pk):
    school = _managed_school(request, pk)
    return _submit(
        request,
        school,
        form=JointUnitForm(request.POST, user=request.user),
        form_key="unit_form",
        tab="units",
        run=lambda data: services.joint_unit_add(by=request.user, school=school, unit=data["unit"]),
        success="成员单位已添加，排在轮值顺序的最后。",
    )


@scoped(PartySchool)
@require_POST
def unit_change(request, pk):
    """Remove a member unit, or move it up or down the rotation order."""
    school = _managed_school(request, pk)
    form = MemberUnitChangeForm(request.POST, school=school)
    if form.is_valid():
        member_unit, action = form.cleaned_data["member_unit"], form.cleaned_data["action"]
        try:
            if action == "remove":
                services.joint_unit_remove(by=request.user, member_unit=member_unit)
            else:
                services.joint_unit_move(by=request.user, member_unit=member_unit, up=action == "up")
        except ValidationError as exc:
            messages.error(request, "未调整：" + "；".join(exc.messages))
        else:
            messages.success(request, "成员单位已移除。" if action == "remove" else "轮值顺序已调整。")
    else:
        messages.error(request, "未调整：找不到该成员单位，或操作无效。")
    return redirect(_detail_url(school, "units"))


@scoped(PartySchool)
@require_POST
def principal_propose(request, pk):
    school = _managed_school(request, pk)
    return _submit(
        request,
        school,
        form=PrincipalProposeForm(request.POST),
        form_key="propose_form",
        tab="units",
        run=lambda data: services.principal_propose(by=request.user, school=school, year=data["year"]),
        success="已按轮值顺序推荐校长，请确认。",
    )


@scoped(PartySchool)
@require_POST
def principal_confirm(request, pk):
    school = _managed_school(request, pk)
    form = PrincipalConfirmForm(request.POST, school=school)
    if form.is_valid():
        try:
            services.principal_confirm(by=request.user, term=form.cleaned_data["term"])
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, "校长任期已确认。")
            return redirect(_detail_url(school, "units"))
    else:
        errors = ["找不到该校长任期。"]
    return _render_detail(request, school, tab="units", year=this_year(), forms={"confirm_errors": errors})


@scoped(PartySchool)
@require_POST
def principal_set(request, pk):
    school = _managed_school(request, pk)
    return _submit(
        request,
        school,
        form=PrincipalSetForm(request.POST),
        form_key="set_form",
        tab="units",
        run=lambda data: services.principal_set(by=request.user, school=school, **data),
        success="校长已登记。",
    )


@scoped(PartySchool)
@require_POST
def plan_save(request, pk):
    school = _managed_school(request, pk)
    return _submit(
        request,
        school,
        form=PlanForm(request.POST),
        form_key="plan_form",
        tab="plans",
        run=lambda data: services.plan_save(by=request.user, school=school, **data),
        success="年度培训计划已保存。",
    )


@scoped(PartySchool)
@require_POST
def funding_save(request, pk):
    school = _managed_school(request, pk)
    return _submit(
        request,
        school,
        form=FundingForm(request.POST),
        form_key="funding_form",
        tab="funding",
        run=lambda data: services.funding_save(by=request.user, school=school, **data),
        success="经费已保存。",
    )


@scoped(PartySchool)
@require_POST
def standard_check(request, pk):
    school = _managed_school(request, pk)
    item_pk = "".join(ch for ch in request.POST.get("item", "")[:12] if ch.isdigit())
    form = StandardCheckForm(request.POST, request.FILES, school=school, auto_id=f"id_check{item_pk}_%s")
    return _submit(
        request,
        school,
        form=form,
        form_key="check_form",
        tab="standards",
        run=lambda data: services.standard_check_save(by=request.user, school=school, **data),
        success="“六有”检查已保存。",
    )


@scoped(StandardCheck)
def evidence_download(request, pk):
    """A 六有 check's evidence file, as an attachment, for a user who sees the school (files are never served
    statically). A check without a file (or whose file is gone) says so on a page of its own."""
    check = get_visible_or_404(StandardCheck, request.user, pk, request=request)
    require_school_viewer(request)
    if check.evidence:
        try:
            handle = check.evidence.open("rb")
        except (FileNotFoundError, OSError):
            handle = None
        if handle is not None:
            return FileResponse(handle, as_attachment=True, filename=os.path.basename(check.evidence.name))
    return render(request, "schools/schools/evidence_missing.html", {"check": check, "school": check.school})
