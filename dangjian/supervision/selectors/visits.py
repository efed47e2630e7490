"""Monthly visits (每月“四个一”上门指导, Yiyang): which assigned institutions miss the month's regular visit, the
month-by-month completeness of one institution, and an instructor's (or every visible instructor's) figures for a
year as the Yiyang seed reports them (2023: 1,300+ visits, 600+ "以案说法" sessions, 27 clues, 7 enforcement
actions taken part in).

A month is due for an institution when an assignment covered any day of it; the instructor responsible is the one
assigned last in that month. A month is complete with one regular visit; supplements (补充走访) come on top and
never replace it. A month still running is missing but not overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from dangjian.supervision.models import (
    Assignment,
    Clue,
    ClueStatus,
    Institution,
    InstructorAppointment,
    Visit,
    first_of_month,
    month_end,
)


@dataclass(frozen=True)
class MissingVisit:
    institution_id: int
    institution_name: str
    appointment_id: int
    instructor_name: str
    instructor_user_id: int
    month: dt.date
    overdue: bool


def visits_missing(*, by, month: dt.date, today: dt.date | None = None, appointment=None) -> list[MissingVisit]:
    """The institutions `by` sees, assigned during `month`, without a regular visit in it (per institution, with the
    instructor assigned last in the month); for one instructor with `appointment`. Two queries."""
    today = today or timezone.localdate()
    month = first_of_month(month)
    end = month_end(month)
    assignments = (
        Assignment.objects.visible_to(by)
        .filter(start_on__lte=end, institution__approval_status="approved")
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=month))
        .filter(
            ~Exists(Visit.objects.filter(institution_id=OuterRef("institution_id"), month=month, is_supplement=False))
        )
        .values_list(
            "institution_id",
            "institution__unit__name",
            "appointment_id",
            "appointment__name",
            "appointment__user_id",
            "start_on",
        )
        .order_by("institution__unit__name", "institution_id", "start_on")
    )
    if appointment is not None:
        assignments = assignments.filter(appointment=appointment)
    latest: dict[int, tuple] = {}
    for row in assignments:
        latest[row[0]] = row  # ordered by start: the last one wins
    overdue = end < today
    return [
        MissingVisit(inst, name, app, instructor, user_id, month, overdue)
        for inst, name, app, instructor, user_id, _ in latest.values()
    ]


@dataclass(frozen=True)
class MonthVisits:
    month: dt.date
    due: bool  # an instructor was assigned in the month
    regular: Visit | None
    supplements: int

    @property
    def status(self) -> str:
        if self.regular is not None:
            return "已走访"
        return "未走访" if self.due else "未派驻"


def visit_completeness(*, institution: Institution, year: int, today: dt.date | None = None) -> list[MonthVisits]:
    """Month by month up to today (or the whole past year): whether the month was due, its regular visit and the
    number of supplements. The institution is one the caller already sees."""
    today = today or timezone.localdate()
    last = 12 if year < today.year else today.month if year == today.year else 0
    visits = list(institution.visits.filter(month__year=year).select_related("appointment"))
    assignments = list(institution.assignments.all())
    out = []
    for m in range(1, last + 1):
        month = dt.date(year, m, 1)
        end = month_end(month)
        due = any(a.start_on <= end and (a.end_on is None or a.end_on >= month) for a in assignments)
        regular = next((v for v in visits if v.month == month and not v.is_supplement), None)
        supplements = sum(1 for v in visits if v.month == month and v.is_supplement)
        out.append(MonthVisits(month, due, regular, supplements))
    return out


@dataclass(frozen=True)
class YearSummary:
    """An instructor's (or all visible instructors') figures for a year."""

    year: int
    instructors: int
    institutions: int  # institutions assigned at some time in the year
    visits: int
    regular_visits: int
    supplements: int
    case_law_sessions: int  # 以案说法
    four_items_complete: int  # visits with all four items done
    clues: int
    clues_passed: int  # passed to enforcement (已移交 or later)
    enforcement_actions: int  # enforcement actions taken part in (直接参与查处)


def instructor_year_summary(*, by, year: int, instructor: InstructorAppointment | None = None) -> YearSummary:
    """The Yiyang figures for `year`: visits (regular and supplements), 以案说法 sessions, complete “四个一” visits,
    clues reported, passed, and enforcement actions taken part in — of one instructor (an appointment `by` sees) or
    of every appointment `by` sees. Three queries."""
    appointments = InstructorAppointment.objects.visible_to(by)
    if instructor is not None:
        appointments = appointments.filter(pk=instructor.pk)
    return year_summary_of(year=year, appointments=appointments)


def year_summary_of(*, year: int, appointments) -> YearSummary:
    """The Yiyang figures of `instructor_year_summary` for a queryset of appointments the caller already sees (the
    total of a filtered summary page). Three queries."""
    ids = list(appointments.values_list("pk", flat=True))
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    v = (
        Visit.objects.dangerously_all()
        .filter(appointment_id__in=ids, date__year=year)
        .aggregate(
            visits=Count("pk"),
            supplements=Count("pk", filter=Q(is_supplement=True)),
            case_law=Count("pk", filter=Q(is_case_law_session=True)),
            complete=Count("pk", filter=Q(party_lecture=True, policy_talk=True, hazard_check=True, ledger_check=True)),
        )
    )
    c = (
        Clue.objects.dangerously_all()
        .filter(reported_by_id__in=ids, found_on__year=year)
        .aggregate(
            clues=Count("pk"),
            passed=Count("pk", filter=~Q(status=ClueStatus.PENDING)),
            took_part=Count("pk", filter=Q(took_part=True)),
        )
    )
    institutions = (
        Assignment.objects.dangerously_all()
        .filter(appointment_id__in=ids, start_on__lte=end)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=start))
        .values("institution_id")
        .distinct()
        .count()
    )
    return _year_figures(v, c, year=year, instructors=len(ids), institutions=institutions)


def _year_figures(visits: dict, clues: dict, *, year: int, instructors: int, institutions: int) -> YearSummary:
    return YearSummary(
        year=year,
        instructors=instructors,
        institutions=institutions,
        visits=visits.get("visits") or 0,
        regular_visits=(visits.get("visits") or 0) - (visits.get("supplements") or 0),
        supplements=visits.get("supplements") or 0,
        case_law_sessions=visits.get("case_law") or 0,
        four_items_complete=visits.get("complete") or 0,
        clues=clues.get("clues") or 0,
        clues_passed=clues.get("passed") or 0,
        enforcement_actions=clues.get("took_part") or 0,
    )


def appointments_in_year(*, by, year: int):
    """The appointments `by` sees that were in office at some time of `year`."""
    return (
        InstructorAppointment.objects.visible_to(by)
        .filter(start_on__lte=dt.date(year, 12, 31))
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=dt.date(year, 1, 1)))
    )


def instructor_year_rows(*, year: int, appointments) -> list[tuple[InstructorAppointment, YearSummary]]:
    """Per instructor, the Yiyang figures of `instructor_year_summary` for `year`, for a list (a page) of
    appointments the caller already sees. Three grouped queries whatever the number of rows."""
    appointments = list(appointments)
    ids = [a.pk for a in appointments]
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    visits = {
        row.pop("appointment_id"): row
        for row in Visit.objects.dangerously_all()
        .filter(appointment_id__in=ids, date__year=year)
        .values("appointment_id")
        .annotate(
            visits=Count("pk"),
            supplements=Count("pk", filter=Q(is_supplement=True)),
            case_law=Count("pk", filter=Q(is_case_law_session=True)),
            complete=Count("pk", filter=Q(party_lecture=True, policy_talk=True, hazard_check=True, ledger_check=True)),
        )
        .order_by()
    }
    clues = {
        row.pop("reported_by_id"): row
        for row in Clue.objects.dangerously_all()
        .filter(reported_by_id__in=ids, found_on__year=year)
        .values("reported_by_id")
        .annotate(
            clues=Count("pk"),
            passed=Count("pk", filter=~Q(status=ClueStatus.PENDING)),
            took_part=Count("pk", filter=Q(took_part=True)),
        )
        .order_by()
    }
    institutions = dict(
        Assignment.objects.dangerously_all()
        .filter(appointment_id__in=ids, start_on__lte=end)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=start))
        .values("appointment_id")
        .annotate(n=Count("institution_id", distinct=True))
        .values_list("appointment_id", "n")
        .order_by()
    )
    return [
        (a, _year_figures(visits.get(a.pk, {}), clues.get(a.pk, {}), year=year, instructors=1, institutions=n))
        for a in appointments
        for n in (institutions.get(a.pk, 0),)
    ]


@dataclass(frozen=True)
class InstructorMonth:
    """An instructor's institutions assigned today (those the caller sees) and how many of them have the month's
    regular visit."""

    appointment: InstructorAppointment
    institutions: tuple[tuple[int, str, bool], ...]  # (pk, name, visited this month)

    @property
    def due(self) -> int:
        return len(self.institutions)

    @property
    def visited(self) -> int:
        return sum(1 for _, _, done in self.institutions if done)

    @property
    def complete(self) -> bool:
        return self.visited == self.due


def instructor_month_rows(*, by, appointments, today: dt.date | None = None) -> list[InstructorMonth]:
    """For a page of appointments: each one's currently assigned institutions (seen by `by`) with whether this
    month's regular visit is done (每月走访完成情况). Two queries whatever the page size."""
    today = today or timezone.localdate()
    appointments = list(appointments)
    rows = list(
        Assignment.objects.visible_to(by)
        .filter(appointment_id__in=[a.pk for a in appointments], start_on__lte=today)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
        .values_list("appointment_id", "institution_id", "institution__unit__name")
        .order_by("institution__unit__name", "institution_id")
    )
    visited = set(
        Visit.objects.dangerously_all()
        .filter(institution_id__in=[r[1] for r in rows], month=first_of_month(today), is_supplement=False)
        .values_list("institution_id", flat=True)
    )
    by_appointment: dict[int, list[tuple[int, str, bool]]] = {}
    for appointment_id, inst_id, name in rows:
        by_appointment.setdefault(appointment_id, []).append((inst_id, name, inst_id in visited))
    return [InstructorMonth(a, tuple(by_appointment.get(a.pk, ()))) for a in appointments]


def current_appointment(user, today: dt.date | None = None) -> InstructorAppointment | None:
    """The user's appointment active today, if they are an instructor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return InstructorAppointment.objects.active_on(today or timezone.localdate()).filter(user=user).first()


def assigned_institutions(appointment: InstructorAppointment, day: dt.date):
    """The institutions assigned to `appointment` on `day` (for the visit form)."""
    assigned = (
        Assignment.objects.filter(appointment=appointment, start_on__lte=day)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
        .values("institution_id")
    )
    return Institution.objects.dangerously_all().filter(pk__in=assigned).select_related("unit").order_by("unit__name")
