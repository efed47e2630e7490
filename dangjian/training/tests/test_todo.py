"""Training's to-do rules (`training.todo`; docs/development.md "To-do items"), read through the whole list as the
workbench assembles it. The world is tests/scope.py's (secretary on branch A, whose two members need 32 hours)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test.utils import override_settings

from dangjian.accounts.roles import Role
from dangjian.core.todo import TodoItem
from dangjian.training.tests.factories import credit
from dangjian.training.todo import hours_pace
from dangjian.workbench.selectors import todo_items

TODAY = dt.date(2026, 6, 15)


def by_key(world, role, today=TODAY) -> dict[str, TodoItem]:
    return {item.key: item for item in todo_items(user=world.user(role), today=today)}


@override_settings(DANGJIAN_HOURS_BEHIND_PACE_PERCENT=50)
def test_the_pace_is_a_setting(world):
    credit(world.members["A"][0], hours="7", on=dt.date(2026, 3, 1))  # 32 × 5/12 × 50% = 6.67
    assert hours_pace(TODAY) == Decimal(5) / Decimal(12) / Decimal(2)
    item = by_key(world, Role.SECRETARY)[f"hours-behind:{world.orgs['A'].pk}"]
    assert item.title.startswith("高一年级党支部：1名党员学时进度落后")
