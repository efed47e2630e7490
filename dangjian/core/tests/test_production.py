"""Serving in production (docs/operator-guide.md, "Serving"): the load balancer's probe, the JSON logs without personal
data, the gunicorn and Celery configuration in deploy/, and Redis when it is configured."""

from __future__ import annotations

import json
import logging
import os
import runpy
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.urls import path

from dangjian.core.logging import JsonFormatter, PersonalDataFilter, mask_personal_data

ROOT = Path(__file__).resolve().parents[3]
ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


# ---------------------------------------------------------------------------------------------------------
# /healthz


@pytest.mark.django_db
def test_healthz_answers_without_login_session_or_a_known_host():
    response = Client(HTTP_HOST="10.0.0.7").get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "sessionid" not in response.cookies and response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_says_503_when_the_database_is_down():
    with mock.patch.object(connection, "cursor", side_effect=OSError("connection refused")):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error" and "refused" not in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Logs


def test_personal_data_is_masked_wherever_it_stands():
    text = f"member {ID_NUMBER} phone {PHONE}, also 110105194912310021 and id=1"
    masked = mask_personal_data(text)
    assert ID_NUMBER not in masked and PHONE not in masked and "110105194912310021" not in masked
    assert "110105********002X" in masked and "138****5678" in masked and "id=1" in masked


def _boom(request, value):
    raise ValueError(f"cannot save {ID_NUMBER} / {PHONE}")


urlpatterns = [path("boom/<str:value>/", _boom)]


@pytest.fixture
def captured():
    """The lines the console handler would write: our filter and JSON formatter on a handler of our own."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("dangjian.request", "django.request", "")]
    for each in loggers:
        each.addHandler(handler)
    yield lines
    for each in loggers:
        each.removeHandler(handler)


@pytest.mark.django_db
def test_one_json_line_per_request_and_errors_with_their_stack_never_personal_data(settings, captured):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get(f"/boom/{ID_NUMBER}/", {"q": PHONE})
    assert response.status_code == 500
    records = [json.loads(line) for line in captured]
    request_lines = [r for r in records if r["logger"] == "dangjian.request"]
    assert len(request_lines) == 1
    line = request_lines[0]
    assert line["status"] == 500 and line["method"] == "GET" and line["request_id"] and "duration_ms" in line
    assert "?" not in line["path"]  # the query string is never logged
    errors = [r for r in records if r["logger"] == "django.request"]
    assert errors and "ValueError" in errors[0]["stack"] and "_boom" in errors[0]["stack"]
    text = "\n".join(captured)
    assert ID_NUMBER not in text and PHONE not in text


def test_the_request_line_names_the_user_id(rf, captured, django_user_model):
    from django.http import HttpResponse

    from dangjian.core.logging import RequestLogMiddleware

    request = rf.get("/x/")
    request.user = mock.Mock(is_authenticated=True, pk=42)
    request.request_id = "r1"
    RequestLogMiddleware(lambda r: HttpResponse("ok"))(request)
    line = json.loads(captured[-1])
    assert (line["user_id"], line["request_id"], line["status"]) == (42, "r1", 200)


# ---------------------------------------------------------------------------------------------------------
# deploy/


def test_the_gunicorn_configuration_builds():
    from gunicorn.config import Config

    config = Config()
    with mock.patch.dict(os.environ, {"DANGJIAN_BIND": "127.0.0.1:9001", "DANGJIAN_GUNICORN_WORKERS": "3"}):
        for name, value in runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py")).items():
            if name in config.settings:
                config.set(name, value)
    assert config.worker_class_str == "gthread" and config.workers == 3 and config.threads >= 2
    assert config.bind == ["127.0.0.1:9001"] and config.timeout == 60 and config.accesslog is None


def test_the_celery_app_runs_jobs_eagerly_without_a_broker_and_schedules_the_reminders(settings):
    from dangjian.celery import app

    assert app.conf.task_always_eager is True  # no REDIS_URL: `make run` needs no Redis
    assert app.conf.task_acks_late is True
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["send-reminders"]["task"] in app.tasks
    assert schedule["send-reminders"]["args"] == ("send_reminders",)


@pytest.mark.django_db
def test_a_periodic_command_runs_as_a_task():
    from dangjian.core.tasks import run_command

    assert isinstance(run_command.delay("send_reminders", "--dry-run").get(), str)
    with pytest.raises(ValueError):
        run_command.delay("flush")


def test_every_deploy_recipe_uses_the_same_configuration():
    systemd = (ROOT / "deploy" / "systemd" / "dangjian.service").read_text()
    worker = (ROOT / "deploy" / "systemd" / "dangjian-worker.service").read_text()
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "-c deploy/gunicorn.conf.py dangjian.wsgi" in systemd
    assert '"-c", "deploy/gunicorn.conf.py", "dangjian.wsgi"' in dockerfile
    assert "celery -A dangjian worker" in worker and '"celery", "-A", "dangjian", "worker"' in compose
    assert "EnvironmentFile=/etc/dangjian/dangjian.env" in systemd and "env_file: dangjian.env" in compose


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_with_redis_url_the_cache_and_the_broker_are_redis():
    script = (
        "import django; django.setup();"
        "from django.conf import settings; from django.core.cache import cache;"
        "cache.set('dangjian-test', 7, 5); print(cache.get('dangjian-test'), settings.SESSION_ENGINE,"
        " settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/15", "DJANGO_SETTINGS_MODULE": "dangjian.settings"}
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["7", "django.contrib.sessions.backends.cached_db", "False"]
