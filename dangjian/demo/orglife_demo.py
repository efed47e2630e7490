"""The demo county's organizational life (演示数据 · 组织生活): a realistic year of activity records — the previous
year and the current year up to today — for a sample of the county's organizations (the first 200 branches by tree
order, and the 党委 and 党总支 above them), generated deterministically from the seed.

Most duties are met; a few are missed (a skipped month, a quarter without a lecture, a central-group study short of
90% attendance), so that the compliance page and `orglife_report` show every status. A 主题党日 usually also counts
as the month's 党小组会 (one record, two kinds).

Written directly in bulk (`core.bulk.insert_rows`, the builder's `create_with_history`: each record gets its
"created" history row), not through `orglife.services`: almost every record is older than the lock period, which
the service rightly refuses to take; the rows are exactly what the service would have written (only active
members of the organization as attendees, at most one row per member).
"""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

from django.utils import timezone

from dangjian.core.bulk import insert_rows
from dangjian.members.models import Member, Status
from dangjian.orglife.models import (
    LEADERSHIP_KINDS,
    ActivityAttendance,
    ActivityKind,
    ActivityRecord,
    ActivityRecordKind,
)
from dangjian.orgs.models import BRANCH_KINDS, Organization

K = ActivityKind
SAMPLE_BRANCHES = 200
ABSENCE_REASONS = ("外出培训", "病假", "事假", "出差", "值班", "产假")
TOPICS = {
    K.THEME_DAY: ("学习党章党规", "重温入党誓词", "走进红色教育基地", "志愿服务进社区", "学习贯彻全会精神"),
    K.COMMITTEE_MEETING: ("研究支部月度工作", "研究发展党员工作", "研究主题党日安排"),
    K.GENERAL_MEETING: ("支部党员大会：通报支部工作", "支部党员大会：讨论发展党员"),
    K.PARTY_LECTURE: ("书记讲党课：立德树人", "专题党课：师德师风建设", "党课：学习新思想"),
    K.LIFE_MEETING: ("年度组织生活会",),
    K.MEMBER_EVALUATION: ("年度民主评议党员",),
    K.SELF_STUDY: ("支部自学交流：理论学习",),
    K.CENTRAL_GROUP_STUDY: ("党委理论学习中心组学习",),
    K.PARTY_WORK_STUDY: ("专题研究党建工作",),
    K.IDEOLOGY_RISK: ("意识形态风险分析研判",),
    K.IDEOLOGY_STUDY: ("专题研究意识形态工作",),
    K.IDEOLOGY_BRIEFING: ("通报本单位意识形态工作情况",),
}


def _sample(limit: int) -> list[Organization]:
    branches = list(Organization.objects.dangerously_all().filter(kind__in=BRANCH_KINDS).order_by("path")[:limit])
    above = {b.path[:i] for b in branches for i in range(Organization.steplen, len(b.path), Organization.steplen)}
    leaders = Organization.objects.dangerously_all().filter(path__in=above, kind__in=LEADERSHIP_KINDS)
    return [*leaders, *branches]


def write_demo_orglife(plan=None, *, seed: int = 1, today: dt.date | None = None, limit: int = SAMPLE_BRANCHES) -> int:
    """Write the sample's records of last year and this year up to today; the number of records written."""
    today = today or timezone.localdate()
    rng = random.Random(f"orglife-{seed}")
    orgs = _sample(limit)
    members: dict[int, list[int]] = {}
    leaders: dict[int, list[int]] = {}  # the branch's leadership-team members (班子成员), who give its lectures
    for pk, org_id, is_leadership in (
        Member.objects.dangerously_all()
        .filter(organization__in=orgs, status=Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", "organization_id", "is_leadership")
    ):
        members.setdefault(org_id, []).append(pk)
        if is_leadership:
            leaders.setdefault(org_id, []).append(pk)
    # A 党委's or 党总支's own meetings (中心组学习, 专题研究) are its leadership team's: the leaders below it.
    by_path = {o.pk: o.path for o in orgs}
    for org in orgs:
        if org.kind in LEADERSHIP_KINDS:
            members[org.pk] = [
                pk for org_id, pks in leaders.items() if by_path[org_id].startswith(org.path) for pk in pks
            ]
    # org, date, kinds, attendance rate, lecturer
    planned: list[tuple[Organization, dt.date, list[str], float, int | None]] = []

    def add(org, year, months, kinds, *, chance=0.92, rate=0.93, lecturer=None):
        if rng.random() > chance:
            return  # a missed duty
        month = rng.choice(months)
        date = dt.date(year, month, rng.randint(1, 28))
        if date <= today and (org.established_on is None or date >= org.established_on):
            planned.append((org, date, kinds, rate, lecturer))

    for org in orgs:
        branch = org.kind in BRANCH_KINDS
        for year in (today.year - 1, today.year):
            for month in range(1, 13):
                if branch:
                    add(org, year, [month], [K.THEME_DAY, K.GROUP_MEETING] if rng.random() < 0.8 else [K.THEME_DAY])
                    add(org, year, [month], [K.COMMITTEE_MEETING], chance=0.9)
                    add(org, year, [month], [K.SELF_STUDY], chance=0.9, rate=0.97)
                add(org, year, [month], [K.IDEOLOGY_RISK], chance=0.93)
            for quarter in range(4):
                months = [3 * quarter + 1, 3 * quarter + 2, 3 * quarter + 3]
                if branch:
                    add(org, year, months, [K.GENERAL_MEETING], chance=0.95)
                    add(org, year, months, [K.PARTY_LECTURE], chance=0.88)
            # 建始（建教党〔2020〕9号）：班子成员每年带头讲党课至少1次 — most leaders do, in their own branch.
            for leader in leaders.get(org.pk, ()):
                add(org, year, list(range(3, 12)), [K.PARTY_LECTURE], chance=0.85, lecturer=leader)
            if branch:
                add(org, year, [12, 1], [K.LIFE_MEETING, K.MEMBER_EVALUATION], chance=0.9)
            else:
                for half in ((1, 2, 3, 4, 5, 6), (7, 8, 9, 10, 11, 12)):
                    for _ in range(3):
                        add(org, year, list(half), [K.CENTRAL_GROUP_STUDY], chance=0.95, rate=rng.choice((0.95, 0.85)))
            add(org, year, [3, 4, 5], [K.PARTY_WORK_STUDY], chance=0.95)
            add(org, year, [9, 10, 11], [K.PARTY_WORK_STUDY], chance=0.85)
            add(org, year, [4, 5, 6], [K.IDEOLOGY_STUDY], chance=0.95)
            add(org, year, [10, 11], [K.IDEOLOGY_STUDY], chance=0.85)
            add(org, year, [12], [K.IDEOLOGY_BRIEFING], chance=0.9)
    if not planned:
        return 0

    records = [
        ActivityRecord(
            organization=org,
            date=date,
            topic=rng.choice(TOPICS[kinds[0]]),
            place="党员活动室",
            host="支部书记" if org.kind in BRANCH_KINDS else "党委书记",
            lecturer_id=lecturer,
        )
        for org, date, kinds, _, lecturer in planned
    ]
    from dangjian.demo.builder import create_with_history  # the builder imports this module

    create_with_history(ActivityRecord, records)
    # Plain rows rather than model instances (a fraction of the cost): the fast inserts only read attributes.
    kinds_rows = [
        SimpleNamespace(record_id=record.pk, kind=kind)
        for record, (_, _, kinds, _, _) in zip(records, planned, strict=True)
        for kind in kinds
    ]
    attendance = []
    for record, (org, _, _, rate, _) in zip(records, planned, strict=True):
        for member_id in members.get(org.pk, ()):
            present = rng.random() < rate
            reason = "" if present else rng.choice(ABSENCE_REASONS)
            attendance.append(
                SimpleNamespace(record_id=record.pk, member_id=member_id, present=present, absence_reason=reason)
            )
    for model, rows in ((ActivityRecordKind, kinds_rows), (ActivityAttendance, attendance)):
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        insert_rows(model, fields, rows, returning=False)
    return len(records)
