"""A user's phone (联系电话) encrypted at rest, like the members' phones (security review F8).

The column becomes AES-GCM ciphertext (core.fields.EncryptedTextField). It is never searched, so it has no blind
index. Existing values are sealed in batches with raw SQL; sealed ones are skipped; reversing decrypts them.
"""

from django.db import migrations

import dangjian.core.fields

BATCH = 2000


def _reseal(schema_editor, convert, wanted) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table, last = quote("accounts_user"), 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, phone FROM {table} WHERE phone <> '' AND id > %s ORDER BY id LIMIT {BATCH}", [last]
            )
            rows = cursor.fetchall()
        if not rows:
            return
        changed = [(convert(phone), pk) for pk, phone in rows if wanted(phone)]
        if changed:
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET phone = %s WHERE id = %s", changed)
        last = rows[-1][0]


def encrypt_phones(apps, schema_editor):
    from dangjian.core import crypto

    _reseal(schema_editor, lambda phone: crypto.encrypt(phone.strip()), lambda phone: not crypto.is_token(phone))


def decrypt_phones(apps, schema_editor):
    from dangjian.core import crypto

    _reseal(schema_editor, crypto.decrypt, crypto.is_token)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_must_change_password_and_hashed_recovery_codes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=dangjian.core.fields.EncryptedTextField(blank=True, max_length=20, verbose_name="联系电话"),
        ),
        migrations.RunPython(encrypt_phones, decrypt_phones, elidable=False),
    ]
