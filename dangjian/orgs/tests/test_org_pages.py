"""The organization and unit pages: bad input answers 200 with a message that names the field, and saves
nothing; scope holds on every form."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import grant
from dangjian.orgs.models import Organization, OrgKind, Unit
from dangjian.orgs.tests.factories import OrganizationFactory

NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"


def body(response) -> str:
    return response.content.decode()


def field_error(label: str, message: str) -> str:
    """How the form template shows an error beside its field."""
    return f"{label}：{message}"


def tree_rows() -> list[tuple]:
    return list(Organization.objects.order_by("pk").values_list("pk", "code", "name", "path", "depth", "numchild"))


# ---------------------------------------------------------------------------------------------------------
# Creating organizations


def org_data(**overrides) -> dict:
    data = {"code": "BJ01C", "name": "高三年级党支部", "kind": OrgKind.BRANCH, "established_on": "2020-09-01"}
    data.update(overrides)
    return data


def test_committee_creates_a_child(world):
    c1 = world.orgs["C1"]
    response = world.client(Role.COMMITTEE).post(f"/orgs/{c1.pk}/new/", org_data())
    assert response.status_code == 302
    org = Organization.objects.get(code="BJ01C")
    assert response["Location"] == f"/orgs/{org.pk}/"
    assert Organization.objects.get_parent(org) == c1
    assert org.established_on == dt.date(2020, 9, 1)


@pytest.mark.parametrize(
    ("overrides", "label", "message"),
    [
        ({"code": "BJ01A"}, "党组织编码", "党组织编码已存在，请换一个编码。"),
        ({"code": "LH01"}, "党组织编码", "党组织编码已存在，请换一个编码。"),  # exists outside the user's scope
        ({"code": "党支部"}, "党组织编码", "党组织编码只能由字母、数字、下划线或短横线组成，长度2-32位。"),
        ({"code": "A"}, "党组织编码", "党组织编码只能由字母、数字、下划线或短横线组成，长度2-32位。"),
        ({"code": ""}, "党组织编码", "请填写党组织编码。"),
        ({"name": ""}, "党组织名称", "请填写党组织名称。"),
        ({"kind": "party_group"}, "组织类别", "选择一个有效的选项。"),
        ({"established_on": "2020-13-01"}, "成立日期", "输入一个有效的日期。"),
        (
            {"established_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            "成立日期",
            "日期不能晚于今天。",
        ),
    ],
    ids=[
        "existing-code",
        "existing-code-out-of-scope",
        "code-chinese",
        "code-too-short",
        "code-missing",
        "name-missing",
        "kind-invalid",
        "date-invalid",
        "date-future",
    ],
)
def test_create_with_bad_input(world, overrides, label, message):
    before = tree_rows()
    response = world.client(Role.COMMITTEE).post(f"/orgs/{world.orgs['C1'].pk}/new/", org_data(**overrides))
    assert response.status_code == 200
    assert field_error(label, message) in body(response)
    assert tree_rows() == before


def test_create_child_out_of_scope_is_404_and_without_rights_is_403(world):
    before = tree_rows()
    committee = world.client(Role.COMMITTEE)
    assert committee.post(f"/orgs/{world.orgs['XB'].pk}/new/", org_data()).status_code == 404
    assert committee.post(f"/orgs/{world.orgs['R'].pk}/new/", org_data()).status_code == 404
    secretary = world.client(Role.SECRETARY)
    assert secretary.post(f"/orgs/{world.orgs['A'].pk}/new/", org_data()).status_code == 403
    assert secretary.post(f"/orgs/{world.orgs['B'].pk}/new/", org_data()).status_code == 404
    assert tree_rows() == before


def test_only_the_system_admin_creates_roots(world):
    data = org_data(code="NEWROOT", name="新区教育工委", kind=OrgKind.WORK_COMMITTEE)
    assert world.client(Role.COMMITTEE).post("/orgs/new/", data).status_code == 403
    assert not Organization.objects.filter(code="NEWROOT").exists()
    response = world.client(Role.SYSTEM_ADMIN).post("/orgs/new/", data)
    assert response.status_code == 302
    assert Organization.objects.get(code="NEWROOT").is_root()


# ---------------------------------------------------------------------------------------------------------
# Editing


def test_edit_with_an_existing_code_changes_nothing(world):
    a = world.orgs["A"]
    before = tree_rows()
    response = world.client(Role.COMMITTEE).post(f"/orgs/{a.pk}/edit/", org_data(code="BJ01B", name="改名"))
    assert response.status_code == 200
    assert field_error("党组织编码", "党组织编码已存在，请换一个编码。") in body(response)
    assert tree_rows() == before


def test_edit_keeps_the_tree(world):
    a = world.orgs["A"]
    before = {row[0]: row[3:] for row in tree_rows()}
    response = world.client(Role.COMMITTEE).post(f"/orgs/{a.pk}/edit/", org_data(code="BJ01A", name="高一党支部"))
    assert response.status_code == 302
    assert Organization.objects.get(pk=a.pk).name == "高一党支部"
    assert {row[0]: row[3:] for row in tree_rows()} == before


@pytest.mark.parametrize(
    ("role", "place", "status"),
    [
        (Role.COMMITTEE, "C1", 403),  # their own root
        (Role.COMMITTEE, "XB", 404),
        (Role.SECRETARY, "A", 403),
        (Role.SECRETARY, "B", 404),
        (Role.SCHOOL_ADMIN, "A", 403),
        (Role.MEMBER, "A", 403),
    ],
)
def test_edit_without_rights(world, role, place, status):
    before = tree_rows()
    response = world.client(role).post(f"/orgs/{world.orgs[place].pk}/edit/", org_data(code="CHANGED"))
    assert response.status_code == status
    assert tree_rows() == before


# ---------------------------------------------------------------------------------------------------------
# Moving


@pytest.fixture
def general_branch(world):
    """高中党总支 G under C1, with branch G1 under it (and a grandchild G1a)."""
    g = OrganizationFactory(parent=world.orgs["C1"], code="BJ01G", name="高中党总支", kind=OrgKind.GENERAL_BRANCH)
    g1 = OrganizationFactory(parent=g, code="BJ01G1", name="高中一支部")
    g1a = OrganizationFactory(parent=g1, code="BJ01G1A", name="高中临时支部", kind=OrgKind.TEMPORARY_BRANCH)
    return g, g1, g1a


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("BJ01G1", "不能把党组织移动到它自己或它的下级组织之下。"),
        ("BJ01G1A", "不能把党组织移动到它自己或它的下级组织之下。"),
        ("BJ01G", "不能把党组织移动到它自己或它的下级组织之下。"),
        ("BJ01", "该党组织已经在目标上级组织之下。"),
        ("LH01", NOT_FOUND.format(code="LH01")),
        ("LH", NOT_FOUND.format(code="LH")),
        ("BJ", NOT_FOUND.format(code="BJ")),  # above the committee's root
        ("NOSUCH", NOT_FOUND.format(code="NOSUCH")),
        ("", "请选择新的上级党组织。"),
    ],
    ids=[
        "into-child",
        "into-grandchild",
        "onto-itself",
        "current-parent",
        "out-of-scope-branch",
        "out-of-scope-root",
        "above-own-root",
        "unknown-code",
        "empty",
    ],
)
def test_move_with_bad_target(world, general_branch, target, message):
    g = general_branch[0]
    before = tree_rows()
    response = world.client(Role.COMMITTEE).post(f"/orgs/{g.pk}/move/", {"new_parent": target})
    assert response.status_code == 200
    assert field_error("新的上级党组织", message) in body(response)
    assert tree_rows() == before


def test_move_page_moves_the_subtree(world, general_branch):
    g, g1, g1a = general_branch
    response = world.client(Role.COMMITTEE).post(f"/orgs/{g.pk}/move/", {"new_parent": "BJ01B"})
    assert response.status_code == 302
    b = Organization.objects.get(pk=world.orgs["B"].pk)
    for org in (g, g1, g1a):
        assert Organization.objects.get(pk=org.pk).path.startswith(b.path)
    assert all(not problems for problems in Organization.objects.find_problems())


def test_secretary_cannot_move(world):
    before = tree_rows()
    secretary = world.client(Role.SECRETARY)
    assert secretary.post(f"/orgs/{world.orgs['A'].pk}/move/", {"new_parent": "BJ01B"}).status_code == 403
    assert secretary.post(f"/orgs/{world.orgs['B'].pk}/move/", {"new_parent": "BJ01A"}).status_code == 404
    assert tree_rows() == before


# ---------------------------------------------------------------------------------------------------------
# Units


def unit_data(**overrides) -> dict:
    data = {
        "name": "启航培训学校",
        "kind": "training_institution",
        "credit_code": "52110000MJ0000001X",
        "address": "滨江区江滨路1号",
        "organization": "BJ01A",
        "managing_organization": "BJ01",
    }
    data.update(overrides)
    return data


def test_committee_creates_a_unit(world):
    response = world.client(Role.COMMITTEE).post("/orgs/units/new/", unit_data())
    assert response.status_code == 302
    unit = Unit.objects.get(name="启航培训学校")
    assert (unit.organization, unit.managing_organization) == (world.orgs["A"], world.orgs["C1"])


@pytest.mark.parametrize(
    ("overrides", "label", "message"),
    [
        ({"credit_code": "12345"}, "统一社会信用代码", "统一社会信用代码应为18位数字或大写字母。"),
        ({"credit_code": "52110000mj0000001x"}, "统一社会信用代码", "统一社会信用代码应为18位数字或大写字母。"),
        ({"credit_code": "52110000MJ0000001I"}, "统一社会信用代码", "统一社会信用代码应为18位数字或大写字母。"),
        ({"credit_code": "52110000MJ0000001X9"}, "统一社会信用代码", "确保该变量包含不超过 18 字符 (目前字符数 19)。"),
        ({"organization": "LH01"}, "所属党组织", NOT_FOUND.format(code="LH01")),
        ({"managing_organization": "LH"}, "主管党组织", NOT_FOUND.format(code="LH")),
        ({"organization": "", "managing_organization": ""}, "主管党组织", "请至少选择所属党组织或主管党组织。"),
        ({"name": ""}, "单位名称", "请填写单位名称。"),
        ({"kind": "mall"}, "单位类型", "选择一个有效的选项。"),
    ],
    ids=[
        "credit-short",
        "credit-lowercase",
        "credit-letter-I",
        "credit-too-long",
        "org-out-of-scope",
        "managing-out-of-scope",
        "no-organization",
        "name-missing",
        "kind-invalid",
    ],
)
def test_unit_create_with_bad_input(world, overrides, label, message):
    before = Unit.objects.count()
    response = world.client(Role.COMMITTEE).post("/orgs/units/new/", unit_data(**overrides))
    assert response.status_code == 200
    assert field_error(label, message) in body(response)
    assert Unit.objects.count() == before


def test_unit_with_a_duplicate_credit_code(world):
    existing = world.units["B"].credit_code
    before = Unit.objects.count()
    response = world.client(Role.COMMITTEE).post("/orgs/units/new/", unit_data(credit_code=existing))
    assert response.status_code == 200
    assert "统一社会信用代码已存在。" in body(response)
    assert Unit.objects.count() == before


def test_unit_edit_with_a_bad_credit_code_changes_nothing(world):
    unit = world.units["A"]
    response = world.client(Role.COMMITTEE).post(
        f"/orgs/units/{unit.pk}/edit/", unit_data(name="改名学校", credit_code="BAD")
    )
    assert response.status_code == 200
    assert field_error("统一社会信用代码", "统一社会信用代码应为18位数字或大写字母。") in body(response)
    unit.refresh_from_db()
    assert unit.name == "晨曦学校"
    assert unit.credit_code != "BAD"


@pytest.mark.parametrize(
    ("role", "status"), [(Role.SECRETARY, 403), (Role.SCHOOL_ADMIN, 403), (Role.INSTRUCTOR, 403), (Role.MEMBER, 403)]
)
def test_roles_without_structure_rights_cannot_create_units(world, role, status):
    before = Unit.objects.count()
    assert world.client(role).post("/orgs/units/new/", unit_data()).status_code == status
    assert Unit.objects.count() == before


# ---------------------------------------------------------------------------------------------------------
# Tree, search, detail


def test_tree_children_are_scoped(world):
    committee = world.client(Role.COMMITTEE)
    response = committee.get(f"/orgs/{world.orgs['C1'].pk}/children/")
    assert response.status_code == 200
    assert "高一年级党支部" in body(response) and "高二年级党支部" in body(response)
    response = world.client(Role.SECRETARY).get(f"/orgs/{world.orgs['A'].pk}/children/")
    assert "没有下级组织" in body(response)


def test_search_finds_only_orgs_in_scope(world):
    committee = world.client(Role.COMMITTEE)
    response = committee.get("/orgs/", {"q": "临湖"})
    assert "没有找到匹配的党组织。" in body(response)
    response = committee.get("/orgs/", {"q": "BJ01"})
    assert "高一年级党支部" in body(response)
    assert "滨江区教育工委" not in body(response)  # above the committee's root
    response = world.client(Role.SYSTEM_ADMIN).get("/orgs/", {"q": "临湖"})
    assert "临湖实验小学党支部" in body(response)


def test_detail_shows_the_subtree_member_count_to_member_viewers_only(world):
    response = world.client(Role.COMMITTEE).get(f"/orgs/{world.orgs['C1'].pk}/")
    assert response.status_code == 200
    assert response.context["member_total"] == 3
    response = world.client(Role.SYSTEM_ADMIN).get(f"/orgs/{world.orgs['C1'].pk}/")
    assert response.context["member_total"] is None


def test_breadcrumb_stops_at_the_scope_root(world):
    response = world.client(Role.SECRETARY).get(f"/orgs/{world.orgs['A'].pk}/")
    assert response.context["ancestors"] == []
    response = world.client(Role.COMMITTEE).get(f"/orgs/{world.orgs['A'].pk}/")
    assert response.context["ancestors"] == [world.orgs["C1"]]
    assert "滨江区教育工委" not in body(response)


def test_tree_roots_do_not_repeat_an_own_branch_inside_a_granted_subtree(world):
    """Committee staff are party members too, usually of a branch under their own committee: their own
    branch must not show up as a second root beside the committee that already contains it."""
    user = world.user(Role.COMMITTEE)
    grant(user, Role.MEMBER, world.orgs["A"])
    response = world.client(Role.COMMITTEE).get("/orgs/")
    assert [org.code for org in response.context["roots"]] == ["BJ01"]


def test_the_system_admin_sees_no_member_counts_in_the_tree(world):
    """The detail page hides the member total from roles that see no members (三员分立); the tree and its
    children must not show per-organization member counts to them either."""
    admin = world.client(Role.SYSTEM_ADMIN)
    assert admin.get(f"/orgs/{world.orgs['C1'].pk}/").context["member_total"] is None
    for url in (f"/orgs/{world.orgs['C1'].pk}/children/", f"/orgs/{world.orgs['C1'].pk}/", "/orgs/"):
        counts = re.findall(r"\d+ 人", body(admin.get(url)))
        assert not counts, f"{url} shows member counts {counts} to the system admin"
