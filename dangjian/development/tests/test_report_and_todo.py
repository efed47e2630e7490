"""The yearly report (counted from dated steps: a closed year never changes), its command, and the to-do sources."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dangjian.core.todo import items_of
from dangjian.development import services, todo
from dangjian.development.selectors.path import stage_on
from dangjian.development.selectors.report import development_report
from dangjian.development.tests.factories import on_path, register, walk

pytestmark = pytest.mark.django_db

HEADER = "党组织编码,党组织名称,申请人,积极分子,发展对象,预备党员,本年发展,计划数,逾期步骤"


def _csv(*args) -> list[list[str]]:
    out = io.StringIO()
    call_command("development_report", *args, "--format", "csv", stdout=out)
    text = out.getvalue()
    assert text.splitlines()[0] == HEADER
    return list(csv.reader(io.StringIO(text)))[1:]


def test_the_report_counts_each_stage_as_of_the_years_end_and_never_changes(place):
    today = timezone.localdate()
    last_year = today.year - 1
    # Applied 40 days before the end of last year: an activist (step 3 is day 40) then, with steps recorded later.
    end = dt.date(last_year, 12, 31)
    applied = end - dt.timedelta(days=40)
    candidate = register(place.secretary, place.branch, applied_on=applied)
    walk(candidate, place.secretary, to=3, branch_members=place.members)
    admitted = on_path(place.secretary, place.branch, to=17, branch_members=place.members, days_ago=505)
    services.quota_set(by=place.committee_user, organization=place.branch, year=today.year, quota=4)
    before = _csv("--org", place.committee.code, "--year", str(last_year))
    walk(candidate, place.secretary, to=5, branch_members=place.members)  # steps of this year
    assert _csv("--org", place.committee.code, "--year", str(last_year)) == before
    rows = {row[0]: row for row in before}
    # The admitted one applied 505 days ago: their stage at the end of last year depends on today's date.
    activists = str(1 + (stage_on(dict(admitted.steps.values_list("number", "date")), end) == "activist"))
    assert rows[place.branch.code][3] == activists
    assert rows[place.committee.code][3] == activists and rows[place.other_branch.code][3] == "0"
    this_year = {row[0]: row for row in _csv("--org", place.committee.code, "--year", str(today.year))}
    admitted_this_year = str(int(admitted.steps.get(number=17).date.year == today.year))
    assert this_year[place.branch.code][6] == admitted_this_year
    assert this_year[place.branch.code][7] == "4" and this_year[place.committee.code][7] == "4"


def test_the_report_counts_overdue_steps(place):
    register(place.secretary, place.branch, applied_on=timezone.localdate() - dt.timedelta(days=45))
    rows = development_report(
        by=place.secretary, org=place.branch, year=timezone.localdate().year, today=timezone.localdate()
    )
    assert rows[0].overdue == 1 and rows[0].counts["applicant"] == 1


def test_the_command_refuses_an_organization_outside_the_users_scope(place):
    with pytest.raises(CommandError):
        _csv(
            "--org", place.other_branch.code, "--year", str(timezone.localdate().year), "--as", place.secretary.username
        )
    with pytest.raises(CommandError):
        _csv("--org", "NOSUCH", "--year", str(timezone.localdate().year))


def test_the_secretary_sees_the_next_step_and_the_committee_the_overdue(place):
    today = timezone.localdate()
    late = register(place.secretary, place.branch, applied_on=today - dt.timedelta(days=45))
    waiting = on_path(place.secretary, place.branch, to=6, branch_members=place.members, days_ago=402)
    items = items_of(todo.next_steps, user=place.secretary, today=today)
    titles = [item.title for item in items]
    assert any(late.name in t and "第2步" in t and "截止" in t for t in titles)
    assert not any(waiting.name in t for t in titles)  # chosen as a development candidate only after a year
    assert all(item.overdue for item in items if late.name in item.title)
    assert items_of(todo.next_steps, user=place.other_secretary, today=today) == []
    committee = items_of(todo.overdue_steps, user=place.committee_user, today=today)
    assert len(committee) == 1 and "1名" in committee[0].title and committee[0].overdue
