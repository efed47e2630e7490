"""Shared fixtures. The "world" (a small organization tree with one user per role) is described and built
in tests/scope.py."""

import contextlib
import fcntl
import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test.utils import override_settings, setup_databases, teardown_databases
from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup
from pytest_django.plugin import blocking_manager_key

from tests.scope import World, build_world

# ---------------------------------------------------------------------------------------------------------
# The test databases. Running the migrations takes most of a minute (Django renders the migration state of a few
# hundred models over and over); under pytest-xdist every worker used to run them at the same time on the same
# cores. Now the first worker to get there migrates one template database, once per run, and every worker copies
# it: PostgreSQL's CREATE DATABASE … TEMPLATE, or SQLite's backup API into the worker's in-memory database. The
# copy is the migrated database itself, so what the migrations create (triggers, seeded rows) is all there. The
# xdist controller names the run's template (a fresh name every run: nothing is reused from an earlier run) and
# drops it at the end. Without xdist, or with --reuse-db or --no-migrations, pytest-django's own setup runs.

_TEMPLATE_KEY = "dangjian_test_db_template"
_template = pytest.StashKey[str]()


def pytest_configure(config):
    # WhiteNoise warns on every test client that STATIC_ROOT (var/static) was not collected; tests need no files.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")
    if not hasattr(config, "workerinput"):
        config.stash[_template] = uuid.uuid4().hex[:12]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist controller: each worker learns the name of this run's template database."""
    node.workerinput[_TEMPLATE_KEY] = node.config.stash[_template]


def pytest_unconfigure(config):
    """xdist controller: drop this run's template database, if a worker built one."""
    key = config.stash.get(_template, None)
    if key is None or hasattr(config, "workerinput") or not config.pluginmanager.hasplugin("dsession"):
        return
    if not settings.configured or blocking_manager_key not in config.stash:
        return
    with config.stash[blocking_manager_key].unblock():
        for alias in connections:
            _drop_template(connections[alias], key)
    for path in Path(tempfile.gettempdir()).glob(f"dangjian-test-db-{key}*"):
        path.unlink(missing_ok=True)


def _template_name(connection, key: str) -> str:
    if connection.vendor == "sqlite":
        return str(Path(tempfile.gettempdir()) / f"dangjian-test-db-{key}-{connection.alias}.sqlite3")
    return f"test_{connection.settings_dict['NAME']}_tpl_{key}"[:63]


def _drop_template(connection, key: str) -> None:
    if connection.vendor != "postgresql":
        return  # the SQLite template is a file, removed with the lock files
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(_template_name(connection, key))}")


def _build_template(connection, key: str, verbosity: int) -> None:
    """Create and migrate the template database, then point the connection back at the real database's name."""
    settings_dict = connection.settings_dict
    old_name, old_test_name = settings_dict["NAME"], settings_dict["TEST"].get("NAME")
    settings_dict["TEST"]["NAME"] = _template_name(connection, key)
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
    finally:
        connection.close()
        settings_dict["NAME"] = settings.DATABASES[connection.alias]["NAME"] = old_name
        settings_dict["TEST"]["NAME"] = old_test_name


def _copy_template(connection, key: str, verbosity: int, serialize: bool) -> str:
    """The worker's own test database, a copy of the template; returns the name it replaces (for the teardown)."""
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    test_name = creation._get_test_db_name()
    template = _template_name(connection, key)
    if verbosity >= 1:
        creation.log(f"Copying test database for alias {connection.alias!r} from {template}...")
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(test_name)}")
            cursor.execute(f"CREATE DATABASE {quote(test_name)} WITH TEMPLATE {quote(template)}")
    connection.close()
    connection.settings_dict["NAME"] = settings.DATABASES[connection.alias]["NAME"] = test_name
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        source = sqlite3.connect(template)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    if serialize:
        connection._test_serialized_contents = creation.serialize_db_to_string()
    return old_name


def _template_databases(aliases, serialized_aliases, key: str, verbosity: int) -> list:
    """Build the run's template (the first worker here) and copy it; the old_config that teardown_databases takes."""
    lock_path = Path(tempfile.gettempdir()) / f"dangjian-test-db-{key}.lock"
    done_path = Path(tempfile.gettempdir()) / f"dangjian-test-db-{key}.done"
    old_config = []
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait here while the first one migrates
        try:
            if not done_path.exists():
                for alias in sorted(aliases):
                    _build_template(connections[alias], key, verbosity)
                done_path.touch()
            for alias in sorted(aliases):
                connection = connections[alias]
                old_name = _copy_template(connection, key, verbosity, alias in serialized_aliases)
                old_config.append((connection, old_name, True))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return old_config


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's django_db_setup, with the shared template under xdist (above); then the audit trigger.

    Transactional tests flush their throwaway database with TRUNCATE, which the audit table's trigger always
    refuses: no session setting turns it off (audit migration 0004). The suite, which created the test database and
    owns it, switches the TRUNCATE trigger off there, as an owner always can; the trigger's own tests switch it back
    on inside their transaction. Production has no such step: its application role owns nothing."""
    verbosity = request.config.option.verbose
    key = getattr(request.config, "workerinput", {}).get(_TEMPLATE_KEY)
    keepdb = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    if not django_db_use_migrations:
        _disable_migrations()
    with django_db_blocker.unblock():
        if key and django_db_use_migrations and not keepdb and aliases:
            db_cfg = _template_databases(aliases, serialized_aliases, key, max(verbosity, 0))
        else:
            db_cfg = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=keepdb,
            )
        for connection in connections.all():
            if connection.vendor != "postgresql":
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_trigger WHERE tgname = 'audit_event_no_truncate' "
                    "AND tgrelid = to_regclass('audit_auditevent')"
                )
                if cursor.fetchone():
                    cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate")

    yield

    if not keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=verbosity)
            except Exception as exc:  # as pytest-django: a failed teardown warns, the run's result stands
                request.node.warn(pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}"))


@pytest.fixture(scope="session", autouse=True)
def _media_in_a_temporary_directory(tmp_path_factory):
    """Uploads written by tests (attachments, evidence) go to a throwaway directory, never to var/media."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """Password hashing is not under test here; the fast hasher keeps user creation cheap."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@contextlib.contextmanager
def _rolled_back_after(django_db_blocker):
    """A transaction around a module's tests, rolled back after them, and also when building the module's data
    fails: left open, it would hold the database (SQLite: "database table is locked") for every later test."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """The world, built once per test module inside a transaction that is rolled back after the module.

    Each test runs in its own nested transaction (pytest-django's `db`), so what a test writes is rolled
    back after it. Only modules whose database tests all use `world` should use it: the world's rows are
    present for every test of the module once one test asked for it.
    """
    with _rolled_back_after(django_db_blocker):
        with django_db_blocker.unblock():
            world = build_world()
        yield world


@pytest.fixture
def world(_module_world, db) -> World:
    return _module_world.reloaded()


@pytest.fixture(scope="module")
def _module_demo(django_db_setup, django_db_blocker):
    """The small demo county (seed 1), built once per test module inside a transaction rolled back after the
    module, like `_module_world`: building it takes seconds, and a demo test only reads it (what a test writes is
    rolled back after it). A test that needs an empty database in such a module wipes it first (in its own
    transaction, so the next test finds the demo again)."""
    from dangjian.demo.builder import build_demo

    with _rolled_back_after(django_db_blocker):
        with django_db_blocker.unblock():
            summary = build_demo(scale="small", seed=1)
        yield summary


@pytest.fixture
def small_demo(_module_demo, db):
    """The demo built by `_module_demo`: its summary (counts of what was written)."""
    return _module_demo
