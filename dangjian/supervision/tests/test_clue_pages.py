"""The clue board's follow-up: only the allowed next statuses are offered, to the committee over the institution
(every transition) and to the reporting instructor (passing it on); bad inputs re-render with a message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.supervision.models import Clue, ClueStatus, ClueUpdate
from dangjian.supervision.services.clues import clue_pass, clue_record
from dangjian.supervision.tests.factories import assign, client_for, clue, institution, instructor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def reported(district):
    """A clue reported by the instructor assigned to the institution."""
    inst = institution(district.j1, name="晨光艺术培训学校")
    appointment = instructor(district.r)
    assign(inst, appointment, TODAY - dt.timedelta(days=30))
    found = clue_record(by=appointment.user, institution=inst, description="违规开展学科类培训", found_on=TODAY)
    return found, appointment


def _choices(response, clue_pk) -> list[str]:
    for c, form in (card for column in response.context["columns"] for card in column[3]):
        if c.pk == clue_pk:
            return [value for value, _ in form.fields["status"].choices] if form else []
    raise AssertionError("clue not on the board")


def test_the_board_offers_only_the_allowed_next_statuses(district, reported):
    found, appointment = reported
    committee = client_for(district.committee)
    assert _choices(committee.get("/supervision/clues/"), found.pk) == [ClueStatus.PASSED]
    clue_pass(by=district.committee, clue=found, department="区执法大队", date=TODAY)
    assert _choices(committee.get("/supervision/clues/"), found.pk) == [ClueStatus.INVESTIGATING, ClueStatus.DISMISSED]
    # The reporter may only pass a pending clue; once passed, nothing to do.
    assert _choices(client_for(appointment.user).get("/supervision/clues/"), found.pk) == []
    viewer = user_with_role(Role.SECRETARY, district.j1)
    assert _choices(client_for(viewer).get("/supervision/clues/"), found.pk) == []


def test_the_committee_moves_a_clue_from_the_board(district, reported):
    found, _ = reported
    client = client_for(district.committee)
    url = f"/supervision/clues/{found.pk}/status/"
    passed = client.post(url, {"status": "passed", "date": TODAY.isoformat(), "department": "区市场监管局"})
    assert passed.status_code == 302 and passed["Location"] == "/supervision/clues/"
    client.post(url, {"status": "investigating", "date": TODAY.isoformat(), "took_part": "on"})
    # The board's checkbox shows the current value, so it comes back with the next step.
    client.post(url, {"status": "closed", "date": TODAY.isoformat(), "note": "已罚款", "took_part": "on"})
    found.refresh_from_db()
    assert (found.status, found.department, found.took_part, found.closed_on) == (
        ClueStatus.CLOSED,
        "区市场监管局",
        True,
        TODAY,
    )
    assert list(ClueUpdate.objects.filter(clue=found).values_list("to_status", flat=True)) == [
        "pending",
        "passed",
        "investigating",
        "closed",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "passed", "date": "today"}, "执法部门"),
        ({"status": "closed", "date": "today"}, "请从列表中选择"),
        ({"status": "passed", "date": "2024-02-30", "department": "区执法大队"}, "办理日期"),
        ({"status": "passed", "date": "tomorrow", "department": "区执法大队"}, "不能晚于今天"),
        ({"status": "passed", "date": "before", "department": "区执法大队"}, "不能早于线索发现日期"),
    ],
    ids=["no-department", "not-allowed", "bad-date", "future", "before-found"],
)
def test_bad_follow_up_shows_a_message_and_changes_nothing(district, reported, data, message):
    found, _ = reported
    days = {"today": TODAY, "tomorrow": TODAY + dt.timedelta(days=1), "before": TODAY - dt.timedelta(days=1)}
    data = {**data, "date": days[data["date"]].isoformat() if data["date"] in days else data["date"]}
    response = client_for(district.committee).post(f"/supervision/clues/{found.pk}/status/", data)
    assert response.status_code == 200 and message in response.content.decode()
    found.refresh_from_db()
    assert found.status == ClueStatus.PENDING and ClueUpdate.objects.filter(clue=found).count() == 1


def test_the_reporting_instructor_passes_their_own_clue(district, reported):
    found, appointment = reported
    client = client_for(appointment.user)
    page = client.get(f"/supervision/clues/{found.pk}/")
    assert [v for v, _ in page.context["form"].fields["status"].choices] == [ClueStatus.PASSED]
    assert "took_part" not in page.context["form"].fields
    response = client.post(
        f"/supervision/clues/{found.pk}/", {"status": "passed", "date": TODAY.isoformat(), "department": "区执法大队"}
    )
    assert response.status_code == 302
    found.refresh_from_db()
    assert found.status == ClueStatus.PASSED
    refused = client.post(f"/supervision/clues/{found.pk}/status/", {"status": "investigating", "date": TODAY})
    assert refused.status_code == 403
    found.refresh_from_db()
    assert found.status == ClueStatus.PASSED


def test_a_viewer_may_not_change_a_clue_and_an_outsider_gets_404(district):
    c = clue(institution(district.j1), TODAY)
    viewer = user_with_role(Role.SECRETARY, district.j1)
    data = {"status": "passed", "date": TODAY.isoformat(), "department": "区执法大队"}
    assert client_for(viewer).post(f"/supervision/clues/{c.pk}/status/", data).status_code == 403
    assert client_for(viewer).get(f"/supervision/clues/{c.pk}/").context["form"] is None
    assert client_for(district.outsider).post(f"/supervision/clues/{c.pk}/status/", data).status_code == 404
    assert Clue.objects.get().status == ClueStatus.PENDING
