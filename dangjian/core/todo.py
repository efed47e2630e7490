"""The to-do list's one item type and the registry of its sources (待办; docs/development.md "To-do items").

An app with something for a user to do declares a source in its own `todo.py`: a function
`f(*, user, today) -> list[TodoItem]` returning what is due in the user's scope at a fixed number of queries whatever
that scope's size (at most SOURCE_LIMIT items), marked `@todo.source(order=N)`; the app's `AppConfig.ready()` imports
that module. The workbench reads `registry` and only assembles (order, grouping, counts); `send_reminders` records one
notification per user, key and period. `core` imports no area app: the apps come to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.module_loading import import_string

# At most this many items come from one source (the full list is paginated; no unbounded query reaches a page).
SOURCE_LIMIT = 200


@dataclass(frozen=True)
class TodoItem(Mapping[str, object]):
    """One line of the to-do list (待办): what is due, where it is done, and since when.

    `key` names the thing the item is about ("transfer-overdue:42", "duty:17:theme_day") and `period` the period it
    is due for ("2026-12", "2026-Q4", "2026", or "" for a one-off): a reminder is recorded once per user, key and
    period, never twice. `overdue` items come first; `since` orders the rest (undated last).

    It reads as a read-only mapping of its fields too (`item["key"]`, `dict(item)`), the shape several apps' sources
    and their callers used before there was one type."""

    kind: str  # a short Chinese label of the kind of item, e.g. "组织关系接转"; the list groups by it
    title: str
    url: str
    key: str
    period: str = ""
    since: dt.datetime | dt.date | None = None
    overdue: bool = False
    # The last day to act (截止): shown instead of `since` where the hand-off has a deadline.
    due: dt.date | None = None

    def __getitem__(self, name: str) -> object:
        if name not in FIELDS:
            raise KeyError(name)
        return getattr(self, name)

    def __iter__(self) -> Iterator[str]:
        return iter(FIELDS)

    def __len__(self) -> int:
        return len(FIELDS)

    @classmethod
    def of(cls, value: Mapping[str, object]) -> TodoItem:
        """`value` as a TodoItem: a plain mapping with the fields is wrapped (other keys ignored)."""
        if isinstance(value, TodoItem):
            return value
        given: dict[str, Any] = {name: v for name, v in value.items() if name in FIELDS}  # values taken as given
        return cls(**given)


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TodoItem))

Source = Callable[..., Iterable[Mapping[str, object]]]


class Registry:
    """The sources of the to-do list, in their order: iterating gives the source functions, lowest `order` first.

    The order settles only ties: the list is sorted overdue first, then by day, and items of the same day keep the
    order their sources gave them (a source puts its most pressing first)."""

    def __init__(self) -> None:
        self._sources: dict[str, tuple[int, Source | str]] = {}

    def register(self, source: Source | str, *, order: int) -> None:
        """Add a source (a function, or its dotted path, imported on first use). Registering the same source again
        replaces it, so an app's `todo.py` imported twice adds nothing."""
        self._sources[name_of(source)] = (order, source)

    def source(self, *, order: int) -> Callable[[Source], Source]:
        """Decorator form of `register`."""

        def decorate(func: Source) -> Source:
            self.register(func, order=order)
            return func

        return decorate

    def __iter__(self) -> Iterator[Source | str]:
        ranked = sorted(self._sources.items(), key=lambda entry: (entry[1][0], entry[0]))
        return iter([source for _, (_, source) in ranked])

    def __len__(self) -> int:
        return len(self._sources)


registry = Registry()
register = registry.register
source = registry.source


def name_of(source: Source | str) -> str:
    """A source's dotted path (for the registry and the operators' log)."""
    if isinstance(source, str):
        return source
    return f"{source.__module__}.{source.__qualname__}"


def items_of(source: Source | str, *, user, today: dt.date) -> list[TodoItem]:
    """What one source (a function or its dotted path) has for `user` on `today`, as TodoItems."""
    func = import_string(source) if isinstance(source, str) else source
    return [TodoItem.of(item) for item in func(user=user, today=today)]


# ---------------------------------------------------------------------------------------------------------
# Helpers the sources share


def moment(today: dt.date) -> dt.datetime:
    """The point in time a to-do list for `today` is computed at: now, or the same time of day on `today` (for
    `send_reminders --as-of`)."""
    now = timezone.now()
    if today == timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(today, timezone.localtime(now).time()))


def local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def month_period(today: dt.date) -> str:
    """The period of a monthly item: "2026-06"."""
    return f"{today:%Y-%m}"


def url_with_query(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}"
