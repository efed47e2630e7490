"""Background jobs (后台任务; jobs.services): a large import runs as a job with a page of its own, its requester is
notified, only they see it, and a job re-run after its worker died writes its work once."""

from __future__ import annotations

import io
from unittest import mock

import pytest
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.jobs.models import Job, JobStatus
from dangjian.jobs.services import RUNNERS, job_run, job_start
from dangjian.members.models import Member
from dangjian.members.tests.test_import import person, xlsx
from dangjian.notices.models import Notification


@pytest.fixture
def import_dir(settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    settings.DANGJIAN_JOB_THRESHOLD_ROWS = 2  # three rows count as a large file here
    return settings.DANGJIAN_IMPORT_DIR


def _upload_and_confirm(client, rows, capture):
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名册.xlsx"
    body = client.post(reverse("members:import"), {"file": upload}).content.decode()
    token = body.split('name="token" value="')[1].split('"')[0]
    with capture(execute=True):  # the request's transaction commits: the job is queued and, without a broker, run
        return client.post(reverse("members:import"), {"token": token, "confirm": "1"})


def test_a_large_import_runs_as_a_job_with_its_page_and_a_notification(
    world, import_dir, django_capture_on_commit_callbacks
):
    client = world.client(Role.SECRETARY)
    before = Member.objects.dangerously_all().count()
    response = _upload_and_confirm(client, [person(1), person(2), person(3)], django_capture_on_commit_callbacks)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("jobs:detail", args=[job.pk])
    # No broker here: the job ran in-process when the request committed.
    assert job.status == JobStatus.SUCCEEDED and job.result["summary"] == "导入 3 人" and job.attempts == 1
    assert Member.objects.dangerously_all().count() == before + 3
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "已完成" in page and "导入 3 人" in page and reverse("members:list") in page
    note = Notification.objects.get(user=world.user(Role.SECRETARY), key=f"job:{job.pk}")
    assert note.title.endswith("已完成") and note.url == reverse("jobs:detail", args=[job.pk])
    assert "导入党员名册" in client.get(reverse("jobs:list")).content.decode()


def test_a_job_is_its_requesters_own(world, import_dir, django_capture_on_commit_callbacks):
    _upload_and_confirm(
        world.client(Role.SECRETARY), [person(1), person(2), person(3)], django_capture_on_commit_callbacks
    )
    job = Job.objects.get()
    assert world.client(Role.COMMITTEE).get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert "导入党员名册" not in world.client(Role.COMMITTEE).get(reverse("jobs:list")).content.decode()


def test_a_refused_large_import_fails_with_its_errors_and_writes_nothing(
    world, import_dir, django_capture_on_commit_callbacks
):
    client = world.client(Role.SECRETARY)
    rows = [person(1), person(2), person(3)]
    upload = io.BytesIO(xlsx(rows))
    upload.name = "名册.xlsx"
    body = client.post(reverse("members:import"), {"file": upload}).content.decode()
    token = body.split('name="token" value="')[1].split('"')[0]
    before = Member.objects.dangerously_all().count()
    # Someone registers the first person between the check and the confirmation.
    with (
        mock.patch("dangjian.members.jobs.import_members") as importer,
        django_capture_on_commit_callbacks(execute=True),
    ):
        importer.return_value = mock.Mock(written=False, errors=["第2行 公民身份号码: 已登记"], rows=3)
        client.post(reverse("members:import"), {"token": token, "confirm": "1"})
    job = Job.objects.get()
    assert job.status == JobStatus.FAILED and job.result["errors"] == ["第2行 公民身份号码: 已登记"]
    assert Member.objects.dangerously_all().count() == before


def test_a_job_killed_mid_way_runs_again_and_writes_once(world, django_capture_on_commit_callbacks):
    calls = []

    def work(job, progress):
        calls.append(job.pk)
        Notification.objects.create(user=job.created_by, kind="t", title="work", key=f"work:{job.pk}")
        if len(calls) == 1:
            raise SystemExit("worker killed")  # not an Exception: the worker process dies, the transaction rolls back
        return True, {"summary": "done"}, ""

    RUNNERS["test-work"] = work
    try:
        with django_capture_on_commit_callbacks():  # queued, not run: the test runs it by hand
            job = job_start(by=world.user(Role.SECRETARY), kind="test-work", title="t", params={})
        with pytest.raises(SystemExit):
            job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and not Notification.objects.filter(key=f"work:{job.pk}").exists()
        assert job_run(job.pk) == JobStatus.SUCCEEDED  # the re-delivered task
        assert job_run(job.pk) == JobStatus.SUCCEEDED  # and a third delivery does nothing
        assert calls == [job.pk, job.pk]
        assert Notification.objects.filter(key=f"work:{job.pk}").count() == 1
    finally:
        del RUNNERS["test-work"]


def test_an_unknown_kind_is_refused(world):
    with pytest.raises(ValueError):
        job_start(by=world.user(Role.SECRETARY), kind="nope", title="t", params={})
