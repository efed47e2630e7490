"""Policies (学时要求): who may set them, bad input, contradicting policies refused (a different cap or pro-rating;
different required hours are no contradiction: the strictest wins), switching on and off, the policies pages per
role, and the seed rules as they ship (all on but the optional 56 hours, online cap 0; the system admin switches
them on the page, recorded in history).

The world (tests/scope.py): R > C1 > {A, B}, X > XB; the committee holds C1, the secretary A."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.training.forms.hours import PolicyForm
from dangjian.training.models import HoursPolicy, PolicyApplies, ProRating
from dangjian.training.services.policies import policy_save, policy_set_active
from dangjian.training.tests.factories import HoursPolicyFactory

SYSTEM = Access.system_access()
D = Decimal


def fields(**overrides) -> dict:
    data = {
        "name": "一中党委班子成员",
        "owner": None,
        "applies_to": PolicyApplies.LEADERSHIP,
        "valid_from": 2024,
        "valid_to": None,
        "required_hours": D("40"),
        "online_cap": D("0"),
        "pro_rating": ProRating.FULL,
        "source": "江苏教育系统意见",
        "active": True,
    }
    data.update(overrides)
    return data


def form_data(**overrides) -> dict:
    data = {
        "name": "一中党委班子成员",
        "owner": "BJ01",
        "applies_to": "leadership",
        "valid_from": "2024",
        "valid_to": "",
        "required_hours": "40",
        "online_cap": "0",
        "pro_rating": "full",
        "source": "",
        "active": "on",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------------------
# Services


def test_a_committee_user_sets_a_policy_for_their_subtree(world):
    policy = policy_save(by=world.user(Role.COMMITTEE), **fields(owner=world.orgs["C1"]))
    assert (policy.owner, policy.required_hours, policy.active) == (world.orgs["C1"], D("40"), True)
    assert policy.history.first().history_user == world.user(Role.COMMITTEE)
    by_code = policy_save(by=world.user(Role.COMMITTEE), **fields(owner="BJ01A", applies_to=PolicyApplies.ALL))
    assert by_code.owner == world.orgs["A"]


@pytest.mark.parametrize(
    "role, owner",
    [
        (Role.COMMITTEE, "X"),  # outside their subtree
        (Role.COMMITTEE, None),  # system-wide: the system only
        (Role.SECRETARY, "A"),  # not work-committee staff
        (Role.SCHOOL_ADMIN, "C1"),
        (Role.SYSTEM_ADMIN, "C1"),
    ],
    ids=["committee-other-tree", "committee-system-wide", "secretary", "school-admin", "system-admin"],
)
def test_others_may_not_set_policies_and_nothing_is_saved(world, role, owner):
    before = HoursPolicy.objects.count()
    with pytest.raises(PermissionDenied):
        policy_save(by=world.user(role), **fields(owner=world.orgs[owner] if owner else None))
    assert HoursPolicy.objects.count() == before


def test_an_owner_code_outside_scope_reads_like_an_unknown_one(world):
    for code in ("LH01", "NOPE"):
        with pytest.raises(ValidationError) as caught:
            policy_save(by=world.user(Role.COMMITTEE), **fields(owner=code))
        assert caught.value.message_dict["owner"] == [f"找不到党组织编码“{code}”，或该组织不在您的管理范围内。"]


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"valid_from": 2025, "valid_to": 2024}, "valid_to", "截止年度（2024）不能早于起始年度（2025）"),
        ({"valid_from": 1999}, "valid_from", "起始年度应在2000到2100年之间"),
        ({"required_hours": D("32.3")}, "required_hours", "0.5的整数倍"),
        ({"online_cap": D("7.2")}, "online_cap", "0.5的整数倍"),
        ({"required_hours": D("-1")}, "required_hours", ""),
        ({"name": "  "}, "name", ""),
    ],
    ids=["ends-before-start", "year-out-of-range", "hours-not-half", "cap-not-half", "negative", "no-name"],
)
def test_bad_policies_are_refused_naming_the_field(world, overrides, field, message):
    before = HoursPolicy.objects.count()
    with pytest.raises(ValidationError) as caught:
        policy_save(by=world.user(Role.COMMITTEE), **fields(owner=world.orgs["C1"], **overrides))
    assert field in caught.value.message_dict
    assert message in " ".join(caught.value.message_dict[field])
    assert HoursPolicy.objects.count() == before


@pytest.mark.parametrize(
    "overrides, field, text",
    [
        ({"online_cap": D("10")}, "online_cap", "网络学习计入上限不同（0.0学时）"),
        ({"online_cap": None}, "online_cap", "网络学习计入上限不同（0.0学时）"),
        ({"pro_rating": ProRating.MONTHS}, "pro_rating", "年中转入的计算方式不同（按全年要求）"),
    ],
    ids=["cap", "no-cap", "pro-rating"],
)
def test_a_contradicting_policy_is_refused_naming_the_other(world, overrides, field, text):
    HoursPolicyFactory(
        name="一中班子40", owner=world.orgs["C1"], applies_to=PolicyApplies.LEADERSHIP, required_hours=40,
        valid_from=2022, valid_to=2026,
    )  # fmt: skip
    before = HoursPolicy.objects.count()
    with pytest.raises(ValidationError) as caught:
        policy_save(by=world.user(Role.COMMITTEE), **fields(owner=world.orgs["C1"], valid_from=2025, **overrides))
    message = caught.value.message_dict[field][0]
    assert "“一中班子40”（2022—2026年）" in message and text in message
    assert HoursPolicy.objects.count() == before


def test_what_does_not_contradict_is_accepted(world):
    c1, by = world.orgs["C1"], world.user(Role.COMMITTEE)
    HoursPolicyFactory(owner=c1, applies_to=PolicyApplies.LEADERSHIP, required_hours=40, valid_from=2020, valid_to=2023)
    HoursPolicyFactory(owner=c1, applies_to=PolicyApplies.LEADERSHIP, required_hours=60, valid_from=2020, active=False)
    policy_save(by=by, **fields(owner=c1, required_hours=D("48")))  # years after the first, the other is off
    policy_save(by=by, **fields(owner=c1, applies_to=PolicyApplies.ALL, required_hours=D("24")))  # other people
    policy_save(by=by, **fields(owner=world.orgs["A"], required_hours=D("56")))  # another owner
    policy_save(by=by, **fields(owner=c1, name="重复登记", required_hours=D("48")))  # the same rule twice agrees
    # Another document's minimum for the same people: no contradiction, the strictest wins (docs/rules.md).
    policy_save(by=by, **fields(owner=c1, name="另一文件", required_hours=D("56")))


def test_editing_checks_the_new_values_and_the_scope(world):
    c1, by = world.orgs["C1"], world.user(Role.COMMITTEE)
    HoursPolicyFactory(
        owner=c1,
        applies_to=PolicyApplies.LEADERSHIP,
        required_hours=40,
        online_cap=D("8"),
        valid_from=2020,
        valid_to=2023,
    )
    policy = policy_save(by=by, **fields(owner=c1, required_hours=D("48")))
    with pytest.raises(ValidationError):
        policy_save(by=by, policy=policy, valid_from=2021)  # now overlaps the 40-hour rule, another cap
    policy.refresh_from_db()
    assert policy.valid_from == 2024
    edited = policy_save(by=by, policy=policy, required_hours=D("50"), reason="调整")
    assert edited.required_hours == D("50")
    foreign = HoursPolicyFactory(owner=world.orgs["XB"])
    with pytest.raises(PermissionDenied):
        policy_save(by=by, policy=foreign, required_hours=D("1"))
    with pytest.raises(PermissionDenied):
        policy_save(by=by, policy=edited, owner=world.orgs["XB"])  # moving it out of scope
    assert HoursPolicy.objects.get(pk=edited.pk).owner == c1


def test_switching_on_checks_for_contradictions(world):
    c1, by = world.orgs["C1"], world.user(Role.COMMITTEE)
    on = HoursPolicyFactory(owner=c1, name="在用", applies_to=PolicyApplies.ALL, required_hours=32, valid_from=2020)
    off = HoursPolicyFactory(
        owner=c1, applies_to=PolicyApplies.ALL, required_hours=24, online_cap=D("8"), valid_from=2024, active=False
    )
    with pytest.raises(ValidationError) as caught:
        policy_set_active(by=by, policy=off, active=True)
    assert "“在用”（2020年起）" in caught.value.messages[0]
    assert HoursPolicy.objects.get(pk=off.pk).active is False
    policy_set_active(by=by, policy=on, active=False)
    assert policy_set_active(by=by, policy=off, active=True).active is True
    with pytest.raises(PermissionDenied):
        policy_set_active(by=world.user(Role.SECRETARY), policy=off, active=False)
    assert HoursPolicy.objects.get(pk=off.pk).active is True


def test_the_system_sets_system_wide_policies(world):
    policy = policy_save(by=SYSTEM, **fields(applies_to=PolicyApplies.DISTRICT_CADRE, required_hours=D("90")))
    assert policy.owner is None


# ---------------------------------------------------------------------------------------------------------
# Pages


@pytest.mark.parametrize(
    "role, status",
    [
        (Role.COMMITTEE, 200),
        (Role.SECRETARY, 200),
        (Role.INSTRUCTOR, 200),
        (Role.SYSTEM_ADMIN, 200),
        (Role.MEMBER, 403),
        (Role.AUDIT_ADMIN, 403),
    ],
)
def test_the_policies_page_per_role(world, role, status):
    HoursPolicyFactory(owner=world.orgs["A"], name="高一支部要求")
    HoursPolicyFactory(owner=world.orgs["XB"], name="临湖小学要求")
    response = world.client(role).get("/training/policies/")
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "党员年度集中学习培训" in body  # the system-wide rule applies to everybody
        assert "临湖小学要求" not in body
        assert ("高一支部要求" in body) is (role not in (Role.INSTRUCTOR, Role.SYSTEM_ADMIN))
        assert ('id="policy-create"' in body) is (role == Role.COMMITTEE)


def test_a_committee_user_adds_a_policy_through_the_page(world):
    response = world.client(Role.COMMITTEE).post("/training/policies/new/", form_data())
    assert response.status_code == 302
    assert HoursPolicy.objects.get(name="一中党委班子成员").owner == world.orgs["C1"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"owner": ""}, "适用党组织：请填写适用党组织编码"),
        ({"owner": "LH01"}, "找不到党组织编码“LH01”"),
        ({"valid_to": "2023"}, "截止年度：截止年度（2023）不能早于起始年度（2024）"),
        ({"required_hours": "abc"}, "年度要求学时："),
        ({"required_hours": "32.3"}, "年度要求学时：年度要求学时应为0.5的整数倍"),
        ({"valid_from": "3000"}, "起始年度：年度不能晚于2100年"),
    ],
    ids=["no-owner", "owner-out-of-scope", "ends-before-start", "hours-not-a-number", "hours-not-half", "far-year"],
)
def test_bad_policy_forms_re_render_with_the_message(world, overrides, message):
    before = HoursPolicy.objects.count()
    response = world.client(Role.COMMITTEE).post("/training/policies/new/", form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert HoursPolicy.objects.count() == before


def test_a_contradiction_shows_on_the_form(world):
    HoursPolicyFactory(name="一中班子40", owner=world.orgs["C1"], applies_to="leadership", required_hours=40)
    response = world.client(Role.COMMITTEE).post("/training/policies/new/", form_data(online_cap="10"))
    assert response.status_code == 200
    assert "网络学习计入上限：与已启用的学时要求“一中班子40”（2020年起）相互矛盾" in response.content.decode()


def test_edit_and_toggle_through_the_pages(world):
    policy = HoursPolicyFactory(name="一中班子40", owner=world.orgs["C1"], applies_to="leadership", required_hours=40)
    client = world.client(Role.COMMITTEE)
    assert client.get(f"/training/policies/{policy.pk}/edit/").status_code == 200
    response = client.post(f"/training/policies/{policy.pk}/edit/", form_data(name="一中班子42", required_hours="42"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.required_hours) == ("一中班子42", D("42"))
    assert client.post(f"/training/policies/{policy.pk}/active/", {"active": "0"}).status_code == 302
    assert HoursPolicy.objects.get(pk=policy.pk).active is False
    assert client.post(f"/training/policies/{policy.pk}/active/", {}).status_code == 302  # neither: nothing
    assert HoursPolicy.objects.get(pk=policy.pk).active is False


def test_who_sees_but_may_not_change_gets_403_and_nothing_changes(world):
    policy = HoursPolicyFactory(name="高一支部要求", owner=world.orgs["A"], required_hours=40)
    client = world.client(Role.SECRETARY)
    assert client.get(f"/training/policies/{policy.pk}/edit/").status_code == 403
    assert client.post(f"/training/policies/{policy.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post("/training/policies/new/", form_data(owner="BJ01A")).status_code == 403
    assert HoursPolicy.objects.get(pk=policy.pk).active is True
    assert not HoursPolicy.objects.filter(name="一中党委班子成员").exists()


# ---------------------------------------------------------------------------------------------------------
# The seed rules as the documents say (docs/rules.md, "How the rules combine")

SEEDS = {
    "党员年度集中学习培训": ("all", D("32"), True),
    "江苏教育系统党员": ("all", D("24"), True),
    "江苏教育系统班子成员": ("leadership", D("40"), True),
    "基层党组织书记和委员": ("secretaries", D("56"), False),  # optional, off by default
}


def _seed(name: str) -> HoursPolicy:
    return HoursPolicy.objects.get(owner=None, name=name)


def test_every_seed_rule_ships_switched_on_except_the_optional_56_hours(db):
    for name, (applies_to, hours, active) in SEEDS.items():
        policy = _seed(name)
        assert (policy.applies_to, policy.required_hours, policy.active) == (applies_to, hours, active), name
        assert policy.online_cap == D("0"), name  # concentrated study: online hours do not count by default
        assert policy.source, name  # the document it comes from
    changed = _seed("江苏教育系统班子成员").history.first()
    assert changed.history_change_reason and "默认启用" in changed.history_change_reason


def test_new_rules_default_to_an_online_cap_of_zero(world):
    policy = policy_save(
        by=world.user(Role.COMMITTEE),
        name="一中党委要求",
        owner=world.orgs["C1"],
        applies_to=PolicyApplies.DISTRICT_CADRE,
        required_hours=D("48"),
    )
    assert policy.online_cap == D("0")
    assert PolicyForm(user=world.user(Role.COMMITTEE)).fields["online_cap"].initial == 0


def test_seed_rules_of_different_hours_for_the_same_people_can_be_edited_and_switched(world):
    """The national 32 and Jiangsu's 24 both apply to every member: no contradiction (the strictest wins), so
    either can be edited, switched off and on again."""
    national, jiangsu = _seed("党员年度集中学习培训"), _seed("江苏教育系统党员")
    policy_save(by=SYSTEM, policy=national, source=national.source + "（西青引用）")
    assert policy_set_active(by=SYSTEM, policy=jiangsu, active=False).active is False
    assert policy_set_active(by=SYSTEM, policy=jiangsu, active=True).active is True


def test_the_system_admin_switches_a_seed_rule_off_on_the_page_audited(world):
    client = world.client(Role.SYSTEM_ADMIN)
    jiangsu = _seed("江苏教育系统班子成员")
    body = client.get("/training/policies/").content.decode()
    for name in SEEDS:
        assert name in body
    assert "依据：" + _seed("党员年度集中学习培训").source in body  # each rule with its source document
    assert "班子成员" in body and "支部书记和委员" in body  # and the people it applies to
    assert f'action="/training/policies/{jiangsu.pk}/active/"' in body
    assert f"/training/policies/{jiangsu.pk}/edit/" not in body  # switching, not rewriting, the seed rules
    response = client.post(f"/training/policies/{jiangsu.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    jiangsu.refresh_from_db()
    assert jiangsu.active is False
    last = jiangsu.history.first()
    assert (last.active, last.history_user, last.history_change_reason) == (
        False,
        world.user(Role.SYSTEM_ADMIN),
        "停用学时要求",
    )
    assert client.post(f"/training/policies/{jiangsu.pk}/active/", {"active": "1"}).status_code == 302
    assert HoursPolicy.objects.get(pk=jiangsu.pk).active is True
    with pytest.raises(PermissionDenied):  # the system admin switches system-wide rules only
        policy_set_active(
            by=world.user(Role.SYSTEM_ADMIN), policy=HoursPolicyFactory(owner=world.orgs["A"]), active=False
        )
    with pytest.raises(PermissionDenied):
        policy_save(by=world.user(Role.SYSTEM_ADMIN), policy=jiangsu, required_hours=D("8"))


def test_committee_staff_see_the_seed_rules_but_may_not_switch_them(world):
    client = world.client(Role.COMMITTEE)
    national = _seed("党员年度集中学习培训")
    body = client.get("/training/policies/").content.decode()
    assert f'action="/training/policies/{national.pk}/active/"' not in body
    assert client.post(f"/training/policies/{national.pk}/active/", {"active": "0"}).status_code == 403
    assert HoursPolicy.objects.get(pk=national.pk).active is True


def test_the_system_admin_reaches_the_seed_rules_from_the_navigation(world):
    """The system admin switches seed rules on and off; the page is in its menu, not only at a typed address."""
    body = world.client(Role.SYSTEM_ADMIN).get("/").content.decode()
    assert 'href="/training/policies/"' in body
