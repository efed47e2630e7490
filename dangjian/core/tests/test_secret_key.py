"""Production refuses to start with a weak DJANGO_SECRET_KEY (the bar of Django's security.W009: at least 50
characters and 5 distinct ones, not the insecure example). Settings are read once per process, so each case runs
`manage.py check` in a subprocess."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
MESSAGE = "生产环境的 DJANGO_SECRET_KEY 强度不足"


def check(secret_key: str, *, production: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DANGJIAN_"))}
    env.update(
        DJANGO_SECRET_KEY=secret_key,
        DJANGO_ALLOWED_HOSTS="x.example",
        DANGJIAN_FIELD_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        DANGJIAN_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    if production:
        env["DANGJIAN_ENV"] = "production"
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(secrets.token_urlsafe(64)[:49], id="49-characters"),
        pytest.param("abcd" * 20, id="4-distinct-characters"),
        pytest.param("django-insecure-" + secrets.token_urlsafe(48), id="django-insecure-example"),
        pytest.param("dev-only-insecure-key-never-use-in-production-0123456789abcdefghijklmnop", id="our-dev-key"),
    ],
)
def test_production_refuses_a_weak_secret_key(key):
    result = check(key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and MESSAGE in result.stderr
    assert key not in result.stderr  # the key itself is never printed


def test_production_accepts_a_long_random_key():
    result = check(secrets.token_urlsafe(64))
    assert result.returncode == 0, result.stderr


def test_the_makefile_check_key_is_strong_enough():
    # `make check` passes check-deploy-$(date +%s)-a-long-random-enough-secret-key-value.
    result = check(f"check-deploy-{int(time.time())}-a-long-random-enough-secret-key-value")
    assert result.returncode == 0, result.stderr


def test_development_keeps_any_key():
    assert check("short", production=False).returncode == 0
