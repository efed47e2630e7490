"""The instructor pool's points (Huangpi 积分管理): which rule applies, no rule, reversals, the ranking by points,
the rules page; and the instructor services' bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.members.tests.factories import MemberFactory
from dangjian.schools.models import Instructor, InstructorTeam, PointEntry, PointEvent, PointRule
from dangjian.schools.selectors.catalog import instructor_list, point_rule_for
from dangjian.schools.services.catalog import (
    instructor_create,
    instructor_points_award,
    instructor_update,
    point_entry_reverse,
    point_rule_save,
)
from dangjian.schools.tests.factories import InstructorFactory, PointEntryFactory, PointRuleFactory

ON = dt.date(2025, 5, 10)
TAUGHT = PointEvent.CLASS_TAUGHT


def award(world, instructor, *, on=ON, event=TAUGHT, role=Role.SCHOOL_ADMIN):
    return instructor_points_award(by=world.user(role), instructor=instructor, event=event, on=on, source="测试")


def messages_of(exc: ValidationError, field: str) -> str:
    return " ".join(str(m) for m in exc.value.message_dict[field])


# ---------------------------------------------------------------------------------------------------------
# Which rule applies


def test_the_deepest_owner_wins(world):
    PointRuleFactory(owner=world.orgs["R"], points=Decimal("5"))
    PointRuleFactory(owner=world.orgs["C1"], points=Decimal("3"))
    in_a = InstructorFactory(owner=world.orgs["A"])
    in_c1 = InstructorFactory(owner=world.orgs["C1"])
    in_r = InstructorFactory(owner=world.orgs["R"])
    assert award(world, in_a).points == Decimal("3")
    assert award(world, in_c1).points == Decimal("3")
    assert award(world, in_r).points == Decimal("5")


def test_then_the_latest_valid_from(world):
    PointRuleFactory(owner=world.orgs["C1"], points=Decimal("2"), valid_from=2020)
    PointRuleFactory(owner=world.orgs["C1"], points=Decimal("4"), valid_from=2024)
    instructor = InstructorFactory(owner=world.orgs["A"])
    assert award(world, instructor, on=dt.date(2025, 1, 2)).points == Decimal("4")
    assert award(world, instructor, on=dt.date(2022, 1, 2)).points == Decimal("2")


def test_a_rule_outside_its_years_does_not_apply(world):
    fallback = PointRuleFactory(owner=world.orgs["R"], points=Decimal("1"))
    PointRuleFactory(owner=world.orgs["C1"], points=Decimal("6"), valid_from=2021, valid_to=2023)
    instructor = InstructorFactory(owner=world.orgs["A"])
    assert point_rule_for(instructor=instructor, event=TAUGHT, year=2024) == fallback
    assert point_rule_for(instructor=instructor, event=TAUGHT, year=2023).points == Decimal("6")
    assert point_rule_for(instructor=instructor, event=TAUGHT, year=2021).points == Decimal("6")
    assert point_rule_for(instructor=instructor, event=TAUGHT, year=2020) == fallback


def test_rules_of_siblings_other_trees_and_other_events_do_not_apply(world):
    PointRuleFactory(owner=world.orgs["B"], points=Decimal("9"))
    PointRuleFactory(owner=world.orgs["X"], points=Decimal("9"))
    PointRuleFactory(owner=world.orgs["C1"], event=PointEvent.TRAINEE_RATING, points=Decimal("9"))
    instructor = InstructorFactory(owner=world.orgs["A"])
    assert point_rule_for(instructor=instructor, event=TAUGHT, year=2025) is None


def test_no_rule_is_an_error_on_event_and_saves_nothing(world):
    instructor = InstructorFactory(owner=world.orgs["A"])
    with pytest.raises(ValidationError) as exc:
        award(world, instructor)
    assert exc.value.error_dict["event"][0].code == "no_rule"
    assert "没有适用的积分规则：授课（2025年度" in messages_of(exc, "event")
    assert not PointEntry.objects.exists()


def test_an_award_records_the_rule_the_date_and_who(world):
    rule = PointRuleFactory(owner=world.orgs["C1"], points=Decimal("2.5"))
    entry = award(world, InstructorFactory(owner=world.orgs["A"]))
    assert (entry.points, entry.rule, entry.year, entry.date, entry.source) == (Decimal("2.5"), rule, 2025, ON, "测试")
    assert entry.recorded_by == world.user(Role.SCHOOL_ADMIN)


def test_a_town_manager_may_award_a_district_instructor(world):
    """An instructor of the district's pool (owned above the manager's subtree) teaching a town class."""
    PointRuleFactory(owner=world.orgs["R"])
    assert award(world, InstructorFactory(owner=world.orgs["R"])).points == Decimal("2")


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR])
def test_viewers_may_not_award_points(world, role):
    PointRuleFactory(owner=world.orgs["C1"])
    instructor = InstructorFactory(owner=world.orgs["A"] if role == Role.SECRETARY else world.orgs["B"])
    with pytest.raises(PermissionDenied):
        award(world, instructor, role=role)
    assert not PointEntry.objects.exists()


def test_a_manager_of_another_tree_may_not_award_points(world):
    PointRuleFactory(owner=world.orgs["C1"])
    outsider = user_with_role(Role.SCHOOL_ADMIN, world.orgs["X"])
    with pytest.raises(PermissionDenied):
        instructor_points_award(by=outsider, instructor=InstructorFactory(owner=world.orgs["A"]), event=TAUGHT, on=ON)
    assert not PointEntry.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Reversal


def test_a_reversal_negates_the_entry_and_points_at_it(world):
    PointRuleFactory(owner=world.orgs["C1"], points=Decimal("3"))
    entry = award(world, InstructorFactory(owner=world.orgs["A"]))
    reversal = point_entry_reverse(by=world.user(Role.SCHOOL_ADMIN), entry=entry, reason="重复记分")
    assert (reversal.points, reversal.reverses, reversal.year, reversal.event) == (Decimal("-3"), entry, 2025, TAUGHT)
    assert "重复记分" in reversal.source


def test_an_entry_is_reversed_at_most_once(world):
    PointRuleFactory(owner=world.orgs["C1"])
    entry = award(world, InstructorFactory(owner=world.orgs["A"]))
    reversal = point_entry_reverse(by=world.user(Role.SCHOOL_ADMIN), entry=entry, reason="错记")
    with pytest.raises(ValidationError) as exc:
        point_entry_reverse(by=world.user(Role.SCHOOL_ADMIN), entry=entry, reason="再次")
    assert "已冲销过" in messages_of(exc, "entry")
    with pytest.raises(ValidationError) as exc:
        point_entry_reverse(by=world.user(Role.SCHOOL_ADMIN), entry=reversal, reason="冲销冲销")
    assert "冲销记录不能再被冲销" in messages_of(exc, "entry")
    assert PointEntry.objects.count() == 2


def test_a_reversal_needs_a_reason_and_a_manager(world):
    PointRuleFactory(owner=world.orgs["C1"])
    entry = award(world, InstructorFactory(owner=world.orgs["A"]))
    with pytest.raises(ValidationError) as exc:
        point_entry_reverse(by=world.user(Role.SCHOOL_ADMIN), entry=entry, reason="  ")
    assert messages_of(exc, "reason") == "请填写冲销原因。"
    with pytest.raises(PermissionDenied):
        point_entry_reverse(by=world.user(Role.SECRETARY), entry=entry, reason="错记")
    assert PointEntry.objects.count() == 1


def test_the_reverse_page_re_renders_with_the_message_and_then_reverses(world):
    PointRuleFactory(owner=world.orgs["C1"])
    instructor = InstructorFactory(owner=world.orgs["A"])
    entry = award(world, instructor)
    client = world.client(Role.SCHOOL_ADMIN)
    url = reverse("schools:point_entry_reverse", args=[instructor.pk])
    response = client.post(url, {"entry": entry.pk, "reason": ""})
    assert response.status_code == 200
    assert "冲销原因：请填写冲销原因。" in response.content.decode()
    response = client.post(url, {"entry": entry.pk, "reason": "错记"})
    assert response.status_code == 302
    response = client.post(url, {"entry": entry.pk, "reason": "再冲一次"})
    assert response.status_code == 200
    assert "积分记录：该积分记录已冲销过，不能重复冲销。" in response.content.decode()
    assert PointEntry.objects.count() == 2
    assert world.client(Role.SECRETARY).post(url, {"entry": entry.pk, "reason": "x"}).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Ranking by points


def test_the_pool_is_ranked_by_the_year_s_points_ties_by_name(world):
    a = world.orgs["A"]
    # Created out of name order, so that the tie is not resolved by creation.
    b, d, a_, c = (InstructorFactory(owner=a, name=n) for n in ("B讲师", "D讲师", "A讲师", "C讲师"))
    for instructor, year, points in [
        (a_, 2025, "3"),
        (a_, 2025, "2"),
        (b, 2025, "5"),
        (d, 2025, "8"),
        (d, 2025, "-8"),  # a reversal
        (d, 2024, "50"),  # another year
        (c, 2025, "1"),
    ]:
        PointEntryFactory(instructor=instructor, year=year, points=Decimal(points))
    ranked = [(i.name, i.year_points) for i in instructor_list(user=world.user(Role.SECRETARY), year=2025)]
    assert ranked == [("A讲师", 5), ("B讲师", 5), ("C讲师", 1), ("D讲师", 0)]
    assert next(i.name for i in instructor_list(user=world.user(Role.SECRETARY), year=2024)) == "D讲师"


def test_the_ranking_page_uses_the_year_parameter(world):
    first = InstructorFactory(owner=world.orgs["C1"], name="甲讲师")
    second = InstructorFactory(owner=world.orgs["C1"], name="乙讲师")
    PointEntryFactory(instructor=first, year=2024, points=Decimal("10"))
    PointEntryFactory(instructor=second, year=2025, points=Decimal("10"))
    client = world.client(Role.SECRETARY)
    for year, leader in [(2024, first), (2025, second)]:
        response = client.get(reverse("schools:instructor_list"), {"year": year})
        assert response.status_code == 200
        assert next(iter(response.context["page"].object_list)) == leader
        assert f"{year}年积分" in response.content.decode()
    assert client.get(reverse("schools:instructor_list"), {"year": "abc"}).status_code == 200


# ---------------------------------------------------------------------------------------------------------
# Point rules


def rule_kwargs(world, **overrides):
    data = {"owner": world.orgs["C1"], "event": TAUGHT, "points": Decimal("2"), "valid_from": 2024, "valid_to": None}
    data.update(overrides)
    return data


def test_point_rule_save_checks_years_points_duplicates_and_scope(world):
    admin = world.user(Role.SCHOOL_ADMIN)
    rule = point_rule_save(by=admin, **rule_kwargs(world))
    assert rule.pk and rule.owner == world.orgs["C1"]
    cases = [
        ({"valid_from": 2025, "valid_to": 2024}, "valid_to", "截止年度不能早于起始年度。"),
        ({"points": Decimal("0")}, "points", "积分不能为0。"),
        ({}, "valid_from", "该组织已有同一事项、同一起始年度的积分规则"),
        ({"valid_from": 1999}, "valid_from", "起始年度应在2000至2100之间。"),
    ]
    for overrides, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            point_rule_save(by=admin, **rule_kwargs(world, **overrides))
        assert message in messages_of(exc, field), overrides
    with pytest.raises(PermissionDenied):
        point_rule_save(by=admin, **rule_kwargs(world, owner=world.orgs["R"], valid_from=2030))
    with pytest.raises(PermissionDenied):
        point_rule_save(by=world.user(Role.SECRETARY), **rule_kwargs(world, owner=world.orgs["A"], valid_from=2030))
    assert PointRule.objects.count() == 1


def test_the_rules_page_lists_shared_rules_and_adds_one(world):
    PointRuleFactory(owner=world.orgs["R"], description="区级授课积分")
    PointRuleFactory(owner=world.orgs["X"], description="临湖授课积分")
    url = reverse("schools:point_rules")
    body = world.client(Role.SECRETARY).get(url).content.decode()
    assert "区级授课积分" in body and "临湖授课积分" not in body
    client = world.client(Role.SCHOOL_ADMIN)
    data = {"owner": "BJ01", "event": TAUGHT, "points": "2", "valid_from": "2025", "valid_to": "2024"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "截止年度：截止年度不能早于起始年度。" in response.content.decode()
    response = client.post(url, {**data, "owner": "BJ"})
    assert "找不到党组织编码“BJ”，或该组织不在您的管理范围内。" in response.content.decode()
    assert client.post(url, {**data, "valid_to": ""}).status_code == 302
    assert PointRule.objects.filter(owner=world.orgs["C1"]).count() == 1
    assert world.client(Role.SECRETARY).post(url, {**data, "owner": "BJ01A"}).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Instructors


def instructor_kwargs(world, **overrides):
    data = {
        "owner": world.orgs["C1"],
        "name": "周讲师",
        "team": InstructorTeam.objects.filter(active=True).first(),
        "employer": "区委党校",
        "appointed_on": dt.date(2024, 1, 1),
        "appointment_ends_on": dt.date(2026, 12, 31),
    }
    data.update(overrides)
    return data


def test_instructor_create_checks_team_dates_and_member(world):
    admin = world.user(Role.SCHOOL_ADMIN)
    retired = InstructorTeam.objects.create(name="已撤销讲师团", active=False)
    cases = [
        ({"team": retired}, "team", "该讲师团已停用"),
        ({"appointment_ends_on": dt.date(2023, 12, 31)}, "appointment_ends_on", "聘期截止日期须晚于聘任日期。"),
        ({"appointment_ends_on": dt.date(2024, 1, 1)}, "appointment_ends_on", "聘期截止日期须晚于聘任日期。"),
        ({"member": world.members["X"][0]}, "member", "不在您的查看范围内"),
    ]
    for overrides, field, message in cases:
        with pytest.raises(ValidationError) as exc:
            instructor_create(by=admin, **instructor_kwargs(world, **overrides))
        assert message in messages_of(exc, field), overrides
    with pytest.raises(PermissionDenied):
        instructor_create(by=admin, **instructor_kwargs(world, owner=world.orgs["R"]))
    with pytest.raises(PermissionDenied):
        instructor_create(by=world.user(Role.SECRETARY), **instructor_kwargs(world, owner=world.orgs["A"]))
    assert not Instructor.objects.exists()
    member = world.members["A"][0]
    instructor = instructor_create(by=admin, **instructor_kwargs(world, member=member))
    assert instructor.member == member and instructor.history.first().history_user == admin


def test_instructor_update_keeps_an_inactive_team_but_does_not_choose_one(world):
    admin = world.user(Role.SCHOOL_ADMIN)
    team = InstructorTeam.objects.create(name="将停用讲师团")
    instructor = instructor_create(by=admin, **instructor_kwargs(world, team=team))
    team.active = False
    team.save()
    instructor_update(by=admin, instructor=instructor, title="副教授")
    other = InstructorTeam.objects.create(name="另一停用讲师团", active=False)
    with pytest.raises(ValidationError):
        instructor_update(by=admin, instructor=instructor, team=other)
    instructor.refresh_from_db()
    assert (instructor.title, instructor.team) == ("副教授", team)


def test_the_instructor_pages_show_errors_beside_the_fields(world):
    client = world.client(Role.SCHOOL_ADMIN)
    team = InstructorTeam.objects.filter(active=True).first()
    data = {
        "owner": "BJ01",
        "name": "吴讲师",
        "team": team.pk,
        "appointed_on": "2025-01-01",
        "appointment_ends_on": "2024-01-01",
        "active": "on",
    }
    response = client.post(reverse("schools:instructor_create"), data)
    assert response.status_code == 200
    assert "聘期截止：聘期截止日期须晚于聘任日期。" in response.content.decode()
    outsider = MemberFactory(organization=world.orgs["XB"])
    response = client.post(
        reverse("schools:instructor_create"), {**data, "appointment_ends_on": "", "member": outsider.pk}
    )
    assert response.status_code == 200 and "对应党员：" in response.content.decode()
    assert not Instructor.objects.exists()
    response = client.post(reverse("schools:instructor_create"), {**data, "appointment_ends_on": ""})
    assert response.status_code == 302
    instructor = Instructor.objects.get()
    assert world.client(Role.SECRETARY).get(reverse("schools:instructor_create")).status_code == 403
    assert world.client(Role.SECRETARY).get(reverse("schools:instructor_edit", args=[instructor.pk])).status_code == 403
    edit = client.post(
        reverse("schools:instructor_edit", args=[instructor.pk]), {**data, "appointment_ends_on": "", "title": "教授"}
    )
    assert edit.status_code == 302
    instructor.refresh_from_db()
    assert instructor.title == "教授"


def test_the_instructor_page_shows_a_linked_member_only_to_who_sees_them(world):
    member = world.members["A"][0]
    instructor = InstructorFactory(owner=world.orgs["C1"], member=member)
    url = reverse("schools:instructor_detail", args=[instructor.pk])
    assert member.name in world.client(Role.SECRETARY).get(url).content.decode()
    body = world.client(Role.INSTRUCTOR).get(url).content.decode()  # B's instructor sees C1's pool, not A's members
    assert member.name not in body and "不在您的查看范围内" in body
