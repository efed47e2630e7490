"""The periodic setup reports (组织设置排查 every quarter, 组织设置报告 every half year; Jianshi seed 004): the reminder
window at its boundaries, filing (who may, when, once), the schedule rows by scope, the snapshot, the report page's
confirmation and its scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.committees.models import ReportKind, ReportSchedule, SetupReportFiling
from dangjian.committees.selectors.filings import parse_period, reports_due
from dangjian.committees.selectors.todo import committee_todo_items
from dangjian.committees.services import setup_report_file
from dangjian.committees.tests.factories import ReportScheduleFactory, full_members
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
REVIEW, REPORT = ReportKind.SETUP_REVIEW, ReportKind.SETUP_REPORT


@pytest.fixture
def tree():
    """A work committee W over a school committee C1 with a branch; a separate root X."""
    work = OrganizationFactory(kind=OrgKind.WORK_COMMITTEE, code="W", name="清河县教育工委")
    committee = OrganizationFactory(parent=work, kind=OrgKind.COMMITTEE, code="C1", name="一中党委")
    branch = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH, code="C1A", name="高一党支部")
    full_members(branch, 3)
    other = OrganizationFactory(kind=OrgKind.WORK_COMMITTEE, code="X", name="临湖县教育工委")
    return work, committee, branch, other


def _user(role, org):
    user = UserFactory()
    grant(user, role, org)
    return user


def _report_items(user, today) -> dict[tuple[str, str], dict]:
    return {
        (i["key"], i["period"]): i
        for i in committee_todo_items(user=user, today=today)
        if i["key"].startswith("setup-report:")
    }


# ---------------------------------------------------------------------------------------------------------
# The reminder window


def test_default_schedules_from_the_seed():
    rows = {r.kind: r for r in ReportSchedule.objects.filter(owner=None)}
    assert rows[REVIEW].due_days == 15 and rows[REVIEW].early_filing is True
    assert rows[REPORT].due_days == 15 and rows[REPORT].early_filing is False
    assert rows[REVIEW].org_kinds == [OrgKind.WORK_COMMITTEE, OrgKind.COMMITTEE]
    assert "每季度" in rows[REVIEW].source and "每半年" in rows[REPORT].source


def test_quarterly_review_window_boundaries(tree):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    key = f"setup-report:{committee.pk}:{REVIEW}"
    # The day before the quarter's last month: no item for Q4 (Q3's, overdue since 10-16, is there).
    before = _report_items(staff, dt.date(2026, 11, 30))
    assert (key, "2026-Q4") not in before
    assert before[(key, "2026-Q3")]["overdue"] is True
    opened = _report_items(staff, dt.date(2026, 12, 1))[(key, "2026-Q4")]
    assert opened["title"] == "一中党委：2026年第4季度组织设置排查待报送（12月31日截止后15日内）"
    assert opened["overdue"] is False and opened["since"] == dt.date(2026, 12, 1)
    assert opened["url"] == "/committees/report/?org=C1&year=2026&period=Q4"
    # The due date itself is in time; the day after is overdue.
    assert _report_items(staff, dt.date(2027, 1, 15))[(key, "2026-Q4")]["overdue"] is False
    late = _report_items(staff, dt.date(2027, 1, 16))[(key, "2026-Q4")]
    assert late["overdue"] is True and late["since"] is None  # undated: sorted after dated overdue items


def test_half_year_report_window_boundaries(tree):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    key = f"setup-report:{committee.pk}:{REPORT}"
    assert (key, "2026-H1") not in _report_items(staff, dt.date(2026, 5, 31))
    item = _report_items(staff, dt.date(2026, 6, 1))[(key, "2026-H1")]
    assert item["title"] == "一中党委：2026年上半年组织设置报告待报送（6月30日截止后15日内）"
    assert item["overdue"] is False
    assert _report_items(staff, dt.date(2026, 7, 15))[(key, "2026-H1")]["overdue"] is False
    assert _report_items(staff, dt.date(2026, 7, 16))[(key, "2026-H1")]["overdue"] is True


def test_reminders_look_back_twelve_months(tree):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    periods = {period for _, period in _report_items(staff, dt.date(2026, 12, 1))}
    # Quarters whose last month began from 2025-12-01 on; half-years likewise.
    assert periods == {"2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2025-H2", "2026-H1", "2026-H2"}


def test_only_committee_staff_on_the_roots_of_their_scope(tree):
    work, committee, branch, _ = tree
    today = dt.date(2026, 12, 1)
    work_staff = _user(Role.COMMITTEE, work)
    keys = {key for key, _ in _report_items(work_staff, today)}
    assert keys == {f"setup-report:{work.pk}:{REVIEW}", f"setup-report:{work.pk}:{REPORT}"}  # not the 党委 below
    for role, org in ((Role.SECRETARY, branch), (Role.SECRETARY, committee), (Role.INSTRUCTOR, committee)):
        assert _report_items(_user(role, org), today) == {}
    # A committee user granted on a branch: a branch owes no setup report.
    assert _report_items(_user(Role.COMMITTEE, branch), today) == {}


def test_no_reminder_for_a_period_before_the_organization_existed(tree):
    _, committee, _, _ = tree
    committee.established_on = dt.date(2026, 10, 8)
    committee.save()
    periods = {period for _, period in _report_items(_user(Role.COMMITTEE, committee), dt.date(2026, 12, 1))}
    assert periods == {"2026-Q4", "2026-H2"}


def test_filing_removes_the_item(tree):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    today = dt.date(2027, 1, 20)
    key = (f"setup-report:{committee.pk}:{REVIEW}", "2026-Q4")
    assert key in _report_items(staff, today)
    setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2026-Q4", today=today)
    items = _report_items(staff, today)
    assert key not in items
    assert (f"setup-report:{committee.pk}:{REPORT}", "2026-H2") in items  # the other report is still due


def test_reports_due_queries_do_not_grow(tree, django_assert_max_num_queries):
    work, _, _, other = tree
    staff = _user(Role.COMMITTEE, work)
    with django_assert_max_num_queries(5) as captured:
        reports_due(by=staff, today=dt.date(2026, 12, 1))
    for i in range(5):
        root = OrganizationFactory(kind=OrgKind.WORK_COMMITTEE, code=f"R{i}")
        grant(staff, Role.COMMITTEE, root)
    grant(staff, Role.COMMITTEE, other)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        assert len(reports_due(by=staff, today=dt.date(2026, 12, 1))) == 7 * 8


# ---------------------------------------------------------------------------------------------------------
# Filing


def test_filing_records_who_when_and_the_snapshot(tree):
    _, committee, branch, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    filing = setup_report_file(
        by=staff,
        organization=committee,
        kind=REPORT,
        period="2026-H2",
        note=" 已上报县委组织部 ",
        today=dt.date(2027, 1, 3),
    )
    assert filing.filed_by == staff and filing.note == "已上报县委组织部"
    assert filing.snapshot["organizations"] == 2 and filing.snapshot["members_active"] == 3
    assert filing.snapshot["organizations_by_kind"]["党支部"] == 1
    assert filing.snapshot["flags"] == 0 and filing.snapshot["end"] == "2026-12-31"
    assert filing.history.count() == 1
    # A later change of the tree does not rewrite what was reported.
    MemberFactory(organization=branch)
    OrganizationFactory(parent=committee, kind=OrgKind.BRANCH)
    filing.refresh_from_db()
    assert filing.snapshot["members_active"] == 3 and filing.snapshot["organizations"] == 2


def test_double_filing_refused(tree):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2026-Q3", today=dt.date(2026, 10, 2))
    with pytest.raises(ValidationError) as exc:
        setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2026-Q3", today=dt.date(2026, 10, 3))
    assert "不能重复报送" in exc.value.message_dict["period"][0]
    assert staff.full_name in exc.value.message_dict["period"][0]
    assert SetupReportFiling.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "period", "today", "filed"),
    [
        (REVIEW, "2026-Q4", dt.date(2026, 11, 30), False),  # before the quarter's last month
        (REVIEW, "2026-Q4", dt.date(2026, 12, 1), True),  # the review may be filed within the last month
        (REPORT, "2026-H2", dt.date(2026, 12, 31), False),  # the half-year report only once the half has ended
        (REPORT, "2026-H2", dt.date(2027, 1, 1), True),
        (REVIEW, "2027-Q1", dt.date(2026, 12, 15), False),  # a future period
    ],
)
def test_filing_an_unfinished_period_refused(tree, kind, period, today, filed):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    if filed:
        setup_report_file(by=staff, organization=committee, kind=kind, period=period, today=today)
    else:
        with pytest.raises(ValidationError) as exc:
            setup_report_file(by=staff, organization=committee, kind=kind, period=period, today=today)
        assert "尚未到报送时间" in exc.value.message_dict["period"][0]
    assert SetupReportFiling.objects.exists() is filed


def test_a_secretary_cannot_file(tree):
    _, committee, _, _ = tree
    for role in (Role.SECRETARY, Role.INSTRUCTOR, Role.SCHOOL_ADMIN):
        with pytest.raises(PermissionDenied):
            setup_report_file(
                by=_user(role, committee),
                organization=committee,
                kind=REVIEW,
                period="2026-Q3",
                today=dt.date(2026, 10, 2),
            )
    # Nor committee staff of another root.
    _, _, _, other = tree
    with pytest.raises(PermissionDenied):
        setup_report_file(
            by=_user(Role.COMMITTEE, other),
            organization=committee,
            kind=REVIEW,
            period="2026-Q3",
            today=dt.date(2026, 10, 2),
        )
    assert not SetupReportFiling.objects.exists()


@pytest.mark.parametrize(
    ("kind", "period", "note", "field", "message"),
    [
        (REVIEW, "2026-Q5", "", "period", "期间应为"),
        (REVIEW, "2026/Q3", "", "period", "期间应为"),
        (REVIEW, "1899-Q3", "", "period", "期间应为"),
        (REPORT, "2026-H3", "", "period", "期间应为"),
        (REVIEW, "2026-H1", "", "period", "按季度报送"),
        (REPORT, "2026-Q1", "", "period", "按半年报送"),
        ("bogus", "2026-Q1", "", "kind", "请选择报送事项"),
        (REVIEW, "2026-Q1", "长" * 501, "note", "不能超过500字"),
    ],
)
def test_filing_bad_input(tree, kind, period, note, field, message):
    _, committee, _, _ = tree
    with pytest.raises(ValidationError) as exc:
        setup_report_file(
            by=_user(Role.COMMITTEE, committee),
            organization=committee,
            kind=kind,
            period=period,
            note=note,
            today=dt.date(2026, 12, 15),
        )
    assert message in exc.value.message_dict[field][0]
    assert not SetupReportFiling.objects.exists()


def test_filing_a_branch_or_before_the_organization_existed_refused(tree):
    _, committee, branch, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    with pytest.raises(ValidationError) as exc:
        setup_report_file(by=staff, organization=branch, kind=REVIEW, period="2026-Q3", today=dt.date(2026, 10, 2))
    assert "无需报送组织设置排查" in exc.value.message_dict["organization"][0]
    committee.established_on = dt.date(2026, 10, 8)
    committee.save()
    with pytest.raises(ValidationError) as exc:
        setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2026-Q3", today=dt.date(2026, 10, 9))
    assert "成立于2026-10-08" in exc.value.message_dict["period"][0]


def test_parse_period():
    assert parse_period("2026-Q4") == (2026, "Q4") and parse_period(" 2026-H1 ") == (2026, "H1")
    for bad in (None, "", "2026-Q0", "2026-H3", "26-Q1", "2026-q1", 2026):
        assert parse_period(bad) is None


# ---------------------------------------------------------------------------------------------------------
# Schedules by scope


def test_schedule_rows_override_by_scope(tree):
    work, committee, _, other = tree
    staff = _user(Role.COMMITTEE, committee)
    today = dt.date(2027, 1, 20)
    key = (f"setup-report:{committee.pk}:{REVIEW}", "2026-Q4")
    assert _report_items(staff, today)[key]["overdue"] is True  # system default: due 2027-01-15
    # The work committee gives its subtree 30 days: the 党委 below it is in time again.
    ReportScheduleFactory(owner=work, kind=REVIEW, due_days=30)
    ReportScheduleFactory(owner=other, kind=REVIEW, due_days=5)  # another root's row does not apply
    item = _report_items(staff, today)[key]
    assert item["overdue"] is False and "截止后30日内" in item["title"]
    # A more specific row (the committee's own) wins over its ancestor's: here 党委 no longer owe the review.
    ReportScheduleFactory(owner=committee, kind=REVIEW, org_kinds=[OrgKind.WORK_COMMITTEE])
    assert key not in _report_items(staff, today)
    with pytest.raises(ValidationError) as exc:
        setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2026-Q4", today=today)
    assert "无需报送" in exc.value.message_dict["organization"][0]
    # The half-year report still follows the system's row.
    assert (f"setup-report:{committee.pk}:{REPORT}", "2026-H2") in _report_items(staff, today)


def test_schedule_valid_years_and_early_filing(tree):
    work, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    # From 2027 the work committee's rows: the review no longer filed early.
    ReportScheduleFactory(owner=work, kind=REVIEW, early_filing=False, valid_from=2027)
    setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2026-Q4", today=dt.date(2026, 12, 2))
    with pytest.raises(ValidationError):
        setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2027-Q1", today=dt.date(2027, 3, 2))
    setup_report_file(by=staff, organization=committee, kind=REVIEW, period="2027-Q1", today=dt.date(2027, 4, 1))
    assert SetupReportFiling.objects.count() == 2


def test_schedule_org_kinds_are_validated():
    row = ReportSchedule(kind=REVIEW, org_kinds=["nonsense"], due_days=15, valid_from=2026)
    with pytest.raises(ValidationError) as exc:
        row.full_clean()
    assert "org_kinds" in exc.value.message_dict


# ---------------------------------------------------------------------------------------------------------
# The report page


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _last_half() -> tuple[int, str]:
    """The last ended half-year, whatever day the suite runs: always open to filing."""
    today = timezone.localdate()
    return (today.year, "H1") if today.month > 6 else (today.year - 1, "H2")


def test_page_button_message_and_filings(tree):
    _, committee, _, _ = tree
    staff = _user(Role.COMMITTEE, committee)
    client = _client(staff)
    year, half = _last_half()
    params = {"org": "C1", "year": year, "period": half}
    body = client.get(reverse("committees:report"), params).content.decode()
    assert 'id="file-button"' in body and "确认报送" in body and 'id="filings"' not in body
    url = reverse("committees:report_file", args=[committee.pk])
    response = client.post(url, {"year": year, "period": half, "note": "已报县委"}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/committees/report/?org=C1&year={year}&period={half}"
    assert "组织设置情况报告已于" in body and 'id="filing-done"' in body and staff.full_name in body
    assert 'id="file-button"' not in body and 'id="filings"' in body
    label = f"{year}年{'上半年' if half == 'H1' else '下半年'}"
    assert label in body.split('id="filings"')[1] and "已报县委" in body.split('id="filings"')[1]
    filing = SetupReportFiling.objects.get()
    assert (filing.period, filing.kind, filing.note) == (f"{year}-{half}", REPORT, "已报县委")
    # Again: refused with the reason, nothing more saved.
    body = client.post(url, {"year": year, "period": half}, follow=True).content.decode()
    assert "不能重复报送" in body and SetupReportFiling.objects.count() == 1


def test_page_refuses_an_unfinished_half_year(tree):
    _, committee, _, _ = tree
    client = _client(_user(Role.COMMITTEE, committee))
    today = timezone.localdate()
    half = "H1" if today.month <= 6 else "H2"
    body = client.get(reverse("committees:report"), {"org": "C1", "year": today.year, "period": half}).content
    assert 'id="file-button"' not in body.decode() and "起可以报送" in body.decode()
    response = client.post(
        reverse("committees:report_file", args=[committee.pk]), {"year": today.year, "period": half}, follow=True
    )
    assert "尚未到报送时间" in response.content.decode() and not SetupReportFiling.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"year": "abc", "period": "H1"},
        {"year": "2025", "period": "Q9"},
        {"year": "2025", "period": "H1", "note": "x" * 501},
    ],
)
def test_page_bad_input_is_a_message(tree, data):
    _, committee, _, _ = tree
    client = _client(_user(Role.COMMITTEE, committee))
    response = client.post(reverse("committees:report_file", args=[committee.pk]), data, follow=True)
    assert response.status_code == 200 and "alert" in response.content.decode()
    assert not SetupReportFiling.objects.exists()


def test_page_for_a_secretary_shows_status_without_the_button(tree):
    _, committee, _, _ = tree
    year, half = _last_half()
    setup_report_file(by=Access.system_access(), organization=committee, kind=REPORT, period=f"{year}-{half}")
    secretary = _user(Role.SECRETARY, committee)
    client = _client(secretary)
    body = client.get(reverse("committees:report"), {"org": "C1", "year": year, "period": half}).content.decode()
    assert 'id="filing-done"' in body and "由系统确认报送" in body and 'id="file-button"' not in body
    other_year = year - 1
    body = client.get(reverse("committees:report"), {"org": "C1", "year": other_year, "period": half}).content.decode()
    assert "逾期未报送" in body and 'id="file-button"' not in body and "由上级党组织（工委）工作人员确认报送" in body
    response = client.post(reverse("committees:report_file", args=[committee.pk]), {"year": year, "period": half})
    assert response.status_code == 403


def test_page_of_a_branch_says_nothing_is_owed(tree):
    _, committee, branch, _ = tree
    client = _client(_user(Role.COMMITTEE, committee))
    body = client.get(reverse("committees:report"), {"org": branch.code}).content.decode()
    assert 'id="filing-none"' in body and 'id="file-button"' not in body


def test_filing_scope_another_roots_organization_is_404(tree):
    _, committee, _, other = tree
    year, half = _last_half()
    staff = _user(Role.COMMITTEE, committee)
    client = _client(staff)
    url = reverse("committees:report_file", args=[other.pk])
    assert client.post(url, {"year": year, "period": half}).status_code == 404
    assert client.get(reverse("committees:report_file", args=[committee.pk])).status_code == 405
    # The page does not take another root's code either, and shows none of its filings.
    setup_report_file(by=Access.system_access(), organization=other, kind=REPORT, period=f"{year}-{half}")
    body = client.get(reverse("committees:report"), {"org": "X", "year": year, "period": half}).content.decode()
    assert "临湖县教育工委" not in body.split('id="committees-filter"')[1].split("</form>")[1]
    assert SetupReportFiling.objects.visible_to(staff).count() == 0
    assert SetupReportFiling.objects.visible_to(_user(Role.COMMITTEE, other)).count() == 1
