"""Benchmark of the Excel import (`make bench`): a 100,000-row roster, imported as a user would run it.

1. The roster: 100,000 valid rows in the template's columns (ID numbers consistent with birth date and gender,
   dates in order, 400 branches, their units, one secretary per branch), generated once from a fixed seed and
   cached as var/bench/import_100k.xlsx.
2. The database: with DATABASE_URL naming PostgreSQL, the database `dangjian_bench_import` on that server
   (created if missing); otherwise the SQLite file var/bench_import.sqlite3. It gets the organization tree the
   roster names and an importer (work-committee role on its root); members left by an earlier run are removed.
3. The import: `manage.py import_members FILE --as bench_importer` in a child process, timed by the wall clock;
   its peak memory is the children's maximum resident set size (getrusage(RUSAGE_CHILDREN)).
4. The floor, measured in the same run on the same file and database: the fastest read of the file
   (python-calamine, every cell into Python) plus a bulk insert of its rows as text into a scratch table
   (COPY on PostgreSQL, executemany in one transaction on SQLite).

Goals: under 20 s and under 400 MB on PostgreSQL. Prints PASS/FAIL for each; exits non-zero only
when the import itself fails.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "dangjian_bench_import"
ROWS = 100_000
BRANCHES = 400
SEED = 4
FILE = ROOT / "var" / "bench" / f"import_{ROWS // 1000}k.xlsx"
IMPORTER = "bench_importer"
ROOT_CODE = "IMP"
GOAL_SECONDS = 20.0
GOAL_MB = 400.0
REFERENCE_DATE = dt.date(2025, 12, 31)


def choose_database() -> tuple[str, str]:
    """Point DATABASE_URL at the bench database (creating it on PostgreSQL); its vendor and description."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        ensure_postgres_database(parts)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        return "postgresql", f"PostgreSQL {parts.hostname}:{parts.port or 5432}/{BENCH_DB}"
    path = ROOT / "var" / "bench_import.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return "sqlite", f"SQLite {path.relative_to(ROOT)}"


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
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------------------
# The roster


def branch_code(i: int) -> str:
    return f"{ROOT_CODE}-{i:03d}"


def unit_name(i: int) -> str:
    return f"基准测试第{i:03d}学校"


def generate_roster(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from dangjian.core.validators import add_years, id_check_char
    from dangjian.members.imports import TEMPLATE_COLUMNS

    rng = random.Random(SEED)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志强文博思远子涵雨萱浩然欣怡"
    educations = ("研究生", "大学本科", "大学本科", "大学本科", "大学专科", "中专", "高中")
    used: set[str] = set()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("党员名册")
    ws.append(list(TEMPLATE_COLUMNS))

    def date_cell(value):
        if value is None:
            return None
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell

    for n in range(ROWS):
        branch = n % BRANCHES + 1
        male = rng.random() < 0.45
        birth = REFERENCE_DATE - dt.timedelta(days=rng.randint(23 * 365, 85 * 365))
        while True:
            order = rng.randint(0, 499) * 2 + 1 if male else rng.randint(1, 499) * 2
            first17 = f"{rng.choice(('110105', '320104', '420116', '430902'))}{birth:%Y%m%d}{order:03d}"
            if first17 not in used:
                used.add(first17)
                break
        join = add_years(birth, rng.randint(18, 40)) + dt.timedelta(days=rng.randint(0, 300))
        join = min(join, REFERENCE_DATE - dt.timedelta(days=30))
        probationary = join > REFERENCE_DATE - dt.timedelta(days=365) or rng.random() < 0.03
        full = None if probationary else min(add_years(join, 1), REFERENCE_DATE)
        if full is not None and full <= join:
            probationary, full = True, None
        ws.append(
            [
                rng.choice(surnames) + rng.choice(given) + (rng.choice(given) if rng.random() < 0.7 else ""),
                "男" if male else "女",
                "汉族" if rng.random() < 0.95 else "回族",
                date_cell(birth),
                first17 + id_check_char(first17),
                rng.choice(educations),
                f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                date_cell(join),
                date_cell(full),
                "预备党员" if probationary else "正式党员",
                branch_code(branch),
                unit_name(branch),
                "书记" if n < BRANCHES and not probationary else None,
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    wb.save(partial)
    partial.replace(path)


# ---------------------------------------------------------------------------------------------------------
# The database


def prepare_database(vendor: str) -> None:
    """The organization tree, units and importer the roster needs (once); no members left from a run before."""
    from django.db import connection, transaction

    from dangjian.accounts.models import RoleAssignment, User
    from dangjian.accounts.roles import Role
    from dangjian.demo.builder import create_with_history, path_step
    from dangjian.members.models import Member, MemberTransfer, PartyPost
    from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind

    with transaction.atomic():
        if not Organization.objects.dangerously_all().filter(code=ROOT_CODE).exists():
            root = Organization(
                code=ROOT_CODE, name="基准测试教育工委", kind=OrgKind.WORK_COMMITTEE, path=path_step(1), depth=1
            )
            root.numchild = BRANCHES
            branches = [
                Organization(
                    code=branch_code(i),
                    name=f"基准测试第{i:03d}党支部",
                    kind=OrgKind.BRANCH,
                    path=root.path + path_step(i),
                    depth=2,
                    numchild=0,
                )
                for i in range(1, BRANCHES + 1)
            ]
            create_with_history(Organization, [root, *branches])
            units = [
                Unit(name=unit_name(i), kind=UnitKind.SCHOOL, organization=branch)
                for i, branch in enumerate(branches, start=1)
            ]
            create_with_history(Unit, units)
            user = User.objects.create(username=IMPORTER, full_name="基准测试导入员")
            RoleAssignment.objects.create(user=user, role=Role.COMMITTEE, organization=root)
    tables = [m._meta.db_table for m in (PartyPost, MemberTransfer, Member)]
    tables += [m.history.model._meta.db_table for m in (PartyPost, MemberTransfer, Member)]
    quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # CASCADE: the tables that point at members and posts (committee seats, appointments, …) are empty in
            # this benchmark's own database, but PostgreSQL refuses a TRUNCATE they reference without it.
            cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            cursor.execute("ANALYZE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
    connection.close()


def count_members() -> int:
    from django.db import connection

    from dangjian.members.models import Member

    count = Member.objects.dangerously_all().count()
    connection.close()
    return count


# ---------------------------------------------------------------------------------------------------------
# The import and the floor


def run_import() -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall-clock seconds and peak resident MB of the import, run as the command in a child process."""
    command = [sys.executable, str(ROOT / "manage.py"), "import_members", str(FILE), "--as", IMPORTER]
    # 100,000 ID numbers are far over a user's daily lookups (DANGJIAN_ID_LOOKUP_DAILY_LIMIT, 2,000): off here.
    env = {**os.environ, "DANGJIAN_ID_LOOKUP_DAILY_LIMIT": "0"}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    return seconds, peak_mb, done


def floor(vendor: str) -> tuple[float, float, int]:
    """Seconds to read the file with python-calamine, and to bulk-insert its rows into a scratch table."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    rows = CalamineWorkbook.from_path(str(FILE)).get_sheet_by_index(0).to_python()
    read = time.perf_counter() - started
    data = [["" if value is None else str(value) for value in row] for row in rows[1:]]
    width = len(rows[0])
    columns = ", ".join(f"c{i} text" for i in range(width))
    if vendor == "postgresql":
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            conn.execute(f"CREATE TEMP TABLE import_floor ({columns})")
            started = time.perf_counter()
            with conn.cursor() as cursor, cursor.copy("COPY import_floor FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            conn.commit()
            insert = time.perf_counter() - started
    else:
        import sqlite3

        conn = sqlite3.connect(urlsplit(os.environ["DATABASE_URL"]).path)
        try:
            conn.execute(f"CREATE TEMP TABLE import_floor ({columns})")
            started = time.perf_counter()
            with conn:
                conn.executemany(f"INSERT INTO import_floor VALUES ({', '.join('?' * width)})", data)
            insert = time.perf_counter() - started
        finally:
            conn.close()
    return read, insert, len(data)


def main() -> int:
    vendor, where = choose_database()
    setup_django()
    from django.core.management import call_command

    print(f"database: {where}")
    call_command("migrate", verbosity=0, interactive=False)
    if not FILE.exists():
        print(f"generating the roster ({ROWS:,} rows, seed {SEED}) …")
        started = time.perf_counter()
        generate_roster(FILE)
        print(f"generated in {time.perf_counter() - started:.1f} s")
    print(f"file: {FILE.relative_to(ROOT)} ({ROWS:,} rows, {FILE.stat().st_size / 1024 / 1024:.1f} MB)")
    prepare_database(vendor)

    seconds, peak_mb, done = run_import()
    imported = count_members()
    output = (done.stdout.strip() + " " + done.stderr.strip().replace("\n", " / ")).strip()
    print(f"import: manage.py import_members (child process) → exit {done.returncode}: {output[:300]}")
    read, insert, rows = floor(vendor)
    floor_seconds = read + insert
    method = "COPY" if vendor == "postgresql" else "executemany"

    print()
    print(f"{'measure':<44} {'value':>12}")
    print(f"{'import, wall clock':<44} {seconds:>10.2f} s")
    print(f"{'import, peak memory (max RSS of the child)':<44} {peak_mb:>9.0f} MB")
    print(f"{'floor: read the file (python-calamine)':<44} {read:>10.2f} s")
    print(f"{'floor: insert ' + f'{rows:,}' + ' rows (' + method + ')':<44} {insert:>10.2f} s")
    print(f"{'floor: total':<44} {floor_seconds:>10.2f} s")
    print(f"{'ratio import / floor':<44} {seconds / floor_seconds:>11.1f}×")
    print(f"{'members in the database after the import':<44} {imported:>12,}")
    print()
    target = "on PostgreSQL" if vendor == "postgresql" else "(the goal is set for PostgreSQL; informative here)"
    print(f"goal {target}: under {GOAL_SECONDS:.0f} s and under {GOAL_MB:.0f} MB")
    print(f"{'PASS' if seconds < GOAL_SECONDS else 'FAIL'} import time: {seconds:.2f} s")
    print(f"{'PASS' if peak_mb < GOAL_MB else 'FAIL'} import peak memory: {peak_mb:.0f} MB")
    print(f"{'PASS' if imported == ROWS else 'FAIL'} members imported: {imported:,} of {ROWS:,}")
    if done.returncode != 0:
        print("ERROR: the import failed:")
        print(done.stderr[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
