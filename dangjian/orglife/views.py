"""Pages of organizational life (组织生活): a branch's records by month, the quick record form (for a phone), a
record with its corrections, its edit (or, once locked, correction) form, and the compliance of an organization's
subtree for a year or a quarter.

Lists take `?org=CODE&year=YYYY` (the organization by code inside the user's scope; default: the user's first
subtree or own branch, this year). Seeing needs a role that sees member data; recording needs a member-editing role
over the organization. Attendee names are shown only for the members the user may see.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core import summaries
from dangjian.core.exports import DOCX_CONTENT_TYPE, ExportAudit, file_response, xlsx_response
from dangjian.core.kept_uploads import KeptUploads
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.members.models import Member, Status
from dangjian.orglife import services
from dangjian.orglife.exports import ledger_docx
from dangjian.orglife.forms import AttachmentForm, ComplianceRowFilter, FilterForm, RecordForm, this_year
from dangjian.orglife.models import LEADERSHIP_KINDS, ActivityRecord
from dangjian.orglife.selectors import compliance as selectors
from dangjian.orglife.selectors import ledger as ledger_selectors

NO_VIEW = "您的角色无权查看组织生活记录。"
# A branch is at most a few dozen members (over 50 it should be split); the bound keeps a huge subtree off the page.
MAX_FORM_MEMBERS = 300
# The compliance page's per-organization rows, a page at a time (a county has thousands).
COMPLIANCE_ROWS_PER_PAGE = 100
# A subtree's records come a page at a time: a county's year holds thousands.
RECORDS_PER_PAGE = 100
NOT_EDITOR = "您无权登记该党组织的组织生活记录。"


def _require_viewer(request) -> None:
    require(access_for(request.user).can_view_members, NO_VIEW)


def _params(request, *, with_range: bool = False):
    """The filter form, the organization (default: the user's first subtree) and the year and quarter."""
    form = FilterForm(request.GET or None, user=request.user, with_range=with_range)
    if form.is_bound and not form.is_valid():
        return form, None, form.cleaned_data.get("year") or this_year(), None
    data = form.cleaned_data if form.is_bound else {}
    org = data.get("org") or selectors.default_org(request.user)
    year = data.get("year") or this_year()
    quarter = data.get("quarter")
    if not form.is_bound:
        form = FilterForm(
            initial={"org": org.code if org else "", "year": year}, user=request.user, with_range=with_range
        )
    return form, org, year, quarter


def _active_members(request, org):
    """Whom the quick form lists: a branch's active members; for a 党委 or 党总支 (whose own meetings are its
    leadership team's: 中心组学习, 专题研究), the leadership members (班子成员) of its subtree."""
    members = Member.objects.visible_to(request.user).filter(status=Status.ACTIVE)
    if org.kind in LEADERSHIP_KINDS:
        members = members.filter(organization__path__startswith=org.path, is_leadership=True)
    else:
        members = members.filter(organization=org)
    return list(members.order_by("name", "pk")[:MAX_FORM_MEMBERS])


def _form_members(request, record: ActivityRecord) -> list[Member]:
    """The rows of the edit form: the organization's active members and everyone already on the record, also
    those who have since left (the record is the branch's own document of that day; dropping them because they
    moved would rewrite history)."""
    members = _active_members(request, record.organization)
    shown = {m.pk for m in members}
    recorded = record.attendances.exclude(member_id__in=shown).values("member_id")
    departed = list(Member.objects.dangerously_all().filter(pk__in=recorded).order_by("name", "pk"))
    for member in departed:
        member.departed = True
    return members + departed


@login_required
def record_list(request):
    """活动记录: one organization's records of a year, grouped by month, like a calendar."""
    _require_viewer(request)
    form, org, year, _ = _params(request, with_range=True)
    # A committee opens its whole subtree's records (含下级) unless it asks for its own alone; a branch has no
    # subtree, so the two read the same there.
    subtree = org is not None and not org.is_branch and request.GET.get("sub") != "own"
    months, page = [], None
    if org is not None:
        records = selectors.records_of(by=request.user, org=org, year=year, subtree=subtree)
        if subtree:
            page = paginate(request, records, default_size=RECORDS_PER_PAGE)
            records = page.object_list
        months = [(month, list(items)) for month, items in groupby(records, key=lambda r: r.date.month)]
    can_edit = org is not None and access_for(request.user).can_edit_member_in(org)
    return render(
        request,
        "orglife/record_list.html",
        {
            "form": form,
            "org": org,
            "year": year,
            "months": months,
            "can_edit": can_edit,
            "subtree": subtree,
            "page": page,
        },
    )


@login_required
def record_create(request):
    """登记活动: the quick form; every active member of the branch is pre-ticked as present."""
    _require_viewer(request)
    code = request.GET.get("org") or request.POST.get("org")
    orgs = selectors.orglife_organizations(request.user)
    org = orgs.filter(code=code).first() if code else selectors.default_org(request.user)
    require(org is not None and access_for(request.user).can_edit_member_in(org), NOT_EDITOR)
    members = _active_members(request, org)
    # Today by default: most routine meetings are entered the day they are held.
    form = RecordForm(
        request.POST or None, request.FILES or None, members=members, initial={"date": timezone.localdate()}
    )
    # Files chosen on a refused submit wait on the server for the next one (core.kept_uploads).
    kept = KeptUploads(request, form, "attachments", label=services.ATTACHMENT_LABEL, limit=services.MAX_ATTACHMENTS)
    if request.method == "POST" and form.is_valid():
        record = submit(
            form,
            lambda data: services.record_create(
                by=request.user,
                organization=org,
                **form.service_kwargs(),
                **{**form.attachment_kwargs(), "attachments": kept.with_new(data["attachments"])},
            ),
        )
        if record is not FAILED:
            kept.discard()
            messages.success(request, "活动记录已保存。")
            return redirect(record)
    kept.keep_refused()
    return render(request, "orglife/record_form.html", {"form": form, "org": org, "record": None})


def _attendance(request, record: ActivityRecord):
    """The record's attendance rows, names only of the members the user may see."""
    visible = set(
        Member.objects.visible_to(request.user)
        .filter(pk__in=record.attendances.values("member_id"))
        .values_list("pk", flat=True)
    )
    rows = list(record.attendances.select_related("member"))
    return {
        "present": [a for a in rows if a.present and a.member_id in visible],
        "absent": [a for a in rows if not a.present and a.member_id in visible],
        "present_count": sum(a.present for a in rows),
        "absent_count": sum(not a.present for a in rows),
        "hidden_count": sum(a.member_id not in visible for a in rows),
    }


@scoped(ActivityRecord)
def record_detail(request, pk):
    """活动记录详情: the record, its attendance and its corrections."""
    record = get_visible_or_404(ActivityRecord, request.user, pk, request=request)
    record = ActivityRecord.objects.dangerously_all().select_related("organization", "lecturer").get(pk=record.pk)
    can_edit = access_for(request.user).can_edit_member_in(record.organization)
    locked = record.is_locked()
    lecturer_visible = (
        record.lecturer_id is not None
        and Member.objects.visible_to(request.user).filter(pk=record.lecturer_id).exists()
    )
    context = {
        "record": record,
        "kinds": [k.get_kind_display() for k in record.kinds.all()],
        "corrections": list(record.corrections.select_related("corrected_by")),
        "can_edit": can_edit,
        "locked": locked,
        "lecturer_visible": lecturer_visible,
        "attachments": list(record.attachments.all()),
        "attachment_form": AttachmentForm(locked=locked) if can_edit else None,
        "credited": record.hours_credits.filter(entry__reverses__isnull=True, entry__reversed_by__isnull=True).count(),
        **_attendance(request, record),
    }
    return render(request, "orglife/record_detail.html", context)


def _initial(record: ActivityRecord) -> dict:
    initial = {
        "kinds": list(record.kinds.values_list("kind", flat=True)),
        "date": record.date,
        "topic": record.topic,
        "place": record.place,
        "host": record.host,
        "lecturer": record.lecturer_id,
        "agenda": record.agenda,
        "minutes": record.minutes,
        "decisions": record.decisions,
        "major_decision": record.major_decision,
        "credit_hours": record.credit_hours,
        "record_exists": True,
    }
    attendance = {a.member_id: a for a in record.attendances.all()}
    for member_id, row in attendance.items():
        initial[f"present_{member_id}"] = row.present
        initial[f"reason_{member_id}"] = row.absence_reason
    return initial


@scoped(ActivityRecord)
def record_edit(request, pk):
    """修改活动记录 while open; once locked, the correction form (a reason is required, the change is logged)."""
    record = get_visible_or_404(ActivityRecord, request.user, pk, request=request)
    record = ActivityRecord.objects.dangerously_all().select_related("organization").get(pk=record.pk)
    require(access_for(request.user).can_edit_member_in(record.organization), NOT_EDITOR)
    locked = record.is_locked()
    members = _form_members(request, record)
    form = RecordForm(
        request.POST or None, members=members, correcting=locked, initial=_initial(record), versioned=record
    )

    def save(data):
        version = form.loaded_version
        if locked:
            return services.record_correct(
                by=request.user, record=record, reason=data["reason"], expected_version=version, **form.service_kwargs()
            )
        return services.record_update(by=request.user, record=record, expected_version=version, **form.service_kwargs())

    if request.method == "POST" and form.is_valid():
        saved = submit(form, save)
        if saved is not FAILED:
            messages.success(request, "更正已记录。" if locked else "活动记录已更新。")
            return redirect(record)
    return render(
        request,
        "orglife/record_form.html",
        {"form": form, "org": record.organization, "record": record, "locked": locked},
    )


def _record_for_attachments(request, pk) -> ActivityRecord:
    record = get_visible_or_404(ActivityRecord, request.user, pk, request=request)
    return ActivityRecord.objects.dangerously_all().select_related("organization").get(pk=record.pk)


@scoped(ActivityRecord)
@require_POST
def attachment_add(request, pk):
    """上传附件: photos and scans for a record; after the lock only with a reason (logged as a correction)."""
    record = _record_for_attachments(request, pk)
    require(access_for(request.user).can_edit_member_in(record.organization), NOT_EDITOR)
    form = AttachmentForm(request.POST, request.FILES, locked=record.is_locked())
    added = submit(
        form,
        lambda data: services.attachments_add(
            by=request.user,
            record=record,
            files=data["attachments"],
            kind=data["attachment_kind"],
            reason=data.get("reason", ""),
        ),
    )
    if added is not FAILED:
        messages.success(request, "附件已上传。")
        return redirect(record)
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else "附件"
        for error in errors:
            messages.error(request, f"{label}：{error}")
    return redirect(record)


def _attachment_of(record: ActivityRecord, attachment_pk: int):
    attachment = record.attachments.filter(pk=attachment_pk).first()
    if attachment is None:
        raise Http404("找不到该附件。")
    return attachment


@scoped(ActivityRecord)
def attachment_download(request, pk, attachment_pk):
    """A record's attachment, for whoever sees the record (files are never served statically)."""
    attachment = _attachment_of(_record_for_attachments(request, pk), attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("附件文件已不存在。") from None
    inline = attachment.is_image or attachment.file.name.lower().endswith(".pdf")
    return FileResponse(
        handle, as_attachment=not inline, filename=attachment.name or os.path.basename(attachment.file.name)
    )


@scoped(ActivityRecord)
@require_POST
def attachment_remove(request, pk, attachment_pk):
    """删除附件, while the record is open."""
    record = _record_for_attachments(request, pk)
    attachment = _attachment_of(record, attachment_pk)
    require(access_for(request.user).can_edit_member_in(record.organization), NOT_EDITOR)
    try:
        services.attachment_remove(by=request.user, attachment=attachment)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "附件已删除。")
    return redirect(record)


@login_required
def ledger(request):
    """组织生活台账: one organization's year, every record in date order with the year's compliance — printable;
    `?format=docx` downloads it as one Word document."""
    _require_viewer(request)
    form, org, year, _ = _params(request)
    book = ledger_selectors.ledger_of(by=request.user, org=org, year=year) if org is not None else None
    if book is not None and request.GET.get("format") == "docx":
        # It names attendees and absentees with their reasons (病假…): recorded like every export.
        return file_response(
            ledger_docx(book),
            filename=f"{org.code}-{year}-组织生活台账.docx",
            content_type=DOCX_CONTENT_TYPE,
            audit=ExportAudit(
                what="组织生活台账",
                params={"org": org.code, "year": year},
                object_type=ActivityRecord._meta.label_lower,
                extra={"format": "docx"},
            ),
            rows=len(book.entries),
        )
    return render(request, "orglife/ledger.html", {"form": form, "org": org, "year": year, "ledger": book})


@login_required
def calendar_view(request):
    """活动日历: one organization's month (Monday first) and the duties still open in it."""
    _require_viewer(request)
    form, org, year, _ = _params(request)
    today = timezone.localdate()
    try:
        month = int(request.GET.get("month") or (today.month if year == today.year else 1))
    except ValueError:
        month = 0
    if not 1 <= month <= 12:
        messages.error(request, "月份应为1到12之间的整数。")
        month = today.month if year == today.year else 1
    cal = None
    if org is not None:
        cal = ledger_selectors.month_calendar(by=request.user, org=org, month=dt.date(year, month, 1))
    can_edit = org is not None and access_for(request.user).can_edit_member_in(org)
    return render(
        request,
        "orglife/calendar.html",
        {"form": form, "org": org, "year": year, "calendar": cal, "can_edit": can_edit},
    )


COMPLIANCE_HEADERS = ("党组织编码", "党组织名称", "活动类型", "要求次数", "已开展次数", "参会率(%)", "状态")


def _compliance_xlsx(report) -> FileResponse:
    lines = (
        (
            row.organization.code,
            row.organization.name,
            row.duty.label,
            row.required,
            row.done,
            row.attendance_rate if row.attendance_rate is not None else "",
            row.status,
        )
        for row in report.rows
    )
    period = f"{report.year}" + (f"Q{report.quarter}" if report.quarter else "")
    return xlsx_response(
        filename=f"组织生活落实情况-{report.org.code}-{period}.xlsx",
        title="组织生活落实情况",
        headers=COMPLIANCE_HEADERS,
        lines=lines,
        audit=ExportAudit(
            what="组织生活落实情况",
            params={"org": report.org.code, "year": report.year, "quarter": report.quarter},
            object_type=ActivityRecord._meta.label_lower,
        ),
    )


@dataclass
class _CompliancePage:
    """What the compliance page shows of a report: the children chart, the roll-up, the lecturers and one page of
    the narrowed rows (with their count), small enough to keep for each filter and page."""

    by_child: list
    rollup: list
    lecturers: list
    labels: list[str]
    rows: list
    count: int
    number: int
    per_page: int


class _Window(Sequence):
    """The narrowed rows as the paginator sees them: `count` long, the kept page's rows where it asks for them."""

    def __init__(self, kept: _CompliancePage):
        self.kept = kept

    def __len__(self) -> int:
        return self.kept.count

    def __getitem__(self, index):
        return self.kept.rows


def _compliance_page(request, org, year: int, quarter: int | None) -> _CompliancePage:
    report = selectors.kept_compliance_for(by=request.user, org=org, year=year, quarter=quarter)
    labels = list(dict.fromkeys(row.duty.label for row in report.rows))
    row_filter = ComplianceRowFilter(
        {**request.GET.dict(), "org": org.code, "year": year, "quarter": quarter or ""}, duty_labels=labels
    )
    page = paginate(request, row_filter.narrow(report.rows), default_size=COMPLIANCE_ROWS_PER_PAGE)
    return _CompliancePage(
        by_child=report.by_child(),
        rollup=report.rollup,
        lecturers=selectors.leadership_lectures(by=request.user, org=org, year=year, report=report),
        labels=labels,
        rows=list(page.object_list),
        count=page.paginator.count,
        number=page.number,
        per_page=page.paginator.per_page,
    )


@login_required
def compliance(request):
    """组织生活落实情况: per organization and duty, the required and held counts and the status; the roll-up per
    kind over the subtree as plain bars.

    A county's report is kept (`kept_compliance_for`), and so is what one filter and page of it shows: reading
    the whole kept report back costs more than the page's 200 ms (twenty thousand rows)."""
    _require_viewer(request)
    form, org, year, quarter = _params(request)
    report, row_filter, rows, lecturers = None, None, None, []
    if org is not None:
        if request.GET.get("format") == "xlsx":
            report = selectors.kept_compliance_for(by=request.user, org=org, year=year, quarter=quarter)
            return _compliance_xlsx(report)
        params = {k: request.GET.get(k, "") for k in ("duty", "status", "q", "page", "per_page")}
        report = summaries.cached(
            ["orglife"],
            "orglife-compliance-page",
            (summaries.scope_of(request.user), org.pk, org.path, year, quarter, timezone.localdate(), params),
            lambda: _compliance_page(request, org, year, quarter),
            user=request.user,
        )
        lecturers = report.lecturers
        row_filter = ComplianceRowFilter(
            {**request.GET.dict(), "org": org.code, "year": year, "quarter": quarter or ""}, duty_labels=report.labels
        )
        rows = Paginator(_Window(report), report.per_page).page(report.number)
    return render(
        request,
        "orglife/compliance.html",
        {
            "form": form,
            "org": org,
            "year": year,
            "quarter": quarter,
            "report": report,
            "lecturers": lecturers,
            "row_filter": row_filter,
            "page": rows,
        },
    )
