"""The branch's generated ledgers (组织生活台账) and its activity calendar.

Ledger: the branch's generated ledger (台账) per year, printable and exportable — one document, all records in
date order: what paper ledgers held, derived from the records as they were entered — per record its kinds,
date, place, host, lecturer, topic, agenda, attendance (names of those present, absentees with their reasons),
minutes, decisions, the "三重一大" mark, the hours it credited, its attachments and its corrections; preceded by the
year's compliance with the duties. Names appear only for the members the reader may see; the others are counted.

Calendar: the activities of one organization in a month, Monday first, with the duties still open this month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from dangjian.members.models import Member
from dangjian.orglife.models import ActivityAttendance, ActivityRecord, RecordAttachment, RecordCorrection
from dangjian.orglife.selectors.compliance import ComplianceReport, compliance_for, records_of
from dangjian.orgs.models import Organization


@dataclass
class LedgerEntry:
    record: ActivityRecord
    kinds: list[str]
    present: list[str]
    absent: list[tuple[str, str]]  # (name, reason)
    present_count: int
    absent_count: int
    hidden_count: int  # attendees the reader may not see by name
    lecturer: str
    attachments: list[RecordAttachment]
    corrections: list[RecordCorrection]

    @property
    def attendance_rate(self) -> int | None:
        total = self.present_count + self.absent_count
        return round(100 * self.present_count / total) if total else None


@dataclass
class Ledger:
    org: Organization
    year: int
    entries: list[LedgerEntry] = field(default_factory=list)
    compliance: ComplianceReport | None = None
    generated_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def duty_rows(self):
        """The organization's own duty rows (not its children's)."""
        return self.compliance.rows_for(self.org.pk) if self.compliance else []


def _records(by, org: Organization, year: int) -> QuerySet[ActivityRecord]:
    return (
        records_of(by=by, org=org, year=year)
        .select_related("lecturer")
        .prefetch_related(
            Prefetch(
                "attendances",
                queryset=ActivityAttendance.objects.select_related("member").order_by("-present", "member__name"),
            ),
            "attachments",
            Prefetch("corrections", queryset=RecordCorrection.objects.select_related("corrected_by")),
        )
    )


def ledger_of(*, by, org: Organization, year: int, today: dt.date | None = None) -> Ledger:
    """The yearly ledger of one organization: every record of the year in date order, with the year's compliance.
    A fixed number of queries whatever the number of records."""
    records = list(_records(by, org, year))
    member_ids = {a.member_id for r in records for a in r.attendances.all()}
    member_ids |= {r.lecturer_id for r in records if r.lecturer_id}
    visible = set(Member.objects.visible_to(by).filter(pk__in=member_ids).values_list("pk", flat=True))
    ledger = Ledger(org=org, year=year)
    for record in records:
        rows = list(record.attendances.all())
        ledger.entries.append(
            LedgerEntry(
                record=record,
                kinds=[k.get_kind_display() for k in record.kinds.all()],
                present=[a.member.name for a in rows if a.present and a.member_id in visible],
                absent=[
                    (a.member.name, a.absence_reason or "未说明原因")
                    for a in rows
                    if not a.present and a.member_id in visible
                ],
                present_count=sum(a.present for a in rows),
                absent_count=sum(not a.present for a in rows),
                hidden_count=sum(a.member_id not in visible for a in rows),
                lecturer=record.lecturer.name if record.lecturer_id in visible and record.lecturer is not None else "",
                attachments=list(record.attachments.all()),
                corrections=list(record.corrections.all()),
            )
        )
    ledger.compliance = compliance_for(by=by, org=org, year=year, today=today)
    # Only this organization's rows: the ledger is one organization's document.
    ledger.compliance.rows = ledger.compliance.rows_for(org.pk)
    return ledger


# ---------------------------------------------------------------------------------------------------------
# Calendar


@dataclass
class CalendarDay:
    date: dt.date
    in_month: bool
    today: bool
    records: list[ActivityRecord] = field(default_factory=list)


@dataclass
class MonthCalendar:
    org: Organization
    month: dt.date  # the first day
    weeks: list[list[CalendarDay]]
    open_duties: list  # DutyCompliance rows of this month not yet met

    @property
    def days_with_records(self) -> list[CalendarDay]:
        return [day for week in self.weeks for day in week if day.in_month and day.records]

    @property
    def previous(self) -> dt.date:
        return (self.month - dt.timedelta(days=1)).replace(day=1)

    @property
    def next(self) -> dt.date:
        return (self.month + dt.timedelta(days=32)).replace(day=1)


def month_calendar(*, by, org: Organization, month: dt.date, today: dt.date | None = None) -> MonthCalendar:
    """One organization's activities of a month as weeks × days (Monday first), and the duties whose period holding
    this month is not met — what the branch still has to hold (a yearly duty shows until it is done)."""
    today = today or timezone.localdate()
    first = month.replace(day=1)
    by_day: dict[dt.date, list[ActivityRecord]] = {}
    for record in records_of(by=by, org=org, year=first.year, month=first.month):
        by_day.setdefault(record.date, []).append(record)
    weeks = [
        [
            CalendarDay(date=d, in_month=d.month == first.month, today=d == today, records=by_day.get(d, []))
            for d in week
        ]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    quarter = (first.month - 1) // 3 + 1
    report = compliance_for(by=by, org=org, year=first.year, quarter=quarter, today=today)
    open_duties = [row for row in report.rows_for(org.pk) if row.open_in(first)]
    return MonthCalendar(org=org, month=first, weeks=weeks, open_duties=open_duties)
