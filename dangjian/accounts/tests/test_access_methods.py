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
