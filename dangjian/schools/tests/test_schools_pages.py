"""The schools seam's pages: the list (button, links, query count), the detail tabs for each role, create and
edit with bad input, the POST-only actions (a viewer gets 403 and nothing changes; a bad form re-renders with
the message beside its field), and the evidence download."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members.models import Post
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory
from dangjian.schools.models import (
    BookingStatus,
    BuildMode,
    FundingLine,
    JointSchoolUnit,
    PartySchool,
    PrincipalTerm,
    SchoolAnnualPlan,
    SchoolLevel,
    SchoolVenue,
    StandardCheck,
    StandardItem,
)
from dangjian.schools.services import schools as services
from dangjian.schools.tests.factories import (
    BookingRequestFactory,
    CourseFactory,
    PartySchoolFactory,
    SchoolEvaluationFactory,
    SchoolVenueFactory,
)

THIS_YEAR = timezone.localdate().year
MANAGERS = (Role.COMMITTEE, Role.SCHOOL_ADMIN)


def body(response) -> str:
    return response.content.decode()


def detail(school, tab="info", **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"tab": tab, **query}.items())
    return f"{reverse('schools:detail', args=[school.pk])}?{params}"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def school_a(world):
    """An amateur school run by branch A: seen by the committee, the school admin and A's secretary."""
    return PartySchoolFactory(organization=world.orgs["A"], code="HPA", name="高一业余党校")


# ---------------------------------------------------------------------------------------------------------
# List


@pytest.mark.parametrize("role", [*MANAGERS, Role.SECRETARY, Role.INSTRUCTOR])
def test_the_list_offers_creating_to_managers_only(world, school_a, role):
    response = world.client(role).get(reverse("schools:list"))
    assert response.status_code == 200
    assert ('id="school-create"' in body(response)) is (role in MANAGERS)
    if role != Role.INSTRUCTOR:
        assert reverse("schools:detail", args=[school_a.pk]) in body(response)


def test_the_list_takes_a_fixed_number_of_queries(world):
    client = world.client(Role.COMMITTEE)
    parent = PartySchoolFactory(organization=world.orgs["C1"])
    PartySchoolFactory(organization=world.orgs["A"], build_mode=BuildMode.EXTENDED, parent=parent)
    client.get(reverse("schools:list"))  # warm the session and the access
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("schools:list")).status_code == 200
    for i in range(15):
        PartySchoolFactory(organization=world.orgs["B" if i % 2 else "A"], build_mode=BuildMode.EXTENDED, parent=parent)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("schools:list"))
    assert len(response.context["page"].object_list) == 17
    assert len(many) == len(few)


# ---------------------------------------------------------------------------------------------------------
# Detail


TABS = ["info", "venues", "units", "plans", "funding", "standards", "records"]


@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.SECRETARY])
def test_every_tab_shows_for_a_viewer(world, school_a, role, tab):
    SchoolVenueFactory(school=school_a, name="党员活动室")
    response = world.client(role).get(detail(school_a, tab))
    assert response.status_code == 200
    manage_form = {"venues": "schools:venue_add", "plans": "schools:plan_save", "funding": "schools:funding_save"}
    if tab in manage_form:
        assert (reverse(manage_form[tab], args=[school_a.pk]) in body(response)) is (role == Role.COMMITTEE)


@pytest.mark.parametrize("role", [Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_a_school_out_of_scope_is_not_found(world, school_a, role):
    assert world.client(role).get(detail(school_a)).status_code == 404


def test_a_bad_tab_or_year_falls_back(world, school_a):
    response = world.client(Role.COMMITTEE).get(detail(school_a, "nope", year="abc"))
    assert response.status_code == 200 and response.context["tab"] == "info"
    assert response.context["year"] == THIS_YEAR


def test_the_units_tab_shows_rotation_and_hides_secretaries_out_of_scope(world):
    """A joint school of B with A's unit as a member: B's instructor sees the school but not A's members."""
    school = PartySchoolFactory(organization=world.orgs["B"], build_mode=BuildMode.JOINT)
    JointSchoolUnit.objects.create(school=school, unit=world.units["A"], rotation_order=1)
    JointSchoolUnit.objects.create(school=school, unit=world.units["B"], rotation_order=2)
    PartyPostFactory(member=world.members["A"][1], organization=world.orgs["A"], post=Post.SECRETARY)
    b_secretary = MemberFactory(organization=world.orgs["B"], name="孙乙书记")
    PartyPostFactory(member=b_secretary, organization=world.orgs["B"], post=Post.SECRETARY)
    text = body(world.client(Role.INSTRUCTOR).get(detail(school, "units")))
    assert "孙乙书记" in text and world.members["A"][1].name not in text and "不在您的查看范围" in text
    text = body(world.client(Role.COMMITTEE).get(detail(school, "units")))
    assert world.members["A"][1].name in text and "孙乙书记" in text


def test_the_detail_tabs_take_a_fixed_number_of_queries(world, school_a):
    client = world.client(Role.COMMITTEE)
    for tab in ("venues", "records", "funding", "standards"):
        client.get(detail(school_a, tab))
        with CaptureQueriesContext(connection) as few:
            client.get(detail(school_a, tab))
        course = CourseFactory(owner=world.orgs["C1"])
        for i in range(5):
            SchoolVenueFactory(school=school_a)
            BookingRequestFactory(school=school_a, courses=[course], status=BookingStatus.COMPLETED)
            services.funding_save(
                by=world.user(Role.COMMITTEE),
                school=school_a,
                year=THIS_YEAR - i,
                purpose="teaching",
                allocated=Decimal("100"),
                spent=Decimal("50"),
            )
        with CaptureQueriesContext(connection) as many:
            client.get(detail(school_a, tab))
        assert len(many) == len(few), tab


def test_the_money_check_puts_completed_bookings_beside_the_money(world, school_a):
    by = world.user(Role.COMMITTEE)
    services.funding_save(
        by=by, school=school_a, year=THIS_YEAR, purpose="teaching", allocated=Decimal("5000"), spent=Decimal("1200.5")
    )
    services.funding_save(
        by=by, school=school_a, year=THIS_YEAR, purpose="venue", allocated=Decimal("1000"), spent=Decimal("0")
    )
    c4, c2 = (
        CourseFactory(owner=world.orgs["C1"], hours=Decimal("4")),
        CourseFactory(owner=world.orgs["C1"], hours=Decimal("2.5")),
    )
    BookingRequestFactory(school=school_a, courses=[c4, c2], status=BookingStatus.COMPLETED)
    BookingRequestFactory(school=school_a, courses=[c4], status=BookingStatus.COMPLETED)
    BookingRequestFactory(school=school_a, courses=[c4], status=BookingStatus.SUBMITTED)  # not completed
    response = world.client(Role.SECRETARY).get(detail(school_a, "funding", year=THIS_YEAR))
    funding = response.context["funding"]
    assert (funding.allocated, funding.spent, funding.balance) == (
        Decimal("6000"),
        Decimal("1200.50"),
        Decimal("4799.50"),
    )
    # The factory's bookings are unscheduled: they count in the year of their wanted start (in 14 days).
    year_of_bookings = (timezone.localdate() + dt.timedelta(days=14)).year
    rows = {m.year: m for m in response.context["money"]}
    assert rows[year_of_bookings].completed_bookings == 2
    assert rows[year_of_bookings].course_hours == Decimal("10.5")
    assert rows[THIS_YEAR].allocated == Decimal("6000") and rows[THIS_YEAR].balance == Decimal("4799.50")
    assert "4799.50" in body(response)


def test_the_checklist_lists_every_active_item_with_its_check(world, school_a):
    items = list(StandardItem.objects.filter(scheme="huangpi", active=True).order_by("order"))
    services.standard_check_save(
        by=world.user(Role.COMMITTEE), school=school_a, year=THIS_YEAR, item=items[0], met=True
    )
    services.standard_check_save(
        by=world.user(Role.COMMITTEE), school=school_a, year=THIS_YEAR, item=items[1], met=False
    )
    response = world.client(Role.SECRETARY).get(detail(school_a, "standards", year=THIS_YEAR))
    checklist = response.context["checklist"]
    assert [r.item for r in checklist.rows] == items
    assert (checklist.met_count, checklist.checked_count) == (1, 2)
    assert body(response).count("未检查") == len(items) - 2
    assert "达标 <strong>1</strong> / 6 项" in body(response)


def test_the_records_tab_shows_bookings_and_evaluations(world, school_a):
    BookingRequestFactory(school=school_a, topic="学习二十大精神")
    SchoolEvaluationFactory(school=school_a, year=2024, composite=Decimal("88.50"))
    text = body(world.client(Role.SECRETARY).get(detail(school_a, "records")))
    assert "学习二十大精神" in text and "2024年度" in text and "88.50" in text


def test_the_records_tab_lists_the_classes_the_school_runs(world, school_a):
    from dangjian.training.tests.factories import TrainingClassFactory

    TrainingClassFactory(organizer=world.orgs["A"], school=school_a, title="高一支部党员冬训班")
    TrainingClassFactory(organizer=world.orgs["A"], title="另一个班")  # not run by this school
    text = body(world.client(Role.SECRETARY).get(detail(school_a, "records")))
    assert "高一支部党员冬训班" in text and "另一个班" not in text


# ---------------------------------------------------------------------------------------------------------
# Create and edit


def school_data(**overrides) -> dict:
    data = {
        "code": "HP-NEW",
        "name": "新建业余党校",
        "organization": "BJ01",
        "level": SchoolLevel.AMATEUR,
        "build_mode": BuildMode.INDEPENDENT,
        "parent": "",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_a_manager_creates_a_school_on_the_page(world):
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("schools:create"), school_data())
    school = PartySchool.objects.get(code="HP-NEW")
    assert response.status_code == 302 and response["Location"] == school.get_absolute_url()


@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        pytest.param(
            {"build_mode": BuildMode.EXTENDED}, "上级党校编码（延伸建校）：延伸建校须指定上级党校。", id="no-parent"
        ),
        pytest.param(
            {"build_mode": BuildMode.EXTENDED, "parent": "LHX"},
            "上级党校编码（延伸建校）：找不到党校编码“LHX”，或该党校不在您的查看范围内。",
            id="parent-not-visible",
        ),
        pytest.param(
            {"organization": "LH01"},
            "主办党组织：找不到党组织编码“LH01”，或该组织不在您的管理范围内。",
            id="org-out-of-scope",
        ),
        pytest.param({"code": "HPA"}, "党校编码：党校编码已存在，请换一个编码。", id="duplicate-code"),
        pytest.param({"parent": "HPA"}, "只有延伸建校的党校才设上级党校", id="independent-with-parent"),
        pytest.param({"name": ""}, "党校名称：请填写党校名称。", id="no-name"),
    ],
)
def test_bad_input_on_the_create_page(world, school_a, overrides, shown):
    PartySchoolFactory(organization=world.orgs["XB"], code="LHX")
    before = PartySchool.objects.count()
    response = world.client(Role.COMMITTEE).post(reverse("schools:create"), school_data(**overrides))
    assert response.status_code == 200
    assert shown in body(response)
    assert PartySchool.objects.count() == before


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR])
def test_a_viewer_cannot_create_or_edit(world, school_a, role):
    client = world.client(role)
    assert client.get(reverse("schools:create")).status_code == 403
    assert client.post(reverse("schools:create"), school_data(organization="BJ01A")).status_code == 403
    assert not PartySchool.objects.filter(code="HP-NEW").exists()
    expected = 403 if role == Role.SECRETARY else 404
    assert client.post(reverse("schools:edit", args=[school_a.pk]), school_data(code="HPA", name="改")).status_code == (
        expected
    )
    school_a.refresh_from_db()
    assert school_a.name == "高一业余党校"


def test_editing_a_school_on_the_page(world, school_a):
    client = world.client(Role.COMMITTEE)
    url = reverse("schools:edit", args=[school_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'value="HPA"' in body(page) and 'value="BJ01A"' in body(page)
    response = client.post(url, school_data(code="HPA", name="高一年级业余党校", organization="BJ01A"))
    assert response.status_code == 302
    school_a.refresh_from_db()
    assert school_a.name == "高一年级业余党校"
    bad = client.post(url, school_data(code="HPA", organization="BJ01A", build_mode=BuildMode.EXTENDED))
    assert bad.status_code == 200 and "延伸建校须指定上级党校。" in body(bad)


# ---------------------------------------------------------------------------------------------------------
# Actions: a viewer who may not change the school gets 403 and nothing changes


def action_cases(world, school):
    """(url name, valid POST data, how to count what it would change)."""
    JointSchoolUnit.objects.create(school=school, unit=world.units["B"], rotation_order=1)
    term = PrincipalTerm.objects.create(school=school, year=2026, name="甲", unit=world.units["B"])
    item = StandardItem.objects.filter(scheme="huangpi").first()
    return [
        ("schools:venue_add", {"name": "第二教室"}, lambda: SchoolVenue.objects.filter(school=school).count()),
        ("schools:unit_add", {"unit": world.units["A"].name}, lambda: school.member_units.count()),
        (
            "schools:unit_change",
            {"member_unit": school.member_units.get().pk, "action": "remove"},
            lambda: school.member_units.count(),
        ),
        ("schools:principal_propose", {"year": 2027}, lambda: school.principal_terms.count()),
        (
            "schools:principal_confirm",
            {"term": term.pk},
            lambda: school.principal_terms.filter(confirmed=True).count(),
        ),
        ("schools:principal_set", {"year": 2027, "name": "王"}, lambda: school.principal_terms.count()),
        (
            "schools:plan_save",
            {"year": 2026, "planned_classes": 1, "planned_trainees": 1, "plan": ""},
            lambda: school.plans.count(),
        ),
        (
            "schools:funding_save",
            {"year": 2026, "purpose": "teaching", "allocated": "1", "spent": "0"},
            lambda: school.funding.count(),
        ),
        (
            "schools:standard_check",
            {"year": THIS_YEAR, "item": item.pk, "met": "on"},
            lambda: school.standard_checks.count(),
        ),
    ]


def test_a_viewer_gets_403_on_every_action_and_nothing_changes(world, school_a):
    school_a.build_mode = BuildMode.JOINT
    school_a.save()
    client = world.client(Role.SECRETARY)
    for name, data, count in action_cases(world, school_a):
        before = count()
        response = client.post(reverse(name, args=[school_a.pk]), data)
        assert response.status_code == 403, name
        assert count() == before, name
    venue = SchoolVenueFactory(school=school_a, name="原名")
    assert client.post(reverse("schools:venue_edit", args=[venue.pk]), {"name": "新名"}).status_code == 403
    venue.refresh_from_db()
    assert venue.name == "原名"


def test_the_actions_are_post_only(world, school_a):
    client = world.client(Role.COMMITTEE)
    for name, _, _ in action_cases(world, school_a):
        assert client.get(reverse(name, args=[school_a.pk])).status_code == 405, name


def test_a_manager_runs_the_rotation_on_the_page(world):
    school = PartySchoolFactory(organization=world.orgs["C1"], build_mode=BuildMode.JOINT)
    client = world.client(Role.SCHOOL_ADMIN)
    assert (
        client.post(reverse("schools:unit_add", args=[school.pk]), {"unit": world.units["A"].credit_code}).status_code
        == 302
    )
    assert (
        client.post(reverse("schools:unit_add", args=[school.pk]), {"unit": world.units["B"].name}).status_code == 302
    )
    # No secretary yet: the message, nothing saved.
    response = client.post(reverse("schools:principal_propose", args=[school.pk]), {"year": 2026})
    assert response.status_code == 200 and "没有可轮值的书记" in body(response)
    assert not school.principal_terms.exists()
    secretary = MemberFactory(organization=world.orgs["B"], name="孙书记")
    PartyPostFactory(member=secretary, organization=world.orgs["B"], post=Post.SECRETARY)
    assert client.post(reverse("schools:principal_propose", args=[school.pk]), {"year": 2026}).status_code == 302
    term = school.principal_terms.get()
    assert (term.unit, term.member, term.confirmed) == (world.units["B"], secretary, False)
    assert client.post(reverse("schools:principal_confirm", args=[school.pk]), {"term": term.pk}).status_code == 302
    response = client.post(reverse("schools:principal_propose", args=[school.pk]), {"year": 2026})
    assert response.status_code == 200 and "已确认，不能重新推荐" in body(response)
    assert "孙书记" in body(client.get(detail(school, "units")))


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        pytest.param(
            {"unit": "临湖湖畔培训中心"}, "找不到单位“临湖湖畔培训中心”，或该单位不在您的查看范围内。", id="unit-hidden"
        ),
        pytest.param({"unit": ""}, "请填写成员单位（名称或统一社会信用代码）。", id="unit-empty"),
    ],
)
def test_bad_member_units_on_the_page(world, data, shown):
    school = PartySchoolFactory(organization=world.orgs["C1"], build_mode=BuildMode.JOINT)
    response = world.client(Role.COMMITTEE).post(reverse("schools:unit_add", args=[school.pk]), data)
    assert response.status_code == 200 and shown in body(response)
    assert not school.member_units.exists()


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        pytest.param(
            "schools:funding_save",
            {"year": 2026, "purpose": "teaching", "allocated": "100", "spent": "150"},
            "支出金额（元）：支出金额超过下拨金额",
            id="overspent",
        ),
        pytest.param(
            "schools:funding_save",
            {"year": 2026, "purpose": "teaching", "allocated": "-1", "spent": "0"},
            "下拨金额（元）：下拨金额不能为负数。",
            id="negative",
        ),
        pytest.param(
            "schools:funding_save",
            {"year": 2026, "purpose": "teaching", "allocated": "abc", "spent": "0"},
            "下拨金额（元）：",
            id="not-a-number",
        ),
        pytest.param(
            "schools:plan_save",
            {"year": 2026, "planned_classes": "-1", "planned_trainees": "0"},
            "计划办班数：",
            id="plan-negative",
        ),
        pytest.param("schools:principal_set", {"year": "1800", "name": "王"}, "年度：", id="year-out-of-range"),
        pytest.param("schools:venue_add", {"name": ""}, "场所名称：请填写场所名称。", id="venue-no-name"),
    ],
)
def test_bad_forms_re_render_with_the_message(world, school_a, name, data, shown):
    counts = (
        school_a.funding.count(),
        school_a.plans.count(),
        school_a.principal_terms.count(),
        school_a.venues.count(),
    )
    response = world.client(Role.COMMITTEE).post(reverse(name, args=[school_a.pk]), data)
    assert response.status_code == 200
    assert shown in body(response)
    after = (
        school_a.funding.count(),
        school_a.plans.count(),
        school_a.principal_terms.count(),
        school_a.venues.count(),
    )
    assert after == counts


def test_saving_plan_and_money_on_the_page(world, school_a):
    client = world.client(Role.COMMITTEE)
    response = client.post(
        reverse("schools:plan_save", args=[school_a.pk]),
        {"year": 2025, "planned_classes": 8, "planned_trainees": 300, "plan": "春秋两季"},
    )
    assert response.status_code == 302 and "year=2025" in response["Location"]
    assert SchoolAnnualPlan.objects.get(school=school_a, year=2025).planned_trainees == 300
    response = client.post(
        reverse("schools:funding_save", args=[school_a.pk]),
        {"year": 2025, "purpose": "teaching", "allocated": "100", "spent": "150", "note": "追加"},
    )
    assert response.status_code == 302
    assert FundingLine.objects.get(school=school_a, year=2025).spent == Decimal("150")


def test_editing_a_venue(world, school_a):
    venue = SchoolVenueFactory(school=school_a, name="第一教室")
    SchoolVenueFactory(school=school_a, name="第二教室")
    client = world.client(Role.COMMITTEE)
    url = reverse("schools:venue_edit", args=[venue.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "第二教室", "capacity": "30"})
    assert bad.status_code == 200 and "场所名称：本校已有同名的教学场所。" in body(bad)
    assert client.post(url, {"name": "报告厅", "capacity": "200", "active": "on"}).status_code == 302
    venue.refresh_from_db()
    assert (venue.name, venue.capacity) == ("报告厅", 200)


# ---------------------------------------------------------------------------------------------------------
# The 六有 checklist and its evidence


def upload(name: str, content: bytes = b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_evidence_is_uploaded_and_downloaded_by_viewers_only(world, school_a, media):
    item = StandardItem.objects.get(scheme="huangpi", code="venue")
    response = world.client(Role.COMMITTEE).post(
        reverse("schools:standard_check", args=[school_a.pk]),
        {"year": THIS_YEAR, "item": item.pk, "met": "on", "note": "有固定教室", "evidence": upload("场所照片.pdf")},
    )
    assert response.status_code == 302
    check = StandardCheck.objects.get(school=school_a, item=item)
    url = reverse("schools:evidence", args=[check.pk])
    download = world.client(Role.SECRETARY).get(url)
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    for role in (Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN):
        assert world.client(role).get(url).status_code == 404
    assert url in body(world.client(Role.SECRETARY).get(detail(school_a, "standards", year=THIS_YEAR)))


def test_a_check_without_evidence_says_so(world, school_a):
    item = StandardItem.objects.get(scheme="huangpi", code="venue")
    check = services.standard_check_save(
        by=world.user(Role.COMMITTEE), school=school_a, year=THIS_YEAR, item=item, met=False
    )
    response = world.client(Role.SECRETARY).get(reverse("schools:evidence", args=[check.pk]))
    assert response.status_code == 200 and "没有可下载的佐证材料" in body(response)


@pytest.mark.parametrize(
    ("item_key", "file", "shown"),
    [
        pytest.param(("huangpi", "venue"), upload("脚本.exe"), "佐证材料：佐证材料只能是PDF", id="bad-type"),
        pytest.param(
            ("huangpi", "venue"), upload("大文件.pdf", b"x" * (10 * 1024 * 1024 + 1)), "不能超过10 MB", id="too-large"
        ),
        pytest.param(("xiqing", "organization"), None, "该检查项不属于本校适用的“六有”标准", id="wrong-scheme"),
    ],
)
def test_bad_checks_on_the_page(world, school_a, media, item_key, file, shown):
    item = StandardItem.objects.get(scheme=item_key[0], code=item_key[1])
    data = {"year": THIS_YEAR, "item": item.pk, "met": "on"}
    if file is not None:
        data["evidence"] = file
    response = world.client(Role.COMMITTEE).post(reverse("schools:standard_check", args=[school_a.pk]), data)
    assert response.status_code == 200 and shown in body(response)
    assert not StandardCheck.objects.filter(school=school_a).exists()
    assert not list(media.rglob("*.*"))
