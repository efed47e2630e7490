"""Load benchmark (`make bench`): the county's working day (bench/locustfile.py) against gunicorn on PostgreSQL.

Loads the county scale into the bench database if it is empty (as bench/run.py does: `dangjian_bench` on the server
DATABASE_URL names, default postgres://postgres@127.0.0.1:5432/postgres), gives it load-test accounts (members,
branch secretaries and committee users with the demo password, written to var/bench/load_users.json), starts gunicorn
with the production settings (deploy/gunicorn.conf.py; cache and sessions on Redis, LOAD_REDIS_URL, default database 7
of 127.0.0.1:6379, emptied first) on a free local port, runs locust headless, prints p50, p95,
p99, requests per second and failures per page and overall with PASS/FAIL (goal: p95 < 500 ms and no failure), and
stops gunicorn.

LOAD_USERS (default 50) concurrent users, arriving LOAD_SPAWN_RATE (1) a second (each signs in: a password check
costs about a quarter of a second of CPU, and a county's users do not all sign in within the same ten seconds), then
LOAD_MINUTES (5) minutes with all of them at work; the figures count the arrival too:
`LOAD_MINUTES=1 .venv/bin/python bench/load_bench.py` for a quick run. Exits non-zero when the goal is missed.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import run  # noqa: E402  (bench/run.py: the bench database and the Django setup)

OUT = ROOT / "var" / "bench"
USERS_FILE = OUT / "load_users.json"
GOAL_P95_MS = 500.0
ACCOUNTS = {"member": 40, "secretary": 15, "committee": 3}
PREFIX = "load_"


def load_accounts() -> dict:
    """Load-test accounts (created once, then reused): members linked to active members of distinct branches with
    the member role there, secretaries of branches of 10 members or more, committee users over the root."""
    from django.contrib.auth.hashers import make_password
    from django.db.models import Count, Q

    from dangjian.accounts.models import RoleAssignment, User
    from dangjian.accounts.roles import Role
    from dangjian.demo.builder import DEMO_PASSWORD
    from dangjian.members.models import Member, Status
    from dangjian.orgs.models import Organization, OrgKind

    password = make_password(DEMO_PASSWORD)
    orgs = Organization.objects.dangerously_all()
    root = orgs.get(depth=1)
    branches = list(
        orgs.filter(kind=OrgKind.BRANCH)
        .annotate(n=Count("members", filter=Q(members__status=Status.ACTIVE)))
        .filter(n__gte=10)
        .order_by("path")[: max(ACCOUNTS.values())]
    )
    out: dict = {"password": DEMO_PASSWORD, "member": [], "secretary": [], "committee": []}

    def account(name: str, role: str, org) -> User:
        user, _ = User.objects.get_or_create(
            username=name, defaults={"password": password, "full_name": name, "must_change_password": False}
        )
        RoleAssignment.objects.get_or_create(user=user, role=role, organization=org)
        return user

    for i, branch in enumerate(branches[: ACCOUNTS["member"]]):
        name = f"{PREFIX}member_{i + 1:02d}"
        user = account(name, Role.MEMBER, branch)
        if not Member.objects.dangerously_all().filter(user=user).exists():
            member = (
                Member.objects.dangerously_all()
                .filter(organization=branch, status=Status.ACTIVE, user__isnull=True)
                .order_by("pk")
                .first()
            )
            Member.objects.dangerously_all().filter(pk=member.pk).update(user=user)
        out["member"].append({"username": name})
    for i, branch in enumerate(branches[: ACCOUNTS["secretary"]]):
        name = f"{PREFIX}secretary_{i + 1:02d}"
        account(name, Role.SECRETARY, branch)
        out["secretary"].append({"username": name, "branch": branch.code})
    for i in range(ACCOUNTS["committee"]):
        name = f"{PREFIX}committee_{i + 1:02d}"
        account(name, Role.COMMITTEE, root)
        out["committee"].append({"username": name})
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {url} within {seconds:.0f} s (see {OUT / 'gunicorn.log'})")


def gunicorn_command() -> list[str]:
    config = ROOT / "deploy" / "gunicorn.conf.py"
    command = [sys.executable, "-m", "gunicorn"]
    # The deployment's configuration where there is one; otherwise the same shape: threaded workers.
    command += ["-c", str(config)] if config.exists() else ["--workers", "3", "--threads", "4", "-k", "gthread"]
    return [*command, "dangjian.wsgi"]


def server_env(port: int) -> dict[str, str]:
    """The production settings as `make serve` sets them for a local trial (plain HTTP, no second factor)."""
    env = dict(os.environ)
    env.update(
        DANGJIAN_ENV="production",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DANGJIAN_OTP_ENFORCE="0",
        DANGJIAN_BIND=f"127.0.0.1:{port}",
        DJANGO_LOG_LEVEL="WARNING",
        DANGJIAN_GUNICORN_LOGLEVEL="warning",
    )
    env.setdefault("DANGJIAN_GUNICORN_TIMEOUT", "60")
    # Cache and sessions on Redis as deployed (deploy/dangjian.env.example); a database of its own, emptied first.
    env["REDIS_URL"] = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/7")
    return env


def empty_redis(url: str) -> None:
    """Forget what an earlier run left in the load test's Redis database (summaries, sessions, lockouts)."""
    import redis

    redis.Redis.from_url(url).flushdb()


def report(prefix: Path) -> bool:
    """Print locust's per-page and aggregated figures; whether the goal is met."""
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    print(f"{'page':<34} {'requests':>8} {'fails':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}")
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        print(
            f"{name:<34} {row['Request Count']:>8} {row['Failure Count']:>6} {row['50%']:>7} {row['95%']:>7} "
            f"{row['99%']:>7} {float(row['Requests/s']):>7.1f}"
        )
    total = next(r for r in rows if r["Name"] == "Aggregated")
    p95, failures = float(total["95%"]), int(total["Failure Count"])
    ok = p95 < GOAL_P95_MS and failures == 0
    print()
    print(
        f"{'PASS' if ok else 'FAIL'} load: p50 {total['50%']} ms, p95 {p95:.0f} ms, p99 {total['99%']} ms, "
        f"{float(total['Requests/s']):.1f} requests/s, {total['Request Count']} requests, {failures} failures "
        f"(goal: p95 < {GOAL_P95_MS:.0f} ms and 0 failures)"
    )
    failures_file = Path(f"{prefix}_failures.csv")
    if failures and failures_file.exists():
        print(failures_file.read_text()[:2000])
    return ok


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres"
    where = run.choose_database()
    run.setup_django()
    from django.core.management import call_command
    from django.db import connection

    from dangjian.orgs.models import Organization

    users, minutes = int(os.environ.get("LOAD_USERS", "50")), float(os.environ.get("LOAD_MINUTES", "5"))
    spawn = os.environ.get("LOAD_SPAWN_RATE", "1")
    print(f"database: {where}")
    call_command("migrate", verbosity=0, interactive=False)
    if not Organization.objects.dangerously_all().exists():
        print("seeding the county scale (seed 1) …")
        call_command("seed_demo", scale="county", seed=1)
    OUT.mkdir(parents=True, exist_ok=True)
    USERS_FILE.write_text(json.dumps(load_accounts(), ensure_ascii=False, indent=1))
    connection.close()

    port = free_port()
    env = server_env(port)
    empty_redis(env["REDIS_URL"])
    # The static files as the production settings name them (a manifest of hashed names).
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    log = open(OUT / "gunicorn.log", "w")  # noqa: SIM115  (open for the server's whole life)
    server = subprocess.Popen(
        gunicorn_command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    prefix = OUT / "load"
    try:
        wait_until_up(f"http://127.0.0.1:{port}/login/")
        print(
            f"gunicorn on 127.0.0.1:{port} ({' '.join(gunicorn_command()[1:])}); locust: {users} users, "
            f"{spawn}/s, {minutes:g} min"
        )
        locust = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            spawn,
            "-t",
            # The arrival, then the minutes at full strength.
            f"{int(users / float(spawn) + minutes * 60)}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        with open(OUT / "locust.log", "w") as locust_log:
            subprocess.run(
                locust,
                cwd=ROOT,
                env={**os.environ, "LOAD_USERS_FILE": str(USERS_FILE)},
                stdout=locust_log,
                stderr=subprocess.STDOUT,
                check=False,
            )
    finally:
        # Stop the server this script started (its own process group), and nothing else.
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    print()
    return 0 if report(prefix) else 1


if __name__ == "__main__":
    sys.exit(main())
