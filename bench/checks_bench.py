"""Timings that used to be wall-clock assertions in tests (a test never asserts a duration): how long the small demo
takes to build and its organizational-life records to write, and how fast an import of a workbook that tries XML
entity tricks (an external entity, an entity expansion) is refused.

Database: with DATABASE_URL naming PostgreSQL, the database `dangjian_bench_checks` on that server (dropped and
created on every run); otherwise a throwaway SQLite file under var/. Goals print PASS or FAIL; the script exits
non-zero only when the import does not refuse the file.
"""

from __future__ import annotations

import io
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "dangjian_bench_checks"
GOALS = {"orglife demo records": 3.0, "entity trick refused": 5.0}
ENTITIES = (
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
    '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


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
    path = ROOT / "var" / "bench_checks.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return f"SQLite {path.relative_to(ROOT)}"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "dangjian.settings"
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def tricked_workbook(reference: str) -> bytes:
    """A one-row roster whose sheet XML declares entities and uses `reference` in a cell."""
    from openpyxl import Workbook

    from dangjian.members.imports import TEMPLATE_COLUMNS as COLUMNS

    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(["导入测试1", *[""] * (len(COLUMNS) - 1)])
    plain = io.BytesIO()
    book.save(plain)
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    xml = entries["xl/worksheets/sheet1.xml"].decode()
    xml = ENTITIES + re.sub(r"<\?xml[^>]*\?>", "", xml).replace("导入测试1", reference, 1)
    entries["xl/worksheets/sheet1.xml"] = xml.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def main() -> int:
    where = choose_database()
    setup_django()
    from django.core.management import call_command

    from dangjian.accounts.access import Access
    from dangjian.demo.builder import build_demo
    from dangjian.demo.orglife_demo import write_demo_orglife
    from dangjian.members.imports import import_members
    from dangjian.orglife.models import ActivityRecord

    print(f"database: {where}")
    call_command("migrate", verbosity=0, interactive=False)
    rows: list[tuple[str, float]] = []
    seconds, _ = timed(lambda: build_demo(scale="small", seed=1))
    rows.append(("small demo built", seconds))
    ActivityRecord.objects.dangerously_all().delete()
    seconds, _ = timed(lambda: write_demo_orglife(seed=1))
    rows.append(("orglife demo records", seconds))
    refused = True
    for reference in ("&xxe;", "&c;"):
        data = tricked_workbook(reference)
        seconds, result = timed(
            lambda data=data: import_members(io.BytesIO(data), name="roster.xlsx", by=Access.system_access())
        )
        refused = refused and bool(result.file_error) and not result.written
        rows.append((f"entity trick refused ({reference})", seconds))
    print(f"{'measurement':<34} {'seconds':>8}  goal")
    for name, seconds in rows:
        goal = next((g for key, g in GOALS.items() if name.startswith(key)), None)
        verdict = "" if goal is None else f"< {goal:g} s {'PASS' if seconds < goal else 'FAIL'}"
        print(f"{name:<34} {seconds:>8.2f}  {verdict}")
    if not refused:
        print("FAIL: an entity-trick workbook was not refused with a file error")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
