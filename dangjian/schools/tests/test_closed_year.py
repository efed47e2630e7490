"""A closed year's school ranking never changes (docs/rules.md, "How the rules combine"): `rank_schools` of that year is
byte-identical before and after members who trained in its classes are moved, die or are re-categorized today —
the person-times are the sign-ins of the time, not today's roster."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members import services as member_services
from dangjian.members.models import Status
from dangjian.schools.tests.factories import ranked_schools
from dangjian.training.models import Attendance, AttendanceMethod, ClassStatus
from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory

YEAR = timezone.localdate().year - 1  # closed


def reports() -> list[str]:
    outputs = []
    for org in ((), ("--org", "BJ01"), ("--org", "BJ01A")):
        for fmt in (("--format", "csv"), ()):
            out, err = io.StringIO(), io.StringIO()
            call_command("rank_schools", "--year", str(YEAR), *org, *fmt, stdout=out, stderr=err)
            outputs.append(out.getvalue() + err.getvalue())
    return outputs


def test_todays_changes_leave_a_closed_years_ranking_byte_identical(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [90, 85, 85, 70, 60])
    start = timezone.make_aware(dt.datetime(YEAR, 9, 1, 9))
    trained = TrainingClassFactory(
        organizer=world.orgs["A"],
        school=schools[4],
        starts_on=start.date(),
        ends_on=start.date(),
        status=ClassStatus.FINISHED,
    )
    session = TrainingSessionFactory(training_class=trained, starts_at=start, ends_at=start + dt.timedelta(hours=3))
    a1, a2 = world.members["A"]
    for member in (a1, a2):
        Attendance.objects.create(session=session, member=member, method=AttendanceMethod.MANUAL)
    before = reports()

    committee = world.user(Role.COMMITTEE)
    transfer = member_services.member_transfer_start(by=committee, member=a1, to_organization=world.orgs["B"])
    member_services.member_transfer_accept(by=committee, transfer=transfer)
    member_services.member_update(by=committee, member=a1, is_leadership=True)
    member_services.member_change_status(
        by=committee, member=a2, status=Status.DECEASED, on=timezone.localdate(), reason="病故"
    )
    assert reports() == before
