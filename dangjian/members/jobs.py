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
