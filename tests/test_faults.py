"""Faults on PostgreSQL (docs/operator-guide.md, "Serving"): a database connection killed in the middle of an import
leaves nothing half-written and the next request works; two identical submissions at the same moment create one row.

These tests commit for real (the world is built in a transactional test), so they run on PostgreSQL only."""

from __future__ import annotations

import datetime as dt
import io
import threading

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection
from django.test import Client
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members.imports import _Importer, import_members
from dangjian.members.models import Member
from dangjian.members.tests.test_import import person, xlsx
from dangjian.training.models import Attendance, ClassStatus
from dangjian.training.services.enrollment import enrollment_add
from dangjian.training.services.sessions import session_add
from dangjian.training.services.sign_in import session_sign_in
from dangjian.training.tests.factories import TrainingClassFactory
from tests.scope import build_world

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="fault tests kill PostgreSQL backends"),
    pytest.mark.django_db(transaction=True),
]


def _kill(pid: int) -> None:
    """Terminate a backend from another connection, as a crashed server or a network cut would."""
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_killed_in_the_middle_of_an_import_writes_nothing_and_the_next_request_works(monkeypatch):
    world = build_world()
    before = Member.objects.dangerously_all().count()
    write = _Importer.write

    def write_then_lose_the_connection(self, stream):
        write(self, stream)  # every row sent to the server, the transaction not yet committed
        _kill(connection.connection.info.backend_pid)

    monkeypatch.setattr(_Importer, "write", write_then_lose_the_connection)
    rows = [person(n) for n in range(1, 31)]
    with pytest.raises((OperationalError, InterfaceError, DatabaseError)):
        import_members(io.BytesIO(xlsx(rows)), name="roster.xlsx", by=world.user(Role.COMMITTEE))
    # What Django does at the end of every request: an unusable connection is closed, the next one opens afresh.
    connection.close()
    close_old_connections()
    assert Member.objects.dangerously_all().count() == before
    monkeypatch.undo()
    client = Client()
    client.force_login(world.user(Role.COMMITTEE))
    assert client.get("/members/").status_code == 200


def test_two_sign_ins_at_the_same_moment_record_one_attendance():
    world = build_world()
    today = timezone.localdate()
    training_class = TrainingClassFactory(
        organizer=world.orgs["A"],
        status=ClassStatus.APPROVED,
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1),
    )
    starts_at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    session = session_add(
        by=world.user(Role.SCHOOL_ADMIN),
        training_class=training_class,
        title="学习党章",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        hours="2",
    )
    enrollment_add(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, members=[world.self_member])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            session_sign_in(by=world.user(Role.MEMBER), session=session, code=session.short_code)
            outcomes.append("signed")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        except Exception as exc:  # anything else is a failure the assertion below shows
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("signed") == 1 and any("已签到" in outcome for outcome in outcomes), outcomes
    assert Attendance.objects.filter(session=session, member=world.self_member).count() == 1
