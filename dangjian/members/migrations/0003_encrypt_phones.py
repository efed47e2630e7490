"""Phone numbers encrypted at rest, like ID numbers (security review F8).

The column becomes AES-GCM ciphertext (core.fields.EncryptedTextField) in the member table and its history table,
with a keyed hash of the number's digits (`phone_digest`, indexed, not unique) for whole-number lookups; the index
on the clear column goes. Existing rows are sealed in batches by primary key, with raw SQL (no history row is
written, nothing else changes), on SQLite and PostgreSQL alike. Rows already sealed are skipped, so a second run
changes nothing; reversing decrypts them again.
"""

import re

from django.db import migrations

import dangjian.core.fields
import dangjian.core.validators
import dangjian.members.models

BATCH = 2000
TABLES = (("members_member", "id"), ("members_historicalmember", "history_id"))


def _digest(crypto, clear: str) -> str:
    # members.models.phone_digest as of this migration: the keyed hash of the digits only.
    digits = re.sub(r"\D", "", clear or "")
    return crypto.blind_index(digits) if digits else ""


def _batches(schema_editor, table: str, pk: str):
    """(pk, phone) of every row with a phone, BATCH rows at a time, in primary-key order."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    last = None
    while True:
        where = f"WHERE {quote('phone')} <> ''" + (f" AND {quote(pk)} > %s" if last is not None else "")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(pk)}, {quote('phone')} FROM {quote(table)} {where} ORDER BY {quote(pk)} LIMIT {BATCH}",
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def encrypt_phones(apps, schema_editor):
    from dangjian.core import crypto

    quote = schema_editor.connection.ops.quote_name
    for table, pk in TABLES:
        for rows in _batches(schema_editor, table, pk):
            sealed = [
                (crypto.encrypt(phone.strip()), _digest(crypto, phone), key)
                for key, phone in rows
                if phone and not crypto.is_token(phone)
            ]
            if sealed:
                with schema_editor.connection.cursor() as cursor:
                    cursor.executemany(
                        f"UPDATE {quote(table)} SET {quote('phone')} = %s, {quote('phone_digest')} = %s "
                        f"WHERE {quote(pk)} = %s",
                        sealed,
                    )


def decrypt_phones(apps, schema_editor):
    from dangjian.core import crypto

    quote = schema_editor.connection.ops.quote_name
    for table, pk in TABLES:
        for rows in _batches(schema_editor, table, pk):
            clear = [(crypto.decrypt(phone), key) for key, phone in rows if crypto.is_token(phone)]
            if clear:
                with schema_editor.connection.cursor() as cursor:
                    cursor.executemany(
                        f"UPDATE {quote(table)} SET {quote('phone')} = %s, {quote('phone_digest')} = '' "
                        f"WHERE {quote(pk)} = %s",
                        clear,
                    )


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0002_member_transfers"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="member", name="member_phone_idx"),
        # Text first: the ciphertext is longer than the 20 characters the clear column allowed.
        migrations.AlterField(
            model_name="historicalmember",
            name="phone",
            field=dangjian.core.fields.EncryptedTextField(
                blank=True, max_length=20, validators=[dangjian.core.validators.validate_phone], verbose_name="手机号码"
            ),
        ),
        migrations.AlterField(
            model_name="member",
            name="phone",
            field=dangjian.core.fields.EncryptedTextField(
                blank=True, max_length=20, validators=[dangjian.core.validators.validate_phone], verbose_name="手机号码"
            ),
        ),
        migrations.AddField(
            model_name="historicalmember",
            name="phone_digest",
            field=dangjian.members.models.PhoneIndexField(
                blank=True, db_index=True, editable=False, max_length=64, source="phone", verbose_name="手机号码索引"
            ),
        ),
        migrations.AddField(
            model_name="member",
            name="phone_digest",
            field=dangjian.members.models.PhoneIndexField(
                blank=True, db_index=True, editable=False, max_length=64, source="phone", verbose_name="手机号码索引"
            ),
        ),
        migrations.RunPython(encrypt_phones, decrypt_phones, elidable=False),
    ]
