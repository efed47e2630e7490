"""On PostgreSQL the audit trail has no escape hatch a session can open.

Migration 0002 let DELETE through in any transaction that set `dangjian.audit_purge = 'on'` and TRUNCATE in any
session that set `dangjian.audit_allow_truncate = 'on'`: settings every session may set. Now:

- UPDATE and TRUNCATE are always refused.
- DELETE is refused except inside `dangjian_audit_purge(before, retention_days, …)`, a SECURITY DEFINER function
  owned by the role that runs the migrations. It checks the retention (at least 180 days, `before` older than
  that), writes a token for its own transaction into `audit_purge_token`, deletes, removes the token and inserts the
  AUDIT_PURGE record itself, all in the caller's transaction. The trigger lets a row go only when the current role
  is the owner of `audit_purge_token` (inside the function: the function's owner; a session of the application role
  never is) and that token exists for this transaction, and only for a row older than both the token's cutoff and
  180 days.
- Nobody but the owner may execute the function until granted (REVOKE … FROM PUBLIC); the token table is the
  owner's alone.

The owner itself (and any superuser) can still DISABLE TRIGGER or write a token: the application must connect as a
separate role holding SELECT and INSERT on audit_auditevent, USAGE on its sequence and EXECUTE on the function
(docs/security.md gives the role layout). The test suite, which runs as the owner of its throwaway database,
switches the TRUNCATE trigger off there so that transactional tests can flush (conftest.py).
"""

from django.db import migrations

FUNCTION_ARGUMENTS = "timestamp with time zone, integer, bigint, text, inet, text"

FORWARD = """
CREATE TABLE {schema}.audit_purge_token (
    xact xid8 PRIMARY KEY,
    cutoff timestamp with time zone NOT NULL
);
REVOKE ALL ON {schema}.audit_purge_token FROM PUBLIC;

CREATE OR REPLACE FUNCTION {schema}.audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token_cutoff timestamp with time zone;
BEGIN
    -- A row may go only inside dangjian_audit_purge: the current role is then the function's owner (who owns the
    -- token table), and the function has left a token for this transaction. Checked in this order, so that no
    -- other role ever reads the token table.
    IF TG_OP = 'DELETE'
       AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class
                           WHERE oid = '{schema}.audit_purge_token'::regclass) THEN
        SELECT token.cutoff INTO token_cutoff FROM {schema}.audit_purge_token AS token
        WHERE token.xact = pg_current_xact_id();
        IF token_cutoff IS NOT NULL AND OLD.at < token_cutoff AND OLD.at < now() - interval '180 days' THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE FUNCTION {schema}.dangjian_audit_purge(
    before timestamp with time zone,
    retention_days integer,
    actor_id bigint DEFAULT NULL,
    actor_username text DEFAULT '',
    source_ip inet DEFAULT NULL,
    request_id text DEFAULT ''
) RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    deleted bigint;
    utc timestamp without time zone := dangjian_audit_purge.before AT TIME ZONE 'UTC';
BEGIN
    IF retention_days IS NULL OR retention_days < 180 THEN
        RAISE EXCEPTION '审计记录至少保留 180 天。' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF dangjian_audit_purge.before IS NULL
       OR dangjian_audit_purge.before > now() - make_interval(days => retention_days) THEN
        RAISE EXCEPTION '审计记录至少保留 % 天：只能清理 % 之前的记录。', retention_days,
            to_char((now() - make_interval(days => retention_days)) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO {schema}.audit_purge_token (xact, cutoff) VALUES (pg_current_xact_id(), dangjian_audit_purge.before);
    DELETE FROM {schema}.audit_auditevent AS event WHERE event.at < dangjian_audit_purge.before;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    DELETE FROM {schema}.audit_purge_token AS token WHERE token.xact = pg_current_xact_id();
    INSERT INTO {schema}.audit_auditevent
        (at, actor_id, actor_username, source_ip, action, result, object_type, object_id, object_repr, request_id,
         detail)
    VALUES (
        now(),
        dangjian_audit_purge.actor_id,
        left(coalesce(dangjian_audit_purge.actor_username, ''), 150),
        dangjian_audit_purge.source_ip,
        'audit_purge',
        'success',
        '', '', '',
        left(coalesce(dangjian_audit_purge.request_id, ''), 36),
        jsonb_build_object(
            -- As Python's isoformat() writes an aware UTC datetime.
            'before', to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
                || CASE WHEN to_char(utc, 'US') = '000000' THEN '' ELSE '.' || to_char(utc, 'US') END || '+00:00',
            'deleted', deleted
        )
    );
    RETURN deleted;
END;
$$;
REVOKE ALL ON FUNCTION {schema}.dangjian_audit_purge({arguments}) FROM PUBLIC;
"""

# Migration 0002's function, hatches included, for a migration back.
BACKWARD = """
DROP FUNCTION IF EXISTS {schema}.dangjian_audit_purge({arguments});
DROP TABLE IF EXISTS {schema}.audit_purge_token;
CREATE OR REPLACE FUNCTION {schema}.audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('dangjian.audit_purge', true) = 'on'
       AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('dangjian.audit_allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _schema(schema_editor) -> str:
    """The schema holding audit_auditevent, quoted: the functions name every table with it, since they run with a
    fixed search_path."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = 'audit_auditevent'::regclass"
        )
        return schema_editor.quote_name(cursor.fetchone()[0])


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = FORWARD.format(schema=_schema(schema_editor), arguments=FUNCTION_ARGUMENTS)
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        sql = BACKWARD.format(schema=_schema(schema_editor), arguments=FUNCTION_ARGUMENTS)
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_more_actions")]
    operations = [migrations.RunPython(forward, backward)]
