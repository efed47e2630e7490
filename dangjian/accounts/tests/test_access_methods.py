"""The access object answers "may this user act here" (docs/development.md, "The services kit and the scope"):
one method per kind of act, the same answer for every app that asks."""

import pytest

from dangjian.accounts.access import Access, access_for
from dangjian.accounts.roles import Role


@pytest.mark.parametrize(
    ("role", "org", "view", "committee", "schools", "file_setup"),
    [
        (Role.COMMITTEE, "C1", True, True, True, True),
        (Role.COMMITTEE, "A", True, True, True, True),
        (Role.COMMITTEE, "X", False, False, False, False),
        (Role.SCHOOL_ADMIN, "A", True, False, True, False),
        (Role.SECRETARY, "A", True, False, False, False),
        (Role.SECRETARY, "B", False, False, False, False),
        (Role.INSTRUCTOR, "B", True, False, False, False),
        (Role.MEMBER, "A", False, False, False, False),
        (Role.SYSTEM_ADMIN, "A", False, False, False, False),
    ],
)
def test_each_act_by_role_and_place(world, role, org, view, committee, schools, file_setup):
    access = access_for(world.user(role))
    where = world.orgs[org]
    assert access.can_view_org(where) is view
    assert access.is_committee_over(where) is committee
    assert access.can_manage_schools_in(where) is schools
    assert access.can_file_setup_for(where) is file_setup


def test_the_system_may_everything_and_a_system_wide_rule_is_the_systems(world):
    system = Access.system_access()
    assert system.is_committee_over(None) and system.can_manage_schools_in(world.orgs["X"])
    assert not access_for(world.user(Role.COMMITTEE)).is_committee_over(None)


@pytest.mark.parametrize(
    ("role", "places", "expected"),
    [
        (Role.COMMITTEE, ("X", "A"), True),
        (Role.COMMITTEE, ("A", None), True),
        (Role.COMMITTEE, (None, "C1"), True),
        (Role.COMMITTEE, ("X", "XB"), False),
        (Role.COMMITTEE, ("X", None), False),
        (Role.COMMITTEE, (None, None), False),
        (Role.COMMITTEE, (), False),
        (Role.SCHOOL_ADMIN, ("A", "C1"), False),
        (Role.SECRETARY, ("A",), False),
        (Role.SYSTEM_ADMIN, ("A", None), False),
    ],
)
def test_committee_over_any_of_several_organizations(world, role, places, expected):
    access = access_for(world.user(role))
    orgs = [world.orgs[p] if p else None for p in places]
    assert access.is_committee_over_any(*orgs) is expected


def test_the_system_is_over_any_organizations_also_none(world):
    system = Access.system_access()
    assert system.is_committee_over_any(world.orgs["X"], None)
    assert system.is_committee_over_any(None, None)
    assert system.is_committee_over_any()


@pytest.mark.parametrize(
    ("role", "owner", "expected"),
    [
        (Role.COMMITTEE, "A", True),
        (Role.COMMITTEE, "C1", True),
        (Role.COMMITTEE, "X", False),
        (Role.COMMITTEE, None, False),
        (Role.SYSTEM_ADMIN, None, True),
        (Role.SYSTEM_ADMIN, "A", False),
        (Role.SCHOOL_ADMIN, "A", False),
        (Role.SCHOOL_ADMIN, None, False),
        (Role.SECRETARY, "A", False),
    ],
)
def test_who_may_switch_a_policy_of_an_owner(world, role, owner, expected):
    access = access_for(world.user(role))
    assert access.can_switch_policy_of(world.orgs[owner] if owner else None) is expected


def test_the_system_may_switch_every_policy(world):
    system = Access.system_access()
    assert system.can_switch_policy_of(None) and system.can_switch_policy_of(world.orgs["X"])
