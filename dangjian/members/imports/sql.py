"""Lookups in bulk: one query each, whatever the number of values (`core.bulk.values_table`)."""

from dangjian.core.bulk import values_table as _values_table

__all__ = ["_values_table"]
