"""Lookups in bulk: one query each, whatever the number of values."""

from __future__ import annotations

import json

from django.db import connection
from django.db.models.expressions import RawSQL


def _values_table(values: list, sql_type: str = "text") -> RawSQL:
    """A subquery yielding `values`, bound as ONE parameter, a JSON array (on PostgreSQL and SQLite alike), so
    that a lookup of 100,000 values is one short query rather than 100,000 placeholders."""
    data = json.dumps(list(values), ensure_ascii=False)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT (jsonb_array_elements_text(%s::jsonb))::{sql_type}", (data,))
    return RawSQL("SELECT value FROM json_each(%s)", (data,))
