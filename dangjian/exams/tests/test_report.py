"""exam_report and the competence test's standing: the exact CSV, --as scoping, a closed year's figures, the to-do
items of the secretary and the committee."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.exams.models import Attempt, AttemptStatus, PaperKind
from dangjian.exams.tests.factories import PaperFactory, assign
from dangjian.exams.todo import competence as competence_todo
from dangjian.members.tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

LAST_YEAR = timezone.localdate().year - 1


def at(year, month, day, hour=10):
    return timezone.make_aware(dt.datetime(year, month, day, hour))


def sat(assignment, *, when, score, number=1):
    return Attempt.objects.create(
        assignment=assignment,
        number=number,
        seed=1,
        started_at=when,
        deadline=when + dt.timedelta(minutes=30),
        submitted_at=when + dt.timedelta(minutes=20),
        status=AttemptStatus.SUBMITTED,
        sheet=[],
        score=Decimal(score),
        passed=Decimal(score) >= 60,
    )


@pytest.fixture
def last_years_test(world):
    """Last year's competence test at the committee C1: A's two members (one passed, one failed), B's one member
    (never sat it)."""
    paper = PaperFactory(
        organization=world.orgs["C1"],
        kind=PaperKind.COMPETENCE,
        year=LAST_YEAR,
        opens_at=at(LAST_YEAR, 11, 1),
        closes_at=at(LAST_YEAR, 11, 30),
    )
    a1, a2 = world.members["A"]
    b1 = world.members["B"][0]
    rows = {m: assign(paper, m, assigned_on=dt.date(LAST_YEAR, 10, 1)) for m in (a1, a2, b1)}
    sat(rows[a1], when=at(LAST_YEAR, 11, 5), score="85")
    sat(rows[a2], when=at(LAST_YEAR, 11, 6), score="40")
    return paper


def report(*args) -> str:
    out = io.StringIO()
    call_command("exam_report", *args, stdout=out)
    return out.getvalue()


def test_the_csv_has_the_exact_header_and_figures(last_years_test, world):
    text = report("--org", "BJ01", "--year", str(LAST_YEAR), "--format", "csv")
    assert text.splitlines() == [
        "党组织编码,党组织名称,应考人数,已考人数,通过人数,通过率",
        "BJ01,滨江一中党委,3,2,1,33.3",
        "BJ01A,高一年级党支部,2,2,1,50.0",
        "BJ01B,高二年级党支部,1,0,0,0.0",
    ]
    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.object_repr == "考试情况" or "考试情况" in str(event.detail)


def test_as_a_secretary_the_report_is_scoped(last_years_test, world):
    text = report(
        "--org", "BJ01A", "--year", str(LAST_YEAR), "--format", "csv", "--as", world.user(Role.SECRETARY).username
    )
    assert text.splitlines()[1] == "BJ01A,高一年级党支部,2,2,1,50.0"
    with pytest.raises(CommandError, match="不在您的管理范围内"):
        report("--org", "BJ01B", "--year", str(LAST_YEAR), "--as", world.user(Role.SECRETARY).username)


@pytest.mark.parametrize(
    ("args", "words"),
    [(["--org", "BJ01", "--year", "1999"], "年度应为"), (["--org", "NOPE", "--year", "2025"], "找不到党组织编码")],
    ids=["year", "org"],
)
def test_bad_arguments_are_refused(world, args, words):
    with pytest.raises(CommandError, match=words):
        report(*args)


def test_a_closed_years_figures_never_change(last_years_test, world):
    before = report("--org", "BJ01", "--year", str(LAST_YEAR), "--format", "csv")
    # This year the failed member passes a make-up, and a new member is assigned: last year's report is unchanged.
    makeup = PaperFactory(
        organization=world.orgs["C1"],
        kind=PaperKind.COMPETENCE,
        year=LAST_YEAR,
        makeup_of=last_years_test,
        opens_at=at(LAST_YEAR + 1, 1, 5),
        closes_at=at(LAST_YEAR + 1, 1, 20),
    )
    sat(assign(makeup, world.members["A"][1]), when=at(LAST_YEAR + 1, 1, 6), score="90")
    assign(last_years_test, MemberFactory(organization=world.orgs["A"]))
    assert report("--org", "BJ01", "--year", str(LAST_YEAR), "--format", "csv") == before


def test_who_has_not_passed_is_on_the_to_do_lists(world):
    year = timezone.localdate().year
    leader = MemberFactory(organization=world.orgs["A"], name="冯甲班子", is_leadership=True)
    today = timezone.localdate()
    items = competence_todo(user=world.user(Role.SECRETARY), today=today)
    assert [i.title for i in items] == [f"冯甲班子尚未通过{year}年度履职能力测试"]
    (rollup,) = competence_todo(user=world.user(Role.COMMITTEE), today=today)
    assert "1名应测人员" in rollup.title
    # Once passed, off both lists.
    paper = PaperFactory(organization=world.orgs["C1"], kind=PaperKind.COMPETENCE, year=year)
    sat(assign(paper, leader), when=timezone.now() - dt.timedelta(hours=1), score="75")
    assert competence_todo(user=world.user(Role.SECRETARY), today=today) == []
    assert competence_todo(user=world.user(Role.COMMITTEE), today=today) == []
    # Nobody else's items reach a member or the other branch's instructor.
    assert competence_todo(user=world.user(Role.MEMBER), today=today) == []
