"""The audit admin's pages: the trail as Chinese sentences with filters, and its export (CSV or .xlsx through
`core.exports`, in local time with the Chinese action names; every text cell guarded against formula injection: a
username typed at the login form is attacker-controlled text)."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.audit.filters import AuditEventFilter
from dangjian.audit.models import AuditEvent
from dangjian.audit.selectors import EXPORT_HEADERS, describe, export_lines
from dangjian.core.exports import ExportAudit, csv_lines, record_export, request_params, xlsx_response
from dangjian.core.views_helpers import paginate, require

WHAT = "审计记录"


def _require_auditor(request):
    require(access_for(request.user).has_role(Role.AUDIT_ADMIN), "只有审计管理员可以查看审计记录。")


def _filtered(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())


def _fixed(filterset: AuditEventFilter):
    """The filtered rows up to the newest record now: an export's own record is never part of it."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return filterset.qs.filter(id__lte=last)


@login_required
def event_list(request):
    _require_auditor(request)
    filterset = _filtered(request)
    if request.GET.get("format") == "xlsx":
        return _xlsx(request, filterset)
    page = paginate(request, filterset.qs)
    return render(
        request,
        "audit/list.html",
        {"filter": filterset, "page": page, "lines": describe(page.object_list), "time_zone": settings.TIME_ZONE},
    )


def _xlsx(request, filterset: AuditEventFilter):
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    return xlsx_response(
        filename=f"audit-{stamp}.xlsx",
        title=WHAT,
        headers=EXPORT_HEADERS,
        lines=export_lines(_fixed(filterset)),
        widths=[17, 22, 15, 16, 8, 16, 10, 24, 70, 34],
        audit=ExportAudit(
            what=WHAT, params=request_params(request), object_type="audit.auditevent", extra={"format": "xlsx"}
        ),
    )


@login_required
def event_export(request):
    """CSV of the filtered trail (the same columns as the .xlsx); the export is itself recorded."""
    _require_auditor(request)
    queryset = _fixed(_filtered(request))
    count = queryset.count()
    record_export(
        what=WHAT,
        object_type="audit.auditevent",
        params=request_params(request),
        rows=count,
        via="page",
        format="csv",
    )

    def rows():
        lines = csv_lines(EXPORT_HEADERS, export_lines(queryset), lineterminator="\r\n")
        yield "\ufeff" + next(lines)  # a byte-order mark, so that Excel reads the file as UTF-8
        yield from lines

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response
