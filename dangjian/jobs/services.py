"""Starting and running background jobs (后台任务; docs/operator-guide.md, "Background jobs").

Rules:
- A job is started by a service of the app whose work it is (`job_start`), and queued once the request's transaction
  commits; a worker runs it (`job_run`). Without a broker (the embedded default) it runs in the same process at once.
- The job's work and the job's "finished" mark are written in ONE transaction, with the job's row locked: a worker
  killed mid-way leaves nothing written and the job not finished, so the re-delivered job (acks late) does the work
  again from the start and writes it once; a job already finished is never run again.
- Progress goes through the cache (it must be seen while the work's transaction is still open): a percentage with
  Redis; with the database cache the page says 进行中 until the end.
- When a job ends, its requester gets a notification (站内通知) with the link to its page.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dangjian.jobs.models import FINISHED, Job, JobStatus

# kind → function(job, progress) -> (ok, result dict, result url). Each app registers its runners (`runner`).
RUNNERS: dict[str, Callable[..., tuple[bool, dict, str]]] = {}


def runner(kind: str):
    """Register the function that does the work of jobs of `kind`; it runs inside the job's transaction."""

    def register(function):
        RUNNERS[kind] = function
        return function

    return register


def progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


def job_progress(job: Job) -> int:
    """0–100: the cache's figure while running, the row's once finished."""
    if job.finished:
        return 100
    value = cache.get(progress_key(job.pk))
    return int(value) if value is not None else job.progress


def job_start(*, by, kind: str, title: str, params: dict[str, Any]) -> Job:
    """Record a job for `by` and queue it when the current transaction commits."""
    if kind not in RUNNERS:
        raise ValueError(f"no runner for job kind {kind!r}")
    job = Job.objects.create(kind=kind, title=title[:200], params=params, created_by=by)
    from dangjian.jobs.tasks import run_job

    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def job_run(job_id: int) -> str:
    """Run a job once (see the module's rules); returns its status."""
    with transaction.atomic():
        job = Job.objects.dangerously_all().select_for_update().get(pk=job_id)
        if job.status in FINISHED:
            return job.status
        job.status, job.attempts, job.started_at = JobStatus.RUNNING, job.attempts + 1, timezone.now()
        job.save(update_fields=["status", "attempts", "started_at"])

    def progress(percent: int, line: str = "") -> None:
        cache.set(progress_key(job_id), max(0, min(99, int(percent))), 3600)

    with transaction.atomic():
        job = Job.objects.dangerously_all().select_for_update().get(pk=job_id)
        if job.status in FINISHED:  # another delivery finished it meanwhile
            return job.status
        try:
            with transaction.atomic():
                ok, result, url = RUNNERS[job.kind](job, progress)
        except Exception:
            ok, result, url = False, {"error": "任务执行出错，请联系系统管理员（日志中有详细信息）。"}, ""
            job.log += traceback.format_exc(limit=20)
        job.status = JobStatus.SUCCEEDED if ok else JobStatus.FAILED
        job.result, job.result_url, job.progress, job.finished_at = result, url, 100, timezone.now()
        job.save()
        _notify(job)
    cache.delete(progress_key(job_id))
    return job.status


def _notify(job: Job) -> None:
    from dangjian.notices.services import notifications_record

    outcome = "已完成" if job.status == JobStatus.SUCCEEDED else "未完成"
    item = {
        "kind": "后台任务",
        "title": f"{job.title}：{outcome}",
        "url": reverse("jobs:detail", args=[job.pk]),
        "key": f"job:{job.pk}",
        "period": "",
    }
    notifications_record(user=job.created_by, items=[item])
