"""The demo county's party schools: the network, the pool and the catalog, bookings, the 2025 ranking."""

import csv
import datetime as dt
import io
import itertools

import pytest
from django.core.management import call_command
from django.utils import timezone

from dangjian.accounts.access import Access, access_for
from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import Role
from dangjian.demo.builder import REFERENCE_DATE, build_demo
from dangjian.demo.tests.test_seed_demo import wipe
from dangjian.members.models import Status
from dangjian.orgs.models import Organization, OrgKind, UnitKind
from dangjian.schools.models import (
    BookingRequest,
    BookingStatus,
    BuildMode,
    ContentType,
    Course,
    CourseCategory,
    CourseFormat,
    CourseModule,
    FundingLine,
    Grade,
    IndicatorScore,
    Instructor,
    InstructorTeam,
    PartySchool,
    PointEntry,
    PointEvent,
    PointRule,
    PremiumRound,
    PremiumRoundStatus,
    PrincipalTerm,
    RectificationTask,
    SchoolAnnualPlan,
    SchoolEvaluation,
    SchoolLevel,
    SchoolRanking,
    StandardCheck,
    StandardItem,
    scheme_for,
)
from dangjian.schools.selectors.booking import HOLDING_STATUSES, booking_board, month_bounds
from dangjian.schools.selectors.catalog import module_mix
from dangjian.schools.selectors.evaluation import active_indicators, school_ranking
from dangjian.schools.selectors.schools import current_secretaries

pytestmark = pytest.mark.django_db

YEAR = REFERENCE_DATE.year


@pytest.fixture
def demo(small_demo):
    return small_demo


def root() -> Organization:
    return Organization.objects.get(code="QH")


def rankable():
    return PartySchool.objects.exclude(level=SchoolLevel.DISTRICT)


def test_the_school_network(demo):
    qh = root()
    district = PartySchool.objects.get(level=SchoolLevel.DISTRICT)
    assert (district.code, district.name, district.organization) == ("QHDX", "中共清河县委党校", qh)
    assert district.build_mode == BuildMode.INDEPENDENT and district.venues.count() == 3

    extended = PartySchool.objects.get(build_mode=BuildMode.EXTENDED)
    assert extended.parent == district and extended.level == SchoolLevel.AMATEUR

    # An amateur school for every 党委 and 党总支 directly under the root (the bureau's is a branch at this scale).
    committees = Organization.objects.get_children(qh).filter(kind__in=[OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH])
    amateur = PartySchool.objects.filter(level=SchoolLevel.AMATEUR, build_mode=BuildMode.INDEPENDENT)
    assert sorted(amateur.values_list("organization_id", flat=True)) == sorted(c.pk for c in committees)
    assert committees.filter(name="清河县民办教育机构党委").exists()

    joint = PartySchool.objects.filter(build_mode=BuildMode.JOINT)
    assert joint.count() >= 2
    assert set(joint.values_list("level", flat=True)) == {SchoolLevel.AREA_AMATEUR}
    seen_units = set()
    for school in joint:
        assert school.organization == qh and "片区业余党校" in school.name
        units = [mu.unit for mu in school.member_units.select_related("unit").order_by("rotation_order")]
        assert 3 <= len(units) <= 5
        assert all(u.kind == UnitKind.SCHOOL and u.organization.kind == OrgKind.BRANCH for u in units)
        assert not seen_units & {u.pk for u in units}  # a small school is in one area school only
        seen_units |= {u.pk for u in units}
    assert rankable().count() >= 8
    assert demo.schools["schools"] == PartySchool.objects.count()

    for school in PartySchool.objects.all():
        assert school.venues.exists() and school.deputy_principal
        assert school.liaison or school == district
        assert SchoolAnnualPlan.objects.filter(school=school, year=YEAR, planned_classes__gt=0).exists()
        assert FundingLine.objects.filter(school=school, year=YEAR).count() >= 4
        items = StandardItem.objects.filter(scheme=scheme_for(school), active=True)
        checks = StandardCheck.objects.filter(school=school, year=YEAR)
        assert sorted(checks.values_list("item_id", flat=True)) == sorted(items.values_list("pk", flat=True))
        if school.build_mode != BuildMode.JOINT:
            assert PrincipalTerm.objects.filter(school=school, year=YEAR, confirmed=True).exists()
    checks = StandardCheck.objects.filter(year=YEAR)
    assert checks.filter(met=False).exists() and checks.filter(met=True).count() > 0.8 * checks.count()
    over = [line for line in FundingLine.objects.filter(year=YEAR) if line.spent > line.allocated]
    assert over and all(line.note for line in over)


def test_the_demo_school_user_sees_its_school(demo):
    user = User.objects.get(username="school")
    grant = RoleAssignment.objects.get(user=user, role=Role.SCHOOL_ADMIN)
    own = PartySchool.objects.visible_to(user)
    assert own.filter(organization=grant.organization, level=SchoolLevel.AMATEUR).exists()
    assert all(access_for(user).can_manage_schools_in(s.organization) for s in own)
    assert not own.filter(level=SchoolLevel.DISTRICT).exists()
    # The catalog is the district's, shared downwards.
    assert Course.objects.visible_to(user).count() == Course.objects.count()
    assert BookingRequest.objects.visible_to(user).filter(status=BookingStatus.DRAFT).exists()


def test_the_instructor_pool_and_the_catalog(demo):
    qh = root()
    instructors = Instructor.objects.all()
    assert 25 <= instructors.count() <= 35 and set(instructors.values_list("owner", flat=True)) == {qh.pk}
    teams = set(instructors.values_list("team__name", flat=True))
    assert (
        teams
        == set(InstructorTeam.objects.values_list("name", flat=True))
        == {"领学宣讲团", "专业讲师团", "骨干讲师团"}
    )
    assert all(i.employer and i.title and i.topics and i.appointed_on for i in instructors)
    linked = instructors.exclude(member=None).select_related("member")
    assert 2 <= linked.count() <= 6
    assert all(i.member.is_leadership and i.member.status == Status.ACTIVE for i in linked)
    assert all(i.courses.exists() for i in instructors)
    rules = {r.event: r.points for r in PointRule.objects.filter(owner=qh)}
    assert rules == {PointEvent.CLASS_TAUGHT: 2, PointEvent.TRAINEE_RATING: 1, PointEvent.PREMIUM_SELECTED: 5}

    courses = Course.objects.all()
    assert 35 <= courses.count() <= 45 and set(courses.values_list("owner", flat=True)) == {qh.pk}
    assert set(courses.values_list("category", flat=True)) == set(CourseCategory.values)
    assert set(courses.values_list("format", flat=True)) == set(CourseFormat.values)
    assert set(courses.values_list("content_type", flat=True)) == set(ContentType.values)
    assert courses.filter(for_secretaries=True).exists() and courses.filter(for_party_workers=True).exists()
    assert courses.filter(for_members=True, for_secretaries=False).exists()
    assert not courses.filter(instructors=None).exists()
    assert courses.filter(title="习近平新时代中国特色社会主义思想专题辅导").exists()
    assert courses.filter(title__startswith="红色教育现场教学", format=CourseFormat.ONSITE).exists()

    mixes = {m.name: module_mix(m) for m in CourseModule.objects.all()}
    assert {"乡村振兴", "基层治理", "党务工作"} <= set(mixes)
    assert not any(mixes[name].off_target for name in ("乡村振兴", "基层治理", "党务工作"))
    off = [name for name, mix in mixes.items() if mix.off_target]
    assert off == ["师德师风"] and "偏离目标结构" in mixes["师德师风"].warnings[0]

    rounds = PremiumRound.objects.filter(year=YEAR, owner=qh)
    assert 2 <= rounds.count() <= 3 and set(rounds.values_list("status", flat=True)) == {PremiumRoundStatus.CLOSED}
    for round_ in rounds:
        entries = round_.entries.all()
        assert all(e.score is not None for e in entries)
        assert entries.filter(selected=True).count() == round_.quota
        assert all(e.course.premium_year == YEAR for e in entries.filter(selected=True))
    awards = PointEntry.objects.filter(event=PointEvent.PREMIUM_SELECTED, year=YEAR)
    assert awards.exists() and set(awards.values_list("points", flat=True)) == {5}
    assert demo.schools["instructors"] == instructors.count() and demo.schools["courses"] == courses.count()


def test_rank_schools_csv_grades_the_demo_by_the_rule(demo):
    """The demo's ranking by Huangpi's rule as the ranking now reads it: the amateur schools only, equal composites
    sharing a place, 示范 and 优秀 only for schools that ran classes and meet their 六有 checklist (the demo's one
    sound school missing an item is passed over), the last one 不合格 with its rectification task."""
    out = io.StringIO()
    call_command("rank_schools", "--year", str(YEAR), "--org", "QH", "--format", "csv", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "学校编码,学校名称,综合得分,名次,等次"
    rows = list(csv.reader(lines[1:]))
    n = rankable().count()
    assert n >= 8 and len(rows) == n == SchoolEvaluation.objects.filter(year=YEAR).count()
    assert sorted(r[0] for r in rows) == sorted(rankable().values_list("code", flat=True))
    composites = [float(r[2]) for r in rows]
    assert composites == sorted(composites, reverse=True)
    for row in rows:  # 1, 2, 2, 4: a place is shared by equal composites
        first = next(k for k, other in enumerate(rows) if other[2] == row[2])
        assert int(row[3]) == first + 1
    grades = [r[4] for r in rows]
    ranking = school_ranking(Access.system_access(), YEAR, root())
    barred = {r.school.code for r in ranking.rows if r.barred}
    assert len(barred) == 2  # the weak school and the sound school missing one 六有 item
    honoured = [r[0] for r in rows if r[4] in ("示范", "优秀")]
    assert honoured and not set(honoured) & barred
    assert grades.count("示范") == 3 and grades[-1] == "不合格"
    assert {"示范", "优秀", "合格", "不合格"} == set(grades)
    # Every active indicator is scored for every school.
    indicators = {i.pk for i in active_indicators()}
    for evaluation in SchoolEvaluation.objects.filter(year=YEAR):
        assert (
            set(IndicatorScore.objects.filter(evaluation=evaluation).values_list("indicator", flat=True)) == indicators
        )

    # Published for the root: the same places and grades, the rectification task of the 不合格 school.
    published = list(SchoolRanking.objects.filter(scope=root(), year=YEAR).order_by("rank").select_related("school"))
    assert sorted((p.school.code, p.rank) for p in published) == sorted((r[0], int(r[3])) for r in rows)
    last = next(p for p in published if p.school.code == rows[-1][0])
    assert last.grade == Grade.UNQUALIFIED
    task = RectificationTask.objects.get(year=YEAR)
    assert task.school == last.school and task.ranking == last and task.deadline > timezone.localdate()


def test_the_principal_rotation_of_the_joint_schools(demo):
    for school in PartySchool.objects.filter(build_mode=BuildMode.JOINT):
        units = list(school.member_units.order_by("rotation_order").values_list("unit_id", flat=True))
        terms = {t.year: t for t in PrincipalTerm.objects.filter(school=school).select_related("unit", "member")}
        assert sorted(terms) == [YEAR - 1, YEAR, YEAR + 1]
        assert terms[YEAR - 1].confirmed and terms[YEAR].confirmed and not terms[YEAR + 1].confirmed
        order = [units.index(terms[y].unit_id) for y in (YEAR - 1, YEAR, YEAR + 1)]
        assert order == [(order[0] + k) % len(units) for k in range(3)]  # the fixed rotation order
        proposal = terms[YEAR + 1]
        assert current_secretaries([proposal.unit.organization_id])[proposal.unit.organization_id] == proposal.member
        assert proposal.name == proposal.member.name


def overlapping(bookings) -> list:
    bookings = sorted(bookings, key=lambda b: b.starts_at)
    return [
        (a, b) for a, b in itertools.combinations(bookings, 2) if a.starts_at < b.ends_at and b.starts_at < a.ends_at
    ]


def test_bookings_over_the_year_and_around_today(demo):
    today = timezone.localdate()
    bookings = BookingRequest.objects.select_related("instructor", "venue", "school", "dispatcher")
    completed = bookings.filter(status=BookingStatus.COMPLETED)
    assert completed.count() >= 20 and demo.schools["bookings"] == bookings.count()
    assert len({b.school_id for b in completed}) == rankable().count()  # across the schools
    for booking in completed:
        booking.full_clean(exclude=["courses"])
        assert timezone.localtime(booking.starts_at).year == YEAR and booking.ends_at.date() <= REFERENCE_DATE
        assert booking.dispatcher.level == SchoolLevel.DISTRICT and booking.courses.exists()
        assert booking.venue.school_id in (booking.school_id, booking.dispatcher_id)
        trail = list(booking.events.order_by("at", "pk").values_list("from_status", "to_status"))
        assert trail == [
            ("", BookingStatus.DRAFT),
            (BookingStatus.DRAFT, BookingStatus.SUBMITTED),
            (BookingStatus.SUBMITTED, BookingStatus.SCHEDULED),
            (BookingStatus.SCHEDULED, BookingStatus.COMPLETED),
        ]
        assert booking.events.order_by("at").first().at < booking.starts_at
    taught = PointEntry.objects.filter(event=PointEvent.CLASS_TAUGHT, year=YEAR)
    assert taught.count() == completed.count() and set(taught.values_list("points", flat=True)) == {2}
    assert PointEntry.objects.filter(event=PointEvent.TRAINEE_RATING).exists()
    # The leaders in the pool teach, so their teaching can earn them hours.
    assert all(completed.filter(instructor=i).exists() for i in Instructor.objects.exclude(member=None))

    submitted = bookings.filter(status=BookingStatus.SUBMITTED)
    assert 2 <= submitted.count() <= 5 and all(b.wanted_from >= today for b in submitted)
    scheduled = bookings.filter(status=BookingStatus.SCHEDULED)
    assert 2 <= scheduled.count() <= 6
    assert all(today < timezone.localtime(b.starts_at).date() <= today + dt.timedelta(days=31) for b in scheduled)
    returned = bookings.get(status=BookingStatus.RETURNED)
    assert returned.returned_reason and returned.instructor is None
    assert returned.events.filter(to_status=BookingStatus.RETURNED, note=returned.returned_reason).exists()
    assert bookings.filter(status=BookingStatus.DRAFT).count() == 1

    # The board of the district school shows this month's sessions (when the month has days left).
    committee = User.objects.get(username="committee")
    district = PartySchool.objects.get(level=SchoolLevel.DISTRICT)
    board = booking_board(user=committee, dispatcher=district, month=today.replace(day=1))
    if today < month_bounds(today.replace(day=1))[1]:
        assert board.session_count >= 1

    # Nobody and nothing is booked twice at the same time.
    holding = list(bookings.filter(status__in=HOLDING_STATUSES))
    for key in ("instructor_id", "venue_id"):
        groups = itertools.groupby(sorted(holding, key=lambda b: getattr(b, key)), key=lambda b: getattr(b, key))
        for _, group in groups:
            assert overlapping(group) == []


def snapshot() -> dict:
    return {
        "schools": list(
            PartySchool.objects.order_by("code").values_list(
                "code", "name", "level", "build_mode", "organization__code", "deputy_principal", "liaison"
            )
        ),
        "terms": list(
            PrincipalTerm.objects.order_by("school__code", "year").values_list("school__code", "year", "name")
        ),
        "money": list(
            FundingLine.objects.order_by("school__code", "purpose").values_list("school__code", "allocated", "spent")
        ),
        "instructors": list(Instructor.objects.order_by("name", "employer").values_list("name", "employer", "title")),
        "courses": sorted(
            (c.title, c.category, c.format, str(c.hours), tuple(sorted(i.name for i in c.instructors.all())))
            for c in Course.objects.prefetch_related("instructors")
        ),
        "evaluations": list(
            IndicatorScore.objects.order_by("evaluation__school__code", "indicator__code").values_list(
                "evaluation__school__code", "indicator__code", "score"
            )
        ),
        "ranking": list(SchoolRanking.objects.order_by("rank").values_list("school__code", "composite", "grade")),
        "completed": sorted(
            BookingRequest.objects.filter(status=BookingStatus.COMPLETED).values_list(
                "school__code", "instructor__name", "starts_at", "venue__name"
            )
        ),
    }


def test_same_seed_same_schools_courses_and_evaluations(demo):
    first = snapshot()
    wipe()
    build_demo(scale="small", seed=1)
    assert snapshot() == first
    wipe()
    build_demo(scale="small", seed=2)
    second = snapshot()
    assert second["evaluations"] != first["evaluations"] and second["instructors"] != first["instructors"]


def test_seed_demo_prints_the_schools_line():
    wipe()  # the module's demo, if another test built it (rolled back after this test)
    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if "党校" in line)
    assert f"党校 {PartySchool.objects.count()} 所" in line and f"讲师 {Instructor.objects.count()} 名" in line
    assert f"参加{YEAR}年度考评排名" in line and f"约课 {BookingRequest.objects.count()} 条" in line
