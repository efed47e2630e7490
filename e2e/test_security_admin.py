"""The security admin grants a role (角色授权 → 授予角色): finds the account with the page's lookup (选用), picks the
organization with the picker over every organization (by part of its name), chooses the role, and the grant is
listed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from dangjian.accounts.models import RoleAssignment
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory
from e2e.helpers import login_with_cookie, nav_to
from tests.scope import build_world


def test_security_admin_grants_a_role(page):
    world = build_world()
    newcomer = UserFactory(username="wangwu", full_name="王五")
    login_with_cookie(page, world.user(Role.SECURITY_ADMIN))

    page.goto("/")
    nav_to(page, "角色授权")
    page.get_by_role("link", name="授予角色").click()
    accounts = page.locator("form", has=page.get_by_label("查找账号（姓名或用户名）"))
    accounts.get_by_label("查找账号（姓名或用户名）").fill("王五")
    accounts.get_by_role("button", name="查找").click()
    page.locator("#user-results li", has_text="wangwu").get_by_role("link", name="选用").click()
    expect(page.get_by_role("textbox", name=re.compile("^用户名"))).to_have_value("wangwu")
    picker = page.get_by_label(re.compile("^授权党组织"))
    expect(picker).to_have_value("")  # never preset to the top of the tree
    picker.fill("高一")
    page.locator(".org-picker-list .org-picker-item", has_text="高一年级党支部").click()
    expect(picker).to_have_value("高一年级党支部（BJ01A）")
    page.get_by_label("角色").select_option(label="支部书记")
    page.get_by_role("button", name="授予").click()

    expect(page.get_by_text("已授予：")).to_be_visible()
    row = page.locator("#grant-table tbody tr", has_text="wangwu")
    expect(row).to_contain_text("支部书记")
    expect(row).to_contain_text("高一年级党支部")
    grant = RoleAssignment.objects.get(user=newcomer)
    assert (grant.role, grant.organization) == (Role.SECRETARY, world.orgs["A"])
