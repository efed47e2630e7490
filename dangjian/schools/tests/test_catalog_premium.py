"""Premium-course rounds (Huangpi 精品课程评选): one round per owner, year and category; entries of the round's
category; scores 0-100; closing with every entry scored, the quota boundary tie-break, the courses marked and the
instructors' points (or, with no rule, a closed round saying no points were awarded)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.schools.models import CourseCategory, PointEntry, PointEvent, PremiumEntry, PremiumRound
from dangjian.schools.services.catalog import (
    premium_entry_add,
    premium_round_close,
    premium_round_create,
    premium_score,
)
from dangjian.schools.tests.factories import CourseFactory, InstructorFactory, PointRuleFactory

THEORY = CourseCategory.POLITICAL_THEORY


def admin(world):
    return world.user(Role.SCHOOL_ADMIN)


def new_round(world, quota=2, year=2025) -> PremiumRound:
    return premium_round_create(by=admin(world), owner=world.orgs["C1"], year=year, category=THEORY, quota=quota)


def enter(world, round, *scores, instructors=None) -> list[PremiumEntry]:
    """Entries of new theory courses of C1, scored in order (None: left unscored)."""
    entries = []
    for i, score in enumerate(scores):
        course = CourseFactory(owner=world.orgs["C1"], title=f"参评课程{i + 1}", instructors=instructors)
        entry = premium_entry_add(by=admin(world), round=round, course=course)
        if score is not None:
            premium_score(by=admin(world), entry=entry, score=Decimal(str(score)))
        entries.append(entry)
    return entries


def error(exc, field: str) -> str:
    return " ".join(exc.value.message_dict[field])


def test_one_round_per_owner_year_and_category(world):
    new_round(world)
    with pytest.raises(ValidationError) as exc:
        new_round(world)
    assert error(exc, "category") == "滨江一中党委2025年已有政治理论类精品课程评选，不能重复创建。"
    assert PremiumRound.objects.count() == 1
    new_round(world, year=2026)  # another year is another round


def test_the_page_shows_the_duplicate_message(world):
    new_round(world)
    form = {"owner": "BJ01", "year": "2025", "category": THEORY, "quota": "3"}
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("schools:premium_create"), form)
    assert response.status_code == 200
    assert "课程类别：滨江一中党委2025年已有政治理论类精品课程评选，不能重复创建。" in response.content.decode()
    assert world.client(Role.SECRETARY).post(reverse("schools:premium_create"), form).status_code == 403


def test_an_entry_must_be_of_the_round_s_category_active_visible_and_new(world):
    round = new_round(world)
    c1 = world.orgs["C1"]
    cases = [
        (CourseFactory(owner=c1, category=CourseCategory.LAW), "该课程属于法律法规类，本次评选只接受政治理论类课程。"),
        (CourseFactory(owner=c1, active=False), "该课程已停用，不能参评。"),
        (CourseFactory(owner=world.orgs["X"]), "找不到该课程，或该课程不在您的查看范围内。"),
    ]
    for course, message in cases:
        with pytest.raises(ValidationError) as exc:
            premium_entry_add(by=admin(world), round=round, course=course)
        assert error(exc, "course") == message
    course = CourseFactory(owner=c1)
    premium_entry_add(by=admin(world), round=round, course=course)
    with pytest.raises(ValidationError) as exc:
        premium_entry_add(by=admin(world), round=round, course=course)
    assert error(exc, "course") == "该课程已参加本次评选。"
    assert round.entries.count() == 1


def test_the_entry_page_shows_the_category_message(world):
    round = new_round(world)
    law = CourseFactory(owner=world.orgs["C1"], category=CourseCategory.LAW)
    url = reverse("schools:premium_entry_add", args=[round.pk])
    response = world.client(Role.SCHOOL_ADMIN).post(url, {"course": law.pk})
    assert response.status_code == 200
    assert "参评课程：该课程属于法律法规类，本次评选只接受政治理论类课程。" in response.content.decode()
    assert not round.entries.exists()
    assert world.client(Role.SECRETARY).post(url, {"course": law.pk}).status_code == 403


@pytest.mark.parametrize("score", ["-0.01", "100.01", "101", "-5"])
def test_a_score_outside_0_100_is_refused(world, score):
    (entry,) = enter(world, new_round(world), None)
    with pytest.raises(ValidationError) as exc:
        premium_score(by=admin(world), entry=entry, score=Decimal(score))
    assert error(exc, "score") == "评分应在0到100之间。"
    entry.refresh_from_db()
    assert entry.score is None


@pytest.mark.parametrize("score", ["0", "100", "88.5"])
def test_a_score_inside_0_100_is_kept(world, score):
    (entry,) = enter(world, new_round(world), score)
    entry.refresh_from_db()
    assert entry.score == Decimal(score)


def test_the_score_page_shows_the_range_message(world):
    round = new_round(world)
    (entry,) = enter(world, round, None)
    url = reverse("schools:premium_score", args=[round.pk])
    response = world.client(Role.SCHOOL_ADMIN).post(url, {"entry": entry.pk, "score": "120"})
    assert response.status_code == 200
    assert "评分（0—100）：评分应在0到100之间。" in response.content.decode()
    assert world.client(Role.SCHOOL_ADMIN).post(url, {"entry": entry.pk, "score": "95"}).status_code == 302


def test_closing_needs_every_entry_scored_and_changes_nothing_otherwise(world):
    round = new_round(world)
    enter(world, round, 90, None, 80, None)
    with pytest.raises(ValidationError) as exc:
        premium_round_close(by=admin(world), round=round)
    assert error(exc, "__all__") == "以下参评课程尚未评分，不能公布结果：《参评课程2》、《参评课程4》。"
    round.refresh_from_db()
    assert round.status == "open"
    assert not PremiumEntry.objects.filter(selected=True).exists()
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("schools:premium_close", args=[round.pk]))
    assert response.status_code == 200 and "《参评课程2》、《参评课程4》" in response.content.decode()


def test_an_empty_round_cannot_close(world):
    round = new_round(world)
    with pytest.raises(ValidationError) as exc:
        premium_round_close(by=admin(world), round=round)
    assert "还没有参评课程" in error(exc, "__all__")


def test_the_top_quota_are_selected_a_boundary_tie_going_to_the_earlier_entry(world):
    round = new_round(world, quota=2)
    first, earlier_85, later_85, last = enter(world, round, 90, 85, 85, 70)
    page = world.client(Role.SECRETARY).get(reverse("schools:premium_detail", args=[round.pk])).content.decode()
    assert 'id="boundary-tie"' in page and "先登记的《参评课程2》入选" in page  # shown while open, provisionally
    result = premium_round_close(by=admin(world), round=round)
    assert [e.pk for e in result.selected] == [first.pk, earlier_85.pk]
    assert "第2名与第3名同为85.00分" in result.tie_note
    selected = set(PremiumEntry.objects.filter(selected=True).values_list("pk", flat=True))
    assert selected == {first.pk, earlier_85.pk}
    for entry, year in [(first, 2025), (earlier_85, 2025), (later_85, None), (last, None)]:
        entry.course.refresh_from_db()
        assert entry.course.premium_year == year
    round.refresh_from_db()
    assert round.status == "closed" and round.closed_at is not None
    page = world.client(Role.SECRETARY).get(reverse("schools:premium_detail", args=[round.pk])).content.decode()
    assert "按参评登记先后" in page and 'id="boundary-tie"' in page


def test_fewer_entries_than_the_quota_are_all_selected(world):
    round = new_round(world, quota=3)
    enter(world, round, 60, 50)
    assert len(premium_round_close(by=admin(world), round=round).selected) == 2


def test_selected_instructors_earn_the_premium_points(world):
    PointRuleFactory(owner=world.orgs["R"], event=PointEvent.PREMIUM_SELECTED, points=Decimal("10"))
    teachers = [InstructorFactory(owner=world.orgs["C1"]), InstructorFactory(owner=world.orgs["R"])]
    round = new_round(world, quota=1)
    enter(world, round, 95, instructors=teachers)
    enter(world, round, 60, instructors=[InstructorFactory(owner=world.orgs["C1"])])
    result = premium_round_close(by=admin(world), round=round)
    assert result.not_awarded == []
    awarded = PointEntry.objects.filter(event=PointEvent.PREMIUM_SELECTED)
    assert {(e.instructor, e.points, e.year) for e in awarded} == {(t, Decimal("10"), 2025) for t in teachers}
    page = world.client(Role.SECRETARY).get(reverse("schools:premium_detail", args=[round.pk])).content.decode()
    assert page.count("+10.0分") == 2 and 'id="no-points"' not in page


def test_without_a_rule_the_round_closes_and_says_no_points_were_awarded(world):
    teacher = InstructorFactory(owner=world.orgs["C1"])
    round = new_round(world, quota=1)
    enter(world, round, 95, instructors=[teacher])
    result = premium_round_close(by=admin(world), round=round)
    assert [(i, "没有适用的积分规则" in why) for _c, i, why in result.not_awarded] == [(teacher, True)]
    assert not PointEntry.objects.exists()
    round.refresh_from_db()
    assert round.status == "closed"
    page = world.client(Role.SECRETARY).get(reverse("schools:premium_detail", args=[round.pk])).content.decode()
    assert 'id="no-points"' in page and "未记积分" in page


def test_closing_through_the_page_flashes_the_missing_points(world):
    round = new_round(world, quota=1)
    enter(world, round, 95, instructors=[InstructorFactory(owner=world.orgs["C1"])])
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("schools:premium_close", args=[round.pk]), follow=True)
    body = response.content.decode()
    assert "评选结果已公布：1门课程入选，0人次获得积分。" in body and "1人次未记积分" in body


def test_a_closed_round_is_read_only(world):
    round = new_round(world, quota=1)
    (entry,) = enter(world, round, 80)
    premium_round_close(by=admin(world), round=round)
    closed = "该评选已公布结果，不能再修改。"
    for action in (
        lambda: premium_entry_add(by=admin(world), round=round, course=CourseFactory(owner=world.orgs["C1"])),
        lambda: premium_score(by=admin(world), entry=entry, score=Decimal("10")),
        lambda: premium_round_close(by=admin(world), round=round),
    ):
        with pytest.raises(ValidationError) as exc:
            action()
        assert error(exc, "__all__") == closed
    entry.refresh_from_db()
    assert entry.score == Decimal("80") and round.entries.count() == 1
    client = world.client(Role.SCHOOL_ADMIN)
    response = client.post(reverse("schools:premium_score", args=[round.pk]), {"entry": entry.pk, "score": "10"})
    assert response.status_code == 200 and closed in response.content.decode()
    page = client.get(reverse("schools:premium_detail", args=[round.pk])).content.decode()
    assert 'id="close-form"' not in page and 'id="score-form"' not in page


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR])
def test_viewers_may_not_run_a_round(world, role):
    round = new_round(world)
    (entry,) = enter(world, round, 80)
    user = world.user(role)
    with pytest.raises(PermissionDenied):
        premium_score(by=user, entry=entry, score=Decimal("10"))
    with pytest.raises(PermissionDenied):
        premium_round_close(by=user, round=round)
    with pytest.raises(PermissionDenied):
        premium_round_create(by=user, owner=world.orgs["A"], year=2025, category=THEORY, quota=1)
    entry.refresh_from_db()
    round.refresh_from_db()
    assert (entry.score, round.status) == (Decimal("80"), "open")
    client = world.client(role)
    assert client.post(reverse("schools:premium_close", args=[round.pk])).status_code == 403
    round.refresh_from_db()
    assert round.status == "open"
