"""Benchmarks of the hot pages on the county-scale demo data (`make bench`).

Loads the county scale (≈40,000 members, ≈2,000 organizations; seed 1) into a database of its own, then times
the member list for a work-committee user over the whole county and over one branch, checks that its query count
does not grow with the page size, and times every page of each role's daily path as that role's demo user (member:
home, my hours, to-do; secretary: home, branch members, orglife records; committee: home, compliance, hours
dashboard; school admin: home, bookings; instructor: home): median, query count, PASS/FAIL against 200 ms.

Database: with DATABASE_URL naming PostgreSQL, the database `dangjian_bench` on that server (created if missing);
otherwise the SQLite file var/bench.sqlite3. The everyday databases are never touched.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "dangjian_bench"
GOAL_MS = 150.0
# Every page of a role's daily path, unloaded.
PATH_GOAL_MS = 200.0
RUNS, WARMUPS = 20, 2


def choose_database() -> str:
    """Point DATABASE_URL at the bench database (creating it on PostgreSQL) and describe it."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        ensure_postgres_database(parts)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        return f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{BENCH_DB}"
    path = ROOT / "var" / "bench.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return f"SQLite {path.relative_to(ROOT)}"


def ensure_postgres_database(parts) -> None:
    import psycopg
    from psycopg import sql

    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
            print(f"created database {BENCH_DB}")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "dangjian.settings"
    # Time the pages as production serves them; queries are counted with CaptureQueriesContext, which does
    # not need DEBUG.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    # Without DEBUG, WhiteNoise warns that collectstatic has not run; the pages measured here do not need it.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(client, url: str) -> dict:
    """The first request (a cold kept summary, if the page keeps any), then WARMUPS, then RUNS timed ones, then
    one more with its queries counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dangjian.core import summaries

    summaries.forget_all()
    started = time.perf_counter()
    client.get(url)
    first = (time.perf_counter() - started) * 1000
    for _ in range(WARMUPS):
        client.get(url)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return {
        "url": url,
        "status": response.status_code,
        "queries": len(queries),
        "median": statistics.median(timings),
        "p90": percentile(timings, 0.9),
        "first": first,
    }


def daily_paths(users: dict, orgs) -> list[tuple[str, str, str]]:
    """(role, page, url) of each role's daily path (docs/rules.md "Who uses it"), as the demo users."""
    secretary_branch = users["secretary"].role_assignments.get().organization
    return [
        ("member", "home", "/"),
        ("member", "my hours", "/training/my/hours/"),
        ("member", "to-do", "/todo/"),
        ("secretary", "home", "/"),
        ("secretary", "branch members", f"/members/?org={secretary_branch.code}"),
        ("secretary", "orglife records", f"/orglife/?org={secretary_branch.code}"),
        ("committee", "home", "/"),
        ("committee", "orglife compliance", "/orglife/compliance/"),
        ("committee", "hours dashboard", "/training/hours/"),
        ("school", "home", "/"),
        ("school", "bookings", "/schools/bookings/"),
        ("instructor", "home", "/"),
    ]


def main() -> int:
    where = choose_database()
    setup_django()
    # One log line per request would bury the table.
    logging.getLogger("dangjian.request").setLevel(logging.WARNING)

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from dangjian.accounts.models import User
    from dangjian.members.models import Member
    from dangjian.orgs.models import Organization, OrgKind

    print(f"database: {where}")
    call_command("migrate", verbosity=0, interactive=False)
    orgs = Organization.objects.dangerously_all()
    existing = orgs.count()
    if existing == 0:
        print("seeding the county scale (seed 1) …")
        started = time.perf_counter()
        call_command("seed_demo", scale="county", seed=1)
        print(f"seeding took {time.perf_counter() - started:.1f} s")
    else:
        print(f"already seeded: {existing} organizations (delete the bench database to reseed)")
    print(f"data: {orgs.count()} organizations, {Member.objects.dangerously_all().count()} members")

    users = {
        u.username: u
        for u in User.objects.filter(username__in=["member", "secretary", "committee", "school", "instructor"])
    }
    user = users["committee"]
    root = orgs.get(path=user.role_assignments.get().organization.path)
    branch = (
        orgs.filter(kind=OrgKind.BRANCH)
        .annotate(n=Count("members"))
        .filter(n__gte=10)
        .order_by("path")
        .values_list("code", "name", "n")
        .first()
    )
    print(f"user: committee (scope: {root.name} {root.code}); branch: {branch[1]} {branch[0]} ({branch[2]} members)")

    client = Client()
    client.force_login(user)
    rows = [
        ("member list, whole county", measure(client, f"/members/?org={root.code}")),
        ("member list, one branch", measure(client, f"/members/?org={branch[0]}")),
        ("member list, county, per_page=100", measure(client, f"/members/?org={root.code}&per_page=100")),
    ]
    paths = []
    for role, page, url in daily_paths(users, orgs):
        client = Client()
        client.force_login(users[role])
        paths.append((role, page, measure(client, url)))
    connection.close()

    print()
    print(f"{'page':<36} {'url':<34} {'status':>6} {'queries':>7} {'median ms':>9} {'p90 ms':>8}")
    for label, r in rows:
        print(f"{label:<36} {r['url']:<34} {r['status']:>6} {r['queries']:>7} {r['median']:>9.1f} {r['p90']:>8.1f}")
    print()
    print(f"goal: median < {GOAL_MS:.0f} ms, query count independent of page size")
    for label, r in rows[:2]:
        verdict = "PASS" if r["median"] < GOAL_MS else "FAIL"
        print(f"{verdict} {label}: median {r['median']:.1f} ms")
    per20, per100 = rows[0][1]["queries"], rows[2][1]["queries"]
    verdict = "PASS" if per20 == per100 else "FAIL"
    print(f"{verdict} query count independent of page size: {per20} at per_page=20, {per100} at per_page=100")

    print()
    print(f"daily paths, each role's demo user (goal: median < {PATH_GOAL_MS:.0f} ms; 'first' is the first request,")
    print("before the page's kept summaries are warm, informative)")
    print(
        f"{'':<4} {'role':<10} {'page':<20} {'url':<34} {'status':>6} {'queries':>7} {'median ms':>9} {'p90 ms':>8} "
        f"{'first ms':>8}"
    )
    for role, page, r in paths:
        verdict = "PASS" if r["median"] < PATH_GOAL_MS and r["status"] == 200 else "FAIL"
        print(
            f"{verdict:<4} {role:<10} {page:<20} {r['url']:<34} {r['status']:>6} {r['queries']:>7} "
            f"{r['median']:>9.1f} {r['p90']:>8.1f} {r['first']:>8.1f}"
        )

    bad = [r["url"] for _, r in rows if r["status"] != 200] + [r["url"] for _, _, r in paths if r["status"] != 200]
    if bad:
        print("ERROR: not 200: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
