"""Arrears on the to-do list (docs/dues.md, "Arrears"): 3 months unpaid put the member on the secretary's list, 6
consecutive months flag a case for the branch (a person decides), the committee reads them on the report; nothing
about a member outside the user's scope."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.dues import todo
from dangjian.dues.rules import add_months, month_of
from dangjian.dues.tests.factories import base, pay
from dangjian.members.models import Status

TODAY = timezone.localdate()
THIS = month_of(TODAY)


@pytest.fixture
def behind(world):
    """赵甲一 (A) unpaid for 7 months, 钱甲二 (A) for 3 months, 孙乙一 (B) for 7 months."""
    a1, a2 = world.members["A"]
    b1 = world.members["B"][0]
    for m in (a1, a2, b1):
        base(m, "4000", effective=add_months(THIS, -7))
    pay(a2, first_month=add_months(THIS, -7), months=4)
    return world


def test_the_secretary_sees_three_months_and_a_six_month_case(behind):
    world = behind
    items = todo.arrears(user=world.user(Role.SECRETARY), today=TODAY)
    by_name = {item.title.split("欠")[0].split("已连续")[0]: item for item in items}
    a1, a2 = world.members["A"]
    assert set(by_name) == {a1.name, a2.name}
    assert by_name[a1.name].kind == "连续欠交党费" and "由支部决定" in by_name[a1.name].title
    assert by_name[a1.name].overdue
    assert by_name[a2.name].kind == "欠交党费" and "3个月" in by_name[a2.name].title
    assert world.members["B"][0].name not in " ".join(i.title for i in items)


def test_the_flag_changes_nothing_about_the_member(behind):
    world = behind
    todo.arrears(user=world.user(Role.SECRETARY), today=TODAY)
    world.members["A"][0].refresh_from_db()
    assert world.members["A"][0].status == Status.ACTIVE


def test_the_committee_reads_arrears_on_the_report_not_its_to_do_list(behind):
    world = behind
    assert todo.arrears(user=world.user(Role.COMMITTEE), today=TODAY) == []


def test_two_months_behind_is_not_on_the_list(world):
    a1 = world.members["A"][0]
    base(a1, "4000", effective=add_months(THIS, -2))
    assert todo.arrears(user=world.user(Role.SECRETARY), today=TODAY) == []
