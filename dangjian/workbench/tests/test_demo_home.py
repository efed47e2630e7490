"""The demo logins (manage.py demo_logins) each open the home page on their own work: the secretary's branch, the
party school, the instructor's visits, the committee's county — on the small demo county (seed 1)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from dangjian.accounts.models import User

pytestmark = pytest.mark.django_db

# Demo login → the id of the panel its home page must show first (before the to-do list and the member panel).
PANELS = {
    "secretary": r'id="secretary-[^"]+"',
    "school": r'id="school-panel"',
    "instructor": r'id="instructor-panel"',
    "committee": r'id="committee-[^"]+"',
}


@pytest.mark.parametrize("username", PANELS)
def test_each_demo_login_opens_on_its_own_panel(small_demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    found = re.search(PANELS[username], page)
    assert found, f"{username}'s panel is not on the home page"
    for later in ('id="todo"', 'id="member-home"', 'id="counts"'):
        if later in page:
            assert found.start() < page.index(later)
    # No business tile reading 0 (the compact counts only list what is there).
    assert 'class="display-6">0<' not in page


def test_demo_figures_are_there_to_see(small_demo):
    """The demo gives each panel something to show: a branch with members short of hours, an instructor with
    institutions to visit, a committee with children to drill into."""
    panels = {}
    for username in PANELS:
        client = Client()
        client.force_login(User.objects.get(username=username))
        panels[username] = client.get("/").context["panels"]
    [secretary] = panels["secretary"].secretary
    assert secretary.behind_total > 0 and secretary.duties is not None
    assert panels["instructor"].instructor.appointed
    [committee] = panels["committee"].committee
    assert committee.children_total >= 5 and committee.members > 100
    assert panels["school"].school.plans
