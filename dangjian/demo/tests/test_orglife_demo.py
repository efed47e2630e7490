"""The demo's organizational life: a realistic year of records, most duties met and some missed, fast, and
`orglife_report` works on it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from dangjian.demo.orglife_demo import write_demo_orglife
from dangjian.orglife.models import ActivityAttendance, ActivityRecord, ActivityRecordKind
from dangjian.orgs.models import Organization

pytestmark = pytest.mark.django_db


def test_demo_orglife_and_the_report(small_demo):
    summary = small_demo
    assert summary.orglife_records == ActivityRecord.objects.count() > 100
    assert ActivityRecordKind.objects.count() > summary.orglife_records  # some records count for two kinds
    assert ActivityAttendance.objects.filter(present=False).exclude(absence_reason="").exists()
    assert not ActivityRecord.objects.filter(date__gt=timezone.localdate()).exists()
    assert ActivityRecord.history.count() == summary.orglife_records
    root = Organization.objects.get(depth=1)
    out = io.StringIO()
    call_command(
        "orglife_report",
        "--org",
        root.code,
        "--year",
        str(timezone.localdate().year - 1),
        "--format",
        "csv",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "党组织编码,党组织名称,活动类型,要求次数,已开展次数,状态"
    statuses = [line.rsplit(",", 1)[1] for line in lines[1:]]
    assert statuses.count("已完成") > statuses.count("未完成") > 0


def test_demo_orglife_is_deterministic(small_demo):
    # How fast it writes is measured by bench/demo_bench.py, not asserted here.
    first = list(ActivityRecord.objects.order_by("pk").values_list("organization__code", "date", "topic"))
    ActivityRecord.objects.all().delete()
    write_demo_orglife(seed=1)
    assert list(ActivityRecord.objects.order_by("pk").values_list("organization__code", "date", "topic")) == first
