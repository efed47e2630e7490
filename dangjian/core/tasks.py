"""Periodic work as Celery tasks (CELERY_BEAT_SCHEDULE): the same management commands cron can run, so an install
without a worker keeps its crontab (docs/operator-guide.md)."""

from __future__ import annotations

import io

from celery import shared_task
from django.core.management import call_command

# The commands beat may run: periodic jobs that are safe to run again (each de-duplicates its own effects).
PERIODIC_COMMANDS = frozenset({"send_reminders"})


@shared_task(name="dangjian.core.tasks.run_command")
def run_command(name: str, *args: str) -> str:
    """Run one of PERIODIC_COMMANDS and return what it printed."""
    if name not in PERIODIC_COMMANDS:
        raise ValueError(f"not a periodic command: {name}")
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    return out.getvalue()
