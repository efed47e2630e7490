"""The catalog pages: rows shared downwards (an ancestor's pool and catalog are seen below it, never across),
role checks, and a fixed number of queries per list page."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.schools.models import Course
from dangjian.schools.tests.factories import (
    CourseFactory,
    CourseModuleFactory,
    InstructorFactory,
    PointEntryFactory,
    PointRuleFactory,
    PremiumRoundFactory,
)

FACTORIES = {
    "instructor": (InstructorFactory, "schools:instructor_list", "schools:instructor_detail"),
    "course": (CourseFactory, "schools:course_list", "schools:course_detail"),
    "module": (CourseModuleFactory, "schools:module_list", "schools:module_detail"),
    "premium": (PremiumRoundFactory, "schools:premium_list", "schools:premium_detail"),
}


def listed(client, list_name) -> set[int]:
    response = client.get(reverse(list_name), {"per_page": 200})
    assert response.status_code == 200
    return {row.pk for row in response.context["page"].object_list}


@pytest.mark.parametrize("kind", FACTORIES)
def test_a_row_owned_by_c1_is_seen_below_it_and_not_across(world, kind):
    factory, list_name, detail_name = FACTORIES[kind]
    row = factory(owner=world.orgs["C1"])
    detail = reverse(detail_name, args=[row.pk])
    secretary = world.client(Role.SECRETARY)  # of A, below C1
    assert secretary.get(detail).status_code == 200
    assert row.pk in listed(secretary, list_name)
    outsider = user_with_role(Role.SCHOOL_ADMIN, world.orgs["X"])
    client = world.client(None)
    client.force_login(outsider)
    assert client.get(detail).status_code == 404
    assert row.pk not in listed(client, list_name)


@pytest.mark.parametrize("kind", FACTORIES)
def test_a_row_owned_by_a_is_not_seen_by_b(world, kind):
    factory, list_name, detail_name = FACTORIES[kind]
    row = factory(owner=world.orgs["A"])
    instructor_of_b = world.client(Role.INSTRUCTOR)
    assert instructor_of_b.get(reverse(detail_name, args=[row.pk])).status_code == 404
    assert row.pk not in listed(instructor_of_b, list_name)
    assert row.pk in listed(world.client(Role.SCHOOL_ADMIN), list_name)  # C1 sees its subtree


def test_a_course_shows_only_the_instructors_the_viewer_sees(world):
    of_a = InstructorFactory(owner=world.orgs["A"], name="甲支部讲师")
    of_c1 = InstructorFactory(owner=world.orgs["C1"], name="一中讲师")
    course = CourseFactory(owner=world.orgs["C1"], instructors=[of_a, of_c1])
    for role, shown in [(Role.SECRETARY, {"甲支部讲师", "一中讲师"}), (Role.INSTRUCTOR, {"一中讲师"})]:
        client = world.client(role)
        body = client.get(reverse("schools:course_detail", args=[course.pk])).content.decode()
        assert {n for n in ("甲支部讲师", "一中讲师") if n in body} == shown
        body = client.get(reverse("schools:course_list")).content.decode()
        assert {n for n in ("甲支部讲师", "一中讲师") if n in body} == shown


@pytest.mark.parametrize(
    "name", ["schools:instructor_create", "schools:course_create", "schools:module_create", "schools:premium_create"]
)
def test_create_pages_are_for_managers(world, name):
    for role in (Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN):
        assert world.client(role).get(reverse(name)).status_code == 403, role
        assert world.client(role).post(reverse(name), {"owner": "BJ01A", "name": "x"}).status_code == 403, role
    for role in (Role.SCHOOL_ADMIN, Role.COMMITTEE):
        assert world.client(role).get(reverse(name)).status_code == 200, role


@pytest.mark.parametrize(
    "name", ["schools:instructor_list", "schools:course_list", "schools:module_list", "schools:premium_list"]
)
def test_lists_are_for_school_viewers(world, name):
    for role in (Role.MEMBER, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        assert world.client(role).get(reverse(name)).status_code == 403, role
    for role in (Role.SECRETARY, Role.INSTRUCTOR, Role.SCHOOL_ADMIN):
        assert world.client(role).get(reverse(name)).status_code == 200, role


def test_an_ancestor_s_row_is_seen_but_not_changed(world):
    course = CourseFactory(owner=world.orgs["R"], title="区级课程")
    client = world.client(Role.SCHOOL_ADMIN)
    page = client.get(reverse("schools:course_detail", args=[course.pk]))
    assert page.status_code == 200 and reverse("schools:course_edit", args=[course.pk]) not in page.content.decode()
    assert client.get(reverse("schools:course_edit", args=[course.pk])).status_code == 403
    response = client.post(reverse("schools:course_edit", args=[course.pk]), {"title": "改名"})
    assert response.status_code == 403
    course.refresh_from_db()
    assert course.title == "区级课程"


def test_an_owner_outside_the_manager_s_scope_is_refused_by_code(world):
    response = world.client(Role.SCHOOL_ADMIN).post(
        reverse("schools:course_create"),
        {"owner": "LH", "title": "跨区课程", "category": "law", "format": "pack", "content_type": "political_theory"},
    )
    assert response.status_code == 200
    assert "找不到党组织编码“LH”，或该组织不在您的管理范围内。" in response.content.decode()
    assert not Course.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Query counts: each list costs the same with 2 rows as with 12.


_years = itertools.count(2001)


def _rows(world, kind: str, n: int) -> None:
    c1 = world.orgs["C1"]
    for _ in range(n):
        if kind == "instructors":
            instructor = InstructorFactory(owner=c1)
            PointEntryFactory(instructor=instructor, points=Decimal("2"))
        elif kind == "courses":
            CourseFactory(owner=c1, instructors=[InstructorFactory(owner=c1), InstructorFactory(owner=c1)])
        elif kind == "modules":
            CourseModuleFactory(owner=c1, courses=[CourseFactory(owner=c1), CourseFactory(owner=c1)])
        elif kind == "premium":
            PremiumRoundFactory(owner=c1, year=next(_years))
        elif kind == "rules":
            PointRuleFactory(owner=c1, valid_from=next(_years))


LISTS = {
    "instructors": "schools:instructor_list",
    "courses": "schools:course_list",
    "modules": "schools:module_list",
    "premium": "schools:premium_list",
    "rules": "schools:point_rules",
}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", LISTS)
def test_list_pages_use_a_fixed_number_of_queries(world, kind):
    client = world.client(Role.SCHOOL_ADMIN)
    url = reverse(LISTS[kind])
    _rows(world, kind, 2)
    client.get(url)  # warm the session and the access cache
    few = _queries(client, url)
    _rows(world, kind, 10)
    many = _queries(client, url)
    assert many == few, f"{kind}: {few} queries for 2 rows, {many} for 12"
