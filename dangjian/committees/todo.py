"""The committees' source of the to-do list (待办; docs/development.md "To-do items"): terms ending or overdue,
missing committees, setup reports due and setup flags (`selectors.todo.committee_todo_items`)."""

from __future__ import annotations

from dangjian.committees.selectors.todo import committee_todo_items
from dangjian.core import todo

todo.register(committee_todo_items, order=90)
