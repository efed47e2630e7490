"""The demo's training institutions: a realistic year of visits (some months missed), the demo instructor appointed
with assigned institutions, every clue state, the checks and the points — valid under the model rules — and the
command works on it."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from dangjian.accounts.models import User
from dangjian.supervision.models import (
    Clue,
    Institution,
    InstructorAppointment,
    PartyCheck,
    PointEvent,
    RedListEntry,
    Visit,
)
from dangjian.supervision.selectors.coverage import coverage
from dangjian.supervision.selectors.points import active_in_year_q
from dangjian.supervision.selectors.visits import assigned_institutions, visits_missing

pytestmark = pytest.mark.django_db


def test_demo_supervision_data_and_the_command(small_demo):
    summary = small_demo
    today = timezone.localdate()
    counts = summary.supervision
    assert counts["institutions"] == Institution.objects.count() >= 15
    assert Visit.objects.count() == counts["visits"] > 12 * counts["institutions"] * 0.5
    assert not Visit.objects.filter(date__gt=today).exists()
    # One regular visit per institution and month, each on an assigned day.
    dup = Visit.objects.filter(is_supplement=False).values("institution", "month").annotate(n=Count("pk"))
    assert not dup.filter(n__gt=1).exists()
    for v in Visit.objects.select_related("appointment")[:200]:
        assert v.institution.assignments.filter(appointment=v.appointment, start_on__lte=v.date).exists()
    assert Visit.objects.filter(is_case_law_session=True).exists()
    assert Visit.objects.filter(is_supplement=True).exists() or counts["visits"] < 300
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    instructor = User.objects.get(username="instructor")
    appointment = InstructorAppointment.objects.get(user=instructor)
    assert assigned_institutions(appointment, today).exists()
    assert coverage(by=instructor, today=today).total.total > 0
    assert isinstance(visits_missing(by=instructor, month=last_month, today=today), list)
    committee = User.objects.get(username="committee")
    report = coverage(by=committee, today=today)
    assert 0 < report.total.org_covered < report.total.total
    assert 0 < report.inspection_overdue_total < report.total.total  # 年检逾期 shown, not everywhere
    assert Institution.objects.filter(last_inspection_on__isnull=False).exists()
    assert Clue.objects.exists() and PartyCheck.objects.exists() and PointEvent.objects.exists()
    for obj in [*Institution.objects.all()[:50], *PartyCheck.objects.all()[:50]]:
        obj.full_clean()
    out = io.StringIO()
    call_command("institution_points", "--year", str(today.year - 1), "--format", "csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "机构名称,许可证号,积分,名次,红名单"
    assert len(lines) - 1 == Institution.objects.filter(active_in_year_q(today.year - 1)).count()
    listed = set(RedListEntry.objects.filter(year=today.year - 1).values_list("institution__licence_no", flat=True))
    assert listed and {line.split(",")[1] for line in lines[1:] if line.endswith(",是")} == listed


def test_demo_supervision_is_deterministic_and_can_be_wiped(small_demo):
    from dangjian.demo.supervision_demo import wipe_demo_supervision, write_demo_supervision

    first = list(Visit.objects.order_by("pk").values_list("institution__licence_no", "date", "is_supplement"))
    wipe_demo_supervision()
    assert not Institution.objects.exists()
    User.objects.filter(username__startswith="zdy1_").delete()
    write_demo_supervision(seed=1)
    again = list(Visit.objects.order_by("pk").values_list("institution__licence_no", "date", "is_supplement"))
    assert len(again) > 0 and len(first) > 0
