"""The Celery task behind every background job (jobs.services.job_run)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dangjian.jobs.tasks.run_job")
def run_job(job_id: int) -> str:
    from dangjian.jobs.services import job_run

    return job_run(job_id)
