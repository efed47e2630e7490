"""The points rules in force, shown read-only beside the ranking: the system's and those owned at, above or below
the ranking's root that the user sees; inactive or expired rules are not shown."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from dangjian.supervision.models import PointRule
from dangjian.supervision.selectors.points import active_rules

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


def _rule(code, owner=None, **kwargs) -> PointRule:
    values = {"name": f"细则{code}", "category": "party_building", "points": 3, "valid_from": 2023}
    values.update(kwargs)
    return PointRule.objects.create(code=code, owner=owner, **values)


def test_the_rules_in_force_for_a_root(district):
    _rule("P-OWN", owner=district.p)
    _rule("J1-OWN", owner=district.j1)
    _rule("X-OWN", owner=district.x)
    _rule("OLD", valid_from=2020, valid_to=YEAR - 1)
    _rule("OFF", active=False)
    codes = {r.code for r in active_rules(by=district.committee, year=YEAR, root=district.j2)}
    assert {"P-OWN", "PB01", "VI02"} <= codes  # above the root and the system's
    assert not codes & {"J1-OWN", "X-OWN", "OLD", "OFF"}
    under_p = {r.code for r in active_rules(by=district.committee, year=YEAR, root=district.p)}
    assert "J1-OWN" in under_p and "X-OWN" not in under_p


def test_the_ranking_page_shows_the_rules_read_only(district):
    client = Client()
    client.force_login(district.committee)
    response = client.get("/supervision/points/", {"org": "YY"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="rule-table"' in body
    assert "建立党组织（单独或联合党支部）" in body and "+10" in body and "-20" in body
    assert "<form" not in body.split('id="rules"')[1]  # read-only: the system admin edits them in the admin
