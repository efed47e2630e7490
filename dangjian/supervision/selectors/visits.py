"""Monthly visits (每月“四个一”上门指导, Yiyang): which assigned institutions miss the month's “四个一” visit, the
month-by-month completeness of one institution, and an instructor's (or every visible instructor's) figures for a
year as the Yiyang seed reports them (2023: 1,300+ visits, 600+ "以案说法" sessions, 27 clues, 7 enforcement
actions taken part in).

Source: the Yiyang seed (docs/rules.md, 2024 newsletter no. 15): 党建指导员……每月上门开展上党课、讲政策、排隐患、
核台账“四个一”工作.

A month is due for an institution when an assignment covered any day of it; the instructor responsible is the one
assigned last in that month. A month counts as a “四个一” visit only when its visits record every item the “四个一”
rule requires (`VisitPolicy`, the most specific valid for the institution; default: all four): one regular visit,
with any supplement (补充走访) of the same month carrying out what it left undone. A month with a regular visit that
misses a required item is partial (部分完成, naming what is missing) and stays missing — on the lists, the counts and
the instructor's to-do list — until a supplement completes it. Supplements never replace the regular visit. A month
still running is missing but not overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from dangjian.supervision.models import (
    FOUR_ITEM_FIELDS,
    FOUR_ITEM_LABELS,
    Assignment,
    Clue,
    ClueStatus,
    Institution,
    InstructorAppointment,
    Visit,
    VisitPolicy,
    first_of_month,
    month_end,
)
from dangjian.supervision.selectors.policies import most_specific, valid_policies


def required_items(policies, path: str) -> tuple[str, ...]:
    """The “四个一” items (fields of `Visit`) required of an institution at `path` by the most specific of the
    `policies` (`valid_policies(VisitPolicy, year)`); all four when none applies (the Yiyang default)."""
    policy = most_specific(policies, path)
    return policy.required if policy is not None else FOUR_ITEM_FIELDS


def required_items_for(institution: Institution, year: int) -> tuple[str, ...]:
    """The “四个一” items required of `institution` in `year` (`VisitPolicy`; Yiyang seed docs/rules.md)."""
    return required_items(valid_policies(VisitPolicy, year), institution.scope_path)


def missing_labels(required: tuple[str, ...], done) -> tuple[str, ...]:
    """The labels of the `required` items not in `done`, in the order of the four."""
    return tuple(FOUR_ITEM_LABELS[name] for name in required if name not in done)


def _month_items(institutions, month: dt.date) -> dict[int, tuple[bool, set[str]]]:
    """Per institution (of the subquery or list `institutions`): (has the month's regular visit, the items recorded
    by the month's visits together). One query."""
    out: dict[int, tuple[bool, set[str]]] = {}
    rows = (
        Visit.objects.dangerously_all()
        .filter(institution_id__in=institutions, month=month)
        .values_list("institution_id", "is_supplement", *FOUR_ITEM_FIELDS)
        .order_by()
    )
    for inst_id, supplement, *flags in rows:
        regular, done = out.get(inst_id, (False, set()))
        done.update(name for name, flag in zip(FOUR_ITEM_FIELDS, flags, strict=True) if flag)
        out[inst_id] = (regular or not supplement, done)
    return out


def visit_month_missing(visit: Visit) -> tuple[str, ...]:
    """The labels of the “四个一” items required of the visit's institution that its month's visits (this one and the
    others of the month) have not yet recorded: empty when the month is a complete “四个一” visit (module docstring;
    Yiyang seed docs/rules.md)."""
    required = required_items_for(visit.institution, visit.month.year)
    done: set[str] = set()
    for flags in (
        Visit.objects.dangerously_all()
        .filter(institution_id=visit.institution_id, month=visit.month)
        .values_list(*FOUR_ITEM_FIELDS)
    ):
        done.update(name for name, flag in zip(FOUR_ITEM_FIELDS, flags, strict=True) if flag)
    return missing_labels(required, done)


@dataclass(frozen=True)
class MissingVisit:
    institution_id: int
    institution_name: str
    appointment_id: int
    instructor_name: str
    instructor_user_id: int
    month: dt.date
    overdue: bool
    missing_items: tuple[str, ...] = ()  # a partial month: the labels of the required items not recorded

    @property
    def partial(self) -> bool:
        return bool(self.missing_items)

    @property
    def status(self) -> str:
        if self.partial:
            return f"“四个一”未完成（缺：{'、'.join(self.missing_items)}）"
        return "逾期未走访" if self.overdue else "本月未走访"


def visits_missing(*, by, month: dt.date, today: dt.date | None = None, appointment=None) -> list[MissingVisit]:
    """The institutions `by` sees, assigned during `month`, whose month is not a “四个一” visit (module docstring:
    no regular visit, or visits missing an item the `VisitPolicy` requires — Yiyang seed docs/rules.md), per
    institution with the instructor assigned last in the month; for one instructor with `appointment`. Three
    queries."""
    today = today or timezone.localdate()
    month = first_of_month(month)
    end = month_end(month)
    assignments = (
        Assignment.objects.visible_to(by)
        .filter(start_on__lte=end, institution__approval_status="approved")
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=month))
    )
    if appointment is not None:
        assignments = assignments.filter(appointment=appointment)
    rows = assignments.values_list(
        "institution_id",
        "institution__unit__name",
        "appointment_id",
        "appointment__name",
        "appointment__user_id",
        "institution__unit__organization__path",
        "institution__unit__managing_organization__path",
    ).order_by("institution__unit__name", "institution_id", "start_on")
    latest: dict[int, tuple] = {}
    for row in rows:
        latest[row[0]] = row  # ordered by start: the last one wins
    if not latest:
        return []
    visited = _month_items(assignments.values("institution_id"), month)
    policies = valid_policies(VisitPolicy, month.year)
    overdue = end < today
    out = []
    for inst, name, app, instructor, user_id, org_path, managing_path in latest.values():
        regular, done = visited.get(inst, (False, set()))
        lacking = missing_labels(required_items(policies, org_path or managing_path or ""), done)
        if regular and not lacking:
            continue
        out.append(MissingVisit(inst, name, app, instructor, user_id, month, overdue, lacking if regular else ()))
    return out


@dataclass(frozen=True)
class MonthVisits:
    month: dt.date
    due: bool  # an instructor was assigned in the month
    regular: Visit | None
    supplements: int
    missing_items: tuple[str, ...] = ()  # labels of the required items the month's visits did not record

    @property
    def complete(self) -> bool:
        return self.regular is not None and not self.missing_items

    @property
    def status(self) -> str:
        if self.regular is not None:
            return f"部分完成（缺：{'、'.join(self.missing_items)}）" if self.missing_items else "已走访"
        return "未走访" if self.due else "未派驻"


def visit_completeness(*, institution: Institution, year: int, today: dt.date | None = None) -> list[MonthVisits]:
    """Month by month up to today (or the whole past year): whether the month was due, its regular visit, the number
    of supplements and the required “四个一” items its visits did not record (module docstring; `VisitPolicy`, Yiyang
    seed docs/rules.md). The institution is one the caller already sees."""
    today = today or timezone.localdate()
    last = 12 if year < today.year else today.month if year == today.year else 0
    visits = list(institution.visits.filter(month__year=year).select_related("appointment"))
    assignments = list(institution.assignments.all())
    required = required_items_for(institution, year) if last else FOUR_ITEM_FIELDS
    out = []
    for m in range(1, last + 1):
        month = dt.date(year, m, 1)
        end = month_end(month)
        due = any(a.start_on <= end and (a.end_on is None or a.end_on >= month) for a in assignments)
        of_month = [v for v in visits if v.month == month]
        regular = next((v for v in of_month if not v.is_supplement), None)
        supplements = sum(1 for v in of_month if v.is_supplement)
        done = set().union(*(v.items_done for v in of_month))
        lacking = missing_labels(required, done) if regular is not None else ()
        out.append(MonthVisits(month, due, regular, supplements, lacking))
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
    “四个一” visit (complete under the `VisitPolicy`)."""

    appointment: InstructorAppointment
    institutions: tuple[tuple[int, str, bool], ...]  # (pk, name, this month's “四个一” visit complete)

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
    month's “四个一” visit is complete (每月走访完成情况; module docstring, Yiyang seed docs/rules.md). Three
    queries whatever the page size."""
    today = today or timezone.localdate()
    appointments = list(appointments)
    rows = list(
        Assignment.objects.visible_to(by)
        .filter(appointment_id__in=[a.pk for a in appointments], start_on__lte=today)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
        .values_list(
            "appointment_id",
            "institution_id",
            "institution__unit__name",
            "institution__unit__organization__path",
            "institution__unit__managing_organization__path",
        )
        .order_by("institution__unit__name", "institution_id")
    )
    month = first_of_month(today)
    items = _month_items([r[1] for r in rows], month) if rows else {}
    policies = valid_policies(VisitPolicy, month.year) if rows else []
    by_appointment: dict[int, list[tuple[int, str, bool]]] = {}
    for appointment_id, inst_id, name, org_path, managing_path in rows:
        regular, done = items.get(inst_id, (False, set()))
        complete = regular and not missing_labels(required_items(policies, org_path or managing_path or ""), done)
        by_appointment.setdefault(appointment_id, []).append((inst_id, name, complete))
    return [InstructorMonth(a, tuple(by_appointment.get(a.pk, ()))) for a in appointments]


def current_appointment(user, today: dt.date | None = None) -> InstructorAppointment | None:
    """The user's appointment active today, if they are an instructor."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        InstructorAppointment.objects.dangerously_all()
        .active_on(today or timezone.localdate())
        .filter(user=user)
        .first()
    )


def assigned_institutions(appointment: InstructorAppointment, day: dt.date):
    """The institutions assigned to `appointment` on `day` (for the visit form)."""
    assigned = (
        Assignment.objects.dangerously_all()
        .filter(appointment=appointment, start_on__lte=day)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
        .values("institution_id")
    )
    return Institution.objects.dangerously_all().filter(pk__in=assigned).select_related("unit").order_by("unit__name")
