"""The hour requirements exactly as the documents say (docs/rules.md, "Training hours" and "How the rules combine"):
the seed rules switched on with the strictest winning, a requirement of concentrated study with online hours shown
beside it and counted only up to the cap (default 0), what each kind of hours counts as, and pro-rating by months
of time inside the party only — joining, leaving (出党, 去世, 停止党籍) — never moves between organizations. Both
paths (`requirement_for` and the SQL `RequirementPlan`) are checked for each rule.

The world (tests/scope.py): R > C1 > {A, B}, X > XB; the committee holds C1, the secretary A. Unlike
test_compliance.py, the migrations' seed rules stay as they ship here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.members.models import Member, Post, Status
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory
from dangjian.orgs.models import Organization
from dangjian.training.exports import MEMBER_DETAIL_HEADERS, member_detail_line
from dangjian.training.models import HoursKind, HoursPolicy, MemberHoursYear, ProRating
from dangjian.training.selectors import compliance as c
from dangjian.training.tests.factories import HoursPolicyFactory, credit
from dangjian.training.tests.test_compliance import moved_in

SYSTEM = Access.system_access()
YEAR = 2025
AFTER = dt.date(YEAR + 1, 1, 15)  # the year is over
D = Decimal


def on(month: int, day: int = 10) -> dt.date:
    return dt.date(YEAR, month, day)


def sql_rows(members, year=YEAR, today=AFTER) -> dict[int, tuple[Decimal, Decimal]]:
    """(required, counted) per member through the report path's SQL (`RequirementPlan.alias`, as
    `compliance_members` uses it) over the given members — whatever their status, so that members who left the
    party, whom today's reports leave out, are checked too."""
    root = Organization.objects.get(depth=1, path=members[0].organization.path[: Organization.steplen])
    plan = c.RequirementPlan(org=root, year=year, today=today)
    rows = plan.alias(Member.objects.filter(pk__in=[m.pk for m in members])).values_list(
        "pk", F("_hours_required"), F("_hours_counted")
    )
    return {pk: (required, counted) for pk, required, counted in rows}


def assert_paths_agree(members, year=YEAR, today=AFTER) -> dict[int, c.Requirement]:
    rows = sql_rows(members, year, today)
    requirements = {}
    for member in members:
        member.refresh_from_db()
        req = c.requirement_for(member, year, today=today)
        kept = MemberHoursYear.objects.filter(member=member, year=year).first()
        total, online = (kept.total, kept.online) if kept else (D("0"), D("0"))
        assert rows[member.pk] == (req.hours, c.counted_hours(total, online, req.online_cap)), req.explanation
        requirements[member.pk] = req
    return requirements


def only_rule(hours="32", **extra) -> HoursPolicy:
    """Switch the seed rules off and keep one system-wide rule (pro-rated by months unless told otherwise)."""
    HoursPolicy.objects.update(active=False)
    extra.setdefault("pro_rating", ProRating.MONTHS)
    return HoursPolicyFactory(owner=None, required_hours=D(hours), valid_from=2020, **extra)


# ---------------------------------------------------------------------------------------------------------
# 1. Every seed rule ships switched on; the strictest wins


def test_a_secretary_on_the_leadership_team_owes_40_under_the_seed_rules(world):
    secretary = MemberFactory(organization=world.orgs["A"], is_leadership=True)
    PartyPostFactory(member=secretary, post=Post.SECRETARY, start_date=dt.date(2021, 3, 1))
    plain = world.members["A"][0]
    req = c.requirement_for(secretary, YEAR, today=AFTER)
    assert (req.hours, req.policy.name) == (D("40"), "江苏教育系统班子成员")
    assert "党员年度集中学习培训" in req.explanation and "江苏教育系统党员" in req.explanation  # the others named
    assert "从严" in req.explanation
    assert c.requirement_for(plain, YEAR, today=AFTER).hours == D("32")  # national 32 beats Jiangsu's 24
    assert_paths_agree([secretary, plain])
    report = {
        row["member_id"]: row["required"] for row in c.compliance_members(by=SYSTEM, org=world.orgs["R"], year=YEAR)
    }
    assert (report[secretary.pk], report[plain.pk]) == (D("40"), D("32"))


# ---------------------------------------------------------------------------------------------------------
# 2. A requirement of concentrated study; online hours beside it, counted up to the cap (default 0)


def _hours_of_every_kind(member) -> None:
    credit(member, "30", HoursKind.CONCENTRATED, on=on(3))
    credit(member, "12", HoursKind.ONLINE, on=on(4))


def test_online_hours_are_shown_beside_the_requirement_and_do_not_count_by_default(world):
    member = world.members["A"][0]
    _hours_of_every_kind(member)
    line = "集中培训 30.0 · 网络学习 12.0（计入 0.0，上限 0.0）"
    summary = c.member_year(member, YEAR, today=AFTER)
    assert (summary.total, summary.counted, summary.status) == (D("42"), D("30"), c.SHORT)
    assert summary.kinds_text == line
    assert "网络学习单独列示，不计入" in summary.requirement.explanation
    rows = c.compliance_members(by=SYSTEM, org=world.orgs["A"], year=YEAR, today=AFTER).filter(pk=member.pk)
    row = c.compliance_row(rows.get(), YEAR, AFTER)
    assert (row.counted, row.shortfall, row.online_counted, row.kinds_text) == (D("30"), D("2"), D("0"), line)
    detail = dict(zip(MEMBER_DETAIL_HEADERS, member_detail_line(row), strict=True))
    assert (detail["网络学习"], detail["网络学习计入"], detail["已完成学时"]) == (D("12"), D("0"), D("30"))
    assert_paths_agree([member])


def test_the_member_page_and_the_report_say_how_much_of_each_kind_counted(world):
    member = world.members["A"][0]
    _hours_of_every_kind(member)
    client = world.client(Role.COMMITTEE)
    line = "集中培训 30.0 · 网络学习 12.0（计入 0.0，上限 0.0）"
    page = client.get(f"/training/hours/members/{member.pk}/?year={YEAR}").content.decode()
    assert line in page
    report = client.get(f"/training/hours/members/?org=BJ01&year={YEAR}").content.decode()
    assert line in report


def test_teaching_premium_external_and_manual_hours_count_online_up_to_a_cap(world):
    only_rule("32", online_cap=D("8"), pro_rating=ProRating.FULL)
    member = world.members["A"][0]
    credit(member, "20", HoursKind.CONCENTRATED, on=on(3))
    credit(member, "12", HoursKind.ONLINE, on=on(4))
    credit(member, "2", HoursKind.TEACHING, on=on(5))  # Huangpi: leaders who teach earn hours
    credit(member, "1", HoursKind.PREMIUM, on=on(5))  # and so do premium courses
    credit(member, "1.5", HoursKind.EXTERNAL, on=on(6), reason="市委党校调训", document="证明")
    credit(member, "0.5", HoursKind.MANUAL, on=on(6), reason="补录")
    summary = c.member_year(member, YEAR, today=AFTER)
    assert summary.counted == D("33.0")  # 20 + 8 of 12 online + 2 + 1 + 1.5 + 0.5
    assert summary.kinds_text == (
        "集中培训 20.0 · 网络学习 12.0（计入 8.0，上限 8.0） · "
        "授课奖励 2.0 · 精品课程奖励 1.0 · 外部认定 1.5 · 手工补录 0.5"
    )
    assert_paths_agree([member])


# ---------------------------------------------------------------------------------------------------------
# 3. Pro-rating by months of time inside the party only


@pytest.mark.parametrize("internal", [True, False], ids=["internal-transfer", "incoming-from-outside"])
def test_a_move_in_september_never_cuts_the_requirement(world, internal):
    only_rule("32")
    member = world.members["B"][0]
    moved_in(member, 9, internal=internal)
    req = assert_paths_agree([member])[member.pk]
    assert (req.months, req.hours) == (12, D("32"))
    assert "组织关系转接（转入、转出）不折算" in req.explanation


def test_the_requirement_sql_reads_no_transfers(world):
    """Moves never pro-rate: the requirement is an expression over the member's own columns. (A closed year's report
    reads the moves after it, to know where a member belonged — `YearEndPlacement` — never how long.)"""
    only_rule("32")
    moved_in(world.members["B"][0], 9)
    plan = c.RequirementPlan(org=world.orgs["R"], year=YEAR)
    queryset = Member.objects.dangerously_all()
    if plan.needs_months:
        queryset = queryset.alias(_hours_months=plan._months_on_roll())
    sql = str(queryset.annotate(required=plan.required_expression()).query).lower()
    assert "members_member" in sql and "membertransfer" not in sql


@pytest.mark.parametrize("status", [Status.EXPELLED, Status.DECEASED, Status.SUSPENDED])
def test_a_member_who_left_the_party_owes_the_months_up_to_leaving(world, status):
    only_rule("32")
    member = MemberFactory(organization=world.orgs["A"], status=status, status_changed_on=on(9, 20))
    req = assert_paths_agree([member])[member.pk]
    assert (req.months, req.hours) == (9, D("24.0"))  # January to September: 32 × 9 / 12
    assert f"2025年09月{Status(status).label}" in req.explanation and "按在党9个月折算" in req.explanation
    assert c.requirement_for(member, YEAR + 1).hours == D("0")  # gone before that year
    assert "不在党内" in c.requirement_for(member, YEAR + 1).explanation
    assert c.requirement_for(member, YEAR - 1).hours == D("32")  # in the party all of the year before


def test_joining_and_leaving_in_the_same_year_and_what_is_no_leaving(world):
    only_rule("32")
    a = world.orgs["A"]
    both = MemberFactory(organization=a, join_date=on(4), full_date=None, status=Status.EXPELLED)
    both.status_changed_on = on(9, 30)
    both.save()
    moved_out = MemberFactory(organization=a, status=Status.TRANSFERRED_OUT, status_changed_on=on(5))
    december = MemberFactory(organization=a, status=Status.DECEASED, status_changed_on=on(12, 5))
    requirements = assert_paths_agree([both, moved_out, december])
    assert (requirements[both.pk].months, requirements[both.pk].hours) == (6, D("16.0"))  # April to September
    assert "于2025年04月入党、于2025年09月出党" in requirements[both.pk].explanation
    assert requirements[moved_out.pk].hours == D("32")  # 转出 is a move, not a leaving of the party
    assert (requirements[december.pk].months, requirements[december.pk].hours) == (12, D("32"))


def test_the_sql_path_matches_requirement_for_with_members_who_left(world):
    """Member by member, over the report path with the members who left included (today's reports cover ACTIVE
    members only), with several rules, caps and modes."""
    only_rule("32", online_cap=D("4"))
    HoursPolicyFactory(owner=world.orgs["C1"], applies_to="leadership", required_hours=D("40"), valid_from=2020,
                       pro_rating=ProRating.MONTHS)  # fmt: skip
    HoursPolicyFactory(owner=world.orgs["B"], applies_to="district_cadre", required_hours=D("48"), valid_from=2020,
                       pro_rating=ProRating.FULL, online_cap=None)  # fmt: skip
    a, b = world.orgs["A"], world.orgs["B"]
    people = [
        *world.members["A"],
        *world.members["B"],
        MemberFactory(organization=a, is_leadership=True, join_date=on(5), full_date=None),
        MemberFactory(organization=a, is_leadership=True, status=Status.DECEASED, status_changed_on=on(7, 3)),
        MemberFactory(organization=b, is_district_cadre=True, status=Status.EXPELLED, status_changed_on=on(3)),
        MemberFactory(organization=b, status=Status.SUSPENDED, status_changed_on=on(11, 30)),
        MemberFactory(organization=b, status=Status.SUSPENDED, status_changed_on=dt.date(YEAR - 1, 6, 1)),
        MemberFactory(organization=b, status=Status.TRANSFERRED_OUT, status_changed_on=on(2)),
    ]
    moved_in(people[0], 9)
    moved_in(people[-1], 1, internal=False)
    for index, member in enumerate(people):
        credit(member, str(4 + index * 2), HoursKind.CONCENTRATED, on=on(1 + index % 2))
        credit(member, str(3 + (index % 4) * 2), HoursKind.ONLINE, on=on(1 + index % 2))
    requirements = assert_paths_agree(people[:-2])  # the member gone before the year is Python-only (see below)
    hours = {req.hours for req in requirements.values()}
    # 32; 40 × 8/12 → 27.0 (joined in May); 40 × 7/12 → 23.5 (died in July); 48 in full (the FULL rule, though
    # expelled in March); 32 × 11/12 → 29.5 (suspended in November)
    assert {D("32"), D("27.0"), D("23.5"), D("48"), D("29.5")} <= hours, hours
    gone = c.requirement_for(people[-2], YEAR, today=AFTER)
    assert gone.hours == D("0")  # left before the year: owes nothing, left out like one who joined after it
    assert assert_paths_agree([people[-1]])[people[-1].pk].hours == D("32")
