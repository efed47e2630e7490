"""Who is ranked and what a school did: the ranking is of the amateur schools (业余党校) only; the records score
(台账) starts from the system's own data (classes held against the plan, person-times, the 六有 checklist) with
the entered score at most an adjustment; and a school that ran no class in the year, or fails its 六有
checklist, cannot be 示范 or 优秀 (the rule's gate, on by default)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.schools.models import (
    EvaluationIndicator,
    Grade,
    RankingRule,
    SchoolAnnualPlan,
    SchoolEvaluation,
    SchoolLevel,
    StandardCheck,
    StandardItem,
)
from dangjian.schools.selectors.evaluation import RecordsBasis, records_bases, records_score, school_ranking
from dangjian.schools.services.evaluation import evaluation_save
from dangjian.schools.tests.factories import (
    BookingRequestFactory,
    PartySchoolFactory,
    RankingRuleFactory,
    active_year,
    ranked_schools,
)

YEAR = timezone.localdate().year - 1
D, E, Q, U = Grade.DEMONSTRATION, Grade.EXCELLENT, Grade.QUALIFIED, Grade.UNQUALIFIED
SYSTEM = Access.system_access()


# ---------------------------------------------------------------------------------------------------------
# Only the amateur schools are ranked


def test_the_district_school_is_not_ranked_with_the_amateur_schools(world):
    # Before: the district party school was ranked (and here would have taken the first 示范 place).
    amateur = ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 75, 60])
    district = PartySchoolFactory(organization=world.orgs["C1"], name="滨江区委党校", level=SchoolLevel.DISTRICT)
    SchoolEvaluation.objects.create(school=district, year=YEAR, composite=Decimal("99"))
    area = PartySchoolFactory(organization=world.orgs["C1"], name="滨江片区业余党校", level=SchoolLevel.AREA_AMATEUR)
    SchoolEvaluation.objects.create(school=area, year=YEAR, composite=Decimal("50"))
    for ranking in (school_ranking(SYSTEM, YEAR), school_ranking(SYSTEM, YEAR, org=world.orgs["C1"])):
        assert [r.school for r in ranking.rows] == [*amateur, area]
        assert [r.rank for r in ranking.rows] == [1, 2, 3, 4, 5, 6]
        assert [e.school for e in ranking.not_ranked] == [district]
        assert "滨江区委党校（区委党校等）不参加排名" in ranking.not_ranked_message
    only_district = school_ranking(SYSTEM, YEAR, org=world.orgs["R"])
    assert district not in [r.school for r in only_district.rows]


def test_the_ranking_page_and_command_leave_the_district_school_out(world):
    import io

    from django.core.management import call_command

    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 75, 60])
    district = PartySchoolFactory(organization=world.orgs["C1"], name="滨江区委党校", level=SchoolLevel.DISTRICT)
    SchoolEvaluation.objects.create(school=district, year=YEAR, composite=Decimal("99"))
    out, err = io.StringIO(), io.StringIO()
    call_command("rank_schools", "--year", str(YEAR), "--format", "csv", stdout=out, stderr=err)
    assert district.code not in out.getvalue() and len(out.getvalue().splitlines()) == 6
    assert "滨江区委党校" in err.getvalue()
    page = world.client(Role.COMMITTEE).get("/schools/evaluation/ranking/", {"year": YEAR, "org": "BJ01"})
    assert [r["row"].school.name for r in page.context["rows"]].count("滨江区委党校") == 0
    assert "不参加排名" in page.content.decode()


# ---------------------------------------------------------------------------------------------------------
# The gate: no class, or 六有 not met → not 示范 / 优秀


def test_a_school_that_ran_no_class_cannot_be_demonstration(world):
    # Before: schools that ran no class in the year were 示范 on their entered scores alone.
    idle = ranked_schools(world.orgs["A"], YEAR, [99], names=["空转党校"], active=False)[0]
    active_year([idle], YEAR, classes=False)  # its 六有 is met, but it held no class
    others = ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 75, 70, 60], names=list("甲乙丙丁戊己"))
    ranking = school_ranking(SYSTEM, YEAR)
    rows = {r.school.name: r for r in ranking.rows}
    assert (rows["空转党校"].rank, rows["空转党校"].grade) == (1, Q)
    assert rows["空转党校"].barred == "当年未办班"
    # The honours go, in order, to the schools that may hold them.
    assert [rows[n].grade for n in "甲乙丙丁戊己"] == [D, D, D, E, Q, U]
    assert len(others) == 6
    assert "当年未办班" in ranking.rule_statement


def test_a_school_failing_its_liuyou_checklist_cannot_be_excellent(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 75, 60], names=list("甲乙丙丁戊己"))
    StandardCheck.objects.filter(school=schools[3], year=YEAR).first().delete()  # one item unchecked: not met
    rows = {r.school.name: r for r in school_ranking(SYSTEM, YEAR).rows}
    assert rows["丁"].barred.startswith("“六有”未全部达标（5/6项）")
    assert [rows[n].grade for n in "甲乙丙丁戊己"] == [D, D, D, Q, E, U]


def test_a_barred_school_can_still_be_the_unqualified_one(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 80, 60], active=False)
    active_year(schools[:4], YEAR)
    assert [r.grade for r in school_ranking(SYSTEM, YEAR).rows] == [D, D, D, E, U]


def test_the_gate_is_on_by_default_and_can_be_switched_off(world):
    assert RankingRule().honours_need_activity is True
    RankingRuleFactory(owner=world.orgs["C1"], honours_need_activity=False)
    ranked_schools(world.orgs["A"], YEAR, [99], names=["空转党校"], active=False)
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 60])
    ranking = school_ranking(SYSTEM, YEAR, org=world.orgs["C1"])
    assert [r.grade for r in ranking.rows] == [D, D, D, E, U]
    assert "当年未办班" not in ranking.rule_statement


# ---------------------------------------------------------------------------------------------------------
# The records score (台账) from the system's data


def test_the_records_formula():
    indicator = EvaluationIndicator(max_score=Decimal("100"), weight=Decimal("20"), kind="records_check")
    # 0.4 × 2/4 + 0.3 × 60/100 + 0.3 × 3/6 = 0.2 + 0.18 + 0.15 = 0.53
    basis = RecordsBasis(
        planned_classes=4, held_classes=2, planned_person_times=100, person_times=60, liuyou_met=3, liuyou_total=6
    )
    assert records_score(basis, indicator) == Decimal("53.00")
    assert records_score(basis, indicator, Decimal("90")) == Decimal("63.00")  # at most +10
    assert records_score(basis, indicator, Decimal("50")) == Decimal("50.00")  # within the adjustment
    assert records_score(basis, indicator, Decimal("0")) == Decimal("43.00")  # at most −10
    over = RecordsBasis(
        planned_classes=2, held_classes=9, planned_person_times=10, person_times=500, liuyou_met=6, liuyou_total=6
    )
    assert records_score(over, indicator) == Decimal("100.00")  # more than planned counts as 100%
    assert records_score(RecordsBasis(liuyou_total=6), indicator, Decimal("100")) == Decimal("10.00")  # no plan


def test_the_records_basis_reads_the_plan_the_delivery_and_the_checklist(world):
    school = PartySchoolFactory(organization=world.orgs["A"])
    SchoolAnnualPlan.objects.create(school=school, year=YEAR, planned_classes=4, planned_trainees=100)
    for month in (3, 5):
        starts = timezone.make_aware(dt.datetime(YEAR, month, 10, 9))
        BookingRequestFactory(
            school=school,
            status="completed",
            headcount=30,
            wanted_from=dt.date(YEAR, month, 1),
            wanted_to=dt.date(YEAR, month, 20),
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=3),
        )
    items = list(StandardItem.objects.filter(scheme="huangpi", active=True))
    for item in items[:3]:
        StandardCheck.objects.create(school=school, year=YEAR, item=item, met=True)
    StandardCheck.objects.create(school=school, year=YEAR, item=items[3], met=False)
    basis = records_bases([school.pk], YEAR)[school.pk]
    assert basis == RecordsBasis(
        planned_classes=4, held_classes=2, planned_person_times=100, person_times=60, liuyou_met=3, liuyou_total=6
    )
    assert basis.barred_reason == "“六有”未全部达标（3/6项）"


def full_scores(records: str) -> dict:
    values = {i.code: Decimal("10") for i in EvaluationIndicator.objects.filter(kind="standard")}
    values.update(field_check=Decimal("80"), records_check=Decimal(records), trainee_rating=Decimal("75"))
    return {i: values[i.code] for i in EvaluationIndicator.objects.filter(active=True)}


@pytest.mark.parametrize(("active", "composite"), [(True, "87.00"), (False, "71.00")], ids=["delivered", "did-nothing"])
def test_the_entered_records_score_is_at_most_an_adjustment(world, active, composite):
    # Before: the entered 90 counted in full whatever the school did (87.00 either way).
    school = PartySchoolFactory(organization=world.orgs["A"])
    if active:
        active_year([school], YEAR)  # the system's records score: 100 → 90 after the entered adjustment
    # Else the system's records score is 0 (no plan, no class, no 六有 check): the entered 90 adds at most 10.
    evaluation = evaluation_save(by=world.user(Role.COMMITTEE), school=school, year=YEAR, scores=full_scores("90"))
    assert evaluation.composite == Decimal(composite)
    page = world.client(Role.COMMITTEE).get(f"/schools/evaluation/{evaluation.pk}/")
    assert "台账得分（按系统数据计算）" in page.content.decode()
