"""Shared fixtures. The "world" (a small organization tree with one user per role) is described and built
in tests/scope.py."""

import pytest
from django.db import connections, transaction
from django.test.utils import override_settings

from tests.scope import World, build_world


def pytest_configure(config):
    # WhiteNoise warns on every test client that STATIC_ROOT (var/static) was not collected; tests need no files.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests flush their throwaway database with TRUNCATE, which the audit table's trigger always
    refuses: no session setting turns it off (audit migration 0004). The suite, which created the test database and
    owns it, switches the TRUNCATE trigger off there, as an owner always can; the trigger's own tests switch it back
    on inside their transaction. Production has no such step: its application role owns nothing."""
    with django_db_blocker.unblock():
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


@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    """The world, built once per test module inside a transaction that is rolled back after the module.

    Each test runs in its own nested transaction (pytest-django's `db`), so what a test writes is rolled
    back after it. Only modules whose database tests all use `world` should use it: the world's rows are
    present for every test of the module once one test asked for it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        world = build_world()
    yield world
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


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

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        summary = build_demo(scale="small", seed=1)
    yield summary
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def small_demo(_module_demo, db):
    """The demo built by `_module_demo`: its summary (counts of what was written)."""
    return _module_demo
