"""A job's page (progress bar, result link, log) and the user's list of jobs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dangjian.core.exports import XLSX_CONTENT_TYPE, ExportAudit, file_response
from dangjian.core.views_helpers import get_visible_or_404, paginate, scoped
from dangjian.jobs.models import Job, JobStatus
from dangjian.jobs.results import result_path
from dangjian.jobs.services import job_progress


@scoped(Job)
def job_detail(request, pk):
    job = get_visible_or_404(Job, request.user, pk, request=request)
    context = {"job": job, "progress": job_progress(job)}
    if request.headers.get("HX-Request"):
        return render(request, "jobs/_status.html", context)
    return render(request, "jobs/detail.html", context)


@login_required
@require_GET
def job_list(request):
    page = paginate(request, Job.objects.visible_to(request.user))
    return render(request, "jobs/list.html", {"page": page})


@scoped(Job)
def job_result(request, pk):
    """The result file of a finished job, for its requester only; the download is recorded in the audit trail."""
    job = get_visible_or_404(Job, request.user, pk, request=request)
    path = result_path(job)
    if job.status != JobStatus.SUCCEEDED or not path.is_file():
        # Not (or no longer) there: the job's page, which says how the job stands.
        messages.info(request, "该任务没有可下载的结果（尚未完成、未成功或结果已清理）。")
        return render(request, "jobs/detail.html", {"job": job, "progress": job_progress(job)})
    audit = ExportAudit(what=job.title, via="job", extra={"job": job.pk})
    return file_response(
        path.read_bytes(),
        filename=str(job.result.get("filename") or path.name),
        content_type=XLSX_CONTENT_TYPE,
        audit=audit,
        rows=job.result.get("rows"),
    )
