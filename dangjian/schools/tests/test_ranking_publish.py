"""Publishing a ranking (SchoolRanking rows, rectification tasks for 不合格 schools, re-publication) and closing
a rectification task; who may do either, and that a refused action changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.schools.models import (
    Grade,
    RectificationStatus,
    RectificationTask,
    SchoolEvaluation,
    SchoolRanking,
)
from dangjian.schools.services.evaluation import ranking_publish, rectification_close
from dangjian.schools.tests.factories import RankingRuleFactory, ranked_schools

YEAR = timezone.localdate().year - 1
TODAY = timezone.localdate()


def publish(world, role=Role.COMMITTEE, org="C1"):
    return ranking_publish(by=world.user(role), org=world.orgs[org], year=YEAR)


def test_publishing_writes_the_ranking_and_a_task_for_the_unqualified(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 70])
    published = publish(world)
    rows = list(SchoolRanking.objects.filter(scope=world.orgs["C1"], year=YEAR).order_by("rank"))
    assert rows == published
    assert [(r.school, r.rank, r.grade) for r in rows] == [
        (schools[0], 1, Grade.DEMONSTRATION),
        (schools[1], 2, Grade.DEMONSTRATION),
        (schools[2], 3, Grade.DEMONSTRATION),
        (schools[3], 4, Grade.EXCELLENT),
        (schools[4], 5, Grade.UNQUALIFIED),
    ]
    assert [r.composite for r in rows] == [Decimal(v) for v in (95, 90, 85, 80, 70)]
    assert [r.subsidy for r in rows] == [Decimal(v) for v in (20000, 20000, 20000, 10000, 0)]
    assert rows[0].published_by == world.user(Role.COMMITTEE)
    task = RectificationTask.objects.get()
    assert (task.school, task.year, task.ranking, task.status) == (schools[4], YEAR, rows[4], RectificationStatus.OPEN)
    assert task.deadline == TODAY + dt.timedelta(days=30)


def test_the_deadline_follows_the_rule(world):
    RankingRuleFactory(owner=world.orgs["R"], rectification_days=45)
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80])
    publish(world)
    assert RectificationTask.objects.get().deadline == TODAY + dt.timedelta(days=45)


def test_republishing_replaces_the_publication_without_duplicating_tasks(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 70])
    first = publish(world)
    task = RectificationTask.objects.get()
    task.deadline = TODAY + dt.timedelta(days=3)  # as if published some days ago
    task.save()
    again = publish(world)
    assert [r.pk for r in again] == [r.pk for r in first]
    assert SchoolRanking.objects.count() == 5
    assert list(RectificationTask.objects.values_list("pk", "deadline")) == [(task.pk, task.deadline)]

    # A corrected score moves the last school up: its open task goes with the replaced publication.
    SchoolEvaluation.objects.filter(school=schools[4]).update(composite=Decimal("99"))
    SchoolEvaluation.objects.filter(school=schools[3]).delete()  # no longer evaluated: no longer ranked
    publish(world)
    rows = {r.school_id: r for r in SchoolRanking.objects.filter(scope=world.orgs["C1"], year=YEAR)}
    assert set(rows) == {schools[0].pk, schools[1].pk, schools[2].pk, schools[4].pk}
    assert rows[schools[4].pk].rank == 1
    assert rows[schools[2].pk].grade == Grade.UNQUALIFIED
    task = RectificationTask.objects.get()
    assert (task.school, task.ranking) == (schools[2], rows[schools[2].pk])


def test_a_closed_task_is_kept_on_republish(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 70])
    publish(world)
    task = rectification_close(by=world.user(Role.SCHOOL_ADMIN), task=RectificationTask.objects.get(), note="已整改")
    SchoolEvaluation.objects.filter(school=schools[4]).update(composite=Decimal("99"))
    publish(world)
    assert RectificationTask.objects.filter(school=schools[4]).get() == task
    assert RectificationTask.objects.filter(status=RectificationStatus.OPEN).get().school == schools[3]


def test_two_scopes_publish_apart_and_share_one_task_per_school(world):
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 70])
    publish(world, org="C1")
    publish(world, org="A")
    assert SchoolRanking.objects.filter(scope=world.orgs["A"]).count() == 5
    assert SchoolRanking.objects.filter(scope=world.orgs["C1"]).count() == 5
    assert RectificationTask.objects.count() == 1


def test_publishing_an_empty_set_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        publish(world)
    assert exc.value.message_dict == {"year": [f"{YEAR}年度“滨江一中党委”范围内没有已完成考评的党校，无法排名。"]}
    assert not SchoolRanking.objects.exists()


@pytest.mark.parametrize(
    ("role", "org"),
    [
        (Role.SECRETARY, "A"),
        (Role.INSTRUCTOR, "B"),
        (Role.MEMBER, "A"),
        (Role.SYSTEM_ADMIN, "C1"),
        (Role.COMMITTEE, "R"),
    ],
)
def test_only_a_manager_of_the_scope_publishes(world, role, org):
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 70])
    with pytest.raises(PermissionDenied):
        publish(world, role=role, org=org)
    assert not SchoolRanking.objects.exists()
    assert not RectificationTask.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Closing a rectification task


@pytest.fixture
def task(world):
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80])
    publish(world)
    return RectificationTask.objects.get()


def test_closing_a_task_needs_a_note(world, task):
    for note in ("", "   "):
        with pytest.raises(ValidationError) as exc:
            rectification_close(by=world.user(Role.SCHOOL_ADMIN), task=task, note=note)
        assert exc.value.message_dict == {"note": ["请填写整改情况说明。"]}
    task.refresh_from_db()
    assert task.status == RectificationStatus.OPEN


def test_closing_a_task(world, task):
    closed = rectification_close(by=world.user(Role.SCHOOL_ADMIN), task=task, note="已约谈负责人，补齐台账")
    assert (closed.status, closed.note) == (RectificationStatus.DONE, "已约谈负责人，补齐台账")
    assert closed.closed_at is not None
    assert closed.history.latest().history_user == world.user(Role.SCHOOL_ADMIN)
    with pytest.raises(ValidationError) as exc:
        rectification_close(by=world.user(Role.SCHOOL_ADMIN), task=task, note="再次办结")
    assert exc.value.message_dict == {"status": ["该整改任务已办结，无需重复办结。"]}
    task.refresh_from_db()
    assert task.note == "已约谈负责人，补齐台账"


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_only_a_manager_closes_a_task(world, task, role):
    with pytest.raises(PermissionDenied):
        rectification_close(by=world.user(role), task=task, note="已整改")
    task.refresh_from_db()
    assert (task.status, task.note) == (RectificationStatus.OPEN, "")
