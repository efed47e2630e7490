"""Organizational life's to-do rules (`orglife.todo`; docs/development.md "To-do items") that need no database; the
items themselves, as the list shows them, are tested with the whole list in workbench/tests/test_todo.py."""

from __future__ import annotations

import datetime as dt

from dangjian.orglife.todo import period_of

TODAY = dt.date(2026, 6, 15)


def test_periods_of_each_frequency():
    assert period_of("month", TODAY) == ("2026-06", dt.date(2026, 6, 1))
    assert period_of("quarter", TODAY) == ("2026-Q2", dt.date(2026, 4, 1))
    assert period_of("half_year", dt.date(2026, 7, 1)) == ("2026-H2", dt.date(2026, 7, 1))
    assert period_of("year", TODAY) == ("2026", dt.date(2026, 1, 1))
