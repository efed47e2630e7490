"""A 党建指导员 records a visit to an institution assigned to them (登记走访, the phone form): the institution, the
date, two of the “四个一”, and the visit is saved with the month's missing items named."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from dangjian.accounts.roles import Role
from dangjian.supervision.models import Visit
from dangjian.supervision.tests.factories import assign, institution, instructor
from e2e.helpers import login_with_cookie
from tests.scope import build_world


def test_instructor_records_a_visit(page):
    world = build_world()
    today = timezone.localdate()
    covered = institution(world.orgs["B"], name="晨光艺术培训学校")
    user = world.user(Role.INSTRUCTOR)  # the role shows 登记走访 on the home page; the appointment opens the form
    appointment = instructor(world.orgs["R"], user=user, start_on=today - dt.timedelta(days=400))
    assign(covered, appointment, today - dt.timedelta(days=300))
    login_with_cookie(page, user)

    page.goto("/")
    page.get_by_role("link", name="登记走访").first.click()
    expect(page.locator("#missing")).to_contain_text("晨光艺术培训学校")
    page.get_by_label("走访机构").select_option(label="晨光艺术培训学校")
    page.get_by_label("上党课").check()
    page.get_by_label("核台账").check()
    page.get_by_label("指导情况").fill("指导机构完善党建台账")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_text("已登记晨光艺术培训学校的走访记录。")).to_be_visible()
    expect(page.get_by_text("本月“四个一”尚未完成（缺：讲政策、排隐患）")).to_be_visible()
    visit = Visit.objects.get()
    assert (visit.institution, visit.appointment, visit.date) == (covered, appointment, today)
    assert visit.party_lecture and visit.ledger_check and not visit.policy_talk
