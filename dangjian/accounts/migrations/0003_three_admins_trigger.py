"""三员分立 in the database: a user's role grants are all admin grants or all business grants.

The partial unique index of 0002 already allows at most one admin grant per user; these triggers refuse
an admin grant beside business grants and the reverse, on SQLite and PostgreSQL alike. On PostgreSQL the
trigger first locks the user's row, so two concurrent grants of different kinds cannot both pass.
"""

from django.db import migrations

SQLITE = [
    """
    CREATE TRIGGER role_assignment_three_admins_insert
    BEFORE INSERT ON accounts_roleassignment
    WHEN EXISTS (SELECT 1 FROM accounts_roleassignment WHERE user_id = NEW.user_id AND kind <> NEW.kind)
    BEGIN SELECT RAISE(ABORT, 'three admins: admin and business roles are exclusive'); END;
    """,
    """
    CREATE TRIGGER role_assignment_three_admins_update
    BEFORE UPDATE OF user_id, kind, role ON accounts_roleassignment
    WHEN EXISTS (
        SELECT 1 FROM accounts_roleassignment
        WHERE user_id = NEW.user_id AND kind <> NEW.kind AND id <> NEW.id
    )
    BEGIN SELECT RAISE(ABORT, 'three admins: admin and business roles are exclusive'); END;
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS role_assignment_three_admins_insert",
    "DROP TRIGGER IF EXISTS role_assignment_three_admins_update",
]

POSTGRES = """
CREATE OR REPLACE FUNCTION role_assignment_three_admins() RETURNS trigger AS $$
BEGIN
    PERFORM 1 FROM accounts_user WHERE id = NEW.user_id FOR UPDATE;
    IF EXISTS (
        SELECT 1 FROM accounts_roleassignment
        WHERE user_id = NEW.user_id AND kind <> NEW.kind AND id IS DISTINCT FROM NEW.id
    ) THEN
        RAISE EXCEPTION 'three admins: admin and business roles are exclusive' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER role_assignment_three_admins
    BEFORE INSERT OR UPDATE ON accounts_roleassignment
    FOR EACH ROW EXECUTE FUNCTION role_assignment_three_admins();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS role_assignment_three_admins ON accounts_roleassignment;
DROP FUNCTION IF EXISTS role_assignment_three_admins();
"""


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
