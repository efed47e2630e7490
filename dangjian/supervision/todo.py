"""Supervision's source of the to-do list (待办; docs/development.md "To-do items"): institutions to cover, instructors
to assign, visits and inspections due (`selectors.todo.supervision_todo_items`)."""

from __future__ import annotations

from dangjian.core import todo
from dangjian.supervision.selectors.todo import supervision_todo_items

todo.register(supervision_todo_items, order=100)
