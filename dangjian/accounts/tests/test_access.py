"""Access: the subtree roots a user's role grants give, and what `visible_to` shows with them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from dangjian.accounts.access import Access, _collapse, access_for, build_access, forget_access
from dangjian.accounts.roles import ADMIN_ROLES, Role
from dangjian.accounts.tests.factories import UserFactory, grant, user_with_role
from dangjian.members.models import Member
from dangjian.orgs.models import Organization, Unit
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


# ---------------------------------------------------------------------------------------------------------
# Roots


def test_collapse_keeps_only_the_shallowest_roots():
    assert _collapse({"0001", "00010001", "000100010002", "0002", "00020003"}) == ("0001", "0002")
    assert _collapse({"00010001", "00010002"}) == ("00010001", "00010002")
    assert _collapse(set()) == ()


@pytest.mark.parametrize("order", ["parent-first", "child-first"])
def test_grants_on_a_parent_and_its_child_collapse_to_one_root(world, order):
    c1, a = world.orgs["C1"], world.orgs["A"]
    user = UserFactory()
    grants = [(Role.COMMITTEE, c1), (Role.SECRETARY, a)]
    for role, org in grants if order == "parent-first" else reversed(grants):
        grant(user, role, org)
    access = build_access(user)
    assert access.view_roots == (c1.path,)
    assert access.member_edit_roots == (c1.path,)
    assert access.org_edit_roots == (c1.path,)
    assert access.roles == {Role.COMMITTEE, Role.SECRETARY}


def test_the_same_role_on_a_parent_and_a_grandchild_is_one_root(world):
    user = UserFactory()
    grant(user, Role.INSTRUCTOR, world.orgs["R"])
    grant(user, Role.INSTRUCTOR, world.orgs["A"])
    assert build_access(user).view_roots == (world.orgs["R"].path,)


def test_sibling_grants_stay_two_roots(world):
    user = UserFactory()
    grant(user, Role.SECRETARY, world.orgs["A"])
    grant(user, Role.SECRETARY, world.orgs["B"])
    access = build_access(user)
    assert access.view_roots == (world.orgs["A"].path, world.orgs["B"].path)
    assert names(Member.objects.visible_to(user)) == world.member_names("A", "B")


@pytest.mark.parametrize("grants", [1, 3])
def test_build_access_costs_one_query_whatever_the_number_of_grants(world, django_assert_num_queries, grants):
    """Access is built on every request: its docstring promises one query."""
    user = UserFactory()
    for place in ["A", "B", "XB"][:grants]:
        grant(user, Role.SECRETARY, world.orgs[place])
    with django_assert_num_queries(1):
        build_access(user)


# ---------------------------------------------------------------------------------------------------------
# Union of roles


def test_multiple_roles_give_the_union_of_their_scopes(world):
    a, b = world.orgs["A"], world.orgs["B"]
    user = UserFactory()
    grant(user, Role.SECRETARY, a)
    grant(user, Role.INSTRUCTOR, b)
    access = access_for(user)
    assert set(access.view_roots) == {a.path, b.path}
    # Only the secretary grant lets the user edit members.
    assert access.member_edit_roots == (a.path,)
    assert access.org_edit_roots == ()
    assert names(Member.objects.visible_to(user)) == world.member_names("A", "B")
    assert names(Member.objects.editable_by(user)) == world.member_names("A")
    assert names(Organization.objects.visible_to(user)) == {a.name, b.name}
    assert names(Unit.objects.visible_to(user)) == {world.units["A"].name, world.units["B"].name}


def test_member_and_secretary_roles_together(world):
    user = UserFactory()
    grant(user, Role.MEMBER, world.orgs["B"])
    grant(user, Role.SECRETARY, world.orgs["A"])
    access = access_for(user)
    assert access.own_org_ids == (world.orgs["B"].pk,)
    assert names(Organization.objects.visible_to(user)) == {world.orgs["A"].name, world.orgs["B"].name}
    # The member role gives the own branch's structure, not its members.
    assert names(Member.objects.visible_to(user)) == world.member_names("A")


def test_member_sees_themself_and_their_own_branch_only(world):
    user = world.user(Role.MEMBER)
    assert list(Member.objects.visible_to(user)) == [world.self_member]
    assert list(Organization.objects.visible_to(user)) == [world.orgs["A"]]
    assert list(Unit.objects.visible_to(user)) == [world.units["A"]]
    assert not access_for(user).can_edit_members
    assert access_for(user).can_view_members


def test_grants_change_after_forget_access(world):
    user = UserFactory()
    assert access_for(user).view_roots == ()
    grant(user, Role.SECRETARY, world.orgs["B"])  # grant() forgets the cached access
    assert access_for(user).view_roots == (world.orgs["B"].path,)
    assert access_for(user) is access_for(user)


# ---------------------------------------------------------------------------------------------------------
# Nobody, inactive users, the system


def test_inactive_user_sees_nothing(world):
    user = user_with_role(Role.COMMITTEE, world.orgs["C1"])
    user.is_active = False
    user.save()
    forget_access(user)
    access = access_for(user)
    assert access == Access.anonymous()
    assert not access.is_authenticated
    assert not Member.objects.visible_to(user).exists()
    assert not Organization.objects.visible_to(user).exists()
    assert not Unit.objects.visible_to(user).exists()
    assert not Member.objects.editable_by(user).exists()


def test_inactive_user_is_logged_out(world, client):
    user = world.user(Role.COMMITTEE)
    client.force_login(user)
    assert client.get("/members/").status_code == 200
    user.is_active = False
    user.save()
    response = client.get("/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("who", ["anonymous-user", "none"])
def test_anonymous_sees_nothing(world, who):
    user = AnonymousUser() if who == "anonymous-user" else None
    assert access_for(user) == Access.anonymous()
    assert not Member.objects.visible_to(user).exists()
    assert not Organization.objects.visible_to(user).exists()
    assert not Unit.objects.visible_to(user).exists()


def test_user_without_grants_sees_nothing(world):
    user = UserFactory()
    assert not Member.objects.visible_to(user).exists()
    assert not Organization.objects.visible_to(user).exists()
    assert not Unit.objects.visible_to(user).exists()


def test_system_access_sees_and_edits_everything(world):
    system = Access.system_access()
    assert access_for(system) is system
    assert Member.objects.visible_to(system).count() == Member.objects.dangerously_all().count() == 4
    assert Member.objects.editable_by(system).count() == 4
    assert Organization.objects.visible_to(system).count() == Organization.objects.dangerously_all().count() == 6
    assert Unit.objects.visible_to(system).count() == Unit.objects.dangerously_all().count() == 3
    assert system.can_view_members and system.can_edit_members and system.can_edit_orgs
    assert system.can_edit_org(world.orgs["X"])
    assert system.can_edit_member_in(world.orgs["XB"])


@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_the_three_admins_see_no_members(world, role):
    user = world.user(role)
    access = access_for(user)
    assert not Member.objects.visible_to(user).exists()
    assert not Member.objects.editable_by(user).exists()
    assert not access.can_view_members
    assert not access.can_edit_members
    assert access.view_roots == access.member_edit_roots == access.org_edit_roots == ()


def test_the_system_admin_sees_the_whole_structure_but_no_members(world):
    user = world.user(Role.SYSTEM_ADMIN)
    assert Organization.objects.visible_to(user).count() == 6
    assert Unit.objects.visible_to(user).count() == 3
    assert not Member.objects.visible_to(user).exists()


@pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_security_and_audit_admins_see_no_structure(world, role):
    user = world.user(role)
    assert not Organization.objects.visible_to(user).exists()
    assert not Unit.objects.visible_to(user).exists()


def test_a_superuser_without_roles_sees_no_members(world):
    user = UserFactory(is_superuser=True, is_staff=True)
    assert not Member.objects.visible_to(user).exists()


# ---------------------------------------------------------------------------------------------------------
# Capabilities


def test_committee_edits_below_its_root_but_not_the_root(world):
    access = access_for(world.user(Role.COMMITTEE))
    assert not access.can_edit_org(world.orgs["C1"])
    assert access.can_edit_org(world.orgs["A"])
    assert not access.can_edit_org(world.orgs["R"])
    assert not access.can_edit_org(world.orgs["XB"])
    assert access.can_add_child_to(world.orgs["C1"])
    assert not access.can_add_child_to(world.orgs["R"])
    assert not access.can_add_child_to(world.orgs["X"])


@pytest.mark.parametrize(
    ("role", "edits_members", "edits_orgs"),
    [
        (Role.COMMITTEE, True, True),
        (Role.SCHOOL_ADMIN, False, False),
        (Role.SECRETARY, True, False),
        (Role.INSTRUCTOR, False, False),
        (Role.MEMBER, False, False),
        (Role.SYSTEM_ADMIN, False, True),
        (Role.SECURITY_ADMIN, False, False),
        (Role.AUDIT_ADMIN, False, False),
    ],
)
def test_capabilities_by_role(world, role, edits_members, edits_orgs):
    access = access_for(world.user(role))
    assert access.can_edit_members is edits_members
    assert access.can_edit_orgs is edits_orgs


def test_secretary_edits_members_of_their_branch_only(world):
    access = access_for(world.user(Role.SECRETARY))
    assert access.can_edit_member_in(world.orgs["A"])
    assert not access.can_edit_member_in(world.orgs["B"])
    assert not access.can_edit_member_in(world.orgs["C1"])


def test_unit_is_visible_through_its_managing_organization(world):
    uncovered = UnitFactory(name="未覆盖培训机构", organization=None, managing_organization=world.orgs["C1"])
    covered_elsewhere = UnitFactory(
        name="外区覆盖机构", organization=world.orgs["XB"], managing_organization=world.orgs["C1"]
    )
    committee = world.user(Role.COMMITTEE)
    secretary = world.user(Role.SECRETARY)
    assert {uncovered.name, covered_elsewhere.name} <= names(Unit.objects.visible_to(committee))
    assert not {uncovered.name, covered_elsewhere.name} & names(Unit.objects.visible_to(secretary))


def test_path_prefix_does_not_leak_between_roots(world):
    """Many roots: the 10th root's path must not be read as inside the 1st one's subtree."""
    roots = [OrganizationFactory() for _ in range(12)]
    user = user_with_role(Role.COMMITTEE, roots[0])
    assert list(Organization.objects.visible_to(user)) == [roots[0]]
