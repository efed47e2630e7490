"""A branch secretary records a branch meeting from the home page's 登记组织生活 (the quick form: kind, topic,
everyone pre-ticked as present, a photo) and finds it on the record's page and in the list."""

from __future__ import annotations

from playwright.sync_api import expect

from dangjian.accounts.roles import Role
from dangjian.orglife.models import ActivityRecord
from e2e.helpers import login_with_cookie, png_bytes
from tests.scope import build_world


def test_secretary_records_a_branch_meeting_with_a_photo(page):
    world = build_world()
    login_with_cookie(page, world.user(Role.SECRETARY))

    page.goto("/")
    page.get_by_role("link", name="登记组织生活").click()
    expect(page.get_by_role("heading", name="登记活动 · 高一年级党支部")).to_be_visible()
    page.get_by_label("支委会", exact=True).check()
    page.get_by_role("textbox", name="主题").fill("研究发展党员工作")
    page.get_by_role("textbox", name="地点").fill("三楼会议室")
    expect(page.get_by_label("赵甲一")).to_be_checked()  # everyone present unless unticked
    page.get_by_label("附件（照片、签到表，可多选）").set_input_files(
        {"name": "支委会现场.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("活动记录已保存。")).to_be_visible()
    expect(page.locator("#attachments")).to_contain_text("支委会现场.png")
    record = ActivityRecord.objects.get(topic="研究发展党员工作")
    assert record.organization == world.orgs["A"]
    assert record.attachments.count() == 1
    assert record.attendances.filter(present=True).count() == 2

    page.goto("/orglife/")
    expect(page.get_by_role("link", name="研究发展党员工作")).to_be_visible()
