"""Fast multi-row inserts (COPY on PostgreSQL) that store exactly what the ORM would store.

Used by the demo loader and the member import, where `bulk_create` would spend most of its time in the SQL
compiler: plain fields are bound as they are, any other field (an encrypted one, say) goes through its own
`pre_save` and `get_db_prep_save`.
"""

from __future__ import annotations

import functools
import operator
import sqlite3

from django.db import connection, models

from dangjian.core import summaries

# Fast inserts. `bulk_create` spends most of its time preparing each value through the SQL compiler (and, with
# DEBUG on, quoting every parameter for the query log); at 40,000 members that is most of a minute. Here the
# values of plain fields (text, numbers, booleans, keys, dates) are bound as they are, with the backend's date
# adapters; any other field (an encrypted field, say) goes through its own pre_save and get_db_prep_save, so
# what is stored is exactly what the ORM would store.

# Field classes whose Python value the database driver binds as is (dates: through the backend's adapter).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.ForeignKey,
    models.OneToOneField,
    models.DateField,
    models.DateTimeField,
)


def max_query_params() -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return min(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 32_766)
    return 65_535


def value_getter(field):
    """A function obj → the value to bind for `field`."""
    attname, ops = field.attname, connection.ops
    if type(field) not in _PLAIN_FIELDS:
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    if isinstance(field, models.DateTimeField | models.DateField):
        adapt = functools.cache(
            ops.adapt_datetimefield_value if isinstance(field, models.DateTimeField) else ops.adapt_datefield_value
        )
        return lambda obj: None if (value := getattr(obj, attname)) is None else adapt(value)
    return operator.attrgetter(attname)


def insert_rows(model, fields: list, objs: list, *, returning: bool) -> list:
    """Multi-row INSERTs of `objs` (`fields` only); the new primary keys, in order, if `returning`.

    Like `bulk_create`, this relies on INSERT … RETURNING giving the keys in the order of the VALUES rows.
    """
    ops = connection.ops
    getters = [value_getter(f) for f in fields]
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    suffix = f" RETURNING {ops.quote_name(model._meta.pk.column)}" if returning else ""
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    batch = max(1, min(2000, max_query_params() // len(fields)))
    ids = []
    with connection.cursor() as wrapper:
        # The database's own cursor (behind Django's wrapper): no per-query logging of tens of thousands of
        # parameters under DEBUG. Both backends' cursors take %s placeholders.
        cursor = wrapper.cursor
        if connection.vendor == "postgresql":
            # COPY: the fastest way in. The keys are drawn from the table's sequence first, so that COPY
            # (which returns nothing) can write them with the rows.
            if returning:
                pk = model._meta.pk.column
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [model._meta.db_table, pk, len(objs)],
                )
                ids = [row[0] for row in cursor.fetchall()]
                columns = f"{ops.quote_name(pk)}, {columns}"
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for i, obj in enumerate(objs):
                    values = [get(obj) for get in getters]
                    copy.write_row([ids[i], *values] if returning else values)
            # COPY (and the raw cursor below) bypass Django's cursor wrappers, which tell the kept summaries
            # (core.summaries) of every other write.
            summaries.note_write(model._meta.db_table, using=connection.alias)
            return ids
        for start in range(0, len(objs), batch):
            chunk = objs[start : start + batch]
            params = [get(obj) for obj in chunk for get in getters]
            placeholders = ", ".join([placeholder] * len(chunk))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {placeholders}{suffix}", params)
            if returning:
                ids.extend(row[0] for row in cursor.fetchall())
    summaries.note_write(model._meta.db_table, using=connection.alias)
    return ids


def values_table(values: list, sql_type: str = "text"):
    """A subquery yielding `values`, bound as ONE parameter, a JSON array (on PostgreSQL and SQLite alike), so that a
    lookup of 100,000 values (`field__in=values_table(values)`) is one short query rather than 100,000 placeholders."""
    import json

    from django.db.models.expressions import RawSQL

    data = json.dumps(list(values), ensure_ascii=False)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT (jsonb_array_elements_text(%s::jsonb))::{sql_type}", (data,))
    return RawSQL("SELECT value FROM json_each(%s)", (data,))
