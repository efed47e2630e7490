"""A closed year's organizational-life figures never change (docs/rules.md, "How the rules combine"): the rosters of the
time come from the membership history, so transfers, status changes and re-categorizations made today leave
`orglife_report` of that year byte-identical."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members import services as member_services
from dangjian.members.models import Category, Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife.models import ActivityKind
from dangjian.orglife.tests.factories import ActivityRecordFactory

YEAR = timezone.localdate().year - 1  # closed


def reports() -> list[str]:
    outputs = []
    for org in ("BJ01", "BJ01A", "BJ01B"):
        for extra in ((), ("--quarter", "2"), ("--quarter", "4")):
            for fmt in (("--format", "csv"), ()):
                out = io.StringIO()
                call_command("orglife_report", "--org", org, "--year", str(YEAR), *extra, *fmt, stdout=out)
                outputs.append(out.getvalue())
    return outputs


def test_todays_changes_leave_a_closed_years_orglife_report_byte_identical(world):
    a, b = world.orgs["A"], world.orgs["B"]
    a1, a2 = world.members["A"]
    b1 = world.members["B"][0]
    probationary = MemberFactory(organization=b, category=Category.PROBATIONARY, full_date=None)
    for month in (3, 6, 9, 12):
        ActivityRecordFactory(
            organization=a,
            date=dt.date(YEAR, month, 10),
            kinds=[ActivityKind.SELF_STUDY],
            attendance=[(a1, True), (a2, False)],
        )
        ActivityRecordFactory(
            organization=b,
            date=dt.date(YEAR, month, 12),
            kinds=[ActivityKind.THEME_DAY],
            attendance=[(b1, True), (probationary, True)],
        )
    before = reports()

    committee = world.user(Role.COMMITTEE)
    today = timezone.localdate()
    transfer = member_services.member_transfer_start(by=committee, member=a1, to_organization=b)
    member_services.member_transfer_accept(by=committee, transfer=transfer)
    member_services.member_change_status(by=committee, member=a2, status=Status.DECEASED, on=today, reason="病故")
    member_services.member_transfer_out(by=committee, member=b1, destination="外省", letter_number="2026-02", on=today)
    member_services.member_make_full(by=committee, member=probationary, on=today)

    assert reports() == before


def test_re_categorizing_leaders_today_leaves_the_closed_years_lecture_duty_unchanged(world):
    """The leaders' yearly lecture is checked against the leadership of the time: making one member a leader today
    and another no longer one never rewrites last year's per-member row."""
    a, b = world.orgs["A"], world.orgs["B"]
    a1, a2 = world.members["A"]
    a1.is_leadership = True
    a1.save()
    quiet = MemberFactory(organization=b, is_leadership=True)
    ActivityRecordFactory(
        organization=a, date=dt.date(YEAR, 4, 2), kinds=[ActivityKind.PARTY_LECTURE], lecturer=a1, attendance=[]
    )
    before = reports()
    committee = world.user(Role.COMMITTEE)
    member_services.member_update(by=committee, member=a1, is_leadership=False)
    member_services.member_update(by=committee, member=quiet, is_leadership=False)
    member_services.member_update(by=committee, member=a2, is_leadership=True)
    assert reports() == before
