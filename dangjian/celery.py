"""The Celery application: background jobs and periodic work (settings: CELERY_*; docs/operator-guide.md, "Serving").

Production runs a worker and a beat process beside the app servers (deploy/systemd, deploy/compose.yaml):

    celery -A dangjian worker --loglevel INFO
    celery -A dangjian beat --loglevel INFO

Without a broker (REDIS_URL unset: `make run`, the tests) every task runs eagerly in the process that asks for it.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangjian.settings")

app = Celery("dangjian")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
