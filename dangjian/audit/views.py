"""The audit admin's pages: the trail with filters, and its export (CSV, every text cell guarded against formula
injection: a username typed at the login form is attacker-controlled text)."""

import json

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.audit.filters import AuditEventFilter
from dangjian.audit.models import AuditEvent
from dangjian.audit.services import EXPORT_COLUMNS, audit_rows
from dangjian.core.exports import csv_lines, record_export, request_params
from dangjian.core.views_helpers import paginate, require


def _require_auditor(request):
    require(access_for(request.user).has_role(Role.AUDIT_ADMIN), "只有审计管理员可以查看审计记录。")


def _filtered(request) -> AuditEventFilter:
    return AuditEventFilter(request.GET or None, queryset=AuditEvent.objects.all())


@login_required
def event_list(request):
    _require_auditor(request)
    filterset = _filtered(request)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {"filter": filterset, "page": paginate(request, filterset.qs), "query": query.urlencode()},
    )


@login_required
def event_export(request):
    """CSV of the filtered trail for off-site archiving; the export is itself recorded."""
    _require_auditor(request)
    filterset = _filtered(request)
    # Fix the row set before recording the export, so the export's own record is not part of it.
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    queryset = filterset.qs.filter(id__lte=last)
    count = queryset.count()
    record_export(
        what="审计记录",
        object_type="audit.auditevent",
        params=request_params(request),
        rows=count,
        via="page",
        format="csv",
    )

    def rows():
        lines = csv_lines([label for _, label in EXPORT_COLUMNS], audit_csv_rows(queryset), lineterminator="\r\n")
        yield "\ufeff" + next(lines)  # a byte-order mark, so that Excel reads the file as UTF-8
        yield from lines

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def audit_csv_rows(queryset):
    """The trail's rows with the detail (the last column) as JSON text."""
    for row in audit_rows(queryset):
        row[-1] = json.dumps(row[-1], ensure_ascii=False)
        yield row
