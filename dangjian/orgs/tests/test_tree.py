"""The organization tree: subtree queries, scope, and moving subtrees (on SQLite and PostgreSQL alike).

The tree of these tests:

    R 教育工委
    ├── C1 第一党委
    │   ├── G 党总支
    │   │   ├── G1 第一支部
    │   │   │   └── G1a 临时支部
    │   │   └── G2 第二支部
    │   └── A 直属支部
    └── C2 第二党委
        └── D 支部
    X 外区工委 (another root)
    └── XB 外区支部
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.access import Access, forget_access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.members.models import Member
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs import services
from dangjian.orgs.models import Organization, OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory


@dataclass
class Tree:
    orgs: dict[str, Organization]
    members: dict[str, Member]

    def fresh(self, key: str) -> Organization:
        return Organization.objects.get(pk=self.orgs[key].pk)


@pytest.fixture
def tree(db) -> Tree:
    o: dict[str, Organization] = {}
    o["R"] = OrganizationFactory(code="TR", name="教育工委", kind=OrgKind.WORK_COMMITTEE)
    o["C1"] = OrganizationFactory(parent=o["R"], code="TC1", name="第一党委", kind=OrgKind.COMMITTEE)
    o["G"] = OrganizationFactory(parent=o["C1"], code="TG", name="党总支", kind=OrgKind.GENERAL_BRANCH)
    o["G1"] = OrganizationFactory(parent=o["G"], code="TG1", name="第一支部")
    o["G1a"] = OrganizationFactory(parent=o["G1"], code="TG1a", name="临时支部", kind=OrgKind.TEMPORARY_BRANCH)
    o["G2"] = OrganizationFactory(parent=o["G"], code="TG2", name="第二支部")
    o["A"] = OrganizationFactory(parent=o["C1"], code="TA", name="直属支部")
    o["C2"] = OrganizationFactory(parent=o["R"], code="TC2", name="第二党委", kind=OrgKind.COMMITTEE)
    o["D"] = OrganizationFactory(parent=o["C2"], code="TD", name="支部D")
    o["X"] = OrganizationFactory(code="TX", name="外区工委", kind=OrgKind.WORK_COMMITTEE)
    o["XB"] = OrganizationFactory(parent=o["X"], code="TXB", name="外区支部")
    members = {key: MemberFactory(organization=o[key]) for key in ["G1", "G1a", "G2", "A", "D", "XB"]}
    return Tree(orgs=o, members=members)


def codes(queryset) -> set[str]:
    """The tree keys ("G1" …) of the organizations: their codes without the "T" prefix."""
    return {code.removeprefix("T") for code in queryset.values_list("code", flat=True)}


def member_orgs(queryset) -> set[str]:
    return {code.removeprefix("T") for code in queryset.values_list("organization__code", flat=True)}


def parent_of(org: Organization) -> Organization | None:
    return Organization.objects.get_parent(org, update=True)


def snapshot() -> list[tuple]:
    return list(Organization.objects.order_by("pk").values_list("pk", "path", "depth", "numchild"))


def assert_tree_is_sound() -> None:
    problems = Organization.objects.find_problems()
    assert all(not p for p in problems), f"treebeard find_problems: {problems}"


# ---------------------------------------------------------------------------------------------------------
# Subtree queries


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        ("R", {"R", "C1", "G", "G1", "G1a", "G2", "A", "C2", "D"}),
        ("C1", {"C1", "G", "G1", "G1a", "G2", "A"}),
        ("G", {"G", "G1", "G1a", "G2"}),
        ("G1", {"G1", "G1a"}),
        ("G2", {"G2"}),
        ("X", {"X", "XB"}),
    ],
)
def test_in_subtree(tree, root, expected):
    assert codes(Organization.objects.in_subtree(tree.orgs[root])) == expected


def test_members_in_subtree(tree):
    assert member_orgs(Member.objects.in_subtree(tree.orgs["C1"])) == {"G1", "G1a", "G2", "A"}
    assert member_orgs(Member.objects.in_subtree(tree.orgs["G1"])) == {"G1", "G1a"}


def test_tree_is_sound_after_creation(tree):
    assert_tree_is_sound()
    assert tree.fresh("G").numchild == 2
    assert tree.fresh("C1").get_depth() == 2


@pytest.mark.parametrize(
    ("role", "place", "expected"),
    [
        (Role.COMMITTEE, "C1", {"C1", "G", "G1", "G1a", "G2", "A"}),
        (Role.SCHOOL_ADMIN, "G", {"G", "G1", "G1a", "G2"}),
        (Role.SECRETARY, "G1", {"G1", "G1a"}),
        (Role.INSTRUCTOR, "D", {"D"}),
        (Role.MEMBER, "G1", {"G1"}),  # their own branch, not its subtree
        (Role.SYSTEM_ADMIN, None, {"R", "C1", "G", "G1", "G1a", "G2", "A", "C2", "D", "X", "XB"}),
        (Role.SECURITY_ADMIN, None, set()),
        (Role.AUDIT_ADMIN, None, set()),
    ],
)
def test_visible_to(tree, role, place, expected):
    user = user_with_role(role, tree.orgs[place] if place else None)
    assert codes(Organization.objects.visible_to(user)) == expected


@pytest.mark.parametrize(
    ("role", "place", "expected"),
    [
        (Role.COMMITTEE, "C1", {"G1", "G1a", "G2", "A"}),
        (Role.SECRETARY, "G1", {"G1", "G1a"}),
        (Role.INSTRUCTOR, "C2", {"D"}),
        (Role.SYSTEM_ADMIN, None, set()),
    ],
)
def test_members_visible_to(tree, role, place, expected):
    user = user_with_role(role, tree.orgs[place] if place else None)
    assert member_orgs(Member.objects.visible_to(user)) == expected


# ---------------------------------------------------------------------------------------------------------
# Moving


@pytest.fixture(params=["system-access", "system-admin", "committee-on-R"])
def mover(request, tree):
    if request.param == "system-access":
        return Access.system_access()
    if request.param == "system-admin":
        return user_with_role(Role.SYSTEM_ADMIN)
    return user_with_role(Role.COMMITTEE, tree.orgs["R"])


def test_move_takes_the_whole_subtree_and_its_members(tree, mover):
    before_ids = {m.pk: m.organization_id for m in Member.objects.all()}
    g = services.organization_move(by=mover, org=tree.orgs["G"], new_parent=tree.orgs["C2"])

    c2 = tree.fresh("C2")
    assert parent_of(g) == c2
    assert g.path.startswith(c2.path) and g.depth == c2.depth + 1
    for key in ["G1", "G1a", "G2"]:
        node = tree.fresh(key)
        assert node.path.startswith(g.path), key
        assert node.depth == tree.orgs[key].depth, key
        assert node.path != tree.orgs[key].path, key
    assert codes(Organization.objects.in_subtree(c2)) == {"C2", "D", "G", "G1", "G1a", "G2"}
    assert codes(Organization.objects.in_subtree(tree.fresh("C1"))) == {"C1", "A"}
    # Members follow through their organization FK; their own rows did not change.
    assert {m.pk: m.organization_id for m in Member.objects.all()} == before_ids
    assert member_orgs(Member.objects.in_subtree(c2)) == {"D", "G1", "G1a", "G2"}
    assert member_orgs(Member.objects.in_subtree(tree.fresh("C1"))) == {"A"}
    assert tree.fresh("C1").numchild == 1
    assert c2.numchild == 2
    assert_tree_is_sound()


def test_scope_follows_a_moved_subtree(tree):
    committee_c1 = user_with_role(Role.COMMITTEE, tree.orgs["C1"])
    committee_c2 = user_with_role(Role.COMMITTEE, tree.orgs["C2"])
    secretary_g1 = user_with_role(Role.SECRETARY, tree.orgs["G1"])
    services.organization_move(by=Access.system_access(), org=tree.orgs["G"], new_parent=tree.orgs["C2"])
    for user in (committee_c1, committee_c2, secretary_g1):
        forget_access(user)  # as on a new request: access is built again from the grants
    assert member_orgs(Member.objects.visible_to(committee_c1)) == {"A"}
    assert member_orgs(Member.objects.visible_to(committee_c2)) == {"D", "G1", "G1a", "G2"}
    assert member_orgs(Member.objects.visible_to(secretary_g1)) == {"G1", "G1a"}


def test_move_onto_a_leaf(tree):
    a = services.organization_move(by=Access.system_access(), org=tree.orgs["A"], new_parent=tree.orgs["G2"])
    assert parent_of(a) == tree.fresh("G2")
    assert tree.fresh("G2").numchild == 1
    assert_tree_is_sound()


def test_move_a_subtree_under_another_root(tree):
    g = services.organization_move(by=Access.system_access(), org=tree.orgs["G"], new_parent=tree.orgs["XB"])
    assert g.get_depth() == 3
    assert tree.fresh("G1a").get_depth() == 5
    assert codes(Organization.objects.in_subtree(tree.fresh("X"))) == {"X", "XB", "G", "G1", "G1a", "G2"}
    assert_tree_is_sound()


def test_many_moves_keep_the_tree_sound(tree):
    system = Access.system_access()
    services.organization_move(by=system, org=tree.orgs["G"], new_parent=tree.orgs["C2"])
    services.organization_move(by=system, org=tree.fresh("G"), new_parent=tree.fresh("C1"))
    services.organization_move(by=system, org=tree.fresh("A"), new_parent=tree.fresh("G1a"))
    services.organization_move(by=system, org=tree.fresh("C2"), new_parent=tree.fresh("XB"))
    services.organization_move(by=system, org=tree.fresh("G2"), new_parent=tree.fresh("D"))
    assert_tree_is_sound()
    assert codes(Organization.objects.in_subtree(tree.fresh("X"))) == {"X", "XB", "C2", "D", "G2"}
    assert codes(Organization.objects.in_subtree(tree.fresh("G1"))) == {"G1", "G1a", "A"}
    assert member_orgs(Member.objects.in_subtree(tree.fresh("X"))) == {"XB", "D", "G2"}


@pytest.mark.parametrize(
    ("org", "target"),
    [("G", "G"), ("G", "G1"), ("G", "G1a"), ("C1", "A"), ("R", "D")],
    ids=["onto-itself", "into-child", "into-grandchild", "committee-into-branch", "root-into-leaf"],
)
def test_move_into_own_subtree_is_refused_and_changes_nothing(tree, org, target):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.organization_move(by=Access.system_access(), org=tree.orgs[org], new_parent=tree.orgs[target])
    assert "new_parent" in exc.value.message_dict
    assert snapshot() == before
    assert_tree_is_sound()


def test_move_to_the_current_parent_is_refused(tree):
    before = snapshot()
    with pytest.raises(ValidationError):
        services.organization_move(by=Access.system_access(), org=tree.orgs["G"], new_parent=tree.orgs["C1"])
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# Who may move what


@pytest.mark.parametrize(
    ("org", "target"),
    [
        ("C1", "C2"),  # their own root
        ("G", "C2"),  # into a sibling subtree outside their scope
        ("G", "XB"),  # into another root
        ("G", "R"),  # up above their root
        ("D", "G"),  # from outside their scope into it
    ],
    ids=["own-root", "to-sibling-committee", "to-other-root", "above-root", "from-outside"],
)
def test_committee_cannot_move_outside_its_scope(tree, org, target):
    committee = user_with_role(Role.COMMITTEE, tree.orgs["C1"])
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.organization_move(by=committee, org=tree.orgs[org], new_parent=tree.orgs[target])
    assert snapshot() == before


def test_committee_moves_inside_its_scope(tree):
    committee = user_with_role(Role.COMMITTEE, tree.orgs["C1"])
    g1 = services.organization_move(by=committee, org=tree.orgs["G1"], new_parent=tree.orgs["A"])
    assert parent_of(g1) == tree.fresh("A")
    # Moving directly under their own root is allowed too.
    g1 = services.organization_move(by=committee, org=g1, new_parent=tree.fresh("C1"))
    assert parent_of(g1) == tree.fresh("C1")
    assert_tree_is_sound()


@pytest.mark.parametrize(
    ("role", "place"),
    [
        (Role.SECRETARY, "G"),
        (Role.SCHOOL_ADMIN, "C1"),
        (Role.INSTRUCTOR, "C1"),
        (Role.MEMBER, "G"),
        (Role.SECURITY_ADMIN, None),
        (Role.AUDIT_ADMIN, None),
    ],
)
def test_roles_without_structure_rights_cannot_move(tree, role, place):
    user = user_with_role(role, tree.orgs[place] if place else None)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.organization_move(by=user, org=tree.orgs["G1"], new_parent=tree.orgs["G2"])
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# Creating and editing


def test_create_child_and_root(tree):
    committee = user_with_role(Role.COMMITTEE, tree.orgs["C1"])
    child = services.organization_create(
        by=committee, parent=tree.orgs["C1"], code="C1-new", name="新支部", kind=OrgKind.BRANCH
    )
    assert parent_of(child) == tree.fresh("C1")
    assert tree.fresh("C1").numchild == 3
    with pytest.raises(PermissionDenied):
        services.organization_create(by=committee, parent=None, code="ROOT2", name="新工委", kind=OrgKind.COMMITTEE)
    with pytest.raises(PermissionDenied):
        services.organization_create(by=committee, parent=tree.orgs["C2"], code="C2-new", name="x", kind="branch")
    root = services.organization_create(
        by=user_with_role(Role.SYSTEM_ADMIN), parent=None, code="ROOT2", name="新工委", kind=OrgKind.WORK_COMMITTEE
    )
    assert root.is_root()
    assert_tree_is_sound()


def test_create_with_an_existing_code_is_refused(tree):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        services.organization_create(
            by=Access.system_access(), parent=tree.orgs["C1"], code="TG1", name="重复", kind=OrgKind.BRANCH
        )
    assert "code" in exc.value.message_dict
    assert snapshot() == before


def test_update_does_not_touch_the_tree(tree):
    committee = user_with_role(Role.COMMITTEE, tree.orgs["C1"])
    before = snapshot()
    g = services.organization_update(by=committee, org=tree.orgs["G"], name="更名党总支")
    assert g.name == "更名党总支"
    assert snapshot() == before
    with pytest.raises(TypeError):
        services.organization_update(by=committee, org=tree.orgs["G"], path="0009")
    with pytest.raises(PermissionDenied):
        services.organization_update(by=committee, org=tree.orgs["C1"], name="改自己的根")


def test_within_and_granted_to(world):
    """`within(roots)` is the one subtree filter; `granted_to(user, roles)` the organizations a user holds."""
    from dangjian.accounts.access import Access
    from dangjian.accounts.roles import Role

    orgs = world.orgs
    codes_of = lambda qs: sorted(qs.values_list("code", flat=True))  # noqa: E731
    assert codes_of(Organization.objects.within([orgs["C1"], orgs["X"].path])) == [
        "BJ01", "BJ01A", "BJ01B", "LH", "LH01"
    ]  # fmt: skip
    assert codes_of(Organization.objects.within([])) == []
    assert codes_of(Organization.objects.granted_to(world.user(Role.SECRETARY))) == ["BJ01A"]
    assert codes_of(Organization.objects.granted_to(world.user(Role.COMMITTEE), [Role.COMMITTEE])) == [
        "BJ01", "BJ01A", "BJ01B"
    ]  # fmt: skip
    assert codes_of(Organization.objects.granted_to(world.user(Role.SECRETARY), [Role.COMMITTEE])) == []
    assert codes_of(Organization.objects.granted_to(world.user(Role.MEMBER))) == []
    assert Organization.objects.granted_to(Access.system_access()).count() == 6
    # The roots of the grants themselves, for the lists that answer per grant.
    assert codes_of(Organization.objects.grant_roots(world.user(Role.COMMITTEE), {Role.COMMITTEE})) == ["BJ01"]
    assert codes_of(Organization.objects.grant_roots(world.user(Role.SECRETARY), {Role.COMMITTEE})) == []
    assert codes_of(Organization.objects.grant_roots(Access.system_access(), {Role.SECRETARY})) == []
