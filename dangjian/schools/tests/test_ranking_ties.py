"""Ties in the annual ranking: equal composites share a place (1, 2, 2, 4); where a grade boundary (the quota of
示范 / 优秀, or the 不合格 place) falls inside a tie, nothing orders the tied schools — not a single score, never
the school code — the ranking says so, cannot be published, and the work committee decides each school's grade
with its reason (`tie_decide`, a TieDecision per school and year, kept by the history)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.schools.models import Grade, SchoolRanking, TieDecision
from dangjian.schools.selectors.evaluation import school_ranking
from dangjian.schools.services.evaluation import ranking_publish, tie_decide
from dangjian.schools.tests.factories import ranked_schools

YEAR = timezone.localdate().year - 1
D, E, Q, U = Grade.DEMONSTRATION, Grade.EXCELLENT, Grade.QUALIFIED, Grade.UNQUALIFIED
SYSTEM = Access.system_access()


def rows_by_name(ranking) -> dict:
    return {r.school.name: r for r in ranking.rows}


def test_equal_composites_share_a_place(world):
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 90, 80, 80, 80, 70], names=list("甲乙丙丁戊己庚"))
    ranking = school_ranking(SYSTEM, YEAR)
    assert [r.rank for r in ranking.rows] == [1, 2, 2, 4, 4, 4, 7]


# (n, tied composites at places p and p+1, the grades on either side)
BOUNDARIES = {
    "demonstration|excellent": (5, 3, D, E),
    "excellent|unqualified": (5, 4, E, U),
    "excellent|qualified": (20, 5, E, Q),
    "qualified|unqualified": (20, 19, Q, U),
}


@pytest.mark.parametrize(("n", "position", "upper", "lower"), BOUNDARIES.values(), ids=BOUNDARIES.keys())
@pytest.mark.parametrize("field_first", [True, False], ids=["better-field-check-first", "better-field-check-second"])
def test_a_boundary_inside_a_tie_is_left_to_the_committee(world, n, position, upper, lower, field_first):
    # Before: the tie was broken by the field check, the records check, and finally the school code.
    composites = [Decimal(100 - i) for i in range(n)]
    composites[position] = composites[position - 1]
    field = list(composites)
    field[position - 1], field[position] = (Decimal(90), Decimal(60)) if field_first else (Decimal(60), Decimal(90))
    names = [f"并列测试党校{i:02d}" for i in range(n)]
    schools = ranked_schools(world.orgs["A"], YEAR, composites, field=field, names=names)
    first, second = schools[position - 1], schools[position]
    ranking = school_ranking(SYSTEM, YEAR)
    rows = {r.school.pk: r for r in ranking.rows}
    for row, other in ((rows[first.pk], second), (rows[second.pk], first)):
        assert row.rank == position
        assert row.pending and row.contested == (upper, lower)
        assert row.grade_label == f"待定（{Grade(upper).label}/{Grade(lower).label}）"
        assert row.subsidy == 0
        assert row.tie_note == (
            f"与{other.name}并列第{position}名，{Grade(upper).label}/{Grade(lower).label}分界落在并列之间"
            f"（{Grade(upper).label}1所，{Grade(lower).label}1所），待工委会议决定"
        )
    assert {pk for pk, r in rows.items() if r.tie_note} == {first.pk, second.pk}
    assert "须由工委会议决定" in ranking.undecided_message
    assert "不按任何单项得分或学校编码排序" in ranking.tie_break_statement


def test_a_tie_inside_a_grade_shares_the_place_and_needs_no_decision(world):
    ranked_schools(world.orgs["A"], YEAR, [95, 95, 90, 80, 70], names=list("甲乙丙丁戊"))
    ranking = school_ranking(SYSTEM, YEAR)
    assert [(r.rank, r.grade) for r in ranking.rows] == [(1, D), (1, D), (3, D), (4, E), (5, U)]
    assert not any(r.tie_note or r.pending for r in ranking.rows)
    assert ranking.undecided_message == ""


def test_a_three_way_tie_across_two_boundaries_contests_every_school(world):
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 80, 80, 80], names=["一校", "二校", "三校", "四校", "五校"])
    rows = rows_by_name(school_ranking(SYSTEM, YEAR))
    for name in ("三校", "四校", "五校"):
        assert rows[name].rank == 3 and rows[name].pending and rows[name].contested == (D, E, U)
    assert rows["三校"].tie_note.startswith(
        "与五校、四校并列第3名，示范/优秀/不合格分界落在并列之间（示范1所，优秀1所，不合格1所）"
    )
    assert (rows["一校"].grade, rows["二校"].grade) == (D, D)


@pytest.fixture
def tie(world):
    """Five schools; the 3rd and 4th tie on 85 across the 示范/优秀 boundary."""
    return ranked_schools(world.orgs["A"], YEAR, [95, 90, 85, 85, 70], names=["东校", "西校", "南校", "北校", "中校"])


def decide(world, school, grade, reason="经工委会议研究决定", role=Role.COMMITTEE, org="C1"):
    return tie_decide(by=world.user(role), org=world.orgs[org], year=YEAR, school=school, grade=grade, reason=reason)


def test_publishing_is_refused_while_a_boundary_tie_is_undecided(world, tie):
    with pytest.raises(ValidationError) as exc:
        ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], year=YEAR)
    assert exc.value.message_dict["year"] == [
        "第3名北校、南校（综合得分85.00）并列于示范/优秀分界：须由工委会议决定各校等次并记录理由后才能发布。"
    ]
    assert not SchoolRanking.objects.exists()


def test_the_committee_decides_a_tie_and_the_ranking_follows(world, tie):
    south, north = tie[2], tie[3]
    decide(world, north, D, reason="北校办班质量更高（2025年12月工委会议）")
    ranking = school_ranking(SYSTEM, YEAR)
    assert all(r.pending for r in ranking.rows if r.school in (south, north))  # one decision is not enough
    decision = decide(world, south, E, reason="南校台账不够完整（2025年12月工委会议）")
    assert decision.decided_by == world.user(Role.COMMITTEE) and decision.scope == world.orgs["C1"]
    assert decision.history.latest().history_user == world.user(Role.COMMITTEE)
    rows = rows_by_name(school_ranking(SYSTEM, YEAR))
    assert (rows["北校"].rank, rows["北校"].grade, rows["北校"].subsidy) == (3, D, Decimal("20000"))
    assert (rows["南校"].rank, rows["南校"].grade, rows["南校"].subsidy) == (3, E, Decimal("10000"))
    assert (
        rows["南校"].tie_note
        == "与北校并列第3名（示范/优秀分界），等次由工委会议决定：南校台账不够完整（2025年12月工委会议）"
    )
    published = ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], year=YEAR)
    assert [(p.school.name, p.rank, p.grade) for p in published] == [
        ("东校", 1, D),
        ("西校", 2, D),
        ("北校", 3, D),
        ("南校", 3, E),
        ("中校", 5, U),
    ]
    # A correction is kept in the history; decisions that no longer hand out the tie's grades leave it pending.
    decide(world, south, D, reason="复议")
    assert TieDecision.objects.get(school=south).history.count() == 2
    assert rows_by_name(school_ranking(SYSTEM, YEAR))["南校"].pending


BAD_DECISIONS = {
    "no-reason": ({"reason": "  "}, "reason", "请填写决定理由（工委会议的决定及依据）。"),
    "long-reason": ({"reason": "理" * 301}, "reason", "决定理由不能超过300字。"),
    "unknown-grade": ({"grade": "gold"}, "grade", "请选择等次（示范、优秀、合格或不合格）。"),
    "grade-not-open": ({"grade": Grade.UNQUALIFIED}, "grade", "该并列只能在示范、优秀之间决定等次。"),
    "not-in-a-tie": (
        {"school": 0},
        "school",
        "“东校”在{year}年度“滨江一中党委”排名中不处于等次分界处的并列，无需决定。",
    ),
    "bad-year": ({"year": "去年"}, "year", "请填写正确的考评年度（四位数字年份）。"),
}


@pytest.mark.parametrize(("overrides", "key", "message"), BAD_DECISIONS.values(), ids=BAD_DECISIONS.keys())
def test_a_bad_decision_names_the_field_and_saves_nothing(world, tie, overrides, key, message):
    args = {"grade": D, "reason": "经工委会议研究决定", "school": tie[2], "year": YEAR}
    args.update(overrides)
    if args["school"] == 0:
        args["school"] = tie[0]
    with pytest.raises(ValidationError) as exc:
        tie_decide(by=world.user(Role.COMMITTEE), org=world.orgs["C1"], **args)
    assert exc.value.message_dict[key] == [message.format(year=YEAR)]
    assert not TieDecision.objects.exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_only_a_manager_of_the_scope_decides(world, tie, role):
    with pytest.raises(PermissionDenied):
        decide(world, tie[2], D, role=role)
    assert not TieDecision.objects.exists()


def test_a_tie_at_the_bottom_between_a_barred_and_an_eligible_school_is_the_committees(world):
    # The honours pass down to the only eligible school, which ties with a barred one on the last place: who is
    # 不合格 is not for the order of their names to say.
    ranked_schools(world.orgs["A"], YEAR, [95, 90, 85], active=False, names=["一校", "二校", "三校"])
    eligible = ranked_schools(world.orgs["A"], YEAR, [60], names=["A校"])[0]
    barred = ranked_schools(world.orgs["A"], YEAR, [60], names=["B校"], active=False)[0]
    rows = rows_by_name(school_ranking(SYSTEM, YEAR))
    assert rows["A校"].pending and rows["B校"].pending
    assert rows["A校"].contested == (D, U)
    with pytest.raises(ValidationError) as exc:
        decide(world, barred, D)
    assert exc.value.message_dict["grade"][0].startswith("“B校”当年未办班")
    decide(world, eligible, D)
    decide(world, barred, U)
    rows = rows_by_name(school_ranking(SYSTEM, YEAR))
    assert (rows["A校"].grade, rows["B校"].grade) == (D, U)
