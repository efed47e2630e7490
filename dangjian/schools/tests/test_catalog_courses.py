"""The course catalog (hours by format in 0.5 steps, target groups, instructors the user sees) and modules (the
Xiqing 40/40/20 mix by hours, its warning, an empty module)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.schools.models import ContentType, Course, CourseCategory, CourseFormat, CourseModule
from dangjian.schools.selectors.catalog import module_mix, module_mixes
from dangjian.schools.services.catalog import CourseData, course_create, course_update, module_save
from dangjian.schools.tests.factories import CourseFactory, CourseModuleFactory, InstructorFactory

PT, GP, EM = ContentType.POLITICAL_THEORY, ContentType.GRASSROOTS_PRACTICE, ContentType.EXEMPLARY_MODEL


def data(**overrides) -> CourseData:
    values = {
        "title": "乡村振兴思路举措",
        "category": CourseCategory.POLITICAL_THEORY,
        "format": CourseFormat.PACK,
        "content_type": PT,
        "for_members": True,
    }
    values.update(overrides)
    return CourseData(**values)


def create(world, **overrides) -> Course:
    return course_create(by=world.user(Role.SCHOOL_ADMIN), owner=world.orgs["C1"], data=data(**overrides))


def error(exc, field: str) -> str:
    return " ".join(exc.value.message_dict[field])


# ---------------------------------------------------------------------------------------------------------
# Courses


@pytest.mark.parametrize(
    ("fmt", "hours"),
    [
        (CourseFormat.MICRO, Decimal("0.5")),
        (CourseFormat.PACK, Decimal("4")),
        (CourseFormat.INTENSIVE, Decimal("24")),
        (CourseFormat.ONLINE, Decimal("1")),
        (CourseFormat.ONSITE, Decimal("4")),
    ],
)
def test_hours_left_empty_default_to_the_format_s(world, fmt, hours):
    assert create(world, format=fmt).hours == hours


@override_settings(DANGJIAN_COURSE_FORMAT_HOURS={"intensive": "21"})
def test_the_format_default_is_configurable(world):
    assert create(world, format=CourseFormat.INTENSIVE).hours == Decimal("21")


@pytest.mark.parametrize("hours", ["0.5", "1.5", "2", "200"])
def test_hours_in_half_hour_steps_are_kept(world, hours):
    assert create(world, hours=Decimal(hours)).hours == Decimal(hours)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("1.25", "学时须为0.5的整数倍"),
        ("0.3", "学时须为0.5的整数倍"),
        ("0", "大于或等于0.5"),
        ("-1", "大于或等于0.5"),
        ("200.5", "小于或等于200"),
    ],
)
def test_bad_hours_are_refused(world, hours, message):
    with pytest.raises(ValidationError) as exc:
        create(world, hours=Decimal(hours))
    assert message in error(exc, "hours")
    assert not Course.objects.exists()


def test_a_course_needs_a_target_group(world):
    with pytest.raises(ValidationError) as exc:
        create(world, for_members=False)
    assert error(exc, "target_groups") == "请至少选择一类培训对象。"
    assert not Course.objects.exists()


def test_only_instructors_the_user_sees(world):
    outside = InstructorFactory(owner=world.orgs["X"])
    with pytest.raises(ValidationError) as exc:
        create(world, instructors=[outside])
    assert "不在您的查看范围内" in error(exc, "instructors")
    district = InstructorFactory(owner=world.orgs["R"])  # the district's pool, shared downwards
    assert list(create(world, instructors=[district]).instructors.all()) == [district]


def test_course_changes_need_a_manager_of_the_owner(world):
    with pytest.raises(PermissionDenied):
        course_create(by=world.user(Role.SECRETARY), owner=world.orgs["A"], data=data())
    district = CourseFactory(owner=world.orgs["R"], title="区级课程")
    with pytest.raises(PermissionDenied):
        course_update(by=world.user(Role.SCHOOL_ADMIN), course=district, data=data())
    district.refresh_from_db()
    assert district.title == "区级课程"


def test_an_update_keeps_instructors_out_of_the_editor_s_sight(world):
    hidden = InstructorFactory(owner=world.orgs["B"])
    course = CourseFactory(owner=world.orgs["A"], instructors=[hidden])
    mine = InstructorFactory(owner=world.orgs["A"])
    # A school admin of A only: B's instructor is out of their sight.
    editor = user_with_role(Role.SCHOOL_ADMIN, world.orgs["A"])
    course_update(by=editor, course=course, data=data(instructors=[mine], hours=None))
    assert set(course.instructors.all()) == {hidden, mine}


def test_the_course_form_shows_the_hours_error_beside_the_field(world):
    client = world.client(Role.SCHOOL_ADMIN)
    form = {
        "owner": "BJ01",
        "title": "党务工作实务",
        "category": CourseCategory.PROFESSIONAL,
        "format": CourseFormat.PACK,
        "hours": "1.25",
        "content_type": GP,
        "target_groups": ["party_workers"],
        "active": "on",
    }
    response = client.post(reverse("schools:course_create"), form)
    assert response.status_code == 200
    assert "学时：学时须为0.5的整数倍（如0.5、1、1.5）。" in response.content.decode()
    response = client.post(reverse("schools:course_create"), {**form, "hours": "", "target_groups": []})
    assert "培训对象：请至少选择一类培训对象。" in response.content.decode()
    assert not Course.objects.exists()
    assert client.post(reverse("schools:course_create"), {**form, "hours": ""}).status_code == 302
    course = Course.objects.get()
    assert (course.hours, course.for_party_workers, course.for_members) == (Decimal("4"), True, False)
    detail = client.get(reverse("schools:course_detail", args=[course.pk]))
    assert detail.status_code == 200 and "党务工作者" in detail.content.decode()
    assert world.client(Role.SECRETARY).post(reverse("schools:course_create"), form).status_code == 403


def test_the_catalog_filters(world):
    c1 = world.orgs["C1"]
    theory = CourseFactory(owner=c1, title="理论课", content_type=PT, for_secretaries=True, for_members=False)
    practice = CourseFactory(
        owner=c1, title="实务课", category=CourseCategory.PROFESSIONAL, content_type=GP, format=CourseFormat.MICRO
    )
    model = CourseFactory(owner=c1, title="模范课", content_type=EM, premium_year=2024, summary="先进事迹报告")
    client = world.client(Role.SECRETARY)

    def titles(**query):
        response = client.get(reverse("schools:course_list"), query)
        assert response.status_code == 200
        return {c.title for c in response.context["page"].object_list}

    assert titles() == {theory.title, practice.title, model.title}
    assert titles(category=CourseCategory.PROFESSIONAL) == {practice.title}
    assert titles(format=CourseFormat.MICRO) == {practice.title}
    assert titles(content_type=EM) == {model.title}
    assert titles(target="secretaries") == {theory.title}
    assert titles(premium="on") == {model.title}
    assert titles(q="事迹") == {model.title}
    assert titles(q="实务") == {practice.title}


# ---------------------------------------------------------------------------------------------------------
# Modules and their mix


def module_with(world, *courses, **targets) -> CourseModule:
    """A module of C1 with courses given as (content type, hours)."""
    c1 = world.orgs["C1"]
    made = [CourseFactory(owner=c1, content_type=ct, hours=Decimal(h)) for ct, h in courses]
    return CourseModuleFactory(owner=c1, courses=made, **targets)


def test_a_module_on_its_target_mix_has_no_warning(world):
    module = module_with(world, (PT, "4"), (PT, "4"), (GP, "8"), (EM, "4"))
    mix = module_mix(module)
    assert mix.total_hours == Decimal("20")
    assert [(r.label, r.hours, r.percent) for r in mix.rows] == [
        ("政治理论", Decimal("8"), Decimal("40.0")),
        ("基层实务", Decimal("8"), Decimal("40.0")),
        ("先进模范", Decimal("4"), Decimal("20.0")),
    ]
    assert mix.warnings == [] and not mix.off_target


def test_the_mix_is_by_hours_not_by_course_count(world):
    # Four exemplary micro lessons against one 4-hour pack of each other type: by count 67% exemplary,
    # by hours 2 of 10 = 20%.
    module = module_with(world, (PT, "4"), (GP, "4"), *[(EM, "0.5")] * 4)
    mix = module_mix(module)
    assert [r.percent for r in mix.rows] == [Decimal("40.0"), Decimal("40.0"), Decimal("20.0")]
    assert not mix.off_target


def test_a_departure_within_the_tolerance_is_no_warning(world):
    module = module_with(world, (PT, "9"), (GP, "7"), (EM, "4"))  # 45 / 35 / 20, tolerance 5
    assert not module_mix(module).off_target


def test_a_module_off_its_target_mix_warns_per_content_type(world):
    module = module_with(world, (PT, "8"), (GP, "2"))  # 80 / 20 / 0
    mix = module_mix(module)
    assert mix.off_target
    assert len(mix.warnings) == 3
    assert all("偏离目标结构" in w for w in mix.warnings)
    assert mix.warnings[0].startswith("政治理论：实际80.0%，目标40.0%，偏差+40.0个百分点")
    assert [r.off_target for r in mix.rows] == [True, True, True]


def test_a_module_uses_its_own_targets_and_tolerance(world):
    module = module_with(
        world,
        (PT, "5"),
        (GP, "3"),
        (EM, "2"),
        target_political=Decimal("50"),
        target_practice=Decimal("30"),
        target_model=Decimal("20"),
        tolerance=Decimal("0"),
    )
    assert not module_mix(module).off_target


def test_an_empty_module_has_no_mix(world):
    mix = module_mix(CourseModuleFactory(owner=world.orgs["C1"]))
    assert mix.empty and mix.rows == [] and mix.warnings == []


def test_the_module_page_shows_the_mix_the_warning_or_that_it_is_empty(world):
    client = world.client(Role.SECRETARY)
    on = module_with(world, (PT, "4"), (GP, "4"), (EM, "2"))
    off = module_with(world, (PT, "8"), (GP, "2"))
    empty = CourseModuleFactory(owner=world.orgs["C1"])
    body = client.get(reverse("schools:module_detail", args=[on.pk])).content.decode()
    assert "符合目标结构" in body and 'id="mix-warning"' not in body
    body = client.get(reverse("schools:module_detail", args=[off.pk])).content.decode()
    assert 'id="mix-warning"' in body and "偏离目标结构" in body and "80.0%" in body
    response = client.get(reverse("schools:module_detail", args=[empty.pk]))
    assert response.status_code == 200 and "暂无内容结构可计算" in response.content.decode()
    mixes = module_mixes([on, off, empty])
    assert (mixes[on.pk].off_target, mixes[off.pk].off_target, mixes[empty.pk].empty) == (False, True, True)


def test_module_save_checks_the_targets_and_the_courses(world):
    admin = world.user(Role.SCHOOL_ADMIN)
    base = {"owner": world.orgs["C1"], "name": "基层治理", "courses": []}
    with pytest.raises(ValidationError) as exc:
        module_save(by=admin, **base, target_political=Decimal("50"))
    assert error(exc, "target_political") == "三类内容的目标占比之和须为100%，当前为110.0%。"
    with pytest.raises(ValidationError) as exc:
        module_save(by=admin, **{**base, "courses": [CourseFactory(owner=world.orgs["X"])]})
    assert "不在您的查看范围内" in error(exc, "courses")
    with pytest.raises(PermissionDenied):
        module_save(by=world.user(Role.SECRETARY), **{**base, "owner": world.orgs["A"]})
    assert not CourseModule.objects.exists()
    course = CourseFactory(owner=world.orgs["R"])
    module = module_save(by=admin, **{**base, "courses": [course]})
    assert list(module.courses.all()) == [course]
    assert (module.target_political, module.target_practice, module.target_model) == (40, 40, 20)


def test_the_module_form_shows_the_target_error(world):
    client = world.client(Role.SCHOOL_ADMIN)
    form = {
        "owner": "BJ01",
        "name": "党务工作",
        "target_political": "40",
        "target_practice": "40",
        "target_model": "30",
        "tolerance": "5",
    }
    response = client.post(reverse("schools:module_create"), form)
    assert response.status_code == 200
    assert "政治理论目标占比（%）：三类内容的目标占比之和须为100%，当前为110.0%。" in response.content.decode()
    assert client.post(reverse("schools:module_create"), {**form, "target_model": "20"}).status_code == 302
    module = CourseModule.objects.get()
    edit = reverse("schools:module_edit", args=[module.pk])
    assert world.client(Role.SECRETARY).get(edit).status_code == 403
    assert client.post(edit, {**form, "target_model": "20", "name": "党务工作（新）"}).status_code == 302
    module.refresh_from_db()
    assert module.name == "党务工作（新）"
