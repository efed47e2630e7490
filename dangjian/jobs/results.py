"""The result file of a background job (an export of a whole district): kept on the filesystem under
DANGJIAN_JOB_RESULT_DIR (default VAR_DIR/job-results), one file per job, in a directory of its requester's own (mode
0700, the file 0600), and downloaded only by the requester from the job's page.

Written under a temporary name and renamed into place: a worker killed mid-way leaves no result under the final name,
and the re-run job writes it again whole (jobs.services has the rules of every job)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from dangjian.jobs.models import Job


def result_root() -> Path:
    return Path(getattr(settings, "DANGJIAN_JOB_RESULT_DIR", Path(settings.VAR_DIR) / "job-results"))


def result_path(job: Job) -> Path:
    suffix = Path(str(job.result.get("filename") or job.params.get("filename") or "result.bin")).suffix or ".bin"
    return result_root() / str(job.created_by_id) / f"{job.pk}{suffix}"


def result_write(job: Job, write: Callable[[BinaryIO], int]) -> tuple[Path, int]:
    """Write the job's result file with `write(out)` (which returns the number of rows); its path and the rows."""
    path = result_path(job)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".job-")
    try:
        with os.fdopen(fd, "wb") as out:
            rows = write(out)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path, rows
