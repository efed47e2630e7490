"""Browser tests (Playwright for Python, Debian's Chromium) against pytest-django's live server.

Without a Chromium at DANGJIAN_CHROMIUM (default /usr/bin/chromium) every test here is skipped and the summary
says why, unless DANGJIAN_E2E_REQUIRED=1 (CI with Chromium installed), where a missing browser is an error.
Tests use `live_server`, so their database is transactional: each test builds its small world, which is flushed
after it, and the rows the migrations seed (duties, policies, points rules) are put back after every flush
(serialized rollback), for the next test here and for any test a worker runs afterwards.

On a failure the page is saved as var/e2e-failures/<test name>.png (a full-page screenshot).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test's thread; Django refuses database work in a thread with a
# running loop unless told that it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

E2E_DIR = Path(__file__).resolve().parent
FAILURES_DIR = E2E_DIR.parent / "var" / "e2e-failures"
CHROMIUM = os.environ.get("DANGJIAN_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("DANGJIAN_E2E_REQUIRED") == "1"

DESK = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
VIEWPORTS = {"desk": DESK, "phone": PHONE}


def _missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements/dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk, or set DANGJIAN_CHROMIUM)"
    return None


MISSING = _missing()
SKIP_REASON = f"browser tests skipped: {MISSING}; DANGJIAN_E2E_REQUIRED=1 makes this an error" if MISSING else ""


def _is_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config, items):
    if not MISSING or REQUIRED:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if _is_e2e(item):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if MISSING and not REQUIRED:
        terminalreporter.write_line(SKIP_REASON, yellow=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"_e2e_report_{report.when}", report)
    return report


# ---------------------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="session")
def browser():
    if MISSING:
        pytest.fail(f"DANGJIAN_E2E_REQUIRED=1 but the browser tests cannot run: {MISSING}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # Containers and CI runners rarely allow Chromium's user-namespace sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _e2e_database(django_db_serialized_rollback, transactional_db):
    """Every browser test talks to the live server: a transactional database, the seeded rows restored after it."""


# The rows the migrations seeded, as Django serialized them when it created the test database. Django keeps them on
# the connection object of that moment; once Playwright's sync API runs (greenlets) the tests' code gets another
# connection object of the same database, without them, and Django would silently skip the restore after a flush.
_SERIALIZED: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    from django.db import connections

    for alias in connections:
        contents = getattr(connections[alias], "_test_serialized_contents", None)
        if contents is not None:
            _SERIALIZED[alias] = contents


def _attach_serialized(item) -> None:
    if not _SERIALIZED or not _is_e2e(item):
        return
    from django.db import connections

    for alias, contents in _SERIALIZED.items():
        if not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = contents


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _attach_serialized(item)  # before the restore


# The flush after each test, on PostgreSQL. Django flushes with one TRUNCATE of every table (158), which takes
# PostgreSQL about 5 s whatever the tables hold: a new file for each table and index. A browser test fills a dozen
# tables; DELETE empties those in a few milliseconds, and the database ends the same: every table empty. (The
# foreign keys are deferred to the commit, so the order does not matter. A table whose trigger refuses DELETE, the
# audit trail, is truncated instead, as Django would; were such a table referenced by a foreign key, the TRUNCATE
# of everything runs as before.) Only for the browser tests' flush: the flush tests of the audit trail keep Django's.


def _flush_nonempty_tables(original):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences or allow_cascade:
            return original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        quote = self.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute(
                " UNION ALL ".join(f"(SELECT %s FROM {quote(table)} LIMIT 1)" for table in tables), list(tables)
            )
            filled = [table for (table,) in cursor.fetchall()]
            # Tables with a trigger on DELETE (tgtype bit 3), and whether a foreign key points at them.
            cursor.execute(
                "SELECT c.relname, EXISTS "
                "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.oid) "
                "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND t.tgtype & 8 <> 0 AND c.relname = ANY(%s)",
                [filled],
            )
            guarded = dict(cursor.fetchall())
        if any(guarded.values()):
            return original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        truncated = [table for table in filled if table in guarded]
        deleted = [table for table in filled if table not in guarded]
        sql = [f"DELETE FROM {quote(table)};" for table in deleted]
        if truncated:
            sql.append(f"TRUNCATE {', '.join(quote(table) for table in truncated)};")
        return sql

    return sql_flush


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    _attach_serialized(item)  # before the flush, which then leaves the restore to the next test
    if not _is_e2e(item):
        return (yield)
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    DatabaseOperations.sql_flush = _flush_nonempty_tables(original)
    try:
        return (yield)
    finally:
        DatabaseOperations.sql_flush = original


def _failure_name(item: pytest.Item) -> str:
    return re.sub(r"[^\w\-\[\]]+", "_", item.name).strip("_") or "test"


class Pages:
    """Opens pages of one test: `pages.new("desk"|"phone")`, each in its own browser context (its own cookies).
    Every page is closed after the test; on a failure the last one opened is saved as a screenshot."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.opened: list = []

    def new(self, viewport: str = "desk"):
        context = self.browser.new_context(base_url=self.base_url, locale="zh-CN", **VIEWPORTS[viewport])
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.viewport_name = viewport  # "desk" or "phone", for the test to read
        page.base_url = self.base_url  # the live server, for cookies
        self.opened.append(page)
        return page

    def close(self, failed_as: str | None) -> None:
        if failed_as and self.opened:
            FAILURES_DIR.mkdir(parents=True, exist_ok=True)
            for n, page in enumerate(reversed(self.opened)):
                suffix = "" if n == 0 else f"-{n}"
                try:
                    page.screenshot(path=str(FAILURES_DIR / f"{failed_as}{suffix}.png"), full_page=True)
                except Exception:  # a crashed page has no picture; the failure itself is reported anyway
                    pass
        for page in self.opened:
            page.context.close()


@pytest.fixture
def pages(request, browser, live_server):
    opened = Pages(browser, live_server.url)
    yield opened
    call = getattr(request.node, "_e2e_report_call", None)
    opened.close(_failure_name(request.node) if call is not None and call.failed else None)


@pytest.fixture
def desk_page(pages):
    """A desktop page (1280×800)."""
    return pages.new("desk")


@pytest.fixture
def phone_page(pages):
    """A phone page (390×844, touch, 2× pixels)."""
    return pages.new("phone")


@pytest.fixture(params=["desk", "phone"])
def page(request, pages):
    """The test once at desk size and once at phone size."""
    return pages.new(request.param)
