"""A closed year's points ranking never changes (docs/rules.md, "How the rules combine"): `institution_points` of that
year is byte-identical before and after what is done today — an institution suspended, a clue handed on, members
of the joint branches moved, deceased or re-categorized."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from dangjian.members import services as member_services
from dangjian.members.models import Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.supervision.models import ApprovalStatus, PointRule, RedListPolicy
from dangjian.supervision.services.clues import clue_pass
from dangjian.supervision.services.institutions import institution_update
from dangjian.supervision.services.points import point_event_record, red_list_request
from dangjian.supervision.tests.factories import SYSTEM, clue, institution

pytestmark = pytest.mark.django_db


def reports() -> list[str]:
    outputs = []
    for org in ((), ("--org", "YY"), ("--org", "YY-P1")):
        for fmt in (("--format", "csv"), ()):
            out = StringIO()
            call_command("institution_points", "--year", "2024", *org, *fmt, stdout=out)
            outputs.append(out.getvalue())
    return outputs


def test_todays_changes_leave_a_closed_years_points_byte_identical(district):
    RedListPolicy.objects.update(top_percent=None, top_n=1)
    a = institution(district.j1, name="甲机构")
    b = institution(district.j2, name="乙机构")
    for inst, code in ((a, "PB02"), (b, "PB01")):
        point_event_record(by=SYSTEM, institution=inst, rule=PointRule.objects.get(code=code), date=dt.date(2024, 2, 1))
    red_list_request(by=SYSTEM, institution=b, year=2024, today=dt.date(2024, 12, 20))
    found = clue(a, found_on=dt.date(2024, 3, 5))
    teacher = MemberFactory(organization=district.j1, is_leadership=True)
    before = reports()

    today = timezone.localdate()
    institution_update(by=SYSTEM, institution=a, approval_status=ApprovalStatus.SUSPENDED, closed_on=today, today=today)
    clue_pass(by=SYSTEM, clue=found, department="区教育局", date=today, today=today)
    transfer = member_services.member_transfer_start(by=SYSTEM, member=teacher, to_organization=district.j2)
    member_services.member_transfer_accept(by=SYSTEM, transfer=transfer)
    member_services.member_update(by=SYSTEM, member=teacher, is_leadership=False)
    member_services.member_change_status(by=SYSTEM, member=teacher, status=Status.DECEASED, on=today, reason="病故")

    assert reports() == before
