"""The main list pages of each role at phone size (390 px): the page never scrolls sideways (a wide table scrolls
inside its .table-responsive), and no text cell, link, button, label or heading is squeezed to a character or two
per line. A page that fails names the element found (e2e.helpers.layout_problems)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.orglife.tests.factories import record
from dangjian.schools.tests.test_booking_services import build_place, submitted
from dangjian.supervision.tests.factories import assign, institution, instructor
from dangjian.training.tests.factories import credit
from e2e.helpers import describe_problems, layout_problems, login_with_cookie
from tests.scope import build_world

# (who, path): who is a role of the world, or "district" for the district party school's admin, or
# "appointed" for the world's instructor with an appointment and an institution assigned.
PAGES = [
    (Role.COMMITTEE, "/"),
    (Role.COMMITTEE, "/members/"),
    (Role.COMMITTEE, "/orgs/"),
    (Role.COMMITTEE, "/orglife/"),
    (Role.COMMITTEE, "/training/hours/"),
    (Role.COMMITTEE, "/training/hours/members/"),
    (Role.COMMITTEE, "/schools/"),
    (Role.COMMITTEE, "/supervision/institutions/"),
    ("district", "/schools/bookings/"),
    (Role.SECRETARY, "/"),
    (Role.SECRETARY, "/orglife/"),
    (Role.SECRETARY, "/training/hours/branch/"),
    (Role.MEMBER, "/"),
    (Role.MEMBER, "/training/my/hours/"),
    ("appointed", "/"),
    ("appointed", "/supervision/visits/new/"),
    (Role.AUDIT_ADMIN, "/audit/"),
    (Role.SYSTEM_ADMIN, "/accounts/users/"),
    (Role.SECURITY_ADMIN, "/accounts/grants/"),
]

# Pages that fail today, with what was found (the phone CSS is dangjian/static/css/dangjian.css).
KNOWN: dict[tuple[str, str], str] = {}


def populated_world():
    """The world with a little of everything the lists show: a booking, an institution with its instructor, a
    branch meeting, hours."""
    world = build_world()
    today = timezone.localdate()
    place = build_place(world)
    submitted(place, topic="学习贯彻全会精神专题党课")
    covered = institution(world.orgs["B"], name="晨光艺术培训学校")
    appointment = instructor(world.orgs["R"], user=world.user(Role.INSTRUCTOR), start_on=today - dt.timedelta(days=400))
    assign(covered, appointment, today - dt.timedelta(days=300))
    record(world.orgs["A"], topic="主题党日：重温入党誓词", attendees=world.members["A"])
    for member in world.members["A"]:
        credit(member, hours="4")
    users = {**world.users, "district": place.district_admin, "appointed": world.user(Role.INSTRUCTOR)}
    return users


def _param(who: str, path: str):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[who, path])] if (who, path) in KNOWN else []
    return pytest.param(who, path, id=f"{who}:{path}", marks=marks)


@pytest.mark.parametrize(("who", "path"), [_param(*p) for p in PAGES])
def test_phone_layout(pages, who, path):
    users = populated_world()
    page = pages.new("phone")
    login_with_cookie(page, users[who])
    response = page.goto(path)
    assert response.status == 200, f"{path} as {who}: HTTP {response.status}"
    assert urlparse(page.url).path == path, f"{path} as {who} went to {page.url}"
    problems = layout_problems(page)
    assert not problems, f"{path} as {who} at 390 px:\n{describe_problems(problems)}"
