"""The schools seam's services: schools and their build modes, venues, joint schools' member units and the
principal rotation, annual plans, funding lines and the 六有 checklist. Bad input saves nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members.models import Post, Status
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory
from dangjian.schools.models import (
    BuildMode,
    FundingLine,
    FundingPurpose,
    JointSchoolUnit,
    PartySchool,
    PrincipalTerm,
    SchoolAnnualPlan,
    SchoolLevel,
    SchoolVenue,
    StandardCheck,
    StandardItem,
    StandardScheme,
)
from dangjian.schools.services import schools as services
from dangjian.schools.tests.factories import PartySchoolFactory

THIS_YEAR = timezone.localdate().year


def errors_of(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


@pytest.fixture
def committee(world):
    return world.user(Role.COMMITTEE)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def new_school(world, by, **overrides) -> PartySchool:
    fields = {
        "code": "HP-NEW",
        "name": "新建业余党校",
        "organization": world.orgs["C1"],
        "level": SchoolLevel.AMATEUR,
        "build_mode": BuildMode.INDEPENDENT,
    }
    fields.update(overrides)
    return services.school_create(by=by, **fields)


# ---------------------------------------------------------------------------------------------------------
# Schools


def test_a_manager_creates_a_school_in_scope(world, committee):
    school = new_school(world, committee)
    assert school.pk and school.organization == world.orgs["C1"]
    assert school.history.first().history_user == committee


def test_an_extended_school_hangs_under_a_visible_parent(world, committee):
    parent = PartySchoolFactory(organization=world.orgs["C1"])
    school = new_school(world, committee, build_mode=BuildMode.EXTENDED, parent=parent, organization=world.orgs["A"])
    assert school.parent == parent


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param({"build_mode": BuildMode.EXTENDED}, "parent", "延伸建校须指定上级党校。", id="extended-no-parent"),
        pytest.param({"code": "x"}, "code", "编码只能由字母", id="code-malformed"),
        pytest.param(
            {"established_on": timezone.localdate() + dt.timedelta(days=2)},
            "established_on",
            "不能晚于今天",
            id="future",
        ),
    ],
)
def test_bad_school_input_saves_nothing(world, committee, overrides, field, message):
    before = PartySchool.objects.count()
    with pytest.raises(ValidationError) as exc:
        new_school(world, committee, **overrides)
    assert any(message in m for m in errors_of(exc)[field])
    assert PartySchool.objects.count() == before


def test_an_extended_school_needs_a_parent_the_user_sees(world, committee):
    hidden_parent = PartySchoolFactory(organization=world.orgs["XB"])
    with pytest.raises(ValidationError) as exc:
        new_school(world, committee, build_mode=BuildMode.EXTENDED, parent=hidden_parent)
    assert errors_of(exc)["parent"] == [services.PARENT_NOT_FOUND_MESSAGE]
    assert not PartySchool.objects.filter(code="HP-NEW").exists()


@pytest.mark.parametrize("mode", [BuildMode.INDEPENDENT, BuildMode.JOINT])
def test_a_joint_or_independent_school_has_no_parent(world, committee, mode):
    parent = PartySchoolFactory(organization=world.orgs["C1"])
    with pytest.raises(ValidationError) as exc:
        new_school(world, committee, build_mode=mode, parent=parent)
    assert "parent" in errors_of(exc)
    assert not PartySchool.objects.filter(code="HP-NEW").exists()


def test_an_organization_out_of_scope_is_refused(world, committee):
    with pytest.raises(PermissionDenied):
        new_school(world, committee, organization=world.orgs["XB"])
    assert not PartySchool.objects.filter(code="HP-NEW").exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_a_non_manager_cannot_create_a_school(world, role):
    with pytest.raises(PermissionDenied):
        new_school(world, world.user(role), organization=world.orgs["A"])
    assert not PartySchool.objects.filter(code="HP-NEW").exists()


@pytest.mark.parametrize("code", ["HP01", "hp01"], ids=["same", "other-case"])
def test_a_school_code_is_unique(world, committee, code):
    PartySchoolFactory(code="HP01", organization=world.orgs["XB"])  # even one the user cannot see
    with pytest.raises(ValidationError) as exc:
        new_school(world, committee, code=code)
    assert errors_of(exc)["code"] == [services.CODE_TAKEN_MESSAGE]


def test_editing_keeps_the_rules(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    child = new_school(world, committee, code="HP-CHILD", build_mode=BuildMode.EXTENDED, parent=school)
    with pytest.raises(ValidationError) as exc:  # a school cannot hang under its own extension
        services.school_update(by=committee, school=school, build_mode=BuildMode.EXTENDED, parent=child)
    assert "parent" in errors_of(exc)
    with pytest.raises(ValidationError):
        services.school_update(by=committee, school=child, parent=None)
    other = PartySchoolFactory(organization=world.orgs["C1"])
    with pytest.raises(ValidationError) as exc:
        services.school_update(by=committee, school=child, code=other.code)
    assert errors_of(exc)["code"] == [services.CODE_TAKEN_MESSAGE]
    child.refresh_from_db()
    assert child.parent == school and child.code == "HP-CHILD"
    services.school_update(by=committee, school=child, name="前川街片区业余党校", level=SchoolLevel.AREA_AMATEUR)
    child.refresh_from_db()
    assert child.name == "前川街片区业余党校"


def test_editing_cannot_move_a_school_out_of_scope(world, committee):
    school = PartySchoolFactory(organization=world.orgs["A"])
    with pytest.raises(PermissionDenied):
        services.school_update(by=committee, school=school, organization=world.orgs["XB"])
    school.refresh_from_db()
    assert school.organization == world.orgs["A"]


def test_a_joint_school_keeps_its_mode_while_it_has_member_units(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"], build_mode=BuildMode.JOINT)
    services.joint_unit_add(by=committee, school=school, unit=world.units["A"])
    with pytest.raises(ValidationError) as exc:
        services.school_update(by=committee, school=school, build_mode=BuildMode.INDEPENDENT)
    assert "build_mode" in errors_of(exc)


# ---------------------------------------------------------------------------------------------------------
# Venues


def test_venues_are_unique_per_school(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    venue = services.venue_add(by=committee, school=school, name="第一教室", capacity=60)
    with pytest.raises(ValidationError) as exc:
        services.venue_add(by=committee, school=school, name=" 第一教室 ")
    assert errors_of(exc)["name"] == [services.VENUE_TAKEN_MESSAGE]
    services.venue_update(by=committee, venue=venue, name="党群服务中心", active=False)
    venue.refresh_from_db()
    assert (venue.name, venue.active) == ("党群服务中心", False)
    assert SchoolVenue.objects.filter(school=school).count() == 1


def test_a_viewer_cannot_add_a_venue(world):
    school = PartySchoolFactory(organization=world.orgs["A"])
    with pytest.raises(PermissionDenied):
        services.venue_add(by=world.user(Role.SECRETARY), school=school, name="第一教室")
    assert not school.venues.exists()


# ---------------------------------------------------------------------------------------------------------
# Joint schools and the principal rotation (Huangpi: 联建成员单位党组书记轮流担任业余党校校长，每届任期一年)


@pytest.fixture
def joint(world, committee):
    """A joint school of C1 with three member units (A's, B's and C's), each with a current secretary."""
    school = PartySchoolFactory(organization=world.orgs["C1"], build_mode=BuildMode.JOINT, code="JOINT1")
    c = OrganizationFactory(parent=world.orgs["C1"], code="BJ01C", name="高三年级党支部")
    units = [world.units["A"], world.units["B"], UnitFactory(name="高三单位", organization=c)]
    secretaries = []
    for unit in units:
        services.joint_unit_add(by=committee, school=school, unit=unit)
        member = MemberFactory(organization=unit.organization)
        PartyPostFactory(member=member, organization=unit.organization, post=Post.SECRETARY)
        secretaries.append(member)
    return school, units, secretaries


def term_of(school, year) -> PrincipalTerm:
    return PrincipalTerm.objects.get(school=school, year=year)


def test_member_units_are_appended_in_rotation_order(joint):
    school, units, _ = joint
    orders = list(school.member_units.order_by("rotation_order").values_list("unit", "rotation_order"))
    assert orders == [(units[0].pk, 1), (units[1].pk, 2), (units[2].pk, 3)]


def test_the_first_unit_serves_first(joint, committee):
    school, units, secretaries = joint
    term = services.principal_propose(by=committee, school=school, year=2025)
    assert (term.unit, term.member, term.name, term.confirmed) == (units[0], secretaries[0], secretaries[0].name, False)


def test_the_rotation_follows_the_order_and_wraps_around(joint, committee):
    school, units, _ = joint
    served = []
    for year in range(2024, 2031):
        term = services.principal_propose(by=committee, school=school, year=year)
        services.principal_confirm(by=committee, term=term)
        served.append(term.unit)
    assert served == [units[0], units[1], units[2], units[0], units[1], units[2], units[0]]
    # The history of terms is kept: one confirmed term per year.
    assert list(school.principal_terms.order_by("year").values_list("year", "confirmed")) == [
        (year, True) for year in range(2024, 2031)
    ]


def test_the_rotation_starts_after_the_latest_earlier_term(joint, committee):
    school, units, _ = joint
    PrincipalTerm.objects.create(school=school, year=2025, name="甲", unit=units[1], confirmed=True)
    PrincipalTerm.objects.create(school=school, year=2027, name="乙", unit=units[0], confirmed=True)
    assert services.principal_propose(by=committee, school=school, year=2026).unit == units[2]
    assert services.principal_propose(by=committee, school=school, year=2028).unit == units[1]


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda m, post: post.delete(), id="no-post"),
        pytest.param(
            lambda m, post: type(post).objects.filter(pk=post.pk).update(end_date=dt.date(2020, 1, 1)), id="ended"
        ),
        pytest.param(
            lambda m, post: type(post).objects.filter(pk=post.pk).update(post=Post.DEPUTY_SECRETARY), id="deputy"
        ),
        pytest.param(lambda m, post: type(m).objects.filter(pk=m.pk).update(status=Status.SUSPENDED), id="not-active"),
    ],
)
def test_a_unit_without_an_eligible_secretary_is_skipped(joint, committee, spoil):
    school, units, secretaries = joint
    PrincipalTerm.objects.create(school=school, year=2025, name="甲", unit=units[0], confirmed=True)
    spoil(secretaries[1], secretaries[1].posts.get())
    term = services.principal_propose(by=committee, school=school, year=2026)
    assert (term.unit, term.member) == (units[2], secretaries[2])


def test_a_post_ending_today_still_counts(joint, committee):
    school, units, secretaries = joint
    secretaries[0].posts.update(end_date=timezone.localdate())
    assert services.principal_propose(by=committee, school=school, year=2025).unit == units[0]


def test_the_latest_appointed_secretary_is_proposed(joint, committee):
    school, units, secretaries = joint
    newer = MemberFactory(organization=units[0].organization)
    PartyPostFactory(
        member=newer, organization=units[0].organization, post=Post.SECRETARY, start_date=dt.date(2023, 9, 1)
    )
    secretaries[0].posts.update(start_date=dt.date(2020, 9, 1))
    assert services.principal_propose(by=committee, school=school, year=2025).member == newer


def test_no_eligible_secretary_is_an_error_and_saves_nothing(joint, committee):
    school, _, secretaries = joint
    for member in secretaries:
        member.posts.update(end_date=dt.date(2020, 1, 1))
    before = PrincipalTerm.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.principal_propose(by=committee, school=school, year=2026)
    assert errors_of(exc)["unit"] == [services.NO_SECRETARY_MESSAGE]
    assert "没有可轮值的书记" in services.NO_SECRETARY_MESSAGE
    assert PrincipalTerm.objects.count() == before


def test_a_joint_school_without_units_has_no_secretary_to_rotate(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"], build_mode=BuildMode.JOINT)
    with pytest.raises(ValidationError) as exc:
        services.principal_propose(by=committee, school=school, year=2026)
    assert "没有可轮值的书记" in errors_of(exc)["unit"][0]
    assert not school.principal_terms.exists()


def test_a_proposal_replaces_an_unconfirmed_term_and_keeps_its_history(joint, committee):
    school, units, secretaries = joint
    first = services.principal_propose(by=committee, school=school, year=2026)
    assert first.unit == units[0]
    secretaries[0].posts.update(end_date=dt.date(2020, 1, 1))
    second = services.principal_propose(by=committee, school=school, year=2026)
    assert second.pk == first.pk and second.unit == units[1]
    assert [h.unit_id for h in second.history.order_by("history_date")] == [units[0].pk, units[1].pk]


def test_a_confirmed_term_is_not_replaced(joint, committee):
    school, units, _ = joint
    term = services.principal_confirm(
        by=committee, term=services.principal_propose(by=committee, school=school, year=2026)
    )
    with pytest.raises(ValidationError) as exc:
        services.principal_propose(by=committee, school=school, year=2026)
    assert "已确认" in errors_of(exc)["year"][0]
    assert term_of(school, 2026).unit == units[0] and term_of(school, 2026).history.count() == 2
    with pytest.raises(ValidationError):
        services.principal_confirm(by=committee, term=term)


def test_removing_a_unit_keeps_its_terms(joint, committee):
    school, units, _ = joint
    term = services.principal_propose(by=committee, school=school, year=2026)
    services.joint_unit_remove(by=committee, member_unit=school.member_units.get(unit=units[0]))
    assert term_of(school, 2026).unit == units[0]
    # The unit of the latest term left: the rotation starts again at the first remaining unit.
    assert services.principal_propose(by=committee, school=school, year=2027).unit == units[1]
    assert term.pk == term_of(school, 2026).pk


def test_moving_a_unit_changes_the_rotation(joint, committee):
    school, units, _ = joint
    services.joint_unit_move(by=committee, member_unit=school.member_units.get(unit=units[2]), up=True)
    assert list(school.member_units.order_by("rotation_order").values_list("unit", flat=True)) == [
        units[0].pk,
        units[2].pk,
        units[1].pk,
    ]
    with pytest.raises(ValidationError):
        services.joint_unit_move(by=committee, member_unit=school.member_units.get(unit=units[0]), up=True)


@pytest.mark.parametrize(
    ("school_kwargs", "unit_key", "message"),
    [
        pytest.param({"build_mode": BuildMode.INDEPENDENT}, "A", "只有联合建校", id="not-joint"),
        pytest.param({"build_mode": BuildMode.JOINT}, "X", "不在您的查看范围", id="unit-not-visible"),
    ],
)
def test_bad_member_units_are_refused(world, committee, school_kwargs, unit_key, message):
    school = PartySchoolFactory(organization=world.orgs["C1"], **school_kwargs)
    with pytest.raises(ValidationError) as exc:
        services.joint_unit_add(by=committee, school=school, unit=world.units[unit_key])
    assert message in errors_of(exc)["unit"][0]
    assert not JointSchoolUnit.objects.filter(school=school).exists()


def test_a_unit_joins_a_school_once(joint, committee):
    school, units, _ = joint
    with pytest.raises(ValidationError) as exc:
        services.joint_unit_add(by=committee, school=school, unit=units[0])
    assert "已是本校的成员单位" in errors_of(exc)["unit"][0]


def test_a_viewer_cannot_propose(joint, world):
    school, _, _ = joint
    with pytest.raises(PermissionDenied):
        services.principal_propose(by=world.user(Role.SECRETARY), school=school, year=2026)
    assert not school.principal_terms.exists()


def test_a_non_joint_school_records_its_principal_directly(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    with pytest.raises(ValidationError):
        services.principal_propose(by=committee, school=school, year=2026)
    term = services.principal_set(by=committee, school=school, year=2026, name=" 王校长 ")
    assert (term.name, term.confirmed, term.unit) == ("王校长", True, None)
    services.principal_set(by=committee, school=school, year=2026, name="李校长")
    assert term_of(school, 2026).name == "李校长" and term_of(school, 2026).history.count() == 2
    with pytest.raises(ValidationError) as exc:
        services.principal_set(by=committee, school=school, year=2027, name="  ")
    assert "name" in errors_of(exc)


def test_a_joint_school_does_not_set_its_principal_directly(joint, committee):
    school, _, _ = joint
    with pytest.raises(ValidationError) as exc:
        services.principal_set(by=committee, school=school, year=2026, name="王校长")
    assert "轮值" in errors_of(exc)["name"][0]
    assert not school.principal_terms.exists()


# ---------------------------------------------------------------------------------------------------------
# Plans and money


def test_a_plan_is_saved_once_per_year(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    services.plan_save(
        by=committee, school=school, year=2026, plan="全年培训", planned_classes=12, planned_trainees=600
    )
    services.plan_save(by=committee, school=school, year=2026, plan="调整后", planned_classes=10, planned_trainees=500)
    plan = SchoolAnnualPlan.objects.get(school=school, year=2026)
    assert (plan.plan, plan.planned_classes, plan.planned_trainees) == ("调整后", 10, 500)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"planned_classes": -1}, "planned_classes", id="negative-classes"),
        pytest.param({"planned_trainees": -5}, "planned_trainees", id="negative-trainees"),
        pytest.param({"year": 1999}, "year", id="year-out-of-range"),
    ],
)
def test_bad_plans_save_nothing(world, committee, overrides, field):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    data = {"year": 2026, "plan": "", "planned_classes": 1, "planned_trainees": 1, **overrides}
    with pytest.raises(ValidationError) as exc:
        services.plan_save(by=committee, school=school, **data)
    assert field in errors_of(exc)
    assert not school.plans.exists()


def fund(by, school, **overrides):
    data = {
        "year": 2026,
        "purpose": FundingPurpose.TEACHING,
        "allocated": Decimal("10000.00"),
        "spent": Decimal("8000.50"),
        "note": "",
        **overrides,
    }
    return services.funding_save(by=by, school=school, **data)


def test_funding_is_one_line_per_purpose_and_year(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    fund(committee, school)
    fund(committee, school, spent=Decimal("9000"))
    fund(committee, school, purpose=FundingPurpose.VENUE, allocated=Decimal("500"), spent=Decimal("0"))
    assert FundingLine.objects.filter(school=school).count() == 2
    assert FundingLine.objects.get(school=school, purpose=FundingPurpose.TEACHING).spent == Decimal("9000.00")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        pytest.param({"allocated": Decimal("-1")}, "allocated", "下拨金额不能为负数。", id="negative-allocated"),
        pytest.param({"spent": Decimal("-0.01")}, "spent", "支出金额不能为负数。", id="negative-spent"),
        pytest.param({"spent": Decimal("10000.01")}, "spent", "支出金额超过下拨金额", id="overspent-without-note"),
        pytest.param({"spent": Decimal("10001"), "note": "   "}, "spent", "支出金额超过下拨金额", id="blank-note"),
    ],
)
def test_bad_funding_saves_nothing(world, committee, overrides, field, message):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    with pytest.raises(ValidationError) as exc:
        fund(committee, school, **overrides)
    assert message in errors_of(exc)[field][0]
    assert not FundingLine.objects.filter(school=school).exists()


def test_overspending_is_allowed_with_a_note(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"])
    line = fund(committee, school, spent=Decimal("12000"), note="追加现场教学")
    assert line.spent > line.allocated and line.note == "追加现场教学"


# ---------------------------------------------------------------------------------------------------------
# The 六有 checklist


def item(scheme: str, code: str) -> StandardItem:
    return StandardItem.objects.get(scheme=scheme, code=code)


def pdf(name="佐证.pdf", size=100) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 " + b"x" * max(size - 9, 0), content_type="application/pdf")


def test_a_check_is_saved_with_its_evidence(world, committee, media):
    school = PartySchoolFactory(organization=world.orgs["C1"], level=SchoolLevel.AMATEUR)
    venue = item(StandardScheme.HUANGPI, "venue")
    check = services.standard_check_save(
        by=committee, school=school, year=THIS_YEAR, item=venue, met=True, note="有固定教室", evidence=pdf()
    )
    assert check.met and check.checked_by == committee and check.evidence.name.endswith(".pdf")
    # Saved again without a file: one check, the evidence stays.
    services.standard_check_save(by=committee, school=school, year=THIS_YEAR, item=venue, met=False, note="整改中")
    check.refresh_from_db()
    assert StandardCheck.objects.filter(school=school).count() == 1
    assert (check.met, check.note) == (False, "整改中") and check.evidence


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        pytest.param({"item": ("xiqing", "organization")}, "item", "不属于本校适用", id="item-of-other-scheme"),
        pytest.param({"evidence": pdf("佐证.exe")}, "evidence", "只能是PDF", id="bad-file-type"),
        pytest.param({"evidence": pdf("无扩展名")}, "evidence", "只能是PDF", id="no-extension"),
        pytest.param({"evidence": pdf(size=10 * 1024 * 1024 + 1)}, "evidence", "不能超过10 MB", id="too-large"),
        pytest.param({"year": THIS_YEAR + 1}, "year", "不能晚于今年", id="future-year"),
    ],
)
def test_bad_checks_save_nothing(world, committee, media, kwargs, field, message):
    school = PartySchoolFactory(organization=world.orgs["C1"], level=SchoolLevel.AMATEUR)
    data = {"year": THIS_YEAR, "item": item("huangpi", "venue"), "met": True, "note": ""}
    data.update(kwargs)
    if isinstance(data["item"], tuple):
        data["item"] = item(*data["item"])
    with pytest.raises(ValidationError) as exc:
        services.standard_check_save(by=committee, school=school, **data)
    assert message in errors_of(exc)[field][0]
    assert not StandardCheck.objects.filter(school=school).exists()
    assert not list(media.rglob("*.*"))


def test_a_check_of_an_inactive_item_is_refused(world, committee):
    school = PartySchoolFactory(organization=world.orgs["C1"], level=SchoolLevel.TOWN)
    plan = item(StandardScheme.XIQING, "plan")
    StandardItem.objects.filter(pk=plan.pk).update(active=False)
    with pytest.raises(ValidationError) as exc:
        services.standard_check_save(by=committee, school=school, year=THIS_YEAR, item=plan, met=True)
    assert "item" in errors_of(exc)


def test_exactly_ten_megabytes_is_accepted(world, committee, media):
    school = PartySchoolFactory(organization=world.orgs["C1"], level=SchoolLevel.AMATEUR)
    check = services.standard_check_save(
        by=committee,
        school=school,
        year=THIS_YEAR,
        item=item("huangpi", "funding"),
        met=True,
        evidence=SimpleUploadedFile("经费.XLSX", b"PK\x03\x04" + b"x" * (10 * 1024 * 1024 - 4)),
    )
    assert check.evidence.size == 10 * 1024 * 1024
