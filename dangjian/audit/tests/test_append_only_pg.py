"""The audit trail's PostgreSQL guard has no escape hatch (audit migration 0004): no session setting lets a DELETE or
TRUNCATE through, a role that does not own the table can change nothing even when granted every privilege, and the
only way to delete is the SECURITY DEFINER function dangjian_audit_purge, which keeps the retention and records the
purge itself.

The test suite runs as the owner (a superuser) of its own database; "the application" is played by a role created
inside each test's transaction (and gone with it), holding what docs/security.md grants the application role."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.audit.services import audit_purge

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the append-only trigger and the purge function exist on PostgreSQL only "
        "(SQLite has the model's guard, tested in test_audit.py)",
    ),
    pytest.mark.django_db,
]

FUNCTION = "dangjian_audit_purge(timestamp with time zone, integer, bigint, text, inet, text)"


def event(days: int) -> AuditEvent:
    return AuditEvent.objects.create(
        at=timezone.now() - dt.timedelta(days=days), action=AuditAction.POLICY_CHANGE, detail={"age": days}
    )


def execute(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def refused(sql: str, params=(), *, message: str | tuple[str, ...] = "append-only") -> str:
    """Run `sql` in a savepoint; it must fail, with `message` (or one of them) in the error."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        execute(sql, params)
    messages = (message,) if isinstance(message, str) else message
    assert any(m in str(caught.value) for m in messages), caught.value
    return str(caught.value)


@pytest.fixture
def truncate_guard():
    """The TRUNCATE trigger back on for this test (conftest.py switches it off in the test database so that
    transactional tests can flush); the test's transaction takes the change back."""
    execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_truncate")


@pytest.fixture
def superuser():
    if not execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0]:
        pytest.skip("creating a role for the test needs a superuser connection")


def new_role(*grants: str) -> str:
    """A role created in this test's transaction (rolled back with it), with `grants` on the audit table."""
    role = f"dj_test_{uuid.uuid4().hex[:12]}"
    execute(f"CREATE ROLE {role} NOLOGIN")
    for grant in grants:
        execute(grant.format(role=role))
    return role


@contextlib.contextmanager
def acting_as(role: str):
    execute(f"SET LOCAL ROLE {role}")
    try:
        yield
    finally:
        execute("RESET ROLE")


APPLICATION = (
    "GRANT SELECT, INSERT ON audit_auditevent TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {{role}}",
)


# ---------------------------------------------------------------------------------------------------------
# Session settings open nothing.


@pytest.mark.parametrize("scope", ["SESSION", "LOCAL"])
def test_session_settings_no_longer_allow_truncate_or_delete(truncate_guard, scope):
    old, young = event(400), event(10)
    execute(f"SET {scope} dangjian.audit_allow_truncate = 'on'")
    execute(f"SET {scope} dangjian.audit_purge = 'on'")
    try:
        refused("TRUNCATE audit_auditevent")
        refused("DELETE FROM audit_auditevent WHERE id = %s", [old.pk])
        refused("DELETE FROM audit_auditevent WHERE id = %s", [young.pk])
        refused("UPDATE audit_auditevent SET result = 'failure' WHERE id = %s", [old.pk])
    finally:
        execute("RESET dangjian.audit_allow_truncate")
        execute("RESET dangjian.audit_purge")
    assert AuditEvent.objects.filter(pk__in=[old.pk, young.pk]).count() == 2


def test_truncate_is_refused_by_the_trigger(truncate_guard):
    kept = event(1)
    refused("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.filter(pk=kept.pk).exists()


# ---------------------------------------------------------------------------------------------------------
# A role that does not own the table.


def test_the_application_role_may_read_and_append_only(superuser):
    old = event(400)
    role = new_role(*APPLICATION)
    with acting_as(role):
        assert execute("SELECT count(*) FROM audit_auditevent WHERE id = %s", [old.pk]) == [(1,)]
        execute(
            "INSERT INTO audit_auditevent (at, actor_username, action, result, object_type, object_id, "
            "object_repr, request_id, detail) VALUES (now(), '', 'logout', 'success', '', '', '', '', '{}')"
        )
        refused("DELETE FROM audit_auditevent WHERE id = %s", [old.pk], message="permission denied")
        refused("UPDATE audit_auditevent SET result = 'failure'", message="permission denied")
        refused("TRUNCATE audit_auditevent", message="permission denied")
        refused("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", message="must be owner")
        refused("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete", message="must be owner")
        refused("DROP TRIGGER audit_event_no_update_delete ON audit_auditevent", message="must be owner")
        refused("INSERT INTO audit_purge_token VALUES (pg_current_xact_id(), now())", message="permission denied")
    assert AuditEvent.objects.filter(pk=old.pk).exists()


def test_a_role_granted_every_privilege_but_not_owning_the_table_still_changes_nothing(superuser, truncate_guard):
    """Even a misconfigured grant (ALL on the table and on the token table) and the old session settings do not
    open the trail: the trigger lets a row go only for the token table's owner, inside the purge function."""
    old = event(400)
    role = new_role(
        "GRANT ALL ON audit_auditevent TO {role}",
        "GRANT ALL ON audit_purge_token TO {role}",
    )
    with acting_as(role):
        execute("SET LOCAL dangjian.audit_purge = 'on'")
        execute("SET LOCAL dangjian.audit_allow_truncate = 'on'")
        refused("DELETE FROM audit_auditevent WHERE id = %s", [old.pk])
        refused("UPDATE audit_auditevent SET result = 'failure' WHERE id = %s", [old.pk])
        refused("TRUNCATE audit_auditevent")
        # A forged token for this very transaction does not help either.
        execute("INSERT INTO audit_purge_token VALUES (pg_current_xact_id(), now())")
        refused("DELETE FROM audit_auditevent WHERE id = %s", [old.pk])
        refused("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", message="must be owner")
        refused(f"ALTER FUNCTION {FUNCTION} SECURITY INVOKER", message="must be owner")
        refused(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN OLD; END $$",
            message=("must be owner", "permission denied for schema"),
        )
    assert AuditEvent.objects.filter(pk=old.pk).exists()


def test_a_role_without_execute_cannot_purge(superuser):
    event(400)
    role = new_role("GRANT SELECT, INSERT ON audit_auditevent TO {role}")
    with acting_as(role):
        refused("SELECT dangjian_audit_purge(now() - interval '200 days', 180)", message="permission denied")


# ---------------------------------------------------------------------------------------------------------
# The purge function.


def purge(before_days: int, retention: int = 180) -> int:
    return execute(
        "SELECT dangjian_audit_purge(now() - make_interval(days => %s), %s, 7, 'auditor', '10.0.0.9', 'req-1')",
        [before_days, retention],
    )[0][0]


@pytest.mark.parametrize("as_application", [False, True], ids=["owner", "application-role"])
def test_the_purge_function_deletes_only_old_rows_and_writes_its_own_record(superuser, as_application):
    gone = [event(400), event(200)]
    kept = [event(185), event(170), event(0)]
    with acting_as(new_role(*APPLICATION)) if as_application else contextlib.nullcontext():
        assert purge(190) == 2
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in gone]).exists()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in kept]).count() == 3
    record = AuditEvent.objects.get(action=AuditAction.AUDIT_PURGE)
    assert (record.actor_id, record.actor_username, record.source_ip, record.request_id) == (
        7,
        "auditor",
        "10.0.0.9",
        "req-1",
    )
    assert record.detail["deleted"] == 2
    assert record.detail["before"].endswith("+00:00")
    assert abs(record.at - timezone.now()) < dt.timedelta(minutes=5)
    # The token went with the function: a raw delete in the same transaction is refused again.
    refused("DELETE FROM audit_auditevent WHERE id = %s", [kept[0].pk])
    assert execute("SELECT count(*) FROM audit_purge_token") == [(0,)]


@pytest.mark.parametrize(
    ("before_days", "retention", "message"),
    [
        pytest.param(200, 179, "至少保留 180 天", id="retention-below-180"),
        pytest.param(100, 180, "至少保留 180 天", id="cutoff-younger-than-180-days"),
        pytest.param(300, 365, "至少保留 365 天", id="cutoff-younger-than-the-retention"),
    ],
)
def test_the_purge_function_keeps_the_retention(before_days, retention, message):
    old = event(250)
    with pytest.raises(DatabaseError) as caught, transaction.atomic():
        purge(before_days, retention)
    assert message in str(caught.value)
    assert AuditEvent.objects.filter(pk=old.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_PURGE).exists()


def test_the_service_purges_through_the_function(superuser):
    old, young = event(400), event(100)
    role = new_role(*APPLICATION)
    with acting_as(role):  # what the application's own connection may do is enough
        assert audit_purge(before=timezone.now() - dt.timedelta(days=200)) == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=young.pk).exists()
    assert AuditEvent.objects.get(action=AuditAction.AUDIT_PURGE).detail["deleted"] == 1


# ---------------------------------------------------------------------------------------------------------
# The test suite itself.


@pytest.mark.django_db(transaction=True)
def test_transactional_tests_can_still_flush_their_database():
    """pytest-django flushes after a transactional test with TRUNCATE: conftest.py switched the TRUNCATE trigger off
    in the test database (as its owner), so this test's teardown succeeds."""
    AuditEvent.objects.create(action=AuditAction.LOGOUT)
    enabled = execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_event_no_truncate'")
    assert enabled == [("D",)]
