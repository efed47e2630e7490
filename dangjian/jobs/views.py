"""A job's page (progress bar, result link, log) and the user's list of jobs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dangjian.core.views_helpers import get_visible_or_404, paginate, scoped
from dangjian.jobs.models import Job
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
