"""The committee's dues report at city scale (docs/dues.md, "Reports"): DUES_BENCH_MEMBERS members (default 200,000)
in branches of 40 under one work committee, each with a base and eleven of twelve months paid, then the year's
report of the whole tree (12 open months: two grouped queries each) timed beside a hand-written SQL floor that
computes the same figures in the same run. Goal: the report within 1.5× the floor.

Database: with DATABASE_URL naming PostgreSQL, the database `dangjian_bench_dues` on that server (dropped and created
on every run); otherwise a throwaway SQLite file under var/. Rows are written in bulk, not through the services.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "dangjian_bench_dues"
MEMBERS = int(os.environ.get("DUES_BENCH_MEMBERS", "200000"))
PER_BRANCH = 40
YEAR = 2025
GOAL = 1.5

FLOOR_DUE = """
SELECT x.organization_id, COUNT(*), SUM(x.owed), SUM(x.paid)
FROM (
  SELECT m.organization_id AS organization_id,
    COALESCE(
      (SELECT CASE WHEN r.kind = 'exempt' THEN 0 ELSE r.monthly_amount END FROM dues_duesreduction r
        WHERE r.member_id = m.id AND r.start <= %s AND r."end" >= %s ORDER BY r.start DESC LIMIT 1),
      (SELECT b.monthly_due FROM dues_duesbase b WHERE b.member_id = m.id AND b.effective <= %s
        ORDER BY b.effective DESC LIMIT 1)) AS owed,
    CASE WHEN EXISTS (SELECT 1 FROM dues_duesentry e WHERE e.member_id = m.id AND e.period = %s
      AND e.kind = 'payment' AND NOT e.reversed) THEN 1 ELSE 0 END AS paid
  FROM members_member m JOIN orgs_organization o ON o.id = m.organization_id
  WHERE o.path LIKE %s AND m.status = 'active' AND m.join_date < %s
) x WHERE x.owed > 0 GROUP BY x.organization_id
"""
FLOOR_PAID = """
SELECT e.organization_id, SUM(e.amount + e.extra) FROM dues_duesentry e
JOIN orgs_organization o ON o.id = e.organization_id WHERE o.path LIKE %s AND e.period = %s GROUP BY e.organization_id
"""


def choose_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(BENCH_DB)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        return f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{BENCH_DB}"
    path = ROOT / "var" / "bench_dues.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return f"SQLite {path.relative_to(ROOT)}"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "dangjian.settings"
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()


def build() -> object:
    """The tree and the ledger, in bulk."""
    from dangjian.dues.models import DuesBase, DuesEntry, DuesPayment
    from dangjian.dues.rules import monthly_due
    from dangjian.members.models import Member
    from dangjian.members.tests.factories import MemberFactory
    from dangjian.orgs.models import Organization, OrgKind

    root = Organization.add_root(code="CITY", name="市教育工委", kind=OrgKind.WORK_COMMITTEE)
    branches = [
        root.add_child(code=f"B{i:05d}", name=f"第{i}党支部", kind=OrgKind.BRANCH)
        for i in range((MEMBERS + PER_BRANCH - 1) // PER_BRANCH)
    ]
    template = MemberFactory.build(organization=root)
    members = []
    for n in range(MEMBERS):
        m = Member(
            name=f"党员{n}",
            gender=template.gender,
            birth_date=template.birth_date,
            join_date=dt.date(2000, 1, 1),
            organization=branches[n // PER_BRANCH],
            id_number=f"X{n:017d}",
            id_number_digest=f"bench-{n}",
        )
        members.append(m)
    Member.objects.bulk_create(members, batch_size=2000)
    ids = list(Member.objects.dangerously_all().order_by("pk").values_list("pk", "organization_id"))
    bases = []
    for i, (pk, _org) in enumerate(ids):
        amount = Decimal(3000 + (i * 37) % 12000)
        rate, due = monthly_due(amount, "employed")
        bases.append(DuesBase(member_id=pk, amount=amount, effective=dt.date(YEAR, 1, 1), rate=rate, monthly_due=due))
    DuesBase.objects.bulk_create(bases, batch_size=5000)
    due_of = {b.member_id: b.monthly_due for b in bases}
    payments = [
        DuesPayment(
            receipt_no=f"B{pk}",
            member_id=pk,
            organization_id=org,
            paid_on=dt.date(YEAR, 11, 20),
            first_month=dt.date(YEAR, 1, 1),
            months=11,
            amount=due_of[pk] * 11,
        )
        for pk, org in ids
    ]
    created = DuesPayment.objects.bulk_create(payments, batch_size=5000)
    batch = []
    for p in created:
        for month in range(1, 12):
            batch.append(
                DuesEntry(
                    payment_id=p.pk,
                    member_id=p.member_id,
                    organization_id=p.organization_id,
                    period=dt.date(YEAR, month, 1),
                    booked=dt.date(YEAR, 11, 1),
                    amount=due_of[p.member_id],
                )
            )
            if len(batch) >= 20000:
                DuesEntry.objects.bulk_create(batch)
                batch = []
    DuesEntry.objects.bulk_create(batch)
    return root


def floor(root) -> dict:
    from django.db import connection

    from dangjian.dues.rules import add_months

    out: dict = {}
    with connection.cursor() as cursor:
        for month in range(1, 13):
            first = dt.date(YEAR, month, 1)
            cursor.execute(FLOOR_DUE, [first, first, first, first, f"{root.path}%", add_months(first, 1)])
            for org, count, amount, paid in cursor.fetchall():
                row = out.setdefault(org, [0, 0, Decimal("0"), Decimal("0")])
                row[0] += count
                row[1] += paid
                row[2] += Decimal(str(amount)).quantize(Decimal("0.01"))
            cursor.execute(FLOOR_PAID, [f"{root.path}%", first])
            for org, amount in cursor.fetchall():
                out.setdefault(org, [0, 0, Decimal("0"), Decimal("0")])[3] += Decimal(str(amount)).quantize(
                    Decimal("0.01")
                )
    return out


def main() -> int:
    where = choose_database()
    setup_django()
    from django.core.management import call_command

    from dangjian.dues.selectors.report import dues_report

    print(f"database: {where}; {MEMBERS} members, 12 months")
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    root = build()
    print(f"built in {time.perf_counter() - started:.1f} s")
    today = dt.date(YEAR + 1, 1, 15)
    timings = {}
    for name, run in (
        ("SQL floor", lambda: floor(root)),
        ("dues_report", lambda: dues_report(org=root, year=YEAR, today=today)),
    ):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - t
            best = seconds if best is None else min(best, seconds)
        timings[name] = (best, result)
    floor_rows = timings["SQL floor"][1]
    report = timings["dues_report"][1]
    total = report[0].figures
    same = total.due_amount == sum((r[2] for r in floor_rows.values()), Decimal("0")) and total.paid_amount == sum(
        (r[3] for r in floor_rows.values()), Decimal("0")
    )
    ratio = timings["dues_report"][0] / timings["SQL floor"][0]
    print(f"{'SQL floor':<14} {timings['SQL floor'][0]:>8.2f} s")
    print(
        f"{'dues_report':<14} {timings['dues_report'][0]:>8.2f} s  ×{ratio:.2f} of the floor "
        f"(goal ≤ {GOAL}) {'PASS' if ratio <= GOAL else 'FAIL'}"
    )
    print(f"figures equal the floor's: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
