"""Pages of committee terms and organization setup (换届与组织设置): the term list of a scope (ending soon, overdue,
all), an organization's term page (current term, seats, vacancies, history; election, by-election and vacate forms
for its member editors), the setup flags, and the quarterly / half-year setup report with its .xlsx and a printable
page, whether the report's period was filed and the confirmation (确认报送) for committee staff, with the
organization's filings.

Seeing needs a role granted on a subtree holding the organization (committee staff, secretaries, party-school
admins, instructors); recording needs a member-editing role over it. Organizations come from the URL (resolved
through `Organization.objects.visible_to`) or by code inside the user's scope, never by a trusted id.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.committees import exports, services
from dangjian.committees.forms import (
    FULL_LIST_LIMIT,
    ByElectionForm,
    ElectForm,
    FilingForm,
    ReportForm,
    SetupFilterForm,
    TermFilterForm,
    VacateForm,
)
from dangjian.committees.models import CommitteeSeat, CommitteeTerm
from dangjian.committees.selectors import terms as term_selectors
from dangjian.committees.selectors.filings import (
    SNAPSHOT_LABELS,
    filing_status,
    organization_filings,
    period_code,
    report_kind_of,
    snapshot_figures,
)
from dangjian.committees.selectors.policies import add_months, term_rule_for
from dangjian.committees.selectors.setup import ReportPeriod, setup_flags, setup_report
from dangjian.committees.services import MAX_SEATS
from dangjian.core.exports import ExportAudit, request_params, xlsx_file_response
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.members.models import Member, PartyPost
from dangjian.orgs.models import Organization

NO_VIEW = "您的角色无权查看换届和组织设置情况。"
NOT_EDITOR = services.NOT_EDITOR
REPORT_ROWS_SHOWN = 50
PRINT_ROWS_SHOWN = 1000  # a printed list longer than this is read in the workbook


def _require_follower(request) -> None:
    access = access_for(request.user)
    require(access.system or bool(access.view_roots), NO_VIEW)


def _default_org(user) -> Organization | None:
    access = access_for(user)
    if access.system:
        return Organization.objects.dangerously_all().filter(depth=1).first()
    return Organization.objects.dangerously_all().filter(path__in=access.view_roots).first()


def _xlsx(request, *, filename: str, write, what: str) -> FileResponse:
    """A workbook download (`write(out)` returns its rows), recorded in the audit trail with the page's filter."""
    audit = ExportAudit(
        what=what, params=request_params(request), object_type=CommitteeTerm._meta.label_lower, actor=request.user
    )
    return xlsx_file_response(write, filename=filename, audit=audit)


# ---------------------------------------------------------------------------------------------------------
# Term list


def _term_line(term: CommitteeTerm, today) -> tuple:
    org = term.organization
    status = term.get_status_display()
    if term.is_overdue(today):
        status = "逾期未换届"
    return (
        org.code,
        org.name,
        org.get_kind_display(),
        status,
        term.elected_on,
        term.term_years,
        term.ends_on,
        f"{term.open_seats}/{term.seats}",
    )


TERM_HEADERS = (*exports.ALERT_HEADERS[:-1], "在任/职数")


@login_required
def term_list(request):
    """换届提醒: the terms of the scope ending soon (default), overdue, current, ended or all."""
    _require_follower(request)
    today = timezone.localdate()
    form = TermFilterForm(request.GET or None, user=request.user)
    org, status, kind = None, "ending", ""
    if form.is_bound and form.is_valid():
        org = form.cleaned_data["org"]
        status = form.cleaned_data["status"] or "ending"
        kind = form.cleaned_data["kind"]
    rows: list | object = []
    if not form.is_bound or form.is_valid():
        if status == "ending":
            rows = term_selectors.terms_ending(by=request.user, today=today, root=org)
        elif status == "overdue":
            rows = term_selectors.terms_overdue(by=request.user, today=today, root=org)
        else:
            rows = term_selectors.term_list(by=request.user, status=status, root=org, kind=kind or None)
        if kind and status in ("ending", "overdue"):
            rows = [r for r in rows if r.organization.kind == kind]
    alerts = status in ("ending", "overdue")
    if request.GET.get("format") == "xlsx" and (not form.is_bound or form.is_valid()):
        title = dict(TermFilterForm.STATUS_CHOICES)[status]
        if alerts:
            headers, lines = exports.ALERT_HEADERS, (exports.alert_line(a) for a in rows)
        else:
            headers, lines = TERM_HEADERS, (_term_line(t, today) for t in rows.iterator())
        return _xlsx(
            request,
            filename=f"换届提醒-{title}-{today:%Y%m%d}.xlsx",
            write=lambda out: exports.write_list_xlsx(out, title=title, headers=headers, lines=lines),
            what=f"换届提醒（{title}）",
        )
    page = paginate(request, rows)
    return render(
        request,
        "committees/term_list.html",
        {"form": form, "page": page, "alerts": alerts, "status": status, "today": today},
    )


# ---------------------------------------------------------------------------------------------------------
# An organization's terms


def _org(request, pk) -> Organization:
    org = get_visible_or_404(Organization, request.user, pk, request=request)
    require(access_for(request.user).can_view_org(org), NO_VIEW)
    return org


def _candidates(org: Organization):
    """The members the forms offer: the eligible ones (active full members of the subtree); for a big subtree its
    own members, leadership-team members and current post holders only (the service accepts any eligible one)."""
    qs = services.eligible_members(org)
    if qs.count() > FULL_LIST_LIMIT:
        today = timezone.localdate()
        holders = PartyPost.objects.filter(organization__path__startswith=org.path, start_date__lte=today).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=today)
        )
        qs = qs.filter(Q(organization=org) | Q(is_leadership=True) | Q(pk__in=holders.values("member_id")))
    return (
        Member.objects.dangerously_all()
        .filter(pk__in=qs.values("pk"))
        .select_related("organization")
        .order_by("organization__path", "name", "pk")
    )


def _current(org: Organization) -> CommitteeTerm | None:
    return CommitteeTerm.objects.dangerously_all().filter(organization=org).current().first()


@scoped(Organization)
def organization(request, pk):
    """党组织换届情况: the current term and its seats and vacancies, the setup flags, the history of terms."""
    org = _org(request, pk)
    today = timezone.localdate()
    terms = term_selectors.organization_terms(by=request.user, org=org)
    current = next((t for t in terms if t.term.is_current), None)
    warn_from = None
    if current is not None:
        rule = term_rule_for(org, today.year)
        warn_from = add_months(current.term.ends_on, -(rule.warn_months if rule else 6))
    flags = [f for f in setup_flags(by=request.user, root=org, today=today) if f.organization.pk == org.pk]
    return render(
        request,
        "committees/organization.html",
        {
            "org": org,
            "current": current,
            "past": [t for t in terms if not t.term.is_current],
            "warn_from": warn_from,
            "ending": current is not None and warn_from <= today <= current.term.ends_on,
            "overdue": current is not None and today > current.term.ends_on,
            "flags": flags,
            "can_edit": access_for(request.user).can_edit_member_in(org),
            "today": today,
        },
    )


def _rows(request) -> int:
    try:
        return max(1, min(int(request.GET.get("rows", 7)), MAX_SEATS))
    except (TypeError, ValueError):
        return 7


@scoped(Organization)
def elect(request, pk):
    """换届选举: record the new committee; the current term ends the day before."""
    org = _org(request, pk)
    require(access_for(request.user).can_edit_member_in(org), NOT_EDITOR)
    form = ElectForm(request.POST or None, candidates=_candidates(org), rows=_rows(request))
    if request.method == "POST" and form.is_valid():
        elected = submit(
            form, lambda data: services.term_elect(by=request.user, organization=org, **form.service_kwargs())
        )
        if elected is not FAILED:
            messages.success(request, "换届选举结果已登记。")
            return redirect("committees:organization", pk=org.pk)
    return render(request, "committees/elect_form.html", {"org": org, "form": form, "current": _current(org)})


def _no_term(request, org, title: str):
    """The seat forms of an organization without a current term: the notice and the way to the election."""
    return render(request, "committees/seat_form.html", {"org": org, "form": None, "term": None, "title": title})


@scoped(Organization)
def by_election(request, pk):
    """补选: fill a vacant seat of the current term."""
    org = _org(request, pk)
    require(access_for(request.user).can_edit_member_in(org), NOT_EDITOR)
    term = _current(org)
    if term is None:
        return _no_term(request, org, "补选委员")
    view = next(t for t in term_selectors.organization_terms(by=request.user, org=org) if t.term.pk == term.pk)
    form = ByElectionForm(request.POST or None, candidates=_candidates(org), vacated=view.vacated_unfilled)
    if request.method == "POST" and form.is_valid():
        elected = submit(
            form,
            lambda data: services.seat_by_election(
                by=request.user,
                term=term,
                member=data["member"],
                date=data["date"],
                position=data["position"] or None,
                seat=data["seat"],
            ),
        )
        if elected is not FAILED:
            messages.success(request, "补选结果已登记。")
            return redirect("committees:organization", pk=org.pk)
    return render(request, "committees/seat_form.html", {"org": org, "form": form, "term": view, "title": "补选委员"})


@scoped(Organization)
def vacate(request, pk):
    """委员离任: a seat of the current term becomes vacant (to be filled by by-election)."""
    org = _org(request, pk)
    require(access_for(request.user).can_edit_member_in(org), NOT_EDITOR)
    term = _current(org)
    if term is None:
        return _no_term(request, org, "委员离任")
    open_seats = list(CommitteeSeat.objects.dangerously_all().filter(term=term).open().select_related("member"))
    form = VacateForm(request.POST or None, open_seats=open_seats, initial={"seat": request.GET.get("seat")})
    if request.method == "POST" and form.is_valid():
        vacated = submit(
            form,
            lambda data: services.seat_vacate(
                by=request.user, seat=data["seat"], date=data["date"], reason=data["reason"], note=data["note"]
            ),
        )
        if vacated is not FAILED:
            messages.success(request, "委员离任已登记，请及时补选。")
            return redirect("committees:organization", pk=org.pk)
    view = next(t for t in term_selectors.organization_terms(by=request.user, org=org) if t.term.pk == term.pk)
    return render(request, "committees/seat_form.html", {"org": org, "form": form, "term": view, "title": "委员离任"})


# ---------------------------------------------------------------------------------------------------------
# Setup


@login_required
def setup(request):
    """组织设置排查: the branches whose setup no longer fits the rules, with the number and the threshold."""
    _require_follower(request)
    today = timezone.localdate()
    form = SetupFilterForm(request.GET or None, user=request.user)
    flags = []
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        flags = setup_flags(by=request.user, root=data.get("org"), today=today)
        if data.get("rule"):
            flags = [f for f in flags if f.rule == data["rule"]]
        if request.GET.get("format") == "xlsx":
            return _xlsx(
                request,
                filename=f"组织设置问题-{today:%Y%m%d}.xlsx",
                write=lambda out: exports.write_list_xlsx(
                    out, title="组织设置问题", headers=exports.FLAG_HEADERS, lines=map(exports.flag_line, flags)
                ),
                what="组织设置问题",
            )
    page = paginate(request, flags)
    return render(request, "committees/setup.html", {"form": form, "page": page})


@login_required
def report(request):
    """组织设置排查与报告: the quarterly review or the half-year report of a subtree; `?format=xlsx` for the
    workbook, `?format=print` for the printable page."""
    _require_follower(request)
    today = timezone.localdate()
    form = ReportForm(request.GET or None, user=request.user)
    result, report_query, status, filings, file_form = None, "", None, None, None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        org = data.get("org") or _default_org(request.user)
        year = data.get("year") or today.year
        period = data.get("period") or ReportPeriod.current(today)
        if not form.is_bound:
            form = ReportForm(
                initial={"org": org.code if org else "", "year": year, "period": period}, user=request.user
            )
        if org is not None:
            start, end = ReportPeriod.bounds(year, period)
            title = ReportPeriod.title(year, period)
            report_query = urlencode({"org": org.code, "year": year, "period": period})
            result = setup_report(by=request.user, root=org, start=start, end=end, title=title, today=today)
            fmt = request.GET.get("format")
            if fmt == "xlsx":
                return _xlsx(
                    request,
                    filename=f"{org.code}-{title}.xlsx",
                    write=lambda out: exports.write_report_xlsx(out, result),
                    what=f"{org.name}{title}",
                )
            if fmt == "print":
                return render(
                    request,
                    "committees/report_print.html",
                    {
                        "report": result,
                        "summary": exports.summary_lines(result),
                        "limit": f":{PRINT_ROWS_SHOWN}",
                        "shown": PRINT_ROWS_SHOWN,
                    },
                )
            status = filing_status(by=request.user, organization=org, year=year, period=period, today=today)
            filings = paginate(request, organization_filings(by=request.user, organization=org))
            filings.object_list = list(filings.object_list)
            for filing in filings.object_list:
                filing.figures = snapshot_figures(filing)
            file_form = FilingForm(initial={"year": year, "period": period})
    return render(
        request,
        "committees/report.html",
        {
            "form": form,
            "report": result,
            "summary": exports.summary_lines(result) if result else [],
            "shown": REPORT_ROWS_SHOWN,
            "limit": f":{REPORT_ROWS_SHOWN}",
            "report_query": report_query,
            "status": status,
            "page": filings,
            "file_form": file_form,
            "snapshot_labels": SNAPSHOT_LABELS,
        },
    )


@scoped(Organization)
@require_POST
def report_file(request, pk):
    """确认报送: committee staff confirm the organization's review or report of a period as filed; back to the
    report page with the outcome as a message (a refusal names why: not ended, already filed …)."""
    org = _org(request, pk)
    require(access_for(request.user).can_file_setup_for(org), services.NOT_FILER)
    form = FilingForm(request.POST)
    back = reverse("committees:report")
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
        return redirect(f"{back}?{urlencode({'org': org.code})}")
    year, period = form.cleaned_data["year"], form.cleaned_data["period"]
    try:
        filing = services.setup_report_file(
            by=request.user,
            organization=org,
            kind=report_kind_of(period),
            period=period_code(year, period),
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        when = timezone.localtime(filing.filed_at)
        messages.success(request, f"{org.name}{ReportPeriod.title(year, period)}已于{when:%Y-%m-%d %H:%M}确认报送。")
    return redirect(f"{back}?{urlencode({'org': org.code, 'year': year, 'period': period})}")
