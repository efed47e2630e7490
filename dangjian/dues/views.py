"""Pages of the dues (党费): the branch's monthly collection sheet (one tap per member records the month as paid in
cash; a committee's organization lists its branches with their close), a member's dues page for the collector
(base, payment, reversal, reduction), the member's own page with printable numbered receipts, and the report with
its Excel export.

No URL carries an id: the organization travels as its code (resolved inside the user's dues scope), a member as
`?member=` (looked up through `Member.objects.editable_by`), a receipt as `?no=` (through `DuesPayment.visible_to`);
what the user may not see answers 404. Acting needs a dues role (`DUES_ROLES`); the member's own page, a member.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.exports import ExportAudit, xlsx_response
from dangjian.core.import_store import UploadStore
from dangjian.core.views_helpers import FAILED, require, submit
from dangjian.dues import services
from dangjian.dues.forms import (
    BaseForm,
    DeductionUploadForm,
    PaymentForm,
    ReductionForm,
    ReportFilter,
    ReverseForm,
    SheetFilter,
)
from dangjian.dues.models import DUES_ROLES, DuesPayment, DuesReduction, Way
from dangjian.dues.rules import add_months, month_label, month_of
from dangjian.dues.selectors.member import member_dues, next_unpaid_month
from dangjian.dues.selectors.report import HEADERS, dues_report
from dangjian.dues.selectors.sheet import can_collect, collection_sheet, default_organization
from dangjian.dues.services.common import as_month
from dangjian.dues.services.deductions import deductions_check, deductions_import
from dangjian.members.models import Member
from dangjian.orgs.models import BRANCH_KINDS, Organization

NO_ROLE = "您的角色不办理党费。"


def _require_collector(request) -> None:
    access = access_for(request.user)
    require(access.system or bool(access.roots_of(DUES_ROLES)), NO_ROLE)


def _month(value, default: dt.date) -> dt.date:
    try:
        return as_month(value, field="month", label="月份") if value else default
    except ValidationError:
        return default


def _sheet_url(org, month: dt.date) -> str:
    return f"{reverse('dues:sheet')}?{urlencode({'org': org.code, 'month': f'{month:%Y-%m}'})}"


@login_required
def sheet(request):
    """党费收缴: a branch's month (every member, one tap to record the month paid in cash, the close), or for a
    committee's organization the month's figures per branch with each branch's close."""
    _require_collector(request)
    current = month_of(timezone.localdate())
    form = SheetFilter(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    org = data.get("org") or default_organization(request.user)
    month = _month(data.get("month"), current)
    if org is None:
        return render(request, "dues/sheet.html", {"form": form, "org": None, "month": month})
    if request.method == "POST":
        _sheet_action(request, org, month)
        return redirect(_sheet_url(org, month))
    if not form.is_bound:
        form = SheetFilter(initial={"org": org.code, "month": f"{month:%Y-%m}"}, user=request.user)
    context = {
        "form": form,
        "org": org,
        "month": month,
        "month_label": month_label(month),
        "previous": add_months(month, -1),
        "following": add_months(month, 1) if month < current else None,
    }
    if org.kind in BRANCH_KINDS:
        context["sheet"] = collection_sheet(by=request.user, organization=org, month=month)
    else:
        context["rows"] = dues_report(org=org, year=month.year, month=month.month)
    return render(request, "dues/sheet.html", context)


def _sheet_action(request, org, month: dt.date) -> None:
    """The sheet's buttons: `pay` (member=ID: the month's due, cash, today) and `close`."""
    action = request.POST.get("action")
    try:
        if action == "pay":
            member = request.POST.get("member")
            payment = services.payment_record(by=request.user, member=member, first_month=month, months=1, way=Way.CASH)
            messages.success(
                request,
                f"已登记{payment.member.name}{month_label(month)}党费{payment.total}元（收据{payment.receipt_no}）。",
            )
        elif action == "close":
            require(can_collect(request.user, org), NO_ROLE)
            services.month_close(by=request.user, organization=org, month=month)
            messages.success(request, f"{org.name}{month_label(month)}党费已结账。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))


def _collected_member(request) -> Member:
    """The member of `?member=` whose dues the user handles; 404 for anyone else (unknown or out of scope)."""
    pk = request.GET.get("member") or request.POST.get("member")
    if not pk or not str(pk).isdigit():
        raise Http404("请选择党员。")
    member = Member.objects.editable_by(request.user).select_related("organization").filter(pk=int(pk)).first()
    if member is None or not can_collect(request.user, member.organization):
        raise Http404("党员不存在或不在您的管理范围内。")
    return member


@login_required
def member_page(request):
    """One member's dues for the collector: the base (and its change), a payment of one or more months, the year's
    months and payments with a reversal each, and — for the next-higher committee — a reduction or exemption."""
    _require_collector(request)
    if not request.GET.get("member"):
        return redirect("dues:sheet")
    member = _collected_member(request)
    today = timezone.localdate()
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {
        "base": BaseForm(request.POST if action == "base" else None, prefix="base"),
        "pay": PaymentForm(
            request.POST if action == "pay" else None,
            prefix="pay",
            initial={"first_month": f"{next_unpaid_month(member, today=today):%Y-%m}", "months": 1},
        ),
        "reverse": ReverseForm(request.POST if action == "reverse" else None, prefix="reverse"),
        "reduce": ReductionForm(request.POST if action == "reduce" else None, prefix="reduce"),
    }
    calls = {
        "base": lambda d: services.base_set(by=request.user, member=member, **d),
        "pay": lambda d: services.payment_record(by=request.user, member=member, **d),
        "reverse": lambda d: _reverse(request, member, d),
        "reduce": lambda d: services.reduction_grant(by=request.user, member=member, **d),
    }
    if action in forms:
        done = submit(forms[action], calls[action])
        if done is not FAILED:
            messages.success(request, "已保存。")
            return redirect(f"{reverse('dues:member')}?{urlencode({'member': member.pk})}")
    access = access_for(request.user)
    # The next-higher committee (上一级党委) of the member's branch approves reductions: its parent's path.
    parent_path = member.organization.path[: -Organization.steplen]
    context = {
        "member": member,
        "mine": member_dues(member, today=today),
        "forms": forms,
        "reductions": DuesReduction.objects.visible_to(request.user).filter(member=member).order_by("-start"),
        "can_approve": access.system
        or (bool(parent_path) and access.covers(parent_path, access.roots_of({Role.COMMITTEE}))),
    }
    return render(request, "dues/member.html", context)


def _reverse(request, member: Member, data: dict):
    payment = DuesPayment.objects.visible_to(request.user).filter(member=member, receipt_no=data["receipt"]).first()
    if payment is None:
        raise ValidationError({"reason": "找不到该收据。"})
    return services.payment_reverse(by=request.user, payment=payment, reason=data.get("reason", ""))


@login_required
def mine(request):
    """我的党费: the member's own base, rate, months paid this year and receipts."""
    member = Member.objects.visible_to(request.user).filter(user=request.user).select_related("organization").first()
    year = request.GET.get("year")
    today = timezone.localdate()
    year = int(year) if year and year.isdigit() and 2000 <= int(year) <= today.year else today.year
    context = {"member": member, "mine": member_dues(member, year=year, today=today) if member else None}
    context["years"] = list(range(today.year, today.year - 3, -1))
    return render(request, "dues/mine.html", context)


@login_required
def receipt(request):
    """A printable receipt (党费收据), by its number; the member's own or one the collector sees."""
    number = (request.GET.get("no") or "").strip()
    if not number:
        return redirect("dues:mine")
    payment = (
        DuesPayment.objects.visible_to(request.user)
        .select_related("member", "organization", "recorded_by")
        .filter(receipt_no=number)
        .first()
    )
    if payment is None:
        raise Http404("收据不存在或不在您的查看范围内。")
    lines = list(payment.entries.order_by("period", "pk"))
    return render(request, "dues/receipt.html", {"payment": payment, "lines": lines})


@login_required
def report(request):
    """党费收缴情况: per organization of the subtree, a month or a year; `?format=xlsx` downloads it."""
    _require_collector(request)
    today = timezone.localdate()
    form = ReportFilter(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    org = data.get("org") or default_organization(request.user)
    year = data.get("year") or today.year
    month = data.get("month")
    if not form.is_bound and org is not None:
        form = ReportFilter(initial={"org": org.code, "year": year}, user=request.user)
    rows = dues_report(org=org, year=year, month=month) if org is not None else []
    if org is not None and request.GET.get("format") == "xlsx":
        period = f"{year}" + (f"-{month:02d}" if month else "")
        return xlsx_response(
            filename=f"党费收缴情况-{org.code}-{period}.xlsx",
            title="党费收缴情况",
            headers=HEADERS,
            lines=(row.cells() for row in rows),
            audit=ExportAudit(
                what="党费收缴情况",
                params={"org": org.code, "year": year, "month": month},
                object_type=DuesPayment._meta.label_lower,
            ),
        )
    return render(
        request,
        "dues/report.html",
        {"form": form, "org": org, "year": year, "month": month, "rows": rows, "headers": HEADERS},
    )


@login_required
def deductions(request):
    """导入代扣名单: the payroll office's list of dues deducted for a month — checked first (every row's problem
    shown, nothing written), then confirmed: all rows in one transaction, or none."""
    _require_collector(request)
    org = default_organization(request.user)
    store = UploadStore(request.user)
    form = DeductionUploadForm(request.POST or None, request.FILES or None)
    check = token = None
    if request.method == "POST" and request.POST.get("action") == "confirm":
        token = request.POST.get("token", "")
        data, meta = store.load(token)
        try:
            month = as_month(meta.get("month"), field="month", label="代扣月份")
            paid_on = dt.date.fromisoformat(meta["paid_on"]) if meta.get("paid_on") else None
            done = deductions_import(
                by=request.user, fileobj=io.BytesIO(data), name=meta["name"], month=month, paid_on=paid_on
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            store.delete(token)
            messages.success(request, f"已导入{len(done.rows)}名党员{month_label(month)}的代扣党费，共{done.total}元。")
            return redirect(_sheet_url(org, month) if org is not None and org.is_branch else reverse("dues:sheet"))
        token = None
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            month = as_month(form.cleaned_data["month"], field="month", label="代扣月份")
        except ValidationError as exc:
            form.add_error("month", exc.messages[0])
        else:
            check = deductions_check(by=request.user, fileobj=io.BytesIO(data), name=upload.name, month=month)
            if check.ok:
                paid_on = form.cleaned_data.get("paid_on")
                token = store.save(
                    data, name=upload.name, month=f"{month:%Y-%m}", paid_on=paid_on.isoformat() if paid_on else ""
                )
    return render(request, "dues/deductions.html", {"form": form, "check": check, "token": token, "org": org})
