"""Score entry (evaluation_save): the composite score and when it is incomplete, every bad input of the issue
(nothing saved), and who may enter scores."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.schools.models import EvaluationIndicator, IndicatorScore, SchoolEvaluation
from dangjian.schools.selectors.evaluation import composite_for
from dangjian.schools.services.evaluation import evaluation_save
from dangjian.schools.tests.factories import PartySchoolFactory, active_year

YEAR = timezone.localdate().year - 1


def indicators() -> dict[str, EvaluationIndicator]:
    return {i.code: i for i in EvaluationIndicator.objects.all()}


def full_scores(**overrides) -> dict:
    """Scores on every default indicator: 六有 items 10 of 10, field 80, records 90, trainee 75 (composite 87)."""
    values = {code: Decimal("10") for code in indicators() if code.startswith("liuyou_")}
    values.update(field_check=Decimal("80"), records_check=Decimal("90"), trainee_rating=Decimal("75"))
    values.update(overrides)
    by_code = indicators()
    return {by_code[code]: value for code, value in values.items()}


@pytest.fixture
def school(world):
    """A school whose year is fully delivered (its records score from the system's data is the full 100)."""
    school = PartySchoolFactory(organization=world.orgs["A"], name="晨曦业余党校")
    active_year([school], YEAR)
    return school


def save(world, school, scores, *, role=Role.SCHOOL_ADMIN, year=YEAR, note=""):
    return evaluation_save(by=world.user(role), school=school, year=year, scores=scores, note=note)


def test_the_composite_is_the_weighted_sum_of_the_active_indicators(world, school):
    evaluation = save(world, school, full_scores(), note="年底结合党建考核评定")
    # 6 × 10/10 × 5 + 80/100 × 30 + 90/100 × 20 + 75/100 × 20 = 30 + 24 + 18 + 15 (records: the system's 100,
    # adjusted by the entered 90: −10 at most)
    assert evaluation.composite == Decimal("87.00")
    assert evaluation.scores.count() == 9
    assert evaluation.entered_by == world.user(Role.SCHOOL_ADMIN)
    assert evaluation.history.latest().history_user == world.user(Role.SCHOOL_ADMIN)


def test_the_composite_is_rounded_half_up_to_two_decimals(world, school):
    # 30 + 0.15/100 × 30 + 90/100 × 20 = 48.045 → 48.05 (half-up; half-even would give 48.04); the entered records
    # score 0 only takes 10 off the system's 100
    evaluation = save(
        world, school, full_scores(field_check=Decimal("0.15"), records_check=Decimal(0), trainee_rating=Decimal(0))
    )
    assert evaluation.composite == Decimal("48.05")


def test_an_indicator_without_a_score_leaves_the_composite_empty(world, school):
    scores = full_scores()
    trainee = indicators()["trainee_rating"]
    del scores[trainee]
    evaluation = save(world, school, scores)
    assert evaluation.composite is None
    evaluation = save(world, school, {trainee.pk: Decimal("75")})  # by id; the other scores are kept
    assert evaluation.composite == Decimal("87.00")
    evaluation = save(world, school, {trainee: None})  # clearing a score makes it incomplete again
    assert evaluation.composite is None
    assert not evaluation.scores.filter(indicator=trainee).exists()
    assert SchoolEvaluation.objects.filter(school=school, year=YEAR).count() == 1


def test_an_inactive_indicator_does_not_count(world, school):
    trainee = indicators()["trainee_rating"]
    scores = full_scores()
    del scores[trainee]
    trainee.active = False
    trainee.save()
    assert save(world, school, scores).composite == Decimal("72.00")
    with pytest.raises(ValidationError) as exc:
        save(world, school, {trainee: Decimal("50")})
    assert exc.value.message_dict == {"trainee_rating": ["学员评价：该指标已停用，不能录入得分。"]}


def test_composite_for_needs_every_active_indicator():
    field_check = EvaluationIndicator(pk=1, max_score=Decimal(100), weight=Decimal(30), active=True)
    records = EvaluationIndicator(pk=2, max_score=Decimal(50), weight=Decimal(20), active=True)
    off = EvaluationIndicator(pk=3, max_score=Decimal(10), weight=Decimal(50), active=False)
    assert composite_for({1: Decimal(50), 2: Decimal(25)}, [field_check, records, off]) == Decimal("25.00")
    assert composite_for({1: Decimal(50)}, [field_check, records, off]) is None


BAD_SCORES = {
    "field-above-max": ("field_check", "101", "实地检查：得分应在0到100之间。"),
    "negative": ("records_check", "-1", "台账检查：得分应在0到100之间。"),
    "liuyou-above-its-max-10": ("liuyou_venue", "10.5", "有适宜场所：得分应在0到10之间。"),
    "three-decimals": ("trainee_rating", "75.125", "学员评价：得分最多保留两位小数。"),
    "not-a-number": ("field_check", "八十", "实地检查：得分须为数字。"),
    "infinite": ("field_check", "Infinity", "实地检查：得分应在0到100之间。"),
}


@pytest.mark.parametrize(("code", "value", "message"), BAD_SCORES.values(), ids=BAD_SCORES.keys())
def test_a_score_out_of_range_names_the_indicator_and_saves_nothing(world, school, code, value, message):
    with pytest.raises(ValidationError) as exc:
        save(world, school, full_scores(**{code: value}))
    assert exc.value.message_dict == {code: [message]}
    assert not SchoolEvaluation.objects.filter(school=school).exists()


def test_a_bad_score_in_a_correction_keeps_the_earlier_scores(world, school):
    evaluation = save(world, school, full_scores())
    with pytest.raises(ValidationError):
        save(world, school, full_scores(records_check=Decimal("60"), field_check=Decimal("120")), note="改")
    evaluation.refresh_from_db()
    assert evaluation.composite == Decimal("87.00")
    assert evaluation.note == ""
    assert evaluation.scores.get(indicator__code="records_check").score == Decimal("90")


@pytest.mark.parametrize(
    ("year", "message"),
    [(timezone.localdate().year + 1, "考评年度不能晚于今年。"), (1999, "考评年度不能早于2000年。"), ("明年", None)],
    ids=["future", "too-early", "not-a-year"],
)
def test_a_bad_year_is_refused(world, school, year, message):
    with pytest.raises(ValidationError) as exc:
        save(world, school, full_scores(), year=year)
    assert "year" in exc.value.message_dict
    if message:
        assert exc.value.message_dict["year"] == [message]
    assert not SchoolEvaluation.objects.exists()


def test_an_unknown_indicator_is_refused(world, school):
    with pytest.raises(ValidationError) as exc:
        save(world, school, {10**8: Decimal("1")})
    assert exc.value.message_dict == {"scores": ["考评指标不存在。"]}
    assert not SchoolEvaluation.objects.exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_only_a_manager_of_the_school_enters_scores(world, school, role):
    with pytest.raises(PermissionDenied):
        save(world, school, full_scores(), role=role)
    assert not SchoolEvaluation.objects.exists()
    assert not IndicatorScore.objects.exists()


def test_a_manager_elsewhere_may_not_enter_scores(world):
    outside = PartySchoolFactory(organization=world.orgs["XB"])
    with pytest.raises(PermissionDenied):
        save(world, outside, full_scores(), role=Role.COMMITTEE)
    assert not SchoolEvaluation.objects.exists()
