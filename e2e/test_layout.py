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


# Forms and pages of one object at phone size: the admins' forms, the compliance report with its row filter, the
# background jobs, the quick record form, the member page's confirmation dialogs opened one by one, and a class's
# roster (the visit form with kept photos: e2e/test_kept_photos.py).
FORM_PAGES = [
    (Role.SYSTEM_ADMIN, "/accounts/users/new/"),
    (Role.SECURITY_ADMIN, "/accounts/grants/new/"),
    (Role.COMMITTEE, "/orglife/compliance/?status=未完成"),
    (Role.COMMITTEE, "/jobs/"),
    (Role.SECRETARY, "/orglife/records/new/"),
]


@pytest.mark.parametrize(("who", "path"), FORM_PAGES, ids=[f"{who}:{path}" for who, path in FORM_PAGES])
def test_phone_layout_of_forms(pages, who, path):
    from dangjian.jobs.models import Job, JobStatus

    world = build_world()
    record(world.orgs["A"], topic="主题党日：重温入党誓词", attendees=world.members["A"])
    Job.objects.create(
        kind="members_import",
        title="党员名册导入：清河县教育系统党员花名册（2026年第三季度更新）.xlsx",
        status=JobStatus.SUCCEEDED,
        progress=100,
        created_by=world.user(Role.COMMITTEE),
    )
    page = pages.new("phone")
    login_with_cookie(page, world.user(who))
    response = page.goto(path)
    assert response.status == 200, f"{path} as {who}: HTTP {response.status}"
    problems = layout_problems(page)
    assert not problems, f"{path} as {who} at 390 px:\n{describe_problems(problems)}"


def test_phone_layout_of_the_member_page_and_its_dialogs(pages):
    from dangjian.members.tests.factories import PartyPostFactory

    world = build_world()
    member = world.members["A"][0]
    PartyPostFactory(member=member, organization=world.orgs["A"])
    page = pages.new("phone")
    login_with_cookie(page, world.user(Role.COMMITTEE))
    assert page.goto(f"/members/{member.pk}/").status == 200
    assert not layout_problems(page), describe_problems(layout_problems(page))
    for opener in ("组织关系转接…", "转出系统外…", "变更党籍状态…", "离任"):
        page.get_by_role("button", name=opener).first.click()
        dialog = page.locator("dialog[open], .modal.show").first
        dialog.wait_for()
        problems = layout_problems(page)
        assert not problems, f"dialog {opener} at 390 px:\n{describe_problems(problems)}"
        dialog.get_by_role("button", name="取消").click()
        dialog.wait_for(state="hidden")


def test_phone_layout_of_a_class_roster(pages):
    from dangjian.training.services.enrollment import enrollment_add
    from dangjian.training.tests.factories import TrainingClassFactory

    world = build_world()
    training_class = TrainingClassFactory(organizer=world.orgs["C1"], title="学习贯彻党的二十大精神专题培训班")
    enrollment_add(by=world.user(Role.COMMITTEE), training_class=training_class, members=world.members["A"])
    page = pages.new("phone")
    login_with_cookie(page, world.user(Role.COMMITTEE))
    assert page.goto(f"/training/classes/{training_class.pk}/enrollment/").status == 200
    problems = layout_problems(page)
    assert not problems, f"the roster at 390 px:\n{describe_problems(problems)}"
