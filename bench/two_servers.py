"""Two app servers, one PostgreSQL: nothing assumes one process (docs/operator-guide.md, "Serving").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dj_two_servers .venv/bin/python bench/two_servers.py

Builds a fresh database (the small demo), starts two gunicorn servers from deploy/gunicorn.conf.py on two ports with
the production settings (plain HTTP: secure cookies and the HTTPS redirect off, as `make serve`), with REDIS_URL
when Redis answers on 127.0.0.1:6379 (else the database cache), and checks:

- a session opened on server A is the same session on server B (and logging out on B ends it on A);
- login failures spread over both servers lock the account on both (the lockout is counted in the database);
- one cache for every process: a value one process sets is read by another (/healthz on both servers);
- two reminder runs at the same moment record each reminder once (the database's unique constraint).

Prints one line per check (PASS/FAIL) and exits 1 on any failure.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
PORTS = (8741, 8742)
PASSWORD = "Dangjian@2026"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


def _env() -> dict[str, str]:
    env = {
        **os.environ,
        "DANGJIAN_ENV": "production",
        "DJANGO_SECRET_KEY": "two-servers-check-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DANGJIAN_OTP_ENFORCE": "0",
        "DANGJIAN_GUNICORN_WORKERS": "2",
        "DJANGO_SETTINGS_MODULE": "dangjian.settings",
    }
    if _redis_up():
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    else:
        env.pop("REDIS_URL", None)
    return env


def _manage(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env or os.environ.copy(), capture_output=True)
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr.decode()[-2000:]}")
    return result.stdout.decode()


def _prepare() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (it is dropped and created again).")
    name = urllib.parse.urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-qc", sql], check=True, capture_output=True)
    _manage("migrate", "--noinput")
    _manage("seed_demo", "--scale", "small")
    _manage("collectstatic", "--noinput", "-v0", env=_env())


class Browser:
    """A user agent with its own cookie jar; `on(port)` points the same cookies at either server."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, port: int, path: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()

    def post(self, port: int, path: str, data: dict[str, str]) -> tuple[int, str, str]:
        _, _, page = self.get(port, path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token[1] if token else ""}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body)
        request.add_header("Referer", f"http://127.0.0.1:{port}{path}")
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.geturl(), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), error.read().decode()

    def login(self, port: int, username: str, password: str) -> bool:
        _, url, _ = self.post(port, "/login/", {"username": username, "password": password})
        return "/login/" not in url


def _wait(port: int) -> None:
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"server on port {port} did not start")


def main() -> int:
    _prepare()
    env = _env()
    servers = [
        subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "dangjian.wsgi"],
            cwd=ROOT,
            env={**env, "DANGJIAN_BIND": f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in PORTS
    ]
    a, b = PORTS
    results: list[tuple[str, bool]] = []
    try:
        for port in PORTS:
            _wait(port)
        print(f"two gunicorn servers on ports {a} and {b}, cache: {'Redis' if 'REDIS_URL' in env else 'database'}")

        user = Browser()
        logged_in = user.login(a, "secretary", PASSWORD)
        status, url, _ = user.get(b, "/")
        results.append(("a session opened on A is valid on B", logged_in and status == 200 and "/login/" not in url))
        user.post(b, "/logout/", {})
        status, url, _ = user.get(a, "/")
        results.append(("logging out on B ends the session on A", "/login/" in url))

        intruder = Browser()
        for attempt in range(5):
            intruder.login(PORTS[attempt % 2], "member", "wrong-password")
        locked_a = not Browser().login(a, "member", PASSWORD)
        locked_b = not Browser().login(b, "member", PASSWORD)
        results.append(("5 failures over both servers lock the account on both", locked_a and locked_b))

        script = "from django.core.cache import cache; import sys; cache.set('two-servers', sys.argv[1], 60)"
        subprocess.run([PY, "-c", f"import django; django.setup(); {script}", "shared"], cwd=ROOT, env=env, check=True)
        read = subprocess.run(
            [
                PY,
                "-c",
                "import django; django.setup(); from django.core.cache import cache; print(cache.get('two-servers'))",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        health = [urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").status for port in PORTS]
        results.append(("one cache for every process; /healthz 200 on both", read == "shared" and health == [200, 200]))

        runs = [
            subprocess.Popen([PY, "manage.py", "send_reminders"], cwd=ROOT, env=env, stdout=subprocess.PIPE)
            for _ in range(2)
        ]
        for run in runs:
            run.wait()
        again = _manage("send_reminders", env=env)
        count = subprocess.run(
            [
                PY,
                "-c",
                "import django; django.setup(); from dangjian.notices.models import Notification;"
                "from django.db.models import Count;"
                "print(Notification.objects.values('user', 'key', 'period').annotate(n=Count('pk')).filter(n__gt=1)"
                ".count(), Notification.objects.count())",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        duplicates, total = int(count[0]), int(count[1])
        results.append(
            (
                f"two reminder runs at once record each reminder once ({total} recorded, a third run: {again.strip()})",
                all(run.returncode == 0 for run in runs) and duplicates == 0 and total > 0,
            )
        )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    for label, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
