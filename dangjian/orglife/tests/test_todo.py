"""Organizational life's to-do rules (`orglife.todo`; docs/development.md "To-do items"), each at its boundary, read
through the whole list as the workbench assembles it.

The world (tests/scope.py): committee on 滨江一中党委 C1, secretary on branch A (two members), branch B. The rules take
TODAY, 15 June 2026.
"""

from __future__ import annotations

import datetime as dt

from dangjian.accounts.roles import Role
from dangjian.core.todo import TodoItem
from dangjian.orglife.models import ActivityKind
from dangjian.orglife.tests.factories import ActivityRecordFactory
from dangjian.orglife.todo import period_of
from dangjian.workbench.selectors import todo_items

TODAY = dt.date(2026, 6, 15)


def keys_of(world, role, today=TODAY) -> set[str]:
    return {item.key for item in todo_items(user=world.user(role), today=today)}


def by_key(world, role, today=TODAY) -> dict[str, TodoItem]:
    return {item.key: item for item in todo_items(user=world.user(role), today=today)}


def present(org, members, on: dt.date, kinds=(ActivityKind.THEME_DAY,), absent=()):
    return ActivityRecordFactory(
        organization=org,
        date=on,
        kinds=list(kinds),
        attendance=[(m, True) for m in members] + [(m, False) for m in absent],
    )


# ---------------------------------------------------------------------------------------------------------
# Duties of the current period


def test_a_month_duty_is_met_by_this_months_record_only(world):
    a, b = world.orgs["A"], world.orgs["B"]
    key = f"duty:{a.pk}:{ActivityKind.THEME_DAY}"
    present(a, world.members["A"], dt.date(2026, 5, 31))  # last month: does not count for June
    assert key in keys_of(world, Role.SECRETARY)
    present(a, world.members["A"], dt.date(2026, 6, 1))
    assert key not in keys_of(world, Role.SECRETARY)
    committee = by_key(world, Role.COMMITTEE)
    assert committee[f"duty-rollup:{world.orgs['C1'].pk}:{ActivityKind.THEME_DAY}"].title == (
        "滨江一中党委：1个支部本月主题党日未开展"
    )
    present(b, world.members["B"], dt.date(2026, 6, 2))
    assert f"duty-rollup:{world.orgs['C1'].pk}:{ActivityKind.THEME_DAY}" not in keys_of(world, Role.COMMITTEE)


def test_a_quarter_duty_is_met_by_a_record_of_the_quarter(world):
    a = world.orgs["A"]
    key = f"duty:{a.pk}:{ActivityKind.GENERAL_MEETING}"
    present(a, world.members["A"], dt.date(2026, 3, 31), kinds=[ActivityKind.GENERAL_MEETING])  # the first quarter
    items = by_key(world, Role.SECRETARY)
    assert items[key].period == "2026-Q2"
    assert items[key].title == "本季度支部党员大会未开展（要求1次）"
    present(a, world.members["A"], dt.date(2026, 4, 1), kinds=[ActivityKind.GENERAL_MEETING])
    assert key not in keys_of(world, Role.SECRETARY)


def test_attendance_minimum_of_a_month_duty(world):
    a = world.orgs["A"]
    key = f"duty:{a.pk}:{ActivityKind.SELF_STUDY}"
    first, second = world.members["A"]
    present(a, [first], dt.date(2026, 6, 3), kinds=[ActivityKind.SELF_STUDY], absent=[second])  # 50% < 95%
    assert by_key(world, Role.SECRETARY)[key].title == "本月支部自学交流参会率未达95%"
    present(a, [first, second], dt.date(2026, 6, 10), kinds=[ActivityKind.SELF_STUDY])  # 3 of 4 = 75%
    assert key in keys_of(world, Role.SECRETARY)
    present(a, [first, second], dt.date(2026, 6, 12), kinds=[ActivityKind.SELF_STUDY])
    present(a, [first, second], dt.date(2026, 6, 13), kinds=[ActivityKind.SELF_STUDY])
    present(a, [first, second], dt.date(2026, 6, 14), kinds=[ActivityKind.SELF_STUDY])
    present(a, [first, second], dt.date(2026, 6, 15), kinds=[ActivityKind.SELF_STUDY])  # 11 of 12 = 91.7%
    assert key in keys_of(world, Role.SECRETARY)
    for day in range(4, 10):
        present(a, [first, second], dt.date(2026, 6, day), kinds=[ActivityKind.SELF_STUDY])  # 23 of 24 = 95.8%
    assert key not in keys_of(world, Role.SECRETARY)


def test_a_month_duty_is_measured_against_the_roster_not_the_record(world):
    """A self-study record that lists one member present and nobody absent is 100% of itself but 1 of the branch's
    members: the to-do list says what the compliance page says (支部自学交流 at least 95% of the branch)."""
    a = world.orgs["A"]
    key = f"duty:{a.pk}:{ActivityKind.SELF_STUDY}"
    first, second = world.members["A"]
    present(a, [first], dt.date(2026, 6, 3), kinds=[ActivityKind.SELF_STUDY])
    assert key in keys_of(world, Role.SECRETARY)
    present(a, [first, second], dt.date(2026, 6, 4), kinds=[ActivityKind.SELF_STUDY])
    assert key in keys_of(world, Role.SECRETARY)  # 3 of the 4 expected: 75%


def test_a_year_duty_needing_two_shows_the_count(world):
    a = world.orgs["A"]
    present(a, world.members["A"], dt.date(2026, 2, 1), kinds=[ActivityKind.PARTY_WORK_STUDY])
    item = by_key(world, Role.SECRETARY)[f"duty:{a.pk}:{ActivityKind.PARTY_WORK_STUDY}"]
    assert item.title == "本年度专题研究党建工作已开展1次，要求2次"
    assert item.period == "2026"
    assert item.url == f"/orglife/records/new/?org={a.code}"


def test_periods_of_each_frequency():
    assert period_of("month", TODAY) == ("2026-06", dt.date(2026, 6, 1))
    assert period_of("quarter", TODAY) == ("2026-Q2", dt.date(2026, 4, 1))
    assert period_of("half_year", dt.date(2026, 7, 1)) == ("2026-H2", dt.date(2026, 7, 1))
    assert period_of("year", TODAY) == ("2026", dt.date(2026, 1, 1))


# ---------------------------------------------------------------------------------------------------------
# Absence


def test_absence_items_for_the_secretary_name_the_member(world):
    first, second = world.members["A"]
    present(world.orgs["A"], [first], dt.date(2026, 1, 10))
    items = by_key(world, Role.SECRETARY)
    assert f"absent:{first.pk}" not in items
    item = items[f"absent:{second.pk}"]
    assert item.title == "钱甲二连续6个月未参加组织生活，请支部研究处理"
    assert item.url == f"/members/{second.pk}/"
    assert item.kind == "连续未参加组织生活"
    assert items[f"absent:{second.pk}"].period == "2026-06"
