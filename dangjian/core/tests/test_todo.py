"""The to-do item type and the registry of sources (`core.todo`; docs/development.md "To-do items")."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dangjian.core import todo
from dangjian.core.todo import Registry, TodoItem

ITEM = TodoItem(kind="测试", title="事项", url="/x/", key="k:1", period="2026-06", since=dt.date(2026, 6, 1))


def test_an_item_is_frozen_and_reads_as_a_mapping_of_its_fields():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ITEM.key = "k:2"
    assert ITEM["key"] == "k:1" and ITEM.get("overdue") is False and "period" in ITEM
    assert dict(ITEM) == {
        "kind": "测试",
        "title": "事项",
        "url": "/x/",
        "key": "k:1",
        "period": "2026-06",
        "since": dt.date(2026, 6, 1),
        "overdue": False,
        "due": None,
    }
    with pytest.raises(KeyError):
        ITEM["of"]


def test_a_plain_mapping_becomes_an_item_and_an_item_stays_itself():
    assert TodoItem.of(dict(ITEM, extra=1)) == ITEM
    assert TodoItem.of(ITEM) is ITEM


def first(*, user, today):
    return [ITEM]


def second(*, user, today):
    return [dict(ITEM, key="k:2")]


def test_the_registry_gives_its_sources_in_their_order_once_each():
    registry = Registry()
    registry.register(second, order=20)
    registry.source(order=10)(first)
    registry.register(second, order=20)  # a module imported twice adds nothing
    assert list(registry) == [first, second]
    assert len(registry) == 2


def test_items_of_a_function_or_its_dotted_path():
    assert todo.items_of(first, user=None, today=dt.date(2026, 6, 15)) == [ITEM]
    path = "dangjian.core.tests.test_todo.second"
    assert todo.name_of(path) == path and todo.name_of(second) == path
    assert [i.key for i in todo.items_of(path, user=None, today=dt.date(2026, 6, 15))] == ["k:2"]
