"""A whole district's roster export runs as a background job (members.jobs, jobs.results): above the threshold the
export page starts a job and sends the user to its page; the job writes the same file the page would, only its
requester downloads it, and a job re-run after its worker was killed mid-way writes the same file and records the
export once."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.jobs import services as job_services
from dangjian.jobs.models import Job, JobStatus
from dangjian.jobs.results import result_path
from dangjian.jobs.services import job_run


@pytest.fixture
def results(settings, tmp_path):
    settings.DANGJIAN_JOB_RESULT_DIR = tmp_path / "job-results"
    settings.DANGJIAN_JOB_THRESHOLD_ROWS = 1  # two members count as a whole district here
    return settings.DANGJIAN_JOB_RESULT_DIR


def _rows(content: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def _exports() -> int:
    return AuditEvent.objects.filter(action=AuditAction.EXPORT, object_repr="党员名册").count()


def test_a_large_roster_export_runs_as_a_job_and_writes_the_file_the_page_would(
    world, results, settings, django_capture_on_commit_callbacks
):
    client = world.client(Role.COMMITTEE)
    settings.DANGJIAN_JOB_THRESHOLD_ROWS = 100
    page_file = b"".join(client.get(reverse("members:export"), {"org": "BJ01"}).streaming_content)
    settings.DANGJIAN_JOB_THRESHOLD_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("members:export"), {"org": "BJ01"})
    job = Job.objects.get(kind="export_members")
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.status == JobStatus.SUCCEEDED and job.result["rows"] == 3
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "导出 3 人" in page and reverse("jobs:result", args=[job.pk]) in page
    download = client.get(reverse("jobs:result", args=[job.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert _rows(download.content) == _rows(page_file)
    # Someone else's job: not found, as anything out of scope.
    assert world.client(Role.SECRETARY).get(reverse("jobs:result", args=[job.pk])).status_code == 404


def test_a_bad_filter_fails_the_job_with_a_message_and_writes_no_file(world, results):
    job = job_services.job_start(
        by=world.user(Role.COMMITTEE),
        kind="export_members",
        title="导出党员名册",
        params={"query": "category=nonsense", "filename": "党员名册.xlsx"},
    )
    assert job_run(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert "筛选条件有误" in job.result["error"] and not result_path(job).exists()
    refused = world.client(Role.COMMITTEE).get(reverse("jobs:result", args=[job.pk]))
    assert refused.status_code == 200 and "没有可下载的结果" in refused.content.decode()


def test_an_export_job_killed_half_way_and_run_again_writes_the_same_file_and_one_record(world, results, monkeypatch):
    job = job_services.job_start(
        by=world.user(Role.COMMITTEE),
        kind="export_members",
        title="导出党员名册",
        params={"query": "org=BJ01", "filename": "党员名册.xlsx"},
    )
    before = _exports()
    real = job_services.job_run.__globals__["cache"].set

    def die_at_ninety(key, value, timeout=None):
        if value >= 90:
            raise SystemExit("worker killed")  # the worker process dies: its transaction rolls back
        return real(key, value, timeout)

    monkeypatch.setattr(job_services.cache, "set", die_at_ninety)
    with pytest.raises(SystemExit):
        job_run(job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and _exports() == before
    assert job_run(job.pk) == JobStatus.SUCCEEDED  # the re-delivered task
    first = result_path(job).read_bytes()
    assert job_run(job.pk) == JobStatus.SUCCEEDED  # a third delivery does nothing
    assert result_path(job).read_bytes() == first
    assert _exports() == before + 1
    assert len(_rows(first)) == 1 + 3  # the header and BJ01's three members
    assert [p.name for p in result_path(job).parent.iterdir()] == [result_path(job).name]  # no temporary left
