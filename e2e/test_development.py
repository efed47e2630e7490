"""Member development at phone size (390 px): the secretary's list of cards, a person's timeline and the step form
never scroll sideways and squeeze no text (e2e.helpers.layout_problems)."""

from __future__ import annotations

from dangjian.accounts.roles import Role
from dangjian.development.tests.factories import candidate_at
from e2e.helpers import describe_problems, layout_problems, login_with_cookie
from tests.scope import build_world


def test_phone_layout_of_the_development_pages(pages):
    world = build_world()
    people = [candidate_at(world.orgs["A"], stage_step=step) for step in (1, 2, 4)]
    page = pages.new("phone")
    login_with_cookie(page, world.user(Role.SECRETARY))
    for path in ("/development/", f"/development/{people[0].pk}/", f"/development/{people[2].pk}/step/"):
        response = page.goto(path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        problems = layout_problems(page)
        assert not problems, f"{path} at 390 px:\n{describe_problems(problems)}"
    page.goto("/development/")
    assert page.locator("#candidate-cards .card").count() == 3
