"""The demo county's off-campus training institutions (演示数据 · 校外培训机构党建), generated deterministically from
the seed: every training-institution unit of the plan registered as an institution (licence, subject type, approval,
area = its town), a grid cell per town anchored on a school there, pairings of joint branches with school branches
and their activities, instructors (about one for three institutions, as in Yiyang: 187 for 530) — the demo login
`instructor` among them, assigned the institutions of the joint branches its role is granted on — with a few
reassignments, a realistic year of monthly visits (last year and this year up to today; some months missed, some
supplements, about half of them "以案说法", some leaving a “四个一” item out), clues in every state, the three checks
(the last annual inspection kept on the institution; a few institutions with their 年检 overdue), points under the
default rules and last year's red list.

Written directly in bulk (`core.bulk.insert_rows`, the builder's `create_with_history`), not through the services:
almost everything is in the past, dated before the services' "today"; the rows are those the services would write
(one regular visit per institution and month, visits only on assigned days, clue states along the allowed
transitions).
"""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.models import User
from dangjian.core.bulk import insert_rows
from dangjian.members.models import Member, Status
from dangjian.orgs.models import BRANCH_KINDS, Unit, UnitKind
from dangjian.supervision.models import (
    AppointmentSource,
    ApprovalStatus,
    Assignment,
    CheckKind,
    CheckResult,
    Clue,
    ClueStatus,
    ClueUpdate,
    GridCell,
    Institution,
    InstructorAppointment,
    Pairing,
    PairingActivity,
    PartyCheck,
    PointEvent,
    PointRule,
    RedListEntry,
    SubjectType,
    Visit,
    month_end,
)
from dangjian.supervision.selectors.points import points_ranking

PER_INSTRUCTOR = 3
FINDINGS = (
    "指导机构完善党建台账，学习“双减”政策文件。",
    "讲解校外培训收费监管政策，核查收费公示。",
    "检查消防通道和疏散指示，提醒定期演练。",
    "指导党员亮身份、树形象，开展承诺践诺。",
    "核查从业人员资质和培训内容备案情况。",
)
HAZARDS = ("灭火器过期未更换", "安全出口堆放杂物", "教室人均面积不足", "监控存储不足30天")
CLUES = (
    "疑似以“一对一家教”名义违规开展学科类培训",
    "预收费超过3个月，未纳入资金监管",
    "聘用无教师资格证人员授课",
    "周末违规组织学科类集中培训",
    "虚假宣传“提分保过”",
)
DEPARTMENTS = ("县教育局综合执法大队", "县市场监督管理局", "县消防救援大队")
ACTIVITIES = (
    "联合开展主题党日：学习党的二十大精神",
    "党员进社区志愿服务",
    "结对共建：家校沟通讲座",
    "红色教育实境课堂",
)


def _date_in(rng, start: dt.date, end: dt.date) -> dt.date:
    return start if end <= start else start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _area_of(address: str) -> str:
    for sep in ("镇", "乡"):
        if sep in address:
            head = address.split(sep)[0]
            return head[-2:] + sep if len(head) >= 2 else head + sep
    return "城区"


def write_demo_supervision(plan=None, *, seed: int = 1, today: dt.date | None = None) -> dict[str, int]:
    """Write the demo institutions and their supervision records; the counts written by kind."""
    from dangjian.demo.builder import create_with_history  # the builder imports this module

    today = today or timezone.localdate()
    rng = random.Random(f"supervision-{seed}")
    units = list(
        Unit.objects.dangerously_all()
        .filter(kind=UnitKind.TRAINING_INSTITUTION)
        .select_related("organization")
        .order_by("pk")
    )
    if not units:
        return {}
    first_year = today.year - 1
    year_start = dt.date(first_year, 1, 1)

    # Grid cells: one per town, anchored on a school unit of that town with an organization.
    schools = list(
        Unit.objects.dangerously_all().filter(kind=UnitKind.SCHOOL, organization__isnull=False).order_by("pk")
    )
    cells: dict[str, GridCell] = {}
    for area in sorted({_area_of(u.address) for u in units}):
        school = next((s for s in schools if area in s.address), schools[0] if schools else None)
        if school is not None:
            cells[area] = GridCell(
                name=f"{area}网格（{school.name}）", school=school, organization=school.organization, area=area
            )
    create_with_history(GridCell, list(cells.values()))

    institutions = []
    for n, unit in enumerate(units, start=1):
        area = _area_of(unit.address)
        covered = unit.organization_id is not None
        roll = rng.random()
        if covered or roll < 0.7:
            status = ApprovalStatus.APPROVED
        elif roll < 0.9:
            status = ApprovalStatus.PREPARING
        else:
            status = ApprovalStatus.SUSPENDED
        approved = (
            None
            if status == ApprovalStatus.PREPARING
            else _date_in(rng, dt.date(2019, 3, 1), today - dt.timedelta(days=20))
        )
        if not covered and status == ApprovalStatus.APPROVED and rng.random() < 0.4:
            approved = _date_in(rng, today - dt.timedelta(days=90), today - dt.timedelta(days=5))  # newly approved
        institutions.append(
            Institution(
                unit=unit,
                licence_no=f"教民130534{(270000000 + n * 7) % 10**9:09d}号",
                subject_type=SubjectType.SUBJECT if rng.random() < 0.15 else SubjectType.NON_SUBJECT,
                approval_status=status,
                approved_on=approved,
                closed_on=_date_in(rng, approved, today) if status == ApprovalStatus.SUSPENDED else None,
                staff_count=rng.randint(4, 40),
                area=area,
                grid_cell=cells.get(area),
            )
        )
    create_with_history(Institution, institutions)
    operating = [i for i in institutions if i.approval_status == ApprovalStatus.APPROVED]

    # Instructors: the demo login first, then one user per three institutions, from the area's schools' members.
    demo_user = User.objects.filter(username="instructor").first()
    root = plan.root.obj if plan is not None else None
    candidates = list(
        Member.objects.dangerously_all()
        .filter(status=Status.ACTIVE, unit__kind=UnitKind.SCHOOL, user__isnull=True)
        .order_by("pk")
        .values_list("pk", "name", "organization_id")[: max(1, len(operating) // PER_INSTRUCTOR) * 3]
    )
    rng.shuffle(candidates)
    wanted = max(1, len(operating) // PER_INSTRUCTOR)
    password = make_password(None)
    users = [
        User(username=f"zdy{seed}_{i:04d}", password=password, full_name=name, is_active=True)
        for i, (_, name, _) in enumerate(candidates[: wanted - 1], start=1)
    ]
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__in=[u.username for u in users]).order_by("username"))
    appointments = []
    if demo_user is not None:
        appointments.append(
            InstructorAppointment(
                user=demo_user,
                name=demo_user.full_name or demo_user.username,
                source=AppointmentSource.BUREAU,
                appointing_organization=root or units[0].managing_organization,
                start_on=dt.date(first_year - 1, 9, 1),
            )
        )
    for user, (member_id, name, org_id) in zip(users, candidates, strict=False):
        from_bureau = root is not None and rng.random() < 0.3
        appointments.append(
            InstructorAppointment(
                user=user,
                member_id=member_id,
                name=name,
                source=AppointmentSource.BUREAU if from_bureau else AppointmentSource.SCHOOL,
                appointing_organization_id=root.pk if from_bureau else org_id,
                start_on=_date_in(rng, dt.date(2021, 9, 1), dt.date(first_year, 3, 1)),
            )
        )
    create_with_history(InstructorAppointment, appointments)

    # Assignments: the demo instructor takes the institutions of its granted joint branches; the others in turn.
    demo_branches = {b.obj.pk for b in getattr(plan, "instructor_branches", [])} if plan is not None else set()
    others = appointments[1:] if demo_user is not None else appointments
    assignments: list[Assignment] = []
    current: dict[int, Assignment] = {}
    k = 0
    for inst in operating:
        if demo_user is not None and inst.unit.organization_id in demo_branches:
            appointment = appointments[0]
        elif rng.random() < 0.07 or not others:
            continue  # not yet assigned: a gap in work coverage
        else:
            appointment = others[k % len(others)]
            k += 1
        start = max(inst.approved_on, appointment.start_on, dt.date(first_year - 1, 9, 1))
        if start > today:
            continue
        row = Assignment(appointment=appointment, institution=inst, start_on=start)
        if appointment is not appointments[0] and len(others) > 1 and rng.random() < 0.1:
            # A reassignment in the course of the demo years: the old row closed the day before.
            switch = _date_in(rng, max(start + dt.timedelta(days=30), year_start), today - dt.timedelta(days=10))
            if switch > start:
                row.end_on = switch - dt.timedelta(days=1)
                assignments.append(row)
                successor = others[(k + 7) % len(others)]
                row = Assignment(appointment=successor, institution=inst, start_on=switch)
        assignments.append(row)
        current[inst.pk] = row
    create_with_history(Assignment, assignments)
    by_institution: dict[int, list[Assignment]] = {}
    for row in assignments:
        by_institution.setdefault(row.institution_id, []).append(row)

    # Visits: every month of last year and this year up to today, per assigned institution.
    visits: list[Visit] = []
    month = year_start
    while month <= today:
        end = min(month_end(month), today)
        current_month = month.year == today.year and month.month == today.month
        for inst_pk, rows in by_institution.items():
            row = next(
                (r for r in reversed(rows) if r.start_on <= end and (r.end_on is None or r.end_on >= month)), None
            )
            if row is None or rng.random() > (0.45 if current_month else 0.9):
                continue
            start = max(month, row.start_on)
            stop = min(end, row.end_on or end)
            if stop < start:
                continue
            day = _date_in(rng, start, stop)
            for supplement in (False, True):
                if supplement and rng.random() > 0.06:
                    break
                items = [rng.random() < p for p in (0.8, 0.9, 0.95, 0.92)]
                if not any(items):
                    items[2] = True
                visits.append(
                    Visit(
                        institution_id=inst_pk,
                        appointment=row.appointment,
                        month=month,
                        date=day if not supplement else _date_in(rng, day, stop),
                        party_lecture=items[0],
                        policy_talk=items[1],
                        hazard_check=items[2],
                        ledger_check=items[3],
                        findings=rng.choice(FINDINGS),
                        hazards=rng.choice(HAZARDS) if rng.random() < 0.12 else "",
                        is_case_law_session=rng.random() < 0.45,
                        is_supplement=supplement,
                    )
                )
        month = month_end(month) + dt.timedelta(days=1)
    create_with_history(Visit, visits)

    # Clues: about one visit in forty, in every state along the allowed transitions.
    clues: list[Clue] = []
    steps: list[list[tuple[str, str, dt.date]]] = []
    for v in visits:
        if rng.random() > 0.025:
            continue
        path = [("", ClueStatus.PENDING, v.date)]
        roll = rng.random()
        final = (
            ClueStatus.PENDING
            if roll < 0.1
            else ClueStatus.PASSED
            if roll < 0.25
            else ClueStatus.INVESTIGATING
            if roll < 0.4
            else ClueStatus.DISMISSED
            if roll < 0.55
            else ClueStatus.CLOSED
        )
        day = v.date
        chain = {
            ClueStatus.PASSED: [ClueStatus.PASSED],
            ClueStatus.INVESTIGATING: [ClueStatus.PASSED, ClueStatus.INVESTIGATING],
            ClueStatus.DISMISSED: [ClueStatus.PASSED, ClueStatus.DISMISSED],
            ClueStatus.CLOSED: [ClueStatus.PASSED, ClueStatus.INVESTIGATING, ClueStatus.CLOSED],
        }.get(final, [])
        for status in chain:
            day = min(today, day + dt.timedelta(days=rng.randint(1, 20)))
            path.append((path[-1][1], status, day))
        passed = next((d for _, s, d in path if s == ClueStatus.PASSED), None)
        clues.append(
            Clue(
                institution_id=v.institution_id,
                visit=v,
                reported_by=v.appointment,
                found_on=v.date,
                description=rng.choice(CLUES),
                department=rng.choice(DEPARTMENTS) if passed else "",
                passed_on=passed,
                status=final,
                took_part=final in (ClueStatus.INVESTIGATING, ClueStatus.CLOSED) and rng.random() < 0.5,
                closed_on=day if final in (ClueStatus.CLOSED, ClueStatus.DISMISSED) else None,
            )
        )
        steps.append(path)
    create_with_history(Clue, clues)
    now = timezone.now()
    updates = [
        SimpleNamespace(clue_id=c.pk, date=d, from_status=f, to_status=t, note="", by_id=None, created_at=now)
        for c, path in zip(clues, steps, strict=True)
        for f, t, d in path
    ]
    insert_rows(
        ClueUpdate, [f for f in ClueUpdate._meta.concrete_fields if not f.primary_key], updates, returning=False
    )

    # The three checks: approval (recent approvals), annual inspections, some gradings. One approved institution in
    # six approved over a year ago has missed its annual inspections, so that the demo shows 年检逾期 (the coverage
    # page, the institution page, the to-do lists of its instructor and its joint branch's secretary).
    checks: list[PartyCheck] = []
    for n, inst in enumerate(institutions):
        missed = n % 6 == 5 and inst.approved_on is not None and inst.approved_on <= today - dt.timedelta(days=400)
        if inst.approved_on and inst.approved_on.year >= 2021:
            checks.append(
                PartyCheck(
                    institution=inst,
                    kind=CheckKind.APPROVAL,
                    date=inst.approved_on - dt.timedelta(days=7),
                    result=CheckResult.PASS,
                    precondition_met=True,
                    notes="党建工作写入章程，党建指导员同步指导。",
                )
            )
        if inst.approval_status != ApprovalStatus.APPROVED:
            continue
        for year in (first_year, today.year):
            day = dt.date(year, rng.randint(3, 11), rng.randint(1, 28))
            if day > today or day <= inst.approved_on:
                continue
            roll = rng.random()
            result = CheckResult.PASS if roll < 0.85 else CheckResult.RECTIFY if roll < 0.97 else CheckResult.FAIL
            if missed:
                continue  # drawn all the same, so that the other institutions' data stays as it was
            checks.append(PartyCheck(institution=inst, kind=CheckKind.ANNUAL, date=day, result=result))
            inst.last_inspection_on = day
        if rng.random() < 0.3 and inst.approved_on < today - dt.timedelta(days=60):
            checks.append(
                PartyCheck(
                    institution=inst,
                    kind=CheckKind.GRADING,
                    date=_date_in(rng, max(inst.approved_on, year_start), today),
                    result=CheckResult.PASS,
                )
            )
    create_with_history(PartyCheck, checks)
    Institution.objects.bulk_update(
        [i for i in institutions if i.last_inspection_on], ["last_inspection_on"], batch_size=500
    )

    # Pairings: about half of the joint branches with a school branch.
    school_branches = list(
        Unit.objects.dangerously_all()
        .filter(kind=UnitKind.SCHOOL, organization__kind__in=BRANCH_KINDS)
        .values_list("organization_id", flat=True)
        .order_by("pk")
    )
    branches = sorted({i.unit.organization_id for i in institutions if i.unit.organization_id})
    pairings = [
        Pairing(
            school_branch_id=school_branches[n % len(school_branches)],
            institution_branch_id=b,
            start_on=_date_in(rng, dt.date(2022, 3, 1), year_start),
        )
        for n, b in enumerate(branches)
        if school_branches and rng.random() < 0.5
    ]
    create_with_history(Pairing, pairings)
    activities = [
        PairingActivity(
            pairing=p,
            date=_date_in(rng, year_start, today),
            title=rng.choice(ACTIVITIES),
            participants=rng.randint(6, 30),
        )
        for p in pairings
        for _ in range(rng.randint(2, 4))
    ]
    create_with_history(PairingActivity, activities)

    # Points under the default rules.
    rules = {r.code: r for r in PointRule.objects.dangerously_all().filter(owner=None)}
    events = []
    paired = {p.institution_branch_id for p in pairings}
    annual = {(c.institution.pk, c.date.year): c.result for c in checks if c.kind == CheckKind.ANNUAL}
    substantiated = {(c.institution_id, c.closed_on.year) for c in clues if c.status == ClueStatus.CLOSED}
    for inst in operating:
        for year in (first_year, today.year):
            end = min(today, dt.date(year, 12, 31))
            if inst.approved_on > end:
                continue
            chosen = []
            if inst.unit.organization_id:
                chosen.append("PB01")
            chosen += [
                code
                for code, p in (
                    ("PB02", 0.5),
                    ("PB03", 0.7),
                    ("PB04", 0.5),
                    ("OP01", 0.6),
                    ("SA01", 0.4),
                    ("SA02", 0.1),
                    ("SV01", 0.3),
                )
                if rng.random() < p
            ]
            if inst.unit.organization_id in paired:
                chosen.append("PB05")
            result = annual.get((inst.pk, year))
            if result is not None:
                chosen.append("PB06" if result == CheckResult.PASS else "PB07")
            if (inst.pk, year) in substantiated:
                chosen.append("VI01")
            for code in chosen:
                if code in rules:
                    events.append(
                        SimpleNamespace(
                            institution_id=inst.pk,
                            year=year,
                            rule_id=rules[code].pk,
                            points=rules[code].points,
                            date=_date_in(rng, max(dt.date(year, 1, 1), inst.approved_on), end),
                            note="",
                            reverses_id=None,
                            recorded_by_id=None,
                            created_at=now,
                        )
                    )
    insert_rows(PointEvent, [f for f in PointEvent._meta.concrete_fields if not f.primary_key], events, returning=False)

    # Last year's red list, as the committee would have confirmed it.
    ranking = points_ranking(by=Access.system_access(), year=first_year, today=today)
    entries = [
        RedListEntry(
            institution_id=row.pk,
            year=first_year,
            points=row.points,
            rank=row.rank,
            listed_on=dt.date(first_year, 12, 28),
        )
        for row in ranking.red_list
    ]
    create_with_history(RedListEntry, entries)
    return {
        "institutions": len(institutions),
        "instructors": len(appointments),
        "assignments": len(assignments),
        "visits": len(visits),
        "clues": len(clues),
        "checks": len(checks),
        "point_events": len(events),
        "red_list": len(entries),
    }


def wipe_demo_supervision() -> None:
    """Delete every supervision record, children before what they PROTECT (for tests that rebuild the demo)."""
    from dangjian.supervision import models as m

    PointEvent.objects.dangerously_all().exclude(reverses=None).delete()
    for model in (
        m.PointEvent,
        m.RedListEntry,
        m.ClueUpdate,
        m.Clue,
        m.PartyCheck,
        m.Visit,
        m.Assignment,
        m.InstructorAppointment,
        m.PairingActivity,
        m.Pairing,
        m.Institution,
        m.GridCell,
    ):
        model.objects.dangerously_all().delete()
        if hasattr(model, "history"):
            model.history.all().delete()
