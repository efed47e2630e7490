"""A member signs in to a training session by its QR code on a phone (logging in through the login form on the
way) and, once the organizer has closed the session, sees the hours on their home page. The same test saves the
home page pictures of the README (docs/screenshots/home-desk.png, home-phone.png) when DANGJIAN_SCREENSHOTS=1."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from dangjian.accounts.roles import Role
from dangjian.training.models import Attendance, ClassStatus
from dangjian.training.services.enrollment import enrollment_add
from dangjian.training.services.sessions import session_add
from dangjian.training.services.sign_in import sign_in_token
from dangjian.training.tests.factories import TrainingClassFactory
from e2e.helpers import fill_login_form, login_with_cookie
from tests.scope import build_world

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def running_session(world):
    """A session of an approved class of branch A that started ten minutes ago; the world's member enrolled."""
    today = timezone.localdate()
    organizer = world.user(Role.SCHOOL_ADMIN)
    training_class = TrainingClassFactory(
        title="2026年党员冬训班",
        organizer=world.orgs["A"],
        status=ClassStatus.APPROVED,
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=1),
    )
    starts_at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=10)
    session = session_add(
        by=organizer,
        training_class=training_class,
        title="学习党章党规",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        hours="2",
    )
    enrollment_add(by=organizer, training_class=training_class, members=[world.self_member])
    return session


def test_member_signs_in_by_qr_code_and_sees_the_hours_at_home(pages, page, tmp_path):
    world = build_world()
    session = running_session(world)

    # The organizer puts the QR code on the projector.
    projector = pages.new("desk")
    login_with_cookie(projector, world.user(Role.SCHOOL_ADMIN))
    projector.goto(f"/training/sessions/{session.pk}/qr/")
    expect(projector.locator("#qr svg")).to_be_visible()
    expect(projector.locator("#short-code")).to_have_text(session.short_code)

    # The member scans it: the code's link asks for a login first, then comes back to confirm.
    page.goto(f"/training/sign-in/?t={sign_in_token(session)}")
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    fill_login_form(page, world.user(Role.MEMBER))
    expect(page.locator("#token-card")).to_contain_text("学习党章党规")
    page.get_by_role("button", name="确认签到").click()
    expect(page.get_by_text("签到成功：学习党章党规")).to_be_visible()
    assert Attendance.objects.filter(session=session, member=world.self_member).exists()

    # The organizer closes the session, which credits the hours.
    projector.get_by_role("link", name="返回课次").click()
    projector.get_by_role("button", name="结束课次并登记学时").click()
    expect(projector.get_by_text("为 1 名签到党员登记")).to_be_visible()

    page.goto("/")
    hours = page.locator("#my-hours")
    expect(hours).to_contain_text("我的学时")
    expect(hours.locator(".display-6")).to_have_text("2.0")
    expect(hours).to_contain_text("要求 32.0 学时")  # the seeded national requirement, restored after every flush

    folder = SCREENSHOTS if os.environ.get("DANGJIAN_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"home-{page.viewport_name}.png"), full_page=True)
