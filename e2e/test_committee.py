"""Committee staff drill from the home page (工作台) through the roster (党员名册) to a member's page, where the ID
number is masked."""

from __future__ import annotations

from playwright.sync_api import expect

from dangjian.accounts.roles import Role
from e2e.helpers import login_with_cookie
from tests.scope import build_world


def test_committee_drills_from_home_to_a_member(page):
    world = build_world()
    member = world.members["B"][0]  # 孙乙一, of 高二年级党支部
    login_with_cookie(page, world.user(Role.COMMITTEE))

    page.goto("/")
    expect(page.locator("#stat-members")).to_have_text("3")  # A's two and B's one; nothing of 临湖
    page.get_by_role("link", name="党员名册").click()
    expect(page.get_by_role("link", name="李外一")).to_have_count(0)
    page.get_by_role("link", name="孙乙一").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("孙乙一")
    expect(page.get_by_text("高二年级党支部").first).to_be_visible()
    assert page.url.endswith(f"/members/{member.pk}/")
    expect(page.get_by_text(member.masked_id_number)).to_be_visible()
    expect(page.get_by_text(member.id_number)).to_have_count(0)
