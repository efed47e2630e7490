"""The organization picker (js/org_picker.js) on the member form: committee staff type part of a branch's name,
pick it from the list, save, and the member is registered in that branch."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect

from dangjian.accounts.roles import Role
from dangjian.core.validators import MALE
from dangjian.members.models import Member
from dangjian.members.tests.factories import make_id_number
from e2e.helpers import login_with_cookie
from tests.scope import build_world


def test_member_created_in_the_organization_picked_by_name(page):
    world = build_world()
    login_with_cookie(page, world.user(Role.COMMITTEE))
    birth = dt.date(1988, 5, 17)

    page.goto("/members/new/")
    page.get_by_label("姓名").fill("周丙一")
    page.get_by_label("性别").select_option(label="男")
    page.get_by_label("出生日期").fill(birth.isoformat())
    page.get_by_label("公民身份号码").fill(make_id_number(birth, MALE, 7))
    page.get_by_label("入党日期").fill("2015-07-01")
    page.get_by_label("转正日期").fill("2016-07-01")
    page.get_by_label("人员类别").select_option(label="正式党员")

    picker = page.get_by_label(re.compile("^所在党组织"))  # 所在党组织 (编码 before the picker)
    expect(picker).to_have_value("滨江一中党委（BJ01）")  # the user's own organization, preselected
    picker.fill("高二")
    item = page.locator(".org-picker-list .org-picker-item", has_text="高二年级党支部")
    expect(item).to_have_count(1)
    expect(page.locator(".org-picker-list .org-picker-item", has_text="高一年级党支部")).to_have_count(0)
    item.click()
    expect(picker).to_have_value("高二年级党支部（BJ01B）")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("已登记党员“周丙一”。")).to_be_visible()
    member = Member.objects.get(name="周丙一")
    assert member.organization == world.orgs["B"]
    assert page.url.endswith(f"/members/{member.pk}/")
