"""Reads of the periodic setup reports (组织设置排查 / 组织设置报告): which periods an organization owes, when each is
due, whether it was filed, and the reports due of a committee user's scope for the to-do list.

Rules. Jianshi seed (004, 建教党〔2020〕9号): "每季度对各学校基层党组织设置情况进行一次清理，每半年将组织设置情况上报
一次" — a review every quarter, a report every half year. The seed names no deadline: the default schedules
(data migration 0004) give 15 days after the period's end, a project default that a scope changes in its own row.
Which organizations owe a report, its deadline and whether it may be filed early are the report schedule's
(`ReportSchedule`; most specific owner valid in the period's year wins):

- a period's report is *due* (reminded) from the first day of the period's last month until it is filed: a
  quarterly review is done within the quarter, and a half-year report is prepared in its last month;
- it may be *filed* from the first day of the period's last month if the schedule allows early filing (the
  quarterly review, by default), else from the day after the period's end (the half-year report reports the
  whole half);
- it is *overdue* from the day after `end + due_days` (the due date itself is not late).

The to-do list reminds a committee user (工委工作人员) of the roots of their scope, the organizations they answer
for, and only of the periods whose reminder opened in the last REMINDER_LOOKBACK_MONTHS months: a period older than
that is no longer chased (its filings remain listed on the report page).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.committees.models import REPORT_PERIOD_LETTER, ReportKind, SetupReportFiling
from dangjian.committees.selectors.policies import (
    ScheduleRule,
    add_months,
    choose_schedule_rule,
    schedule_rule_for,
    schedule_rules,
)
from dangjian.committees.selectors.setup import ReportPeriod, SetupReport
from dangjian.orgs.models import Organization

# How far back the to-do list chases an unfiled report: the periods whose reminder opened within this many months
# (four quarters, two half-years). A bound of the reminder list, not a rule of the seeds.
REMINDER_LOOKBACK_MONTHS = 12
YEAR_MIN, YEAR_MAX = 2000, 2100
_PERIOD_RE = re.compile(r"^(\d{4})-([QH])([1-4])$")
PERIOD_FORMAT_MESSAGE = "期间应为“2026-Q4”（季度排查）或“2026-H2”（半年报告）的格式。"


def period_code(year: int, period: str) -> str:
    """ "2026-Q4" for (2026, "Q4")."""
    return f"{year}-{period}"


def parse_period(code) -> tuple[int, str] | None:
    """(2026, "Q4") for "2026-Q4"; None for anything that is not a quarter or a half-year of a sensible year."""
    match = _PERIOD_RE.match(str(code or "").strip())
    if match is None:
        return None
    year, letter, number = int(match[1]), match[2], int(match[3])
    if not YEAR_MIN <= year <= YEAR_MAX or (letter == "H" and number > 2):
        return None
    return year, f"{letter}{number}"


def report_kind_of(period: str) -> str:
    """The report a period is for: a quarter → the review, a half-year → the report."""
    return ReportKind.SETUP_REVIEW if period.startswith("Q") else ReportKind.SETUP_REPORT


def _periods_of(kind: str) -> list[str]:
    letter = REPORT_PERIOD_LETTER[ReportKind(kind)]
    return [p for p, _ in ReportPeriod.CHOICES if p.startswith(letter)]


@dataclass(frozen=True)
class DuePeriod:
    """One period of a report under a schedule: its dates, when it is reminded, may be filed and is due."""

    kind: str
    year: int
    period: str  # "Q4", "H2"
    start: dt.date
    end: dt.date
    opens: dt.date  # reminded from (the first day of the period's last month)
    file_from: dt.date  # may be filed from
    due: dt.date  # the last day to file in time

    @classmethod
    def of(cls, rule: ScheduleRule, year: int, period: str) -> DuePeriod:
        start, end = ReportPeriod.bounds(year, period)
        opens = end.replace(day=1)
        return cls(
            kind=rule.kind,
            year=year,
            period=period,
            start=start,
            end=end,
            opens=opens,
            file_from=opens if rule.early_filing else end + dt.timedelta(days=1),
            due=end + dt.timedelta(days=rule.due_days),
        )

    @property
    def code(self) -> str:
        return period_code(self.year, self.period)

    @property
    def title(self) -> str:
        """ "2026年第四季度组织设置排查", "2026年上半年组织设置情况报告"."""
        return ReportPeriod.title(self.year, self.period)

    @property
    def short_title(self) -> str:
        """ "2026年第4季度组织设置排查", "2026年下半年组织设置报告" (the to-do list's wording)."""
        if self.period.startswith("Q"):
            return f"{self.year}年第{self.period[1]}季度{ReportKind(self.kind).label}"
        half = "上半年" if self.period == "H1" else "下半年"
        return f"{self.year}年{half}{ReportKind(self.kind).label}"

    @property
    def due_days(self) -> int:
        return (self.due - self.end).days

    def overdue(self, today: dt.date) -> bool:
        return today > self.due


@dataclass
class FilingStatus:
    """What the report page says of one organization's report of one period."""

    organization: Organization
    due_period: DuePeriod | None  # None: the organization owes no such report that year
    filing: SetupReportFiling | None
    can_file: bool  # the user may file it now (a filer, owed, period open, not filed)
    may_file: bool  # the user is a filer of the organization
    today: dt.date

    @property
    def owed(self) -> bool:
        return self.due_period is not None

    @property
    def filed(self) -> bool:
        return self.filing is not None

    @property
    def not_yet(self) -> bool:
        """Owed, not filed, and too early to file."""
        due = self.due_period
        return due is not None and not self.filed and self.today < due.file_from

    @property
    def overdue(self) -> bool:
        due = self.due_period
        return due is not None and not self.filed and due.overdue(self.today)


def filing_status(*, by, organization: Organization, year: int, period: str, today: dt.date | None = None):
    """Whether `organization` owes the report of `period` of `year` (the schedule of the period's kind valid that
    year), when it is due, whether it was filed (by whom, when), and whether `by` may file it now. Two queries."""
    today = today or timezone.localdate()
    kind = report_kind_of(period)
    rule = schedule_rule_for(organization, kind, year)
    due_period = DuePeriod.of(rule, year, period) if rule is not None and rule.owes(organization.kind) else None
    filing = (
        SetupReportFiling.objects.visible_to(by)
        .filter(organization=organization, kind=kind, period=period_code(year, period))
        .select_related("filed_by")
        .first()
    )
    filer = access_for(by).can_file_setup_for(organization)
    can_file = bool(filer and due_period is not None and filing is None and today >= due_period.file_from)
    return FilingStatus(
        organization=organization,
        due_period=due_period,
        filing=filing,
        can_file=can_file,
        may_file=filer,
        today=today,
    )


def organization_filings(*, by, organization: Organization) -> QuerySet[SetupReportFiling]:
    """The organization's filings, newest period first, for the report page's list; paginate it."""
    return (
        SetupReportFiling.objects.visible_to(by)
        .filter(organization=organization)
        .select_related("filed_by")
        .order_by("-period", "kind", "-pk")
    )


def snapshot_figures(filing: SetupReportFiling) -> list:
    """The filing's snapshot figures in the order of SNAPSHOT_LABELS (None where a figure is missing)."""
    snapshot = filing.snapshot if isinstance(filing.snapshot, dict) else {}
    return [snapshot.get(key) for key, _ in SNAPSHOT_LABELS]


def snapshot_of(report: SetupReport) -> dict:
    """The headline figures of a setup report as JSON, kept with its filing (报送时概况)."""
    return {
        "title": report.title,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "generated_on": report.today.isoformat(),
        "organizations": report.organizations,
        "organizations_by_kind": dict(report.orgs_by_kind),
        "members_active": report.members_active,
        "members_full": report.members_full,
        "members_probationary": report.members_probationary,
        "terms_in_office": report.terms_in_office,
        "terms_overdue_at_end": report.terms_overdue_at_end,
        "flags": len(report.flags),
        "flags_by_rule": dict(report.flags_by_rule),
        "elections": len(report.elections),
        "by_elections": len(report.by_elections),
        "vacated": len(report.vacated),
        "terms_ended": len(report.terms_ended),
        "org_changes": len(report.org_changes),
    }


# Labels of the snapshot's figures, in the order the page shows them.
SNAPSHOT_LABELS = (
    ("organizations", "党组织"),
    ("members_active", "在册党员"),
    ("members_full", "正式党员"),
    ("members_probationary", "预备党员"),
    ("terms_in_office", "期末在任委员会"),
    ("flags", "组织设置问题"),
    ("elections", "本期换届选举"),
    ("by_elections", "本期补选"),
)


@dataclass(frozen=True)
class ReportDue:
    """A report an organization owes and has not filed, for the to-do list."""

    organization: Organization
    due_period: DuePeriod
    overdue: bool


def _filer_roots(by) -> list[Organization]:
    """The organizations a user answers for the reports of: the roots of their committee-staff grants (the system:
    the roots of the tree)."""
    access = access_for(by)
    if access.system:
        return list(Organization.objects.dangerously_all().filter(depth=1))
    roots = access.roots_of({Role.COMMITTEE})
    return list(Organization.objects.dangerously_all().filter(path__in=roots)) if roots else []


def reports_due(*, by, today: dt.date | None = None) -> list[ReportDue]:
    """The reports due or overdue for the roots of `by`'s committee-staff scope that owe them: for each report kind,
    each period whose reminder opened (first day of its last month) within REMINDER_LOOKBACK_MONTHS and on or before
    `today`, that the organization existed in and has not filed. Overdue first, then by due date. A fixed number of
    queries: the roots, the schedules of this year and last, the filings."""
    today = today or timezone.localdate()
    roots = _filer_roots(by)
    if not roots:
        return []
    horizon = add_months(today, -REMINDER_LOOKBACK_MONTHS)
    rules_by_year = {year: schedule_rules(year) for year in (today.year - 1, today.year)}
    candidates: list[tuple[Organization, DuePeriod]] = []
    for org in roots:
        for kind in ReportKind.values:
            for year, rules in rules_by_year.items():
                rule = choose_schedule_rule(rules, path=org.path, kind=kind)
                if rule is None or not rule.owes(org.kind):
                    continue
                for period in _periods_of(kind):
                    due = DuePeriod.of(rule, year, period)
                    if not horizon <= due.opens <= today:
                        continue
                    if org.established_on and org.established_on > due.end:
                        continue
                    candidates.append((org, due))
    if not candidates:
        return []
    filed = set(
        SetupReportFiling.objects.dangerously_all()
        .filter(organization__in=[org.pk for org in roots], period__in={due.code for _, due in candidates})
        .values_list("organization_id", "kind", "period")
    )
    out = [
        ReportDue(organization=org, due_period=due, overdue=due.overdue(today))
        for org, due in candidates
        if (org.pk, due.kind, due.code) not in filed
    ]
    return sorted(out, key=lambda r: (not r.overdue, r.due_period.due, r.organization.path, r.due_period.kind))
