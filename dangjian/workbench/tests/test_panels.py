"""The home page shows each role its own work first (workbench.home): the secretary's branch (open duties, members
short of hours, transfers), the party school (bookings to schedule, classes to file and to finish, the year's plan
against delivery), the instructor's visits due this month, the committee's subtree compliance per child with
drill-down. Each panel is scoped, answers in a fixed number of queries whatever its scope's size, and never shows a
figure of 0 as a tile.

The world (tests/scope.py): committee and school admin on 滨江一中党委 C1, secretary and member on branch A (赵甲一 and
钱甲二), instructor on branch B (孙乙一), branch XB in another tree. Panels computed directly take TODAY; pages use the
real clock."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.core import summaries
from dangjian.members.services import member_transfer_start
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife.models import ActivityKind
from dangjian.orglife.tests.factories import ActivityRecordFactory
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.schools.models import SchoolAnnualPlan
from dangjian.schools.tests.test_booking_services import build_place, submitted
from dangjian.supervision.tests.factories import assign, institution, instructor, visit
from dangjian.training.models import ClassStatus
from dangjian.training.tests.factories import TrainingClassFactory, credit
from dangjian.workbench.home import role_panels
from dangjian.workbench.home.committee import committee_panels
from dangjian.workbench.home.instructor import instructor_panel
from dangjian.workbench.home.school import school_panel
from dangjian.workbench.home.secretary import secretary_panels

TODAY = dt.date(2026, 6, 15)


@pytest.fixture
def uncached(monkeypatch):
    """Compute every kept figure (core.summaries) afresh: the query counts of computing the panels."""
    monkeypatch.setattr(summaries, "cached", lambda topics, name, parts, compute, **kw: compute())


def section(page: str, element_id: str) -> str:
    """The HTML of the <section> with `element_id`."""
    match = re.search(rf'<section[^>]*id="{re.escape(element_id)}".*?</section>', page, re.S)
    assert match, f"#{element_id} not on the page"
    return match.group(0)


def queries_of(compute) -> int:
    with CaptureQueriesContext(connection) as captured:
        compute()
    return len(captured.captured_queries)


# ---------------------------------------------------------------------------------------------------------
# Secretary


def test_secretary_sees_the_branchs_open_duties_with_the_record_button(world):
    a = world.orgs["A"]
    before = {d.label for d in secretary_panels(world.user(Role.SECRETARY), today=TODAY)[0].duties}
    assert "主题党日" in before
    ActivityRecordFactory(organization=a, date=TODAY, kinds=[ActivityKind.THEME_DAY])
    [panel] = secretary_panels(world.user(Role.SECRETARY), today=TODAY)
    after = {d.label for d in panel.duties}
    assert "主题党日" not in after and after == before - {"主题党日"}
    assert panel.record_url == f"/orglife/records/new/?org={a.code}"
    assert all(d.due >= TODAY for d in panel.duties)


def test_secretary_sees_the_members_short_of_hours_masked_and_counted_like_the_branch_page(world):
    me, other = world.members["A"]
    credit(me, "40", on=TODAY)
    [panel] = secretary_panels(world.user(Role.SECRETARY), today=TODAY)
    assert panel.behind_total == 1
    [line] = panel.behind
    assert (line.name, line.counted, line.required) == (other.name, "0.0", "32.0")
    assert line.masked_id == other.masked_id_number and line.masked_id != other.id_number
    assert panel.hours_url == f"/training/hours/branch/?org={world.orgs['A'].code}&year=2026"


def test_secretary_sees_pending_transfers_in_and_out_of_the_branch(world):
    a, b = world.orgs["A"], world.orgs["B"]
    member_transfer_start(by=world.user(Role.SECRETARY), member=world.members["A"][1], to_organization=b)
    member_transfer_start(by=world.user(Role.COMMITTEE), member=world.members["B"][0], to_organization=a)
    [panel] = secretary_panels(world.user(Role.SECRETARY), today=TODAY)
    assert (panel.outgoing_total, panel.incoming_total) == (1, 1)
    assert [(t.name, t.other_side) for t in panel.outgoing] == [(world.members["A"][1].name, b.name)]
    assert [(t.name, t.other_side) for t in panel.incoming] == [(world.members["B"][0].name, b.name)]


def test_a_secretary_of_branch_a_never_sees_branch_bs_members(world):
    # Everyone is short of hours: B's member is behind too, and transfers into B are pending.
    member_transfer_start(by=Access.system_access(), member=world.members["X"][0], to_organization=world.orgs["B"])
    response = world.client(Role.SECRETARY).get("/")
    [panel] = response.context["panels"].secretary
    assert panel.org_code == world.orgs["A"].code
    assert {m.name for m in panel.behind} == world.member_names("A")
    assert (panel.incoming_total, panel.outgoing_total) == (0, 0)
    html = section(response.content.decode(), f"secretary-{world.orgs['A'].code}")
    assert not any(name in html for name in world.member_names("B", "X"))
    # And B's secretary sees B's, not A's.
    other = UserFactory()
    grant(other, Role.SECRETARY, world.orgs["B"])
    [panel_b] = secretary_panels(other, today=TODAY)
    assert {m.name for m in panel_b.behind} == world.member_names("B")
    assert panel_b.incoming_total == 1


def test_a_secretary_of_two_branches_gets_a_panel_per_branch(world):
    user = UserFactory()
    grant(user, Role.SECRETARY, world.orgs["A"])
    grant(user, Role.SECRETARY, world.orgs["B"])
    assert [p.org_code for p in secretary_panels(user, today=TODAY)] == [world.orgs["A"].code, world.orgs["B"].code]


def test_secretary_page_shows_the_panel_and_no_county_tiles(world):
    response = world.client(Role.SECRETARY).get("/")
    page = response.content.decode()
    html = section(page, f"secretary-{world.orgs['A'].code}")
    assert f'href="/orglife/records/new/?org={world.orgs["A"].code}"' in html and "登记活动" in html
    assert "本期待开展的组织生活" in html and "本年度学时未达要求" in html and "没有待办理的组织关系接转。" in html
    assert response.context["counts"] is None and 'id="stat-members"' not in page
    for member in world.members["A"]:
        assert member.id_number not in page


# ---------------------------------------------------------------------------------------------------------
# School admin


def test_district_school_admin_sees_the_bookings_to_schedule(world):
    place = build_place(world)
    booking = submitted(place, topic="学习贯彻全会精神专题党课")
    district = school_panel(place.district_admin, today=timezone.localdate())
    assert district.to_schedule_total == 1
    assert [(line.text, line.url) for line in district.to_schedule] == [
        (f"{place.town.name}：学习贯彻全会精神专题党课", booking.get_absolute_url())
    ]
    assert district.schedule_url == "/schools/bookings/?status=submitted"
    # The town school waits for the district; it has nothing to schedule itself.
    town = school_panel(place.town_admin, today=timezone.localdate())
    assert (town.to_schedule_total, town.awaiting_dispatch) == (0, 1)
    client = Client()
    client.force_login(place.district_admin)
    home = client.get("/")
    assert f"booking-schedule:{booking.pk}" not in {item.key for item in home.context["todos"]}
    html = section(home.content.decode(), "school-panel")
    assert "学习贯彻全会精神专题党课" in html and 'href="/schools/bookings/?status=submitted"' in html
    # One link named 约课安排 (the quick action the browser test follows), none of the panel's links like it.
    assert home.content.decode().count("约课安排</a>") == 1


def test_school_admin_sees_classes_to_file_and_to_finish(world):
    c1, a, xb = world.orgs["C1"], world.orgs["A"], world.orgs["XB"]
    TrainingClassFactory(
        organizer=a, title="已结束的班", starts_on=TODAY - dt.timedelta(days=10), ends_on=TODAY - dt.timedelta(days=8)
    )
    TrainingClassFactory(
        organizer=c1, title="还在上的班", starts_on=TODAY - dt.timedelta(days=1), ends_on=TODAY + dt.timedelta(days=1)
    )
    TrainingClassFactory(
        organizer=a,
        title="已结班的班",
        status=ClassStatus.FINISHED,
        starts_on=TODAY - dt.timedelta(days=30),
        ends_on=TODAY - dt.timedelta(days=29),
    )
    TrainingClassFactory(organizer=c1, title="草稿班", status=ClassStatus.DRAFT, starts_on=TODAY + dt.timedelta(days=9))
    TrainingClassFactory(
        organizer=xb, title="别处的草稿班", status=ClassStatus.DRAFT, starts_on=TODAY + dt.timedelta(days=9)
    )
    panel = school_panel(world.user(Role.SCHOOL_ADMIN), today=TODAY)
    assert (panel.to_finish_total, [c.text for c in panel.to_finish]) == (1, ["已结束的班"])
    assert (panel.to_file_total, [c.text for c in panel.to_file]) == (1, ["草稿班"])
    assert panel.finish_url == "/training/classes/?status=approved"
    assert panel.file_url == "/training/classes/?status=draft"


def test_school_admin_sees_the_years_plan_against_delivery(world):
    place = build_place(world)
    year = timezone.localdate().year
    SchoolAnnualPlan.objects.create(school=place.town, year=year, planned_classes=4, planned_trainees=100)
    TrainingClassFactory(
        organizer=world.orgs["A"], school=place.town, starts_on=dt.date(year, 1, 5), ends_on=dt.date(year, 1, 6)
    )
    panel = school_panel(place.town_admin, today=timezone.localdate())
    [plan] = panel.plans
    assert (plan.school, plan.has_plan, plan.planned_classes, plan.actual_classes) == (place.town.name, True, 4, 1)
    assert (plan.classes_percent, plan.planned_trainees, plan.trainees_percent) == (25, 100, 0)
    assert panel.reconciliation_url == f"/training/hours/reconciliation/?org={world.orgs['A'].code}&year={year}"
    # The world's school admin (C1) covers A's and B's schools, not the district's above them.
    assert {p.school for p in school_panel(world.user(Role.SCHOOL_ADMIN), today=timezone.localdate()).plans} == {
        place.town.name,
        place.other.name,
    }


def test_a_school_admin_without_schools_reads_a_sentence_not_zero_tiles(world):
    response = world.client(Role.SCHOOL_ADMIN).get("/")
    page = response.content.decode()
    html = section(page, "school-panel")
    assert "您管理的范围内没有党校。" in html and "没有待排课的约课。" in html
    assert 'id="stat-members"' not in page and "display-6" not in html


# ---------------------------------------------------------------------------------------------------------
# Instructor


def test_instructor_sees_this_months_visits_due_with_the_visit_button(world):
    today = timezone.localdate()
    appointment = instructor(world.orgs["R"], user=world.user(Role.INSTRUCTOR), start_on=today - dt.timedelta(days=400))
    due = institution(world.orgs["B"], name="晨光艺术培训学校")
    done = institution(world.orgs["B"], name="启明书法培训学校")
    for inst in (due, done):
        assign(inst, appointment, today - dt.timedelta(days=300))
    visit(done, today, by=world.user(Role.INSTRUCTOR))
    panel = instructor_panel(world.user(Role.INSTRUCTOR), today=today)
    assert panel.appointed and panel.missing_total == 1
    [line] = panel.missing
    assert (line.institution, line.visit_url) == ("晨光艺术培训学校", f"/supervision/visits/new/?institution={due.pk}")
    home = world.client(Role.INSTRUCTOR).get("/")
    # This month's visit is in the panel, not again in the to-do card beside it; last month's, overdue, stays there.
    items = {(item.key, item.period) for item in home.context["todos"]}
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    assert (f"visit:{due.pk}", f"{today:%Y-%m}") not in items
    assert (f"visit:{due.pk}", f"{last_month:%Y-%m}") in items
    html = section(home.content.decode(), "instructor-panel")
    assert "晨光艺术培训学校" in html and "启明书法培训学校" not in html
    assert f'href="/supervision/visits/new/?institution={due.pk}"' in html
    assert world.client(Role.INSTRUCTOR).get(line.visit_url).status_code == 200


def test_an_instructor_without_an_appointment_reads_a_sentence(world):
    response = world.client(Role.INSTRUCTOR).get("/")
    assert not response.context["panels"].instructor.appointed
    html = section(response.content.decode(), "instructor-panel")
    assert "您当前没有有效的党建指导员聘任" in html and "登记走访" not in html


# ---------------------------------------------------------------------------------------------------------
# Committee


def test_committee_sees_each_childs_compliance_with_drill_down(world):
    a, b = world.orgs["A"], world.orgs["B"]
    today = timezone.localdate()
    credit(world.members["A"][0], "40", on=today)
    # Yearly duties: done for the year once held.
    ActivityRecordFactory(organization=a, date=today, kinds=[ActivityKind.LIFE_MEETING, ActivityKind.MEMBER_EVALUATION])
    response = world.client(Role.COMMITTEE).get("/")
    [panel] = response.context["panels"].committee
    assert panel.org_code == world.orgs["C1"].code
    lines = {line.code: line for line in panel.children}
    assert set(lines) == {a.code, b.code}
    assert (lines[a.code].members, lines[a.code].met) == (2, 1)
    assert (lines[b.code].members, lines[b.code].met) == (1, 0)
    assert (panel.members, panel.met) == (3, 1)
    assert (lines[a.code].orglife.done, lines[b.code].orglife.done) == (2, 0)
    assert lines[a.code].orglife.duties == lines[b.code].orglife.duties > 2
    assert lines[a.code].compliance_url == f"/orglife/compliance/?org={a.code}&year={today.year}"
    # The furthest behind first: B, with nobody meeting the hours.
    assert panel.children[0].code == b.code
    # The drill-down opens the compliance page of that child (its subtree).
    drilled = world.client(Role.COMMITTEE).get(lines[a.code].compliance_url)
    assert drilled.status_code == 200 and drilled.context["org"] == a
    html = section(response.content.decode(), f"committee-{world.orgs['C1'].code}")
    assert f'href="{lines[a.code].compliance_url.replace("&", "&amp;")}"' in html


def test_committee_figures_are_never_stale_after_a_write(world):
    client = world.client(Role.COMMITTEE)
    [before] = client.get("/").context["panels"].committee
    credit(world.members["B"][0], "40")
    [after] = client.get("/").context["panels"].committee
    assert (before.met, after.met) == (0, 1)


def test_committee_counts_stay_below_compact_and_without_zeros(world):
    response = world.client(Role.COMMITTEE).get("/")
    page = response.content.decode()
    assert page.index('id="committee-') < page.index('id="counts"')
    counts = section(page, "counts")
    assert re.search(r">\s*0\s*<", counts) is None
    assert "党支部 2" in counts and "联合党支部" not in counts


def test_roles_without_business_scope_get_no_panels(world):
    for role in (Role.MEMBER, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        response = world.client(role).get("/")
        assert not response.context["panels"]
        assert 'class="card mb-3 role-panel' not in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Query counts: fixed whatever the size of the scope


def _grow(world, n: int = 4) -> None:
    """More of everything in C1's subtree: branches with members, transfers, classes, institutions, records."""
    today = timezone.localdate()
    for i in range(n):
        branch = OrganizationFactory(parent=world.orgs["C1"], code=f"BJ01G{i}")
        members = MemberFactory.create_batch(3, organization=branch)
        MemberFactory.create_batch(3, organization=world.orgs["A"])
        ActivityRecordFactory(organization=branch, date=today, kinds=[ActivityKind.THEME_DAY])
        member_transfer_start(by=world.user(Role.COMMITTEE), member=members[0], to_organization=world.orgs["A"])
        member_transfer_start(
            by=world.user(Role.COMMITTEE), member=MemberFactory(organization=world.orgs["A"]), to_organization=branch
        )
        TrainingClassFactory(organizer=branch, status=ClassStatus.DRAFT)
        TrainingClassFactory(
            organizer=branch, starts_on=today - dt.timedelta(days=9), ends_on=today - dt.timedelta(days=8)
        )


PANELS = {
    Role.SECRETARY: lambda user, today: secretary_panels(user, today=today),
    Role.SCHOOL_ADMIN: lambda user, today: school_panel(user, today=today),
    Role.INSTRUCTOR: lambda user, today: instructor_panel(user, today=today),
    Role.COMMITTEE: lambda user, today: committee_panels(user, today=today),
}
# The most queries each panel may take to compute (the kept summaries forgotten).
MAX_QUERIES = {Role.SECRETARY: 14, Role.SCHOOL_ADMIN: 9, Role.INSTRUCTOR: 4, Role.COMMITTEE: 11}


@pytest.mark.parametrize("role", PANELS)
def test_each_panel_takes_a_fixed_number_of_queries(world, uncached, role, django_assert_max_num_queries):
    today = timezone.localdate()
    user = world.user(role)
    appointment = instructor(world.orgs["R"], user=world.user(Role.INSTRUCTOR), start_on=today - dt.timedelta(days=400))
    assign(institution(world.orgs["B"]), appointment, today - dt.timedelta(days=300))
    place = build_place(world)
    submitted(place)
    compute = PANELS[role]
    compute(user, today)  # warm what is read once per process (policies' caches, content types)
    small = queries_of(lambda: compute(user, today))
    _grow(world)
    for _ in range(3):
        assign(institution(world.orgs["B"]), appointment, today - dt.timedelta(days=300))
        submitted(place)
    with django_assert_max_num_queries(MAX_QUERIES[role]):
        large = queries_of(lambda: compute(user, today))
    print("QUERIES", role, small, large)
    assert large == small
    assert role_panels(user, today=today)


def test_the_home_page_reads_kept_panels_in_a_few_queries(world):
    client = world.client(Role.COMMITTEE)
    client.get("/")
    first = queries_of(lambda: client.get("/"))
    _grow(world)
    client.get("/")  # recomputed after the writes
    assert queries_of(lambda: client.get("/")) == first
