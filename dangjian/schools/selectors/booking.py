"""Read-side computations of the booking seam (约课 → 选课点单 → 排课派单, Xiqing's menu-style booking: a town
school fills in a 约课邀请函, picks courses from the catalog, the district party school schedules and dispatches).

Lists and the dispatcher's board use a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.schools.models import (
    BookingEvent,
    BookingRequest,
    BookingStatus,
    Instructor,
    PartySchool,
    SchoolLevel,
)

# Bookings that hold an instructor and a venue at their time.
HOLDING_STATUSES = (BookingStatus.SCHEDULED, BookingStatus.COMPLETED)
EDITABLE_STATUSES = (BookingStatus.DRAFT, BookingStatus.RETURNED)
SCHEDULABLE_STATUSES = (BookingStatus.SUBMITTED, BookingStatus.SCHEDULED)
RETURNABLE_STATUSES = (BookingStatus.SUBMITTED, BookingStatus.SCHEDULED)

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(value: str | None) -> dt.date | None:
    """`YYYY-MM` → the first day of that month; None for anything else (years 2000-2100)."""
    match = _MONTH.match((value or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def month_bounds(first: dt.date) -> tuple[dt.date, dt.date]:
    """The first and the last day of the month starting on `first`."""
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, in the project's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def dispatcher_for(school: PartySchool) -> PartySchool | None:
    """The district party school (区委党校) that schedules a school's bookings: the active DISTRICT-level school
    whose organization is the school's own or its nearest ancestor (the deepest organization path that is a
    prefix of the school's). Xiqing: 区委党校（行政学院）统筹“排课派单”. Never sent by the client."""
    org = school.organization
    step = org.steplen
    paths = [org.path[:i] for i in range(step, len(org.path) + 1, step)]
    return (
        PartySchool.objects.dangerously_all()
        .filter(level=SchoolLevel.DISTRICT, active=True, organization__path__in=paths)
        .select_related("organization")
        .order_by("-organization__depth", "code", "pk")
        .first()
    )


def booking_list(
    *, user, status: str | None = None, school: PartySchool | None = None, month: dt.date | None = None
) -> QuerySet[BookingRequest]:
    """The bookings of the schools the user sees (the requesting side; the dispatcher's organization is an
    ancestor of the school's, so its managers see them too), newest first, with what the list shows joined in.

    `month` (its first day) keeps a booking whose session falls in that month, or, not yet scheduled, whose
    wanted dates overlap it."""
    rows = BookingRequest.objects.visible_to(user)
    if status:
        rows = rows.filter(status=status)
    if school is not None:
        rows = rows.filter(school=school)
    if month is not None:
        first, last = month_bounds(month)
        in_month = Q(starts_at__gte=day_start(first), starts_at__lt=day_start(last + dt.timedelta(days=1)))
        wanted = Q(starts_at__isnull=True, wanted_from__lte=last, wanted_to__gte=first)
        rows = rows.filter(in_month | wanted)
    return (
        rows.select_related("school", "dispatcher", "instructor", "venue")
        .annotate(course_count=Count("courses", distinct=True))
        .order_by("-created_at", "-pk")
    )


def booking_detail(*, booking: BookingRequest) -> dict:
    """A booking's page: its courses and its trail (who moved it, from which state to which, when, why)."""
    return {
        "courses": list(booking.courses.select_related("owner").order_by("category", "title", "pk")),
        "trail": list(BookingEvent.objects.filter(booking=booking).select_related("by").order_by("at", "pk")),
    }


@dataclass(frozen=True)
class BookingActions:
    """What a user may do with a booking now (the detail page shows these and only these)."""

    edit: bool = False
    submit: bool = False
    schedule: bool = False
    return_: bool = False
    complete: bool = False

    @property
    def any(self) -> bool:
        return self.edit or self.submit or self.schedule or self.return_ or self.complete


def booking_actions(*, user, booking: BookingRequest) -> BookingActions:
    """The requesting school's managers edit and submit drafts and returned bookings; the dispatcher's managers
    schedule and return submitted or scheduled ones; either side completes a scheduled one once it has ended."""
    requester = access_for(user).can_manage_schools_in(booking.school.organization)
    dispatcher = access_for(user).can_manage_schools_in(booking.dispatcher.organization)
    status = booking.status
    ended = booking.ends_at is not None and booking.ends_at <= timezone.now()
    return BookingActions(
        edit=requester and status in EDITABLE_STATUSES,
        submit=requester and status in EDITABLE_STATUSES,
        schedule=dispatcher and status in SCHEDULABLE_STATUSES,
        return_=dispatcher and status in RETURNABLE_STATUSES,
        complete=(requester or dispatcher) and status == BookingStatus.SCHEDULED and ended,
    )


# ---------------------------------------------------------------------------------------------------------
# Free/busy of an instructor


@dataclass(frozen=True)
class BusySlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    label: str
    booking_id: int | None  # None when the booking is outside the user's scope (only the time is shown)


def instructor_busy(
    *, user, instructor: Instructor, day: dt.date, exclude: BookingRequest | None = None
) -> list[BusySlot]:
    """When an instructor is already booked on a day (scheduled or completed bookings, whoever dispatched them),
    for the schedule form. A booking outside the user's scope shows its time only. Two queries."""
    rows = BookingRequest.objects.dangerously_all().filter(
        instructor=instructor,
        status__in=HOLDING_STATUSES,
        starts_at__lt=day_start(day + dt.timedelta(days=1)),
        ends_at__gt=day_start(day),
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    rows = list(rows.select_related("school", "venue").order_by("starts_at", "pk"))
    visible = set(
        BookingRequest.objects.visible_to(user).filter(pk__in=[b.pk for b in rows]).values_list("pk", flat=True)
    )
    slots = []
    for b in rows:
        seen = b.pk in visible
        label = f"{b.school.name}：{b.topic}" + (f"（{b.venue.name}）" if b.venue else "") if seen else "其他约课"
        slots.append(BusySlot(b.starts_at, b.ends_at, label, b.pk if seen else None))
    return slots


# ---------------------------------------------------------------------------------------------------------
# The dispatcher's board (排课派单): a month calendar and the bookings waiting to be scheduled


def board_dispatchers(*, user) -> QuerySet[PartySchool]:
    """The district party schools whose board the user may open (those they see)."""
    return (
        PartySchool.objects.visible_to(user)
        .filter(level=SchoolLevel.DISTRICT, active=True)
        .select_related("organization")
        .order_by("code")
    )


def default_dispatcher(*, user, schools: QuerySet[PartySchool]) -> PartySchool | None:
    """The board shown first: a district school the user manages, else the first one they see."""
    seen = list(schools)
    managed = [s for s in seen if access_for(user).can_manage_schools_in(s.organization)]
    first = managed or seen
    return first[0] if first else None


@dataclass
class BoardDay:
    date: dt.date
    in_month: bool
    today: bool
    sessions: list[BookingRequest] = field(default_factory=list)


@dataclass
class Board:
    dispatcher: PartySchool
    month: dt.date  # its first day
    weeks: list[list[BoardDay]]
    previous: dt.date
    next: dt.date

    @property
    def days_with_sessions(self) -> list[BoardDay]:
        """The month's days that have sessions (the list shown on small screens)."""
        return [d for week in self.weeks for d in week if d.in_month and d.sessions]

    @property
    def session_count(self) -> int:
        return sum(len(d.sessions) for d in self.days_with_sessions)


def booking_board(*, user, dispatcher: PartySchool, month: dt.date) -> Board:
    """The month calendar of a district school (weeks × days, Monday first; each day its scheduled and completed
    sessions with time, school, instructor and venue). One query for the sessions."""
    month = month.replace(day=1)
    weeks_of_dates = calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    first, last = weeks_of_dates[0][0], weeks_of_dates[-1][-1]
    sessions = (
        BookingRequest.objects.visible_to(user)
        .filter(
            dispatcher=dispatcher,
            status__in=HOLDING_STATUSES,
            starts_at__gte=day_start(first),
            starts_at__lt=day_start(last + dt.timedelta(days=1)),
        )
        .select_related("school", "instructor", "venue", "venue__school")
        .order_by("starts_at", "pk")
    )
    by_day: dict[dt.date, list[BookingRequest]] = {}
    for booking in sessions:
        by_day.setdefault(timezone.localtime(booking.starts_at).date(), []).append(booking)
    today = timezone.localdate()
    weeks = [
        [BoardDay(d, d.month == month.month, d == today, by_day.get(d, [])) for d in week] for week in weeks_of_dates
    ]
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return Board(dispatcher=dispatcher, month=month, weeks=weeks, previous=previous, next=following)


def booking_waiting(*, user, dispatcher: PartySchool) -> QuerySet[BookingRequest]:
    """The submitted bookings waiting for a district school to schedule them, earliest wanted date first."""
    return (
        BookingRequest.objects.visible_to(user)
        .filter(dispatcher=dispatcher, status=BookingStatus.SUBMITTED)
        .select_related("school")
        .annotate(course_count=Count("courses", distinct=True))
        .order_by("wanted_from", "pk")
    )
