"""The ranking rule (Huangpi: top 3 → 示范, 15% of the rest → 优秀, the last → 不合格, the rest → 合格): grade counts
for small and large sets, who gets which, the rule in force, the scope, and an empty set."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.schools.models import Grade, RankingRule, SchoolEvaluation
from dangjian.schools.selectors.evaluation import assign_grades, grade_counts, rule_for, school_ranking
from dangjian.schools.tests.factories import PartySchoolFactory, RankingRuleFactory, ranked_schools

YEAR = timezone.localdate().year - 1
D, E, Q, U = Grade.DEMONSTRATION, Grade.EXCELLENT, Grade.QUALIFIED, Grade.UNQUALIFIED
SYSTEM = Access.system_access()

# n → (示范, 优秀, 合格, 不合格)
EXPECTED_COUNTS = {
    1: (1, 0, 0, 0),
    3: (3, 0, 0, 0),
    4: (3, 0, 0, 1),
    5: (3, 1, 0, 1),
    20: (3, 2, 14, 1),  # floor(0.15 × 17) = 2
    78: (3, 11, 63, 1),  # floor(0.15 × 75) = 11
}


@pytest.mark.parametrize("n", EXPECTED_COUNTS, ids=lambda n: f"{n}-schools")
def test_grade_counts(n):
    demo, exc, qual, unq = EXPECTED_COUNTS[n]
    assert grade_counts(n, RankingRule()) == {D: demo, E: exc, Q: qual, U: unq}
    assert assign_grades(n, RankingRule()) == [D] * demo + [E] * exc + [Q] * qual + [U] * unq


def test_excellent_gets_at_least_one_but_never_more_than_are_left():
    assert grade_counts(0, RankingRule()) == {D: 0, E: 0, Q: 0, U: 0}
    assert grade_counts(6, RankingRule()) == {D: 3, E: 1, Q: 1, U: 1}  # floor(0.45) = 0 → at least 1
    rule = RankingRule(excellent_rate=Decimal("1"))
    assert grade_counts(6, rule) == {D: 3, E: 2, Q: 0, U: 1}  # 3 of the rest, but only 2 left after 不合格


@pytest.mark.parametrize("n", EXPECTED_COUNTS, ids=lambda n: f"{n}-schools")
def test_the_ranking_grades_each_school_by_its_place(world, n):
    composites = [Decimal("90") - Decimal("0.5") * i for i in range(n)]
    # Created worst first, so that the order comes from the scores and not from the rows.
    schools = list(reversed(ranked_schools(world.orgs["A"], YEAR, list(reversed(composites)))))
    ranking = school_ranking(SYSTEM, YEAR)
    demo, exc, qual, unq = EXPECTED_COUNTS[n]
    expected = [D] * demo + [E] * exc + [Q] * qual + [U] * unq
    assert [r.school.pk for r in ranking.rows] == [s.pk for s in schools]
    assert [r.rank for r in ranking.rows] == list(range(1, n + 1))
    assert [r.grade for r in ranking.rows] == expected
    assert {t.grade: t.count for t in ranking.totals} == {D: demo, E: exc, Q: qual, U: unq}
    assert [r.subsidy for r in ranking.rows[:demo]] == [Decimal("20000")] * demo
    assert ranking.subsidy_total == Decimal("20000") * demo + Decimal("10000") * exc
    assert not any(r.tie_note for r in ranking.rows)


# Ties: see test_ranking_ties.py (equal composites share a place; a boundary inside a tie is the committee's).


# ---------------------------------------------------------------------------------------------------------
# The rule in force


def test_without_a_rule_the_model_defaults_apply(world):
    rule = rule_for(world.orgs["A"], YEAR)
    assert rule.pk is None
    assert (rule.demonstration_count, rule.excellent_rate, rule.excellent_min, rule.unqualified_count) == (
        3,
        Decimal("0.15"),
        1,
        1,
    )
    assert rule_for(None, YEAR).pk is None


def test_the_nearest_ancestors_rule_applies(world):
    district = RankingRuleFactory(owner=world.orgs["R"])
    committee = RankingRuleFactory(owner=world.orgs["C1"])
    assert rule_for(world.orgs["A"], YEAR) == committee
    assert rule_for(world.orgs["C1"], YEAR) == committee
    assert rule_for(world.orgs["R"], YEAR) == district
    assert rule_for(world.orgs["XB"], YEAR).pk is None  # another tree


def test_only_a_rule_valid_that_year_applies(world):
    district = RankingRuleFactory(owner=world.orgs["R"], valid_from=2010)
    expired = RankingRuleFactory(owner=world.orgs["C1"], valid_from=2010, valid_to=YEAR - 1)
    RankingRuleFactory(owner=world.orgs["C1"], valid_from=YEAR + 1)  # not yet
    assert rule_for(world.orgs["A"], YEAR) == district
    assert rule_for(world.orgs["A"], 2009).pk is None
    newer = RankingRuleFactory(owner=world.orgs["R"], valid_from=YEAR)
    assert rule_for(world.orgs["A"], YEAR) == newer
    assert rule_for(world.orgs["A"], YEAR - 1) == expired  # still valid then, and nearer
    assert rule_for(world.orgs["B"], 2009).pk is None


def test_the_ranking_uses_the_rule_of_its_scope(world):
    RankingRuleFactory(
        owner=world.orgs["C1"],
        demonstration_count=1,
        excellent_rate=Decimal("0.5"),
        unqualified_count=2,
        subsidy_demonstration=Decimal("5000"),
        subsidy_excellent=Decimal("2000"),
        subsidy_qualified=Decimal("100"),
    )
    ranked_schools(world.orgs["A"], YEAR, [90, 80, 70, 60, 50, 40])
    for ranking in (school_ranking(SYSTEM, YEAR, org=world.orgs["C1"]), school_ranking(SYSTEM, YEAR)):
        assert [r.grade for r in ranking.rows] == [D, E, E, Q, U, U]
        assert [r.subsidy for r in ranking.rows] == [Decimal(v) for v in (5000, 2000, 2000, 100, 0, 0)]
        assert "前1名为示范" in ranking.rule_statement


# ---------------------------------------------------------------------------------------------------------
# Scope, incomplete evaluations and the empty set


def test_the_ranking_covers_the_schools_in_scope(world):
    in_a = ranked_schools(world.orgs["A"], YEAR, [90, 80])
    in_b = ranked_schools(world.orgs["B"], YEAR, [85])
    ranked_schools(world.orgs["XB"], YEAR, [99])
    ranked_schools(world.orgs["A"], YEAR - 1, [70])  # another year

    def codes(ranking):
        return [r.school.code for r in ranking.rows]

    assert codes(school_ranking(world.user(Role.COMMITTEE), YEAR)) == [in_a[0].code, in_b[0].code, in_a[1].code]
    assert codes(school_ranking(world.user(Role.SECRETARY), YEAR)) == [s.code for s in in_a]
    assert codes(school_ranking(world.user(Role.COMMITTEE), YEAR, org=world.orgs["B"])) == [in_b[0].code]
    assert school_ranking(world.user(Role.MEMBER), YEAR).empty
    assert len(school_ranking(SYSTEM, YEAR).rows) == 4


def test_incomplete_evaluations_are_listed_apart(world):
    ranked = ranked_schools(world.orgs["A"], YEAR, [90])
    pending = PartySchoolFactory(organization=world.orgs["A"], name="待录入党校")
    SchoolEvaluation.objects.create(school=pending, year=YEAR, composite=None)
    ranking = school_ranking(SYSTEM, YEAR)
    assert [r.school for r in ranking.rows] == ranked
    assert [e.school for e in ranking.incomplete] == [pending]


def test_an_empty_set_gives_a_clear_message(world):
    ranking = school_ranking(SYSTEM, YEAR, org=world.orgs["C1"])
    assert ranking.empty
    assert ranking.rows == []
    assert ranking.message == f"{YEAR}年度“滨江一中党委”范围内没有已完成考评的党校，无法排名。"
    pending = PartySchoolFactory(organization=world.orgs["A"])
    SchoolEvaluation.objects.create(school=pending, year=YEAR)
    ranking = school_ranking(SYSTEM, YEAR, org=world.orgs["C1"])
    assert ranking.empty
    assert "另有1所党校考评尚未录入完整" in ranking.message
