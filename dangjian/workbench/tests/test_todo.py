"""The to-do list (待办, docs/development.md "To-do items"): what each role's list holds and nothing outside its
scope, each source's rule at its boundary, the order, the registry of sources, the pages and their query counts.

The world (tests/scope.py): committee and school admin on 滨江一中党委 C1, secretary and member on branch A, instructor
on branch B, branch XB in another tree. Rules that depend on the date take TODAY; sessions and bookings, which
depend on the time of day, use the real clock.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members.tests.factories import MemberFactory
from dangjian.orglife.models import ActivityKind
from dangjian.orglife.tests.factories import ActivityRecordFactory
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.schools.models import BookingStatus
from dangjian.schools.tests.factories import BookingRequestFactory, PartySchoolFactory
from dangjian.training.models import Attendance, AttendanceMethod, ClassStatus, Enrollment, SessionStatus
from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory, credit
from dangjian.workbench import selectors, views
from dangjian.workbench.selectors import TodoItem, todo_items

TODAY = dt.date(2026, 6, 15)
ADMINS = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


def items_of(world, role, today=TODAY) -> list[TodoItem]:
    return todo_items(user=world.user(role), today=today)


def keys_of(world, role, today=TODAY) -> set[str]:
    return {item.key for item in items_of(world, role, today)}


def by_key(world, role, today=TODAY) -> dict[str, TodoItem]:
    return {item.key: item for item in items_of(world, role, today)}


def mentions(keys: set[str], *pks: int) -> set[str]:
    """The keys that name one of the objects `pks` (as the last part or a middle part of the key)."""
    wanted = {str(pk) for pk in pks}
    return {key for key in keys if wanted & set(key.split(":")[1:])}


def present(org, members, on: dt.date, kinds=(ActivityKind.THEME_DAY,), absent=()):
    return ActivityRecordFactory(
        organization=org,
        date=on,
        kinds=list(kinds),
        attendance=[(m, True) for m in members] + [(m, False) for m in absent],
    )


# ---------------------------------------------------------------------------------------------------------
# Per role


@pytest.mark.parametrize("role", ADMINS)
def test_the_three_admins_have_no_to_do_list(world, role):
    assert items_of(world, role) == []
    assert 'id="todo"' not in world.client(role).get("/").content.decode()


def test_secretary_sees_their_branch_only(world):
    a, b = world.orgs["A"], world.orgs["B"]
    keys = keys_of(world, Role.SECRETARY)
    assert f"duty:{a.pk}:{ActivityKind.THEME_DAY}" in keys
    assert f"hours-behind:{a.pk}" in keys
    assert {f"absent:{m.pk}" for m in world.members["A"]} <= keys
    # Nothing of the sibling branch nor of the other tree; no roll-ups.
    assert not mentions({k for k in keys if not k.startswith("absent:")}, b.pk, world.orgs["XB"].pk)
    assert not {f"absent:{m.pk}" for m in world.members["B"] + world.members["X"]} & keys
    assert not [k for k in keys if k.startswith(("duty-rollup:", "absent-rollup:", "session-close:"))]


def test_committee_sees_counts_not_members(world):
    c1, a, b = world.orgs["C1"], world.orgs["A"], world.orgs["B"]
    items = by_key(world, Role.COMMITTEE)
    theme_day = items[f"duty-rollup:{c1.pk}:{ActivityKind.THEME_DAY}"]
    assert theme_day.title == "滨江一中党委：2个支部本月主题党日未开展"
    assert theme_day.url == f"/orglife/compliance/?org={c1.code}&year=2026&quarter=2"
    assert theme_day.period == "2026-06"
    assert f"hours-behind:{a.pk}" in items and f"hours-behind:{b.pk}" in items
    assert items[f"absent-rollup:{c1.pk}"].title == "滨江一中党委：3名党员连续6个月未参加组织生活"
    assert items[f"absent-rollup:{c1.pk}"].url == f"/todo/absent/?org={c1.code}"
    assert not [k for k in items if k.startswith(("absent:", "duty:", "my-hours:"))]
    assert not mentions(set(items), world.orgs["XB"].pk, world.orgs["X"].pk)


def test_member_sees_their_own_only(world):
    items = items_of(world, Role.MEMBER)
    assert [item.key for item in items] == [f"my-hours:{world.self_member.pk}"]
    assert items[0].title == "本年度学时进度落后：已完成0.0学时，按进度应完成13.3学时（全年要求32.0学时）"
    assert items[0].url == "/training/my/hours/"


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.SCHOOL_ADMIN])
def test_viewers_who_run_nothing_of_it_get_no_duty_hours_or_absence_items(world, role):
    assert items_of(world, role) == []


def test_school_admin_and_committee_get_sessions_and_bookings_of_their_schools(world):
    now = timezone.now()
    in_scope = TrainingSessionFactory(
        training_class=TrainingClassFactory(organizer=world.orgs["A"], title="高一入党积极分子培训班"),
        starts_at=now - dt.timedelta(hours=5),
        ends_at=now - dt.timedelta(hours=2),
    )
    outside = TrainingSessionFactory(
        training_class=TrainingClassFactory(organizer=world.orgs["XB"]),
        starts_at=now - dt.timedelta(hours=5),
        ends_at=now - dt.timedelta(hours=2),
    )
    school = PartySchoolFactory(organization=world.orgs["C1"], name="滨江一中业余党校")
    booking = BookingRequestFactory(school=school, status=BookingStatus.SUBMITTED)
    far = BookingRequestFactory(
        school=PartySchoolFactory(organization=world.orgs["XB"]), status=BookingStatus.SUBMITTED
    )
    today = timezone.localdate()
    for role in (Role.SCHOOL_ADMIN, Role.COMMITTEE):
        keys = keys_of(world, role, today)
        assert f"session-close:{in_scope.pk}" in keys
        assert f"booking-schedule:{booking.pk}" in keys
        assert f"session-close:{outside.pk}" not in keys
        assert f"booking-schedule:{far.pk}" not in keys
    for role in (Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER):
        assert not mentions(keys_of(world, role, today), in_scope.pk, booking.pk) & {
            f"session-close:{in_scope.pk}",
            f"booking-schedule:{booking.pk}",
        }


# ---------------------------------------------------------------------------------------------------------
# Sessions to close


def test_session_to_close_only_once_its_sign_in_has_closed(world):
    now = timezone.now()
    klass = TrainingClassFactory(organizer=world.orgs["A"])

    def session(ended_ago, **kwargs):
        return TrainingSessionFactory(
            training_class=klass, starts_at=now - ended_ago - dt.timedelta(hours=2), ends_at=now - ended_ago, **kwargs
        )

    late = session(dt.timedelta(minutes=31))
    grace = session(dt.timedelta(minutes=29))  # sign-in still open (DANGJIAN_SIGN_IN_LATE_MINUTES = 30)
    closed = session(dt.timedelta(hours=3), status=SessionStatus.CLOSED)
    running = session(-dt.timedelta(hours=1))
    old = session(dt.timedelta(days=2))
    items = by_key(world, Role.SCHOOL_ADMIN, timezone.localdate())
    assert f"session-close:{late.pk}" in items
    for other in (grace, closed, running):
        assert f"session-close:{other.pk}" not in items
    assert items[f"session-close:{old.pk}"].overdue
    assert items[f"session-close:{late.pk}"].url == f"/training/sessions/{late.pk}/"
    assert "待确认考勤" in items[f"session-close:{late.pk}"].title


def test_sessions_of_a_class_not_approved_are_not_to_close(world):
    now = timezone.now()
    draft = TrainingSessionFactory(
        training_class=TrainingClassFactory(organizer=world.orgs["A"], status=ClassStatus.DRAFT),
        starts_at=now - dt.timedelta(hours=5),
        ends_at=now - dt.timedelta(hours=2),
    )
    assert f"session-close:{draft.pk}" not in keys_of(world, Role.SCHOOL_ADMIN, timezone.localdate())


def test_filings_wait_for_the_committee_only(world):
    today = timezone.localdate()
    filed = TrainingClassFactory(
        organizer=world.orgs["A"],
        status=ClassStatus.FILED,
        filed_at=timezone.now(),
        starts_on=today + dt.timedelta(days=10),
    )
    starting = TrainingClassFactory(
        organizer=world.orgs["B"], status=ClassStatus.FILED, filed_at=timezone.now(), starts_on=today
    )
    items = by_key(world, Role.COMMITTEE, today)
    assert not items[f"class-filing:{filed.pk}"].overdue
    assert items[f"class-filing:{starting.pk}"].overdue
    assert items[f"class-filing:{filed.pk}"].period == f"{today:%Y-%m-%d}"
    assert items[f"class-filing:{filed.pk}"].url == f"/training/classes/{filed.pk}/filing/"
    for role in (Role.SCHOOL_ADMIN, Role.SECRETARY):
        assert f"class-filing:{filed.pk}" not in keys_of(world, role, today)


def test_ended_booking_waits_to_be_completed(world):
    now = timezone.now()
    school = PartySchoolFactory(organization=world.orgs["A"])
    ended = BookingRequestFactory(
        school=school,
        status=BookingStatus.SCHEDULED,
        starts_at=now - dt.timedelta(hours=3),
        ends_at=now - dt.timedelta(hours=1),
    )
    coming = BookingRequestFactory(
        school=school,
        status=BookingStatus.SCHEDULED,
        starts_at=now + dt.timedelta(hours=3),
        ends_at=now + dt.timedelta(hours=5),
    )
    keys = keys_of(world, Role.SCHOOL_ADMIN, timezone.localdate())
    assert f"booking-complete:{ended.pk}" in keys
    assert f"booking-complete:{coming.pk}" not in keys


# ---------------------------------------------------------------------------------------------------------
# Duties of the current period


def test_a_month_duty_is_met_by_this_months_record_only(world):
    a, b = world.orgs["A"], world.orgs["B"]
    key = f"duty:{a.pk}:{ActivityKind.THEME_DAY}"
    present(a, world.members["A"], dt.date(2026, 5, 31))  # last month: does not count for June
    assert key in keys_of(world, Role.SECRETARY)
    present(a, world.members["A"], dt.date(2026, 6, 1))
    assert key not in keys_of(world, Role.SECRETARY)
    committee = by_key(world, Role.COMMITTEE)
    assert committee[f"duty-rollup:{world.orgs['C1'].pk}:{ActivityKind.THEME_DAY}"].title == (
        "滨江一中党委：1个支部本月主题党日未开展"
    )
    present(b, world.members["B"], dt.date(2026, 6, 2))
    assert f"duty-rollup:{world.orgs['C1'].pk}:{ActivityKind.THEME_DAY}" not in keys_of(world, Role.COMMITTEE)


def test_a_quarter_duty_is_met_by_a_record_of_the_quarter(world):
    a = world.orgs["A"]
    key = f"duty:{a.pk}:{ActivityKind.GENERAL_MEETING}"
    present(a, world.members["A"], dt.date(2026, 3, 31), kinds=[ActivityKind.GENERAL_MEETING])  # the first quarter
    items = by_key(world, Role.SECRETARY)
    assert items[key].period == "2026-Q2"
    assert items[key].title == "本季度支部党员大会未开展（要求1次）"
    present(a, world.members["A"], dt.date(2026, 4, 1), kinds=[ActivityKind.GENERAL_MEETING])
    assert key not in keys_of(world, Role.SECRETARY)


def test_attendance_minimum_of_a_month_duty(world):
    a = world.orgs["A"]
    key = f"duty:{a.pk}:{ActivityKind.SELF_STUDY}"
    first, second = world.members["A"]
    present(a, [first], dt.date(2026, 6, 3), kinds=[ActivityKind.SELF_STUDY], absent=[second])  # 50% < 95%
    assert by_key(world, Role.SECRETARY)[key].title == "本月支部自学交流参会率未达95%"
    present(a, [first, second], dt.date(2026, 6, 10), kinds=[ActivityKind.SELF_STUDY])  # 3 of 4 = 75%
    assert key in keys_of(world, Role.SECRETARY)
    present(a, [first, second], dt.date(2026, 6, 12), kinds=[ActivityKind.SELF_STUDY])
    present(a, [first, second], dt.date(2026, 6, 13), kinds=[ActivityKind.SELF_STUDY])
    present(a, [first, second], dt.date(2026, 6, 14), kinds=[ActivityKind.SELF_STUDY])
    present(a, [first, second], dt.date(2026, 6, 15), kinds=[ActivityKind.SELF_STUDY])  # 11 of 12 = 91.7%
    assert key in keys_of(world, Role.SECRETARY)
    for day in range(4, 10):
        present(a, [first, second], dt.date(2026, 6, day), kinds=[ActivityKind.SELF_STUDY])  # 23 of 24 = 95.8%
    assert key not in keys_of(world, Role.SECRETARY)


def test_a_month_duty_is_measured_against_the_roster_not_the_record(world):
    """A self-study record that lists one member present and nobody absent is 100% of itself but 1 of the branch's
    members: the to-do list says what the compliance page says (支部自学交流 at least 95% of the branch)."""
    a = world.orgs["A"]
    key = f"duty:{a.pk}:{ActivityKind.SELF_STUDY}"
    first, second = world.members["A"]
    present(a, [first], dt.date(2026, 6, 3), kinds=[ActivityKind.SELF_STUDY])
    assert key in keys_of(world, Role.SECRETARY)
    present(a, [first, second], dt.date(2026, 6, 4), kinds=[ActivityKind.SELF_STUDY])
    assert key in keys_of(world, Role.SECRETARY)  # 3 of the 4 expected: 75%


def test_a_year_duty_needing_two_shows_the_count(world):
    a = world.orgs["A"]
    present(a, world.members["A"], dt.date(2026, 2, 1), kinds=[ActivityKind.PARTY_WORK_STUDY])
    item = by_key(world, Role.SECRETARY)[f"duty:{a.pk}:{ActivityKind.PARTY_WORK_STUDY}"]
    assert item.title == "本年度专题研究党建工作已开展1次，要求2次"
    assert item.period == "2026"
    assert item.url == f"/orglife/records/new/?org={a.code}"


# ---------------------------------------------------------------------------------------------------------
# Hours behind


def test_behind_is_below_the_pro_rata_share_of_the_months_elapsed(world):
    # 15 June: five full months → 32 × 5/12 = 13.33 hours expected by now.
    ahead, behind = world.members["A"]
    credit(ahead, hours="13.5", on=dt.date(2026, 3, 1))
    credit(behind, hours="13", on=dt.date(2026, 3, 1))
    item = by_key(world, Role.SECRETARY)[f"hours-behind:{world.orgs['A'].pk}"]
    assert item.title == "高一年级党支部：1名党员学时进度落后（按进度应完成全年要求的42%）"
    assert item.url == f"/training/hours/branch/?org={world.orgs['A'].code}&year=2026"
    assert item.period == "2026-06"
    assert f"my-hours:{ahead.pk}" not in keys_of(world, Role.MEMBER)


def test_nobody_is_behind_in_january(world):
    keys = keys_of(world, Role.COMMITTEE, dt.date(2026, 1, 20)) | keys_of(world, Role.MEMBER, dt.date(2026, 1, 20))
    assert not [k for k in keys if k.startswith(("hours-behind:", "my-hours:"))]


def test_committee_counts_per_child_organization(world):
    MemberFactory.create_batch(3, organization=world.orgs["B"])
    items = by_key(world, Role.COMMITTEE)
    assert items[f"hours-behind:{world.orgs['A'].pk}"].title.startswith("高一年级党支部：2名党员")
    assert items[f"hours-behind:{world.orgs['B'].pk}"].title.startswith("高二年级党支部：4名党员")


# ---------------------------------------------------------------------------------------------------------
# Absence, the member's own sessions


def test_absence_items_for_the_secretary_name_the_member(world):
    first, second = world.members["A"]
    present(world.orgs["A"], [first], dt.date(2026, 1, 10))
    items = by_key(world, Role.SECRETARY)
    assert f"absent:{first.pk}" not in items
    item = items[f"absent:{second.pk}"]
    assert item.title == "钱甲二连续6个月未参加组织生活，请支部研究处理"
    assert item.url == f"/members/{second.pk}/"
    assert item.kind == "连续未参加组织生活"
    assert items[f"absent:{second.pk}"].period == "2026-06"


def test_member_is_reminded_of_todays_session_until_signed_in(world):
    now = timezone.now()
    klass = TrainingClassFactory(organizer=world.orgs["C1"], title="全体党员专题培训")
    Enrollment.objects.create(training_class=klass, member=world.self_member, source="manual")
    start = max(now - dt.timedelta(minutes=10), timezone.make_aware(dt.datetime.combine(now.date(), dt.time.min)))
    today_session = TrainingSessionFactory(training_class=klass, starts_at=start, ends_at=start + dt.timedelta(hours=2))
    tomorrow = TrainingSessionFactory(training_class=klass, starts_at=now + dt.timedelta(days=1, hours=1))
    today = timezone.localdate()
    items = by_key(world, Role.MEMBER, today)
    assert items[f"sign-in:{today_session.pk}"].url == "/training/sign-in/"
    assert f"sign-in:{tomorrow.pk}" not in items
    Attendance.objects.create(session=today_session, member=world.self_member, method=AttendanceMethod.CODE)
    assert f"sign-in:{today_session.pk}" not in keys_of(world, Role.MEMBER, today)


# ---------------------------------------------------------------------------------------------------------
# Order, registry, query counts


def test_overdue_first_then_oldest_first_and_one_per_key_and_period():
    old = TodoItem(kind="甲", title="旧", url="/", key="a", since=dt.date(2026, 1, 1))
    new = TodoItem(kind="甲", title="新", url="/", key="b", since=dt.date(2026, 6, 1))
    late = TodoItem(kind="乙", title="超期", url="/", key="c", since=dt.date(2026, 6, 10), overdue=True)
    undated = TodoItem(kind="乙", title="无日期", url="/", key="d")
    again = TodoItem(kind="乙", title="重复", url="/", key="a")
    assert [i.title for i in selectors.sort_items([undated, new, old, late, again])] == ["超期", "旧", "新", "无日期"]


def plain_source(*, user, today):
    return [
        {"kind": "测试", "title": f"外部事项{today:%m%d}", "url": "/x/", "key": "ext:1", "period": "p", "extra": 1},
        {"kind": "测试", "title": "更早的外部事项", "url": "/y/", "key": "ext:2", "since": "2026-01-02"},
    ]


def test_sources_in_the_registry_may_return_plain_dicts(world, monkeypatch):
    monkeypatch.setattr(selectors, "ITEM_SOURCES", ("dangjian.workbench.tests.test_todo.plain_source",))
    earlier, item = items_of(world, Role.SECRETARY)
    assert item == TodoItem(kind="测试", title="外部事项0615", url="/x/", key="ext:1", period="p")
    assert earlier.key == "ext:2"  # dated (an ISO string), so before the undated one
    assert items_of(world, Role.AUDIT_ADMIN) == []


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.SECRETARY, Role.SCHOOL_ADMIN, Role.MEMBER])
def test_query_count_does_not_grow_with_the_scope(world, role):
    items_of(world, role)
    with CaptureQueriesContext(connection) as small:
        items_of(world, role)
    for n in range(3):
        branch = OrganizationFactory(parent=world.orgs["C1"], code=f"BJ01T{n}")
        MemberFactory.create_batch(3, organization=branch)
    MemberFactory.create_batch(3, organization=world.orgs["A"])
    with CaptureQueriesContext(connection) as large:
        items_of(world, role)
    assert len(large.captured_queries) == len(small.captured_queries)


# ---------------------------------------------------------------------------------------------------------
# Pages


def test_home_groups_the_items_by_kind_and_marks_overdue(world):
    today = timezone.localdate()
    TrainingClassFactory(organizer=world.orgs["A"], status=ClassStatus.FILED, filed_at=timezone.now(), starts_on=today)
    response = world.client(Role.COMMITTEE).get("/")
    body = response.content.decode()
    groups = [kind for kind, _ in response.context["todo_groups"]]
    assert groups[0] == "办班备案"  # the overdue kind first
    assert len(groups) == len(set(groups))
    assert 'data-kind="组织生活"' in body and "已超期" in body
    assert 'href="/orglife/compliance/?org=BJ01' in body
    assert 'id="todo-all"' in body


def test_home_shows_the_first_items_and_the_todo_page_all(world, monkeypatch):
    monkeypatch.setattr(views, "ITEMS_SHOWN", 3)
    client = world.client(Role.SECRETARY)
    total = len(todo_items(user=world.user(Role.SECRETARY)))
    home = client.get("/")
    assert len(home.context["todos"]) == 3
    assert f"（另有{total - 3}项）" in home.content.decode()
    page = client.get("/todo/", {"per_page": 5})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == total
    assert len(page.context["page"].object_list) == 5
    last = client.get("/todo/", {"per_page": 5, "page": 99})
    assert last.context["page"].number == last.context["page"].paginator.num_pages


@pytest.mark.parametrize("role", ADMINS)
def test_todo_page_is_empty_for_the_admins(world, role):
    response = world.client(role).get("/todo/")
    assert response.status_code == 200
    assert "当前没有待办事项。" in response.content.decode()


def test_absent_page_lists_the_secretarys_members_and_exports(world):
    client = world.client(Role.SECRETARY)
    response = client.get("/todo/absent/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "赵甲一" in body and "钱甲二" in body and "孙乙一" not in body
    export = client.get("/todo/absent/", {"org": world.orgs["A"].code, "format": "xlsx"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    outside = client.get("/todo/absent/", {"org": world.orgs["B"].code})
    assert outside.status_code == 200
    assert "找不到该党组织编码" in outside.content.decode()
    assert "孙乙一" not in outside.content.decode()


def test_absent_page_for_the_committee_covers_the_subtree(world):
    body = world.client(Role.COMMITTEE).get("/todo/absent/", {"org": "BJ01"}).content.decode()
    assert "孙乙一" in body and "赵甲一" in body and "李外一" not in body


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_absent_page_is_for_those_who_run_branches(world, role):
    assert world.client(role).get("/todo/absent/").status_code == 403
