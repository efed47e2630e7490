"""The roster import as a background job (后台任务): a file of more than DANGJIAN_JOB_THRESHOLD_ROWS rows is imported
by a worker instead of inside the request (jobs.services has the rules of every job)."""

from __future__ import annotations

import io

from django.db import transaction
from django.http import Http404
from django.urls import reverse

from dangjian.core.import_store import UploadStore
from dangjian.jobs.services import runner
from dangjian.members.imports import import_members

MAX_ERRORS_KEPT = 100


@runner("import_members")
def run_member_import(job, progress) -> tuple[bool, dict, str]:
    """Import the file the user checked and confirmed (its sealed upload, `params["token"]`), all or nothing, as the
    page would; the upload is deleted once the import is committed."""
    store = UploadStore(job.created_by)
    token = job.params["token"]
    try:
        data, meta = store.load(token)
    except Http404:
        return False, {"error": "导入文件已过期（上传后须在一小时内确认），请重新上传。"}, ""
    result = import_members(
        io.BytesIO(data),
        name=meta["name"],
        by=job.created_by,
        update=bool(meta["update"]),
        sheet=meta.get("sheet") or None,
        via="job",
        progress=progress,
    )
    errors = [str(error) for error in result.errors[:MAX_ERRORS_KEPT]]
    if not result.written:
        return False, {"summary": "校验未通过，未写入任何数据。", "errors": errors, "rows": result.rows}, ""
    transaction.on_commit(lambda: store.delete(token))
    return True, {"summary": result.summary(), "rows": result.rows}, reverse("members:list")


@runner("export_members")
def run_member_export(job, progress) -> tuple[bool, dict, str]:
    """Export the roster as the export page would (the same filters over the requester's scope, the same columns
    and masking), into the job's result file (jobs.results), the export recorded in the audit trail once. Re-run
    after its worker died, it writes the file again whole and records the export once (the record is in the job's
    transaction)."""
    from django.http import QueryDict

    from dangjian.jobs.results import result_write
    from dangjian.members import selectors
    from dangjian.members.exports import audit_filter, members_export
    from dangjian.members.filters import MemberFilter

    user = job.created_by
    query = QueryDict(job.params.get("query", ""))
    filterset = MemberFilter(query or None, queryset=selectors.member_list(user=user), user=user, request=None)
    if filterset.is_bound and not filterset.is_valid():
        return False, {"error": "筛选条件有误，未导出，请回到党员名册重新筛选。"}, ""
    progress(10)

    def write(out) -> int:
        result = members_export(
            by=user, queryset=filterset.qs, out=out, filters=audit_filter(query), actor=user, via="job"
        )
        return result.rows

    _, rows = result_write(job, write)
    progress(90)
    result = {"summary": f"导出 {rows} 人", "rows": rows, "filename": job.params["filename"]}
    return True, result, reverse("jobs:result", args=[job.pk])
