"""Kept summaries: figures that are costly to compute (a county's compliance report, a committee's to-do list, the
workbench counts) read from Django's shared cache for a short while, never stale after a write.

Each cached figure belongs to one or more *topics* ("orglife", "business"). A topic has a version, a random token
kept in the cache; the figure's key holds the versions of its topics, so changing a version makes every figure of
that topic unreachable at once (they expire on their own, TIMEOUT later). The version changes whenever a statement
writes to a table of the topic (TOPIC_TABLES): the database wrapper below sees every INSERT, UPDATE and DELETE that
goes through Django's cursors, bulk ones included, and `note_write` is called by the code that writes around them
(COPY in `core.bulk`). Inside a transaction the version changes right after the statement (so the same request
reads its own write) and again when the transaction commits (so nothing another process computed from the data
before the commit outlives it); in autocommit, right after the statement.

The cache is the shared one (the database or Redis, settings.CACHES), so every app process sees the same versions:
a write handled by one gunicorn worker is seen by the next request whichever worker serves it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.signals import request_finished
from django.db import connections
from django.db.backends.signals import connection_created

T = TypeVar("T")

# Long enough for a committee user's clicks between pages to hit; short enough that what depends on the clock
# (the day is part of the keys, "now" is not) is never off by much.
TIMEOUT = 120
# How long a figure may lag other users' writes (never its user's own): a steady stream of records from the
# branches would otherwise rebuild a county's figures on every page.
GRACE = 30
# Servers' clocks may differ a little; a user's write counts as this much later.
CLOCK_SLACK = 1.0

# Which tables each topic's figures are computed from, by prefix (the app's label).
TOPIC_TABLES: dict[str, tuple[str, ...]] = {
    # The compliance report: records, attendance, duties, rosters (members, transfers, flags), the organizations.
    "orglife": ("orglife_", "members_", "orgs_"),
    # The hours dashboard: the ledger, the members and organizations it covers.
    "hours": ("training_", "members_", "orgs_"),
    # The to-do list and the workbench counts read every business app, and the grants that make a user's scope.
    "business": (
        "orglife_",
        "members_",
        "orgs_",
        "training_",
        "schools_",
        "supervision_",
        "committees_",
        "notices_",
        "dues_",
        "development_",
        "exams_",
        "jobs_",
        "accounts_roleassignment",
    ),
}

_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+"?(\w+)', re.IGNORECASE)
_local = threading.local()
# While `migrate` runs there may be no cache table yet (it is created after the migrations): writes are not
# noticed then, and every topic gets a new version once the migrations are done (`resume`).
_paused = False


def topics_of(table: str) -> list[str]:
    """The topics whose figures a write to `table` changes."""
    table = table.lower()
    return [topic for topic, prefixes in TOPIC_TABLES.items() if table.startswith(prefixes)]


def _version_key(topic: str) -> str:
    return f"summary-version:{topic}"


def versions(topics: Iterable[str], found: dict | None = None) -> dict[str, str]:
    """The current version of each topic (read from `found`, what a `get_many` gave, when given); a topic without
    one (new, or its key evicted) gets a fresh random token, so figures stored under an older token never match."""
    topics = list(topics)
    if found is None:
        found = cache.get_many([_version_key(t) for t in topics])
    out = {}
    for topic in topics:
        value = found.get(_version_key(topic))
        if value is None:
            token = secrets.token_hex(8)
            cache.add(_version_key(topic), token, timeout=None)
            value = cache.get(_version_key(topic)) or token
        out[topic] = value
    return out


def _writer_key(user_pk) -> str:
    return f"summary-wrote:{user_pk}"


def _writer() -> object:
    """Who writes now: the request's user's pk, or "*" for a write outside any user's request (a command, a job, an
    import, the tests), which counts as everyone's own."""
    from dangjian.core.request_context import current

    user = getattr(current(), "user", None)
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else "*"


def _note_writer(*, writer: object = None, committed: bool = False) -> None:
    """Remember when `writer` (default: who writes now) last wrote: their figures begun before then are not served
    to them."""
    writer = _writer() if writer is None else writer
    cache.set(_writer_key(writer), time.time() + (0 if committed else CLOCK_SLACK), timeout=GRACE * 2)


def bump(*topics: str) -> None:
    """Make every figure of `topics` unreachable (a new random version each)."""
    for topic in topics:
        cache.set(_version_key(topic), secrets.token_hex(8), timeout=None)
    _read_since_bump().difference_update(topics)


def forget_all() -> None:
    """Make every kept figure unreachable for everyone (the benchmark's cold first request)."""
    bump(*TOPIC_TABLES)
    cache.set(_writer_key("*"), time.time(), timeout=GRACE * 2)


def _read_since_bump() -> set[str]:
    if not hasattr(_local, "read"):
        _local.read = set()
    return _local.read


def cached(
    topics: Iterable[str], name: str, parts: Iterable[Any], compute: Callable[[], T], *, user=None, timeout=TIMEOUT
) -> T:
    """`compute()`, or what it returned before for the same `name` and `parts`: while no table of `topics` was
    written to; or, for `user`, up to GRACE seconds after another user's write in a request (never after their own,
    nor after a write outside any request: a figure begun before such a write is recomputed). `parts` must name
    everything the figure depends on besides those tables: the user's scope, the organization, the year, the day."""
    flush()
    topics = sorted(set(topics))
    digest = hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:32]
    key = f"summary:{name}:{digest}"
    writer, anyone = _writer_key(getattr(user, "pk", None)), _writer_key("*")
    found = cache.get_many([key, writer, anyone, *(_version_key(t) for t in topics)])
    current = versions(topics, found)
    # This thread has read under the current versions: its next write must change them even inside a transaction.
    _read_since_bump().update(topics)
    entry = found.get(key)
    if entry is not None:
        at_versions, started, value = entry
        if at_versions == current:
            return value
        # Only others wrote since: a short while the figures may lag their writes (under a steady stream of
        # records a county's report would otherwise be rebuilt on every page), never the user's own.
        if time.time() - started < GRACE and started > max(found.get(writer, 0), found.get(anyone, 0)):
            return value
    started = time.time()
    value = compute()
    cache.set(key, (current, started, value), timeout)
    return value


def scope_of(user) -> tuple:
    """What a user's figures depend on besides the data: their roles and the roots and organizations they see."""
    from dangjian.accounts.access import access_for

    access = access_for(user)
    return (
        access.system,
        tuple(sorted(access.roles)),
        tuple(sorted(access.view_roots)),
        tuple(sorted(access.own_org_ids)),
        tuple(sorted(access.member_edit_roots)),
    )


# ---------------------------------------------------------------------------------------------------------
# Noticing writes


class _OnCommit:
    """The versions to change when the current transaction commits (one per transaction and connection)."""

    def __init__(self) -> None:
        self.topics: set[str] = set()

    def __call__(self) -> None:
        flush()
        bump(*self.topics)
        _note_writer(committed=True)


def note_write(table: str, *, using: str = "default") -> None:
    """Tell the kept summaries that `table` was written to on connection `using` (for writes that do not go through
    Django's cursor wrappers, like COPY). The versions change at the next safe point (`flush`): not while the
    writing statement may still be open (SQLite refuses a savepoint, which the database cache takes, then)."""
    topics = topics_of(table)
    if not topics or _paused:
        return
    connection = connections[using]
    if connection.in_atomic_block:
        # Entries are (savepoint ids, function, robust); the function is the second.
        pending = next((e[1] for e in connection.run_on_commit if isinstance(e[1], _OnCommit)), None)
        if pending is None:
            pending = _OnCommit()
            connection.on_commit(pending)
        read = _read_since_bump()
        # The first write of a transaction, or one after this thread read under the current version: change it
        # now so that this transaction's own later reads do not see a figure computed before the write.
        now = {t for t in topics if t not in pending.topics or t in read}
        pending.topics.update(topics)
        committed = False
    else:
        now, committed = set(topics), True
    if now:
        due = _due()
        due["topics"].update(now)
        due["committed"] = due.get("committed", False) or committed
        # Who wrote is known now; the versions may change after the request (at its end), when it is not.
        writer = _writer()
        due["writer"] = writer if due.get("writer", writer) == writer else "*"


def _due() -> dict:
    if not hasattr(_local, "due"):
        _local.due = {"topics": set()}
    return _local.due


def flush(**kwargs) -> None:
    """Change the versions this thread's writes made due (before its next statement, its next kept figure, at the
    commit and at the end of the request)."""
    due = _due()
    if not due["topics"] or getattr(_local, "flushing", False):
        return
    topics, committed, writer = set(due["topics"]), due.get("committed", False), due.pop("writer", None)
    due["topics"].clear()
    due["committed"] = False
    _local.flushing = True
    try:
        bump(*topics)
        _note_writer(writer=writer, committed=committed)
    finally:
        _local.flushing = False


def _watch(execute, sql, params, many, context):
    # The statement before this one is done: a good moment to change the versions its writes made due.
    flush()
    result = execute(sql, params, many, context)
    match = _WRITE.match(sql) if isinstance(sql, str) else None
    if match:
        note_write(match.group(1), using=context["connection"].alias)
    return result


def _install(sender, connection, **kwargs) -> None:
    # Writes to the cache's own table (the database cache) are not data: its table name matches no topic. First in
    # the list: `connection.execute_wrapper()` pops the last one when its block ends, which must not be this one.
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


def pause(**kwargs) -> None:
    """Stop noticing writes (`pre_migrate`: the cache's table may not exist yet)."""
    global _paused
    _paused = True


def resume(**kwargs) -> None:
    """Notice writes again and give every topic a new version (`post_migrate`, once the cache's table exists)."""
    global _paused
    _paused = False
    bump(*TOPIC_TABLES)


def install() -> None:
    """Watch every connection's writes (called once, from `CoreConfig.ready`)."""
    connection_created.connect(_install, dispatch_uid="dangjian.core.summaries")
    request_finished.connect(flush, dispatch_uid="dangjian.core.summaries.flush")
    for alias in connections:
        connection = connections[alias]
        if connection.connection is not None:
            _install(None, connection)
