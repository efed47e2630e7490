"""The to-do list (待办, docs/development.md "To-do items") as the workbench assembles it: what each role's list
holds and nothing outside its scope, the order, the registry of sources, the pages and their query counts. Each
source's rules at their boundaries are tested in its app's tests/test_todo.py.

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
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.schools.models import BookingStatus
from dangjian.schools.tests.factories import BookingRequestFactory, PartySchoolFactory
from dangjian.training.models import ClassStatus
from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory
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


def test_hand_offs_land_on_the_next_persons_list_with_their_deadline(world):
    today = timezone.localdate()
    school = PartySchoolFactory(organization=world.orgs["C1"], name="滨江一中业余党校")
    wanted = today + dt.timedelta(days=10)
    submitted = BookingRequestFactory(school=school, status=BookingStatus.SUBMITTED, wanted_from=wanted)
    returned = BookingRequestFactory(
        school=school, status=BookingStatus.RETURNED, wanted_from=wanted, returned_reason="课程已满"
    )
    filed = TrainingClassFactory(
        organizer=world.orgs["A"], status=ClassStatus.FILED, filed_at=timezone.now(), starts_on=wanted
    )
    items = by_key(world, Role.COMMITTEE, today)
    # The scheduler and the approver act before the wanted start: the day before it is their deadline.
    assert items[f"booking-schedule:{submitted.pk}"].due == wanted - dt.timedelta(days=1)
    assert items[f"class-filing:{filed.pk}"].due == wanted - dt.timedelta(days=1)
    # A returned booking goes back to its own school, with the reason.
    back = by_key(world, Role.SCHOOL_ADMIN, today)[f"booking-returned:{returned.pk}"]
    assert "课程已满" in back.title and back.due == wanted - dt.timedelta(days=1) and not back.overdue
    assert f"booking-returned:{returned.pk}" not in keys_of(world, Role.SECRETARY, today)
    # The list shows the deadline, not when the period began.
    body = world.client(Role.COMMITTEE).get("/todo/", {"per_page": 200}).content.decode()
    assert f"截止 {wanted - dt.timedelta(days=1):%Y-%m-%d}" in body
    # A duty of the period is due by the period's end.
    assert f"截止 {dt.date(today.year, 12, 31):%Y-%m-%d}" in body


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
    client = world.client(Role.COMMITTEE)
    total = len(todo_items(user=world.user(Role.COMMITTEE)))
    home = client.get("/")
    assert len(home.context["todos"]) == 3
    assert f"（另有{total - 3}项）" in home.content.decode()
    page = client.get("/todo/", {"per_page": 5})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == total
    assert len(page.context["page"].object_list) == 5
    last = client.get("/todo/", {"per_page": 5, "page": 99})
    assert last.context["page"].number == last.context["page"].paginator.num_pages


def test_home_lists_only_the_items_no_panel_shows(world):
    """The secretary's panel shows the branch's duties and its members behind on hours: the card beside it lists the
    other items (其他待办), and 全部待办 still has them all."""
    client = world.client(Role.SECRETARY)
    every = todo_items(user=world.user(Role.SECRETARY))
    home = client.get("/")
    body = home.content.decode()
    shown = {item.key for item in home.context["todos"]}
    others = [item for item in every if not home.context["panels"].covers(item)]
    a = world.orgs["A"].pk
    assert f"duty:{a}:{ActivityKind.THEME_DAY}" in {item.key for item in every}
    assert not [key for key in shown if key.startswith((f"duty:{a}:", f"hours-behind:{a}"))]
    assert {f"absent:{m.pk}" for m in world.members["A"]} <= {item.key for item in others}
    assert shown <= {item.key for item in others}
    assert home.context["todo_total"] == len(others) < len(every)
    assert "其他待办" in body and f"（共{len(every)}项）" in body
    assert client.get("/todo/").context["page"].paginator.count == len(every)


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
