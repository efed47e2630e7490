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
from dangjian.accounts.tests.factories import user_with_role
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


# ---------------------------------------------------------------------------------------------------------
# Two identical submissions at the same moment, and a connection lost in the middle of a save.


def _at_once(*calls) -> list[str]:
    """Run the calls in threads released together (each on its own connection); what each one gave: "ok", the
    refusal's message, or the repr of anything else (which the caller's assertion then shows)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call) -> None:
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _next_request_works(user, url: str) -> None:
    """What Django does at the end of every request: an unusable connection is closed, the next one opens afresh."""
    connection.close()
    close_old_connections()
    client = Client()
    client.force_login(user)
    assert client.get(url).status_code == 200


def _pending_transfer(world):
    from dangjian.members.services import member_transfer_start

    member = world.members["A"][0]
    receiver = user_with_role(Role.SECRETARY, world.orgs["B"], full_name="接收方书记")
    transfer = member_transfer_start(by=world.user(Role.SECRETARY), member=member, to_organization=world.orgs["B"])
    return member, transfer, receiver


def test_two_accepts_of_one_transfer_at_the_same_moment_move_the_member_once():
    from dangjian.members.models import MemberTransfer, TransferStatus
    from dangjian.members.services import member_transfer_accept

    world = build_world()
    member, transfer, receiver = _pending_transfer(world)
    version, history = Member.objects.get(pk=member.pk).version, member.history.count()
    outcomes = _at_once(*[lambda: member_transfer_accept(by=receiver, transfer=transfer)] * 2)
    assert outcomes.count("ok") == 1 and any("该转接已办理" in o for o in outcomes), outcomes
    member = Member.objects.get(pk=member.pk)
    assert member.organization == world.orgs["B"] and member.version == version + 1
    assert member.history.count() == history + 1
    assert MemberTransfer.objects.get(pk=transfer.pk).status == TransferStatus.ACCEPTED


def test_a_connection_killed_in_the_middle_of_a_transfer_writes_nothing_and_the_next_request_works(monkeypatch):
    from dangjian.members import services as member_services
    from dangjian.members.models import MemberTransfer, TransferStatus

    world = build_world()
    member, transfer, receiver = _pending_transfer(world)
    before = Member.objects.get(pk=member.pk)
    save_transfer = member_services._save_transfer

    def lose_the_connection_then_save(transfer, by):
        # The member has been moved (its UPDATE sent), the transfer not yet marked: the server goes away.
        _kill(connection.connection.info.backend_pid)
        return save_transfer(transfer, by)

    monkeypatch.setattr(member_services, "_save_transfer", lose_the_connection_then_save)
    with pytest.raises((OperationalError, InterfaceError, DatabaseError)):
        member_services.member_transfer_accept(by=receiver, transfer=transfer)
    monkeypatch.undo()
    _next_request_works(receiver, f"/members/{member.pk}/")
    after = Member.objects.get(pk=member.pk)
    assert (after.organization_id, after.version) == (before.organization_id, before.version)
    assert MemberTransfer.objects.get(pk=transfer.pk).status == TransferStatus.PENDING
    member_services.member_transfer_accept(by=receiver, transfer=transfer)  # and it can be done again
    assert Member.objects.get(pk=member.pk).organization == world.orgs["B"]


def test_a_connection_killed_in_the_middle_of_a_record_save_writes_nothing_and_the_next_request_works(monkeypatch):
    from dangjian.orglife import services as orglife_services
    from dangjian.orglife.models import ActivityAttendance, ActivityRecord
    from dangjian.orglife.tests.factories import ActivityRecordFactory

    world = build_world()
    record = ActivityRecordFactory(
        organization=world.orgs["A"], date=timezone.localdate() - dt.timedelta(days=2), topic="原主题"
    )
    attendance_before = list(ActivityAttendance.objects.filter(record=record).values_list("member_id", "present"))
    write_attendance = orglife_services._write_attendance

    def lose_the_connection(record, rows):
        write_attendance(record, rows)  # the record and its attendance sent, not committed
        _kill(connection.connection.info.backend_pid)

    monkeypatch.setattr(orglife_services, "_write_attendance", lose_the_connection)
    with pytest.raises((OperationalError, InterfaceError, DatabaseError)):
        orglife_services.record_update(
            by=world.user(Role.SECRETARY),
            record=record,
            topic="改了一半的主题",
            attendees=[world.members["A"][0].pk],
            absentees={world.members["A"][1].pk: "出差"},
        )
    monkeypatch.undo()
    _next_request_works(world.user(Role.SECRETARY), f"/orglife/records/{record.pk}/")
    assert ActivityRecord.objects.get(pk=record.pk).topic == "原主题"
    after = list(ActivityAttendance.objects.filter(record=record).values_list("member_id", "present"))
    assert after == attendance_before


def test_two_identical_visits_at_the_same_moment_record_one():
    from dangjian.supervision.models import Visit
    from dangjian.supervision.tests.factories import assign, institution, instructor, visit

    world = build_world()
    inst = institution(world.orgs["B"])
    appointment = instructor(world.orgs["B"])
    assign(inst, appointment)
    day = timezone.localdate() - dt.timedelta(days=1)
    outcomes = _at_once(*[lambda: visit(inst, day, findings="同一次走访")] * 2)
    assert outcomes.count("ok") == 1 and any("本月已有走访记录" in o for o in outcomes), outcomes
    assert Visit.objects.filter(institution=inst).count() == 1


def _place():
    from dangjian.schools.tests.test_booking_services import build_place

    return build_place(build_world())


def test_two_identical_new_bookings_at_the_same_moment_file_one():
    from dangjian.schools.models import BookingEvent, BookingRequest
    from dangjian.schools.tests.test_booking_services import create

    place = _place()
    outcomes = _at_once(*[lambda: create(place)] * 2)
    assert outcomes == ["ok", "ok"], outcomes  # the second click gets the draft the first one filed
    (booking,) = BookingRequest.objects.filter(school=place.town)
    assert BookingEvent.objects.filter(booking=booking).count() == 1


def test_two_identical_schedulings_at_the_same_moment_record_one_step():
    from dangjian.schools.models import BookingEvent, BookingStatus
    from dangjian.schools.services.booking import booking_schedule
    from dangjian.schools.tests.test_booking_services import at, submitted

    place = _place()
    booking = submitted(place)
    events = BookingEvent.objects.filter(booking=booking).count()

    def schedule():
        booking_schedule(
            by=place.district_admin,
            booking=booking,
            instructor=place.instructor,
            starts_at=at(9),
            ends_at=at(11),
            venue=place.town_venue,
        )

    assert _at_once(schedule, schedule) == ["ok", "ok"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.SCHEDULED
    assert BookingEvent.objects.filter(booking=booking).count() == events + 1


def test_two_editors_saving_at_the_same_moment_one_is_refused_nothing_lost():
    from dangjian.members.services import member_update

    world = build_world()
    member = Member.objects.get(pk=world.members["A"][1].pk)
    loaded = member.version
    names = {"committee": "党委改的名字", "secretary": "支部改的名字"}
    outcomes = _at_once(
        lambda: member_update(
            by=world.user(Role.COMMITTEE), member=member, expected_version=loaded, name=names["committee"]
        ),
        lambda: member_update(
            by=world.user(Role.SECRETARY), member=member, expected_version=loaded, name=names["secretary"]
        ),
    )
    assert outcomes.count("ok") == 1 and any("已被他人修改" in o for o in outcomes), outcomes
    after = Member.objects.get(pk=member.pk)
    assert after.name in names.values() and after.version == loaded + 1
