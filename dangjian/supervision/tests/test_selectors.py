"""The read side: coverage rates and the uncovered lists, visit completeness and missing visits, the instructor's
year summary, the points ranking and red list, the to-do items, and the institution_points command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dangjian.members.tests.factories import MemberFactory
from dangjian.supervision.models import ApprovalStatus, ClueStatus, PointRule, RedListPolicy
from dangjian.supervision.selectors.coverage import coverage
from dangjian.supervision.selectors.points import points_ranking
from dangjian.supervision.selectors.todo import supervision_todo_items
from dangjian.supervision.selectors.visits import instructor_year_summary, visit_completeness, visits_missing
from dangjian.supervision.services.clues import clue_pass, clue_update_status
from dangjian.supervision.services.institutions import institution_update
from dangjian.supervision.services.instructors import instructor_dismiss
from dangjian.supervision.services.points import point_event_record, red_list_request
from dangjian.supervision.tests.conftest import TODAY
from dangjian.supervision.tests.factories import SYSTEM, assign, clue, institution, instructor, visit

pytestmark = pytest.mark.django_db


def _score(inst, *codes, date=dt.date(2024, 2, 1)):
    for code in codes:
        point_event_record(by=SYSTEM, institution=inst, rule=PointRule.objects.get(code=code), date=date)


# ---------------------------------------------------------------------------------------------------------
# Coverage (两个全覆盖)


def test_coverage_rates_per_child_and_area_with_the_uncovered_lists(district):
    a = institution(district.j1, name="甲", area="城东")
    b = institution(district.j1, name="乙", area="城东")
    c = institution(district.j2, name="丙", area="城西")
    institution(district.p, covered=False, name="丁", area="城西")  # managed, no organization
    institution(district.p, covered=False, name="戊", approval_status=ApprovalStatus.PREPARING, approved_on=None)
    institution(district.x, name="外区机构")
    appointment = instructor(district.r)
    for inst in (a, c):
        assign(inst, appointment, dt.date(2024, 1, 1))
    ended = instructor(district.r)
    assign(b, ended, dt.date(2024, 1, 1))
    instructor_dismiss(by=SYSTEM, appointment=ended, end_on=dt.date(2024, 5, 31))

    report = coverage(by=district.committee, root=district.r, today=TODAY)
    assert (report.total.total, report.total.org_covered, report.total.work_covered) == (4, 3, 2)
    assert (str(report.total.org_rate), str(report.total.work_rate)) == ("75.0", "50.0")
    assert [i.name for i in report.org_uncovered] == ["丁"]
    assert [i.name for i in report.work_uncovered] == ["丁", "乙"]
    assert [(r.label, r.total) for r in report.by_child] == [("民办教育机构党委", 4)]
    areas = {r.label: (r.total, r.org_covered, r.work_covered) for r in report.by_area}
    assert areas == {"城东": (2, 2, 1), "城西": (2, 1, 1)}

    under_p = coverage(by=district.committee, root=district.p, today=TODAY)
    assert [(r.label, r.total) for r in under_p.by_child] == [
        ("城东联合党支部", 2),
        ("城西联合党支部", 1),
        ("（本级）", 1),
    ]
    west = coverage(by=district.committee, root=district.r, area="城西", today=TODAY)
    assert west.total.total == 2 and str(west.total.org_rate) == "50.0"
    assert coverage(by=district.outsider, root=None, today=TODAY).total.total == 1


def test_an_instructor_sees_their_assigned_institutions(district):
    a = institution(district.j1)
    institution(district.j2)
    appointment = instructor(district.r)
    assign(a, appointment, dt.date(2024, 1, 1))
    report = coverage(by=appointment.user, today=TODAY)
    assert report.total.total == 1


# ---------------------------------------------------------------------------------------------------------
# Visits per month


def test_visit_completeness_per_month_and_missing_visits(district):
    inst = institution(district.j1, name="甲")
    other = institution(district.j1, name="乙")
    appointment = instructor(district.r)
    assign(inst, appointment, dt.date(2024, 2, 15))
    assign(other, appointment, dt.date(2024, 1, 1))
    visit(inst, dt.date(2024, 2, 20), today=TODAY)
    visit(inst, dt.date(2024, 2, 25), is_supplement=True, today=TODAY)
    visit(inst, dt.date(2024, 4, 2), today=TODAY)
    months = visit_completeness(institution=inst, year=2024, today=TODAY)
    assert [m.status for m in months] == ["未派驻", "已走访", "未走访", "已走访", "未走访", "未走访"]
    assert months[1].supplements == 1
    march = visits_missing(by=district.committee, month=dt.date(2024, 3, 1), today=TODAY)
    assert {m.institution_name for m in march} == {"甲", "乙"} and all(m.overdue for m in march)
    april = visits_missing(by=district.committee, month=dt.date(2024, 4, 1), today=TODAY)
    assert [m.institution_name for m in april] == ["乙"]
    june = visits_missing(by=appointment.user, month=dt.date(2024, 6, 1), today=TODAY)
    assert len(june) == 2 and not any(m.overdue for m in june)
    assert visits_missing(by=district.outsider, month=dt.date(2024, 3, 1), today=TODAY) == []


def test_instructor_year_summary_reports_the_yiyang_figures(district):
    inst = institution(district.j1)
    appointment = instructor(district.r)
    assign(inst, appointment, dt.date(2024, 1, 1))
    visit(inst, dt.date(2024, 1, 5), is_case_law_session=True, today=TODAY, clue_description="无证办学")
    visit(inst, dt.date(2024, 2, 5), party_lecture=False, today=TODAY)
    visit(inst, dt.date(2024, 2, 9), is_supplement=True, is_case_law_session=True, today=TODAY)
    found = appointment.clues.get()
    clue_pass(by=SYSTEM, clue=found, department="执法大队", date=dt.date(2024, 1, 6), today=TODAY)
    clue_update_status(
        by=SYSTEM, clue=found, status=ClueStatus.INVESTIGATING, date=dt.date(2024, 1, 7), took_part=True, today=TODAY
    )
    summary = instructor_year_summary(by=district.committee, year=2024, instructor=appointment)
    assert (summary.visits, summary.regular_visits, summary.supplements) == (3, 2, 1)
    assert (summary.case_law_sessions, summary.four_items_complete) == (2, 2)
    assert (summary.clues, summary.clues_passed, summary.enforcement_actions, summary.institutions) == (1, 1, 1, 1)
    assert instructor_year_summary(by=district.outsider, year=2024).visits == 0


# ---------------------------------------------------------------------------------------------------------
# Ranking and red list


def test_ranking_ties_share_a_rank_and_the_red_list_excludes_open_violations(district):
    RedListPolicy.objects.update(top_percent=None, top_n=2)
    a = institution(district.j1, name="甲")
    b = institution(district.j1, name="乙")
    c = institution(district.j2, name="丙")
    d = institution(district.j2, name="丁")
    _score(a, "PB01")  # 10
    _score(b, "PB02", "PB02")  # 10
    _score(c, "PB01", "SA02")  # 5
    _score(d, "PB03", date=dt.date(2023, 5, 1))  # another year
    clue(b)
    ranking = points_ranking(by=district.committee, year=2024, root=district.r)
    assert [(r.name, r.points, r.rank) for r in ranking.rows] == [
        ("乙", 10, 1),
        ("甲", 10, 1),
        ("丙", 5, 3),
        ("丁", 0, 4),
    ]
    assert ranking.quota == 2
    assert [r.name for r in ranking.red_list] == ["甲"]  # 乙 has an open clue and does not pass its place on


def test_red_list_quota_by_percent_rounds_up_and_needs_minimum_points(district):
    for i in range(11):
        inst = institution(district.j1, name=f"机构{i:02d}")
        if i < 2:
            _score(inst, "PB01")
    ranking = points_ranking(by=district.committee, year=2024)
    assert ranking.quota == 2  # 10% of 11, rounded up
    assert [r.name for r in ranking.red_list] == ["机构00", "机构01"]
    RedListPolicy.objects.update(top_percent=50)
    assert len(points_ranking(by=district.committee, year=2024).red_list) == 2  # the others have 0 points


def test_a_more_specific_policy_wins(district):
    RedListPolicy.objects.create(owner=district.p, top_n=1, valid_from=2024)
    for name in ("甲", "乙"):
        _score(institution(district.j1, name=name), "PB01")
    assert points_ranking(by=district.committee, year=2024, root=district.p).quota == 1
    assert points_ranking(by=district.committee, year=2024, root=district.r).policy.owner is None


# ---------------------------------------------------------------------------------------------------------
# To-do items


def test_todo_items_for_the_committee_and_the_instructor(district):
    with_members = institution(district.p, covered=False, name="有党员机构")
    MemberFactory(organization=district.p, unit=with_members.unit)
    institution(district.p, covered=False, name="新审批机构", approved_on=dt.date(2024, 5, 1))
    assigned = institution(district.j1, name="已派驻机构", last_inspection_on=dt.date(2024, 3, 1))
    appointment = instructor(district.r)
    assign(assigned, appointment, dt.date(2024, 1, 1))
    visit(assigned, dt.date(2024, 5, 3), today=TODAY)

    items = supervision_todo_items(user=district.committee, today=TODAY)
    keys = {item["key"] for item in items}
    assert f"institution-org:{with_members.pk}" in keys
    titles = " ".join(item["title"] for item in items)
    assert "有1名党员" in titles and "新审批机构 已审批" in titles
    assert f"institution-instructor:{with_members.pk}" in keys
    assert "visits-missing" not in keys  # May was visited
    assert set(items[0]) == {"kind", "title", "url", "key", "period", "since", "overdue", "due"}

    mine = supervision_todo_items(user=appointment.user, today=TODAY)
    assert [(i["key"], i["period"], i["overdue"]) for i in mine] == [(f"visit:{assigned.pk}", "2024-06", False)]
    assert supervision_todo_items(user=district.outsider, today=TODAY) == []
    july = supervision_todo_items(user=appointment.user, today=dt.date(2024, 7, 2))
    assert [(i["period"], i["overdue"]) for i in july] == [("2024-06", True), ("2024-07", False)]
    later = supervision_todo_items(user=district.committee, today=dt.date(2024, 7, 2))
    assert any(i["key"] == "visits-missing" and i["period"] == "2024-06" for i in later)


# ---------------------------------------------------------------------------------------------------------
# The command


def _run(*args) -> str:
    out = StringIO()
    call_command("institution_points", *args, stdout=out)
    return out.getvalue()


def test_command_prints_the_ranking_as_csv(district):
    RedListPolicy.objects.update(top_percent=None, top_n=1)
    a = institution(district.j1, name="甲机构")
    b = institution(district.j2, name="乙机构")
    institution(district.x, name="外区机构")
    _score(b, "PB01")
    _score(a, "PB02")
    red_list_request(by=SYSTEM, institution=b, year=2024, today=TODAY)
    lines = _run("--year", "2024", "--org", "YY", "--format", "csv").splitlines()
    assert lines[0] == "机构名称,许可证号,积分,名次,红名单"
    assert lines[1:] == [f"乙机构,{b.licence_no},10,1,是", f"甲机构,{a.licence_no},5,2,否"]
    scoped = _run("--year", "2024", "--org", "YY-P1", "--format", "csv").splitlines()
    assert scoped[1:] == [f"甲机构,{a.licence_no},5,1,否"]  # first of its scope, but not listed
    assert len(_run("--year", "2024", "--format", "csv").splitlines()) == 4  # system: every institution
    table = _run("--year", "2024", "--org", "YY")
    assert "机构名称" in table and "乙机构" in table


def test_command_scope_with_as(district):
    institution(district.j1, name="甲机构")
    with pytest.raises(CommandError, match="不在您的管理范围内"):
        _run("--year", "2024", "--org", "YY", "--as", district.outsider.username)
    out = _run("--year", "2024", "--format", "csv", "--as", district.committee.username)
    assert "甲机构" in out


def test_command_red_list_column_is_the_published_listing_not_eligibility(district):
    """红名单 is 是 only for an institution put on that year's red list: the top scorer not (yet) listed is 否, an
    institution listed another year is 否, and a listed one is 是."""
    RedListPolicy.objects.update(top_percent=None, top_n=1)
    best = institution(district.j1, name="甲机构")
    earlier = institution(district.j1, name="乙机构")
    _score(best, "PB01")
    _score(earlier, "PB02", date=dt.date(2023, 5, 1))
    red_list_request(by=SYSTEM, institution=earlier, year=2023, today=TODAY)
    lines = _run("--year", "2024", "--format", "csv").splitlines()
    assert lines[1:] == [f"甲机构,{best.licence_no},10,1,否", f"乙机构,{earlier.licence_no},0,2,否"]
    assert _run("--year", "2023", "--format", "csv").splitlines()[1] == f"乙机构,{earlier.licence_no},5,1,是"
    red_list_request(by=SYSTEM, institution=best, year=2024, today=TODAY)
    assert _run("--year", "2024", "--format", "csv").splitlines()[1] == f"甲机构,{best.licence_no},10,1,是"


def test_an_open_clue_of_another_year_does_not_exclude_from_the_red_list(district):
    RedListPolicy.objects.update(top_percent=None, top_n=1)
    best = institution(district.j1, name="甲机构")
    _score(best, "PB01")
    clue(best, found_on=dt.date(2023, 11, 5))  # open, but of 2023
    row = points_ranking(by=district.committee, year=2024).rows[0]
    assert (row.name, row.open_violations, row.red_list) == ("甲机构", 0, True)
    red_list_request(by=district.committee, institution=best, year=2024, today=TODAY)
    assert _run("--year", "2024", "--format", "csv").splitlines()[1].endswith(",是")
    clue(best, found_on=dt.date(2024, 3, 5))  # an open clue of the year excludes it from the ranking's red list
    assert points_ranking(by=district.committee, year=2024).rows[0].red_list is False


def test_the_ranking_counts_the_institutions_in_operation_that_year(district):
    institution(district.j1, name="新机构", approved_on=dt.date(2024, 3, 1))
    closed = institution(district.j1, name="已停办机构", approved_on=dt.date(2022, 3, 1))
    institution_update(
        by=SYSTEM,
        institution=closed,
        approval_status=ApprovalStatus.SUSPENDED,
        closed_on=dt.date(2024, 2, 1),
        today=TODAY,
    )
    assert [r.name for r in points_ranking(by=district.committee, year=2023).rows] == ["已停办机构"]
    assert {r.name for r in points_ranking(by=district.committee, year=2024).rows} == {"新机构", "已停办机构"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2010"], "2010年度没有积分记录，也没有处于办学状态"),
        (["--year", "2010", "--org", "YY-P2"], "“城西联合党支部”范围内没有积分记录"),
        (["--year", "2010", "--format", "csv"], "无法排名"),
    ],
)
def test_command_year_without_data_exits_non_zero(district, args, message):
    institution(district.j1, name="甲机构")  # approved 2023: nothing in operation in 2010
    out = StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("institution_points", *args, stdout=out)
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "1999"], "年度应为"),
        (["--year", "abc"], "年度“abc”不正确"),
        ([], "请用 --year 指定年度"),
        (["--year", "2024", "--org", "NOPE"], "找不到党组织编码"),
        (["--year", "2024", "--as", "nobody"], "找不到用户"),
    ],
)
def test_command_bad_arguments(district, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)
