"""Read-side computations of the classes seam: class lists and details, rosters and attendance, a member's own
classes and sessions, the classes open for enrollment, and the filing warnings (办班事前备案).

Every list is a queryset with its `select_related` / counts built in, so that a page of it costs a fixed number of
queries whatever the number of rows. Lists of members go through `Member.objects.visible_to(user)`: a class seen by
a branch role lists only the members that role may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, DecimalField, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.members.models import Member
from dangjian.orgs.models import Organization
from dangjian.training.models import (
    Attendance,
    ClassStatus,
    Enrollment,
    HoursEntry,
    HoursKind,
    MemberHoursYear,
    SessionStatus,
    TrainingClass,
    TrainingSession,
)

DEFAULT_LONG_UNTRAINED_MONTHS = 12
LONG_UNTRAINED_LISTED = 50
# At most this many 重复调训 / 多头调训 findings are kept on a filing (the counts are kept in full).
FINDINGS_LISTED = 200


def long_untrained_months() -> int:
    """N of 长期漏训 (no training in the last N months): DANGJIAN_LONG_UNTRAINED_MONTHS, default 12."""
    return int(getattr(settings, "DANGJIAN_LONG_UNTRAINED_MONTHS", DEFAULT_LONG_UNTRAINED_MONTHS))


def sign_in_early_minutes() -> int:
    """Sign-in opens this many minutes before a session starts (DANGJIAN_SIGN_IN_EARLY_MINUTES, default 30)."""
    return int(getattr(settings, "DANGJIAN_SIGN_IN_EARLY_MINUTES", 30))


def sign_in_late_minutes() -> int:
    """Sign-in closes this many minutes after a session ends (DANGJIAN_SIGN_IN_LATE_MINUTES, default 30)."""
    return int(getattr(settings, "DANGJIAN_SIGN_IN_LATE_MINUTES", 30))


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it has no such day)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - day 28 exists in every month


def _count(queryset, column: str = "pk") -> Coalesce:
    """A correlated COUNT subquery (several counts on one row without multiplying joins)."""
    return Coalesce(
        Subquery(queryset.order_by().values(column).annotate(n=Count("pk")).values("n")[:1]),
        Value(0),
        output_field=IntegerField(),
    )


# ---------------------------------------------------------------------------------------------------------
# Classes


def class_list(
    *, user, status: str | None = None, organizer: Organization | None = None, year: int | None = None
) -> QuerySet[TrainingClass]:
    """培训班 the user sees (organizer inside their school or branch subtrees, or enrolled), newest first, with
    organizer, school and the counts of sessions and active enrollments: three correlated subqueries, one query
    per page. `organizer` filters to that organization's subtree; `year` to classes starting that year."""
    rows = TrainingClass.objects.visible_to(user).select_related("organizer", "school")
    if status:
        rows = rows.filter(status=status)
    if organizer is not None:
        rows = rows.filter(organizer__path__startswith=organizer.path)
    if year:
        rows = rows.filter(starts_on__year=year)
    by_class = OuterRef("pk")
    return rows.annotate(
        session_count=_count(
            TrainingSession.objects.dangerously_all().filter(training_class=by_class), "training_class"
        ),
        closed_count=_count(
            TrainingSession.objects.dangerously_all().filter(training_class=by_class, status=SessionStatus.CLOSED),
            "training_class",
        ),
        enrolled_count=_count(Enrollment.objects.active().filter(training_class=by_class), "training_class"),
    ).order_by("-starts_on", "-pk")


def class_sessions(*, training_class: TrainingClass) -> QuerySet[TrainingSession]:
    """The sessions of a class in time order, with course, instructor and the number signed in (one query)."""
    return (
        TrainingSession.objects.dangerously_all()
        .filter(training_class=training_class)
        .select_related("course", "instructor")
        .annotate(attendance_count=_count(Attendance.objects.filter(session=OuterRef("pk")), "session"))
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class EnrollmentCounts:
    active: int = 0
    withdrawn: int = 0
    by_source: dict[str, int] = field(default_factory=dict)


def enrollment_counts(*, training_class: TrainingClass) -> EnrollmentCounts:
    """How many are enrolled (by source) and how many withdrew: one grouped query. Counts, not names, so they
    are shown to every viewer of the class."""
    active = withdrawn = 0
    by_source: dict[str, int] = {}
    rows = (
        Enrollment.objects.filter(training_class=training_class)
        .order_by()
        .values("source")
        .annotate(
            active=Count("pk", filter=Q(withdrawn_at__isnull=True)),
            withdrawn=Count("pk", filter=Q(withdrawn_at__isnull=False)),
        )
    )
    for row in rows:
        active += row["active"]
        withdrawn += row["withdrawn"]
        if row["active"]:
            by_source[row["source"]] = row["active"]
    return EnrollmentCounts(active=active, withdrawn=withdrawn, by_source=by_source)


@dataclass(frozen=True)
class ClassDetail:
    training_class: TrainingClass
    counts: EnrollmentCounts
    session_count: int
    open_sessions: int
    total_hours: Decimal


def class_detail(*, training_class: TrainingClass) -> ClassDetail:
    """A class's page header: its enrollment counts and its sessions' count, open count and hours (two queries);
    the page lists the sessions themselves a page at a time (`class_sessions`)."""
    totals = (
        TrainingSession.objects.dangerously_all()
        .filter(training_class=training_class)
        .aggregate(
            count=Count("pk"),
            open=Count("pk", filter=Q(status=SessionStatus.OPEN)),
            hours=Sum("hours"),
        )
    )
    return ClassDetail(
        training_class=training_class,
        counts=enrollment_counts(training_class=training_class),
        session_count=totals["count"] or 0,
        open_sessions=totals["open"] or 0,
        total_hours=totals["hours"] or Decimal("0"),
    )


def class_roster(*, user, training_class: TrainingClass, q: str = "") -> QuerySet[Enrollment]:
    """The active enrollments of a class whose member the user sees, by organization and name, with the member,
    their organization and who enrolled them (one query per page). `q` searches the name."""
    rows = (
        Enrollment.objects.active()
        .filter(training_class=training_class, member__in=Member.objects.visible_to(user).values("pk"))
        .select_related("member__organization", "enrolled_by")
    )
    if q:
        rows = rows.filter(member__name__contains=q.strip())
    return rows.order_by("member__organization__path", "member__name", "pk")


def enrollable_members(*, user, training_class: TrainingClass, q: str) -> QuerySet[Member]:
    """Members the user may pick for a class by name (逐个报名): active, in the user's scope, matching `q`, not
    already enrolled; with their organization. The page shows the first few."""
    enrolled = Enrollment.objects.active().filter(training_class=training_class).values("member_id")
    return (
        Member.objects.visible_to(user)
        .active()
        .filter(name__contains=q.strip())
        .exclude(pk__in=enrolled)
        .select_related("organization")
        .order_by("name", "pk")
    )


# ---------------------------------------------------------------------------------------------------------
# Sessions and attendance


def session_attendance(*, user, session: TrainingSession) -> QuerySet[Member]:
    """A session's attendance list (考勤): every member the user sees who is enrolled in the class or signed in
    (a member who withdrew after signing in still counts), with `signed_at`, `method` and `marked_by_name` of
    their attendance (None: not signed in). One query per page."""
    enrolled = Enrollment.objects.active().filter(training_class_id=session.training_class_id).values("member_id")
    attended = Attendance.objects.filter(session=session)
    mine = attended.filter(member=OuterRef("pk"))
    return (
        Member.objects.visible_to(user)
        .filter(Q(pk__in=enrolled) | Q(pk__in=attended.values("member_id")))
        .select_related("organization")
        .annotate(
            signed_at=Subquery(mine.values("signed_at")[:1]),
            method=Subquery(mine.values("method")[:1]),
            marked_by_name=Subquery(mine.values("marked_by__full_name")[:1]),
        )
        .order_by("organization__path", "name", "pk")
    )


def attendance_counts(*, session: TrainingSession) -> tuple[int, int]:
    """(signed in, enrolled) of a session, for every viewer (counts only)."""
    signed = Attendance.objects.filter(session=session).count()
    enrolled = Enrollment.objects.active().filter(training_class_id=session.training_class_id).count()
    return signed, enrolled


# ---------------------------------------------------------------------------------------------------------
# A member's own classes, and the classes open for enrollment


def member_for(user) -> Member | None:
    """The member record linked to a user account (None for an account that is not a member's)."""
    user_id = getattr(user, "pk", None)
    if user_id is None or not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.dangerously_all().filter(user_id=user_id).select_related("organization").first()


def my_classes(*, member: Member) -> QuerySet[TrainingClass]:
    """我的培训: the classes a member is enrolled in (not withdrawn), newest first, with organizer and school, the
    number of sessions, how many the member signed in to, and the hours credited to the member from them (from
    the ledger's entries of these sessions). One query per page."""
    by_class = OuterRef("pk")
    credited = (
        HoursEntry.objects.dangerously_all()
        .filter(member=member, session__training_class=by_class, kind=HoursKind.CONCENTRATED)
        .order_by()
        .values("member_id")
        .annotate(total=Sum("hours"))
        .values("total")[:1]
    )
    return (
        TrainingClass.objects.dangerously_all()
        .filter(enrollments__member=member, enrollments__withdrawn_at__isnull=True)
        .select_related("organizer", "school")
        .annotate(
            session_count=_count(
                TrainingSession.objects.dangerously_all().filter(training_class=by_class), "training_class"
            ),
            attended_count=_count(
                Attendance.objects.filter(member=member, session__training_class=by_class), "session__training_class"
            ),
            credited_hours=Coalesce(
                Subquery(credited), Value(Decimal("0")), output_field=DecimalField(max_digits=7, decimal_places=1)
            ),
        )
        .order_by("-starts_on", "-pk")
    )


def my_upcoming_sessions(*, member: Member, limit: int = 20) -> list[TrainingSession]:
    """The member's sessions that have not ended (or ended less than the sign-in grace ago), soonest first, with
    their class and whether the member signed in (`signed`): one query."""
    since = timezone.now() - dt.timedelta(minutes=sign_in_late_minutes())
    enrolled = Enrollment.objects.active().filter(member=member).values("training_class_id")
    return list(
        TrainingSession.objects.dangerously_all()
        .filter(
            training_class__in=enrolled,
            training_class__status=ClassStatus.APPROVED,
            status=SessionStatus.OPEN,
            ends_at__gte=since,
        )
        .select_related("training_class")
        .annotate(signed=Exists(Attendance.objects.filter(session=OuterRef("pk"), member=member)))
        .order_by("starts_at", "pk")[:limit]
    )


def upcoming_classes_for(user) -> QuerySet[TrainingClass]:
    """Approved classes the user can see and enroll members into (for the hours seam's one-click enrollment of a
    branch's members who are behind): status 已批准（报名中）, not yet over (结班日期 today or later), soonest
    first, with organizer, school and the active enrollment count. Empty for a user who may enroll nobody (no
    member-editing and no school-managing role): `enrollment_add` checks each member again."""
    access = access_for(user)
    if not (access.system or access.can_edit_members or access.can_manage_schools):
        return TrainingClass.objects.none()
    return (
        TrainingClass.objects.visible_to(user)
        .filter(status=ClassStatus.APPROVED, ends_on__gte=timezone.localdate())
        .select_related("organizer", "school")
        .annotate(
            enrolled_count=_count(Enrollment.objects.active().filter(training_class=OuterRef("pk")), "training_class")
        )
        .order_by("starts_on", "pk")
    )


# ---------------------------------------------------------------------------------------------------------
# Filing warnings (办班事前备案)


def long_untrained(
    *, organization: Organization, months: int | None = None, today: dt.date | None = None
) -> QuerySet[Member]:
    """长期漏训 candidates: active members in the organization's subtree with no training credited in the last
    `months` months (DANGJIAN_LONG_UNTRAINED_MONTHS, default 12). Read from the kept yearly totals
    (`MemberHoursYear.last_entry_on`, the date of the member's latest positive entry of that year), never by
    re-adding the ledger (Huangpi: 办班事前备案 catches 长期漏训)."""
    months = long_untrained_months() if months is None else months
    cutoff = months_before(today or timezone.localdate(), months)
    trained = MemberHoursYear.objects.filter(member=OuterRef("pk"), year__gte=cutoff.year, last_entry_on__gte=cutoff)
    return (
        Member.objects.dangerously_all()
        .active()
        .in_subtree(organization)
        .filter(~Exists(trained))
        .select_related("organization")
        .order_by("organization__path", "name", "pk")
    )


def _repeated(training_class: TrainingClass, enrolled) -> tuple[int, list[dict]]:
    """重复调训: an enrolled member already credited (集中培训) this calendar year for one of this class's courses,
    by another session than this class's own (a reversed credit nets to zero and does not count)."""
    courses = (
        TrainingSession.objects.dangerously_all()
        .filter(training_class=training_class, course__isnull=False)
        .values("course_id")
        .distinct()
    )
    rows = (
        HoursEntry.objects.dangerously_all()
        .filter(
            member__in=enrolled,
            course__in=courses,
            kind=HoursKind.CONCENTRATED,
            year=training_class.starts_on.year,
        )
        .exclude(session__training_class=training_class)
        .order_by()
        .values("member_id", "member__name", "course_id", "course__title")
        .annotate(hours=Sum("hours"))
        .filter(hours__gt=0)
        .order_by("member__name", "member_id", "course__title")
    )
    found = [
        {
            "member_id": row["member_id"],
            "member": row["member__name"],
            "course_id": row["course_id"],
            "course": row["course__title"],
            "hours": str(row["hours"]),
        }
        for row in rows
    ]
    return len(found), found[:FINDINGS_LISTED]


def _overlapping(training_class: TrainingClass, enrolled) -> tuple[int, list[dict]]:
    """多头调训: an enrolled member also enrolled in a class of another organizer whose session overlaps in time
    one of this class's sessions. One query for the overlapping sessions, one for the shared members."""
    mine = list(
        TrainingSession.objects.dangerously_all()
        .filter(training_class=training_class)
        .values("pk", "title", "starts_at", "ends_at")
    )
    if not mine:
        return 0, []
    window = Q(pk__in=[])
    for session in mine:
        window |= Q(starts_at__lt=session["ends_at"], ends_at__gt=session["starts_at"])
    others = list(
        TrainingSession.objects.dangerously_all()
        .filter(window)
        .exclude(training_class=training_class)
        .exclude(training_class__organizer_id=training_class.organizer_id)
        .values("pk", "title", "starts_at", "ends_at", "training_class_id", "training_class__title")
    )
    if not others:
        return 0, []
    shared = (
        Enrollment.objects.active()
        .filter(member__in=enrolled, training_class_id__in={o["training_class_id"] for o in others})
        .values_list("member_id", "member__name", "training_class_id")
        .order_by("member__name", "member_id")
    )
    by_class: dict[int, list[Mapping[str, Any]]] = {}
    for other in others:
        by_class.setdefault(other["training_class_id"], []).append(other)
    found = []
    for member_id, name, class_id in shared:
        for theirs in by_class.get(class_id, ()):
            for session in mine:
                if theirs["starts_at"] < session["ends_at"] and theirs["ends_at"] > session["starts_at"]:
                    found.append(
                        {
                            "member_id": member_id,
                            "member": name,
                            "session": session["title"],
                            "starts_at": f"{timezone.localtime(session['starts_at']):%Y-%m-%d %H:%M}",
                            "other_class_id": class_id,
                            "other_class": theirs["training_class__title"],
                            "other_session": theirs["title"],
                        }
                    )
    return len(found), found[:FINDINGS_LISTED]


def filing_warnings(training_class: TrainingClass) -> dict:
    """What the filing of a class (办班事前备案) warns about; warnings never block filing (Huangpi: the 办班事前备案
    rules exist to catch 多头调训, 重复调训 and 长期漏训):

    - 重复调训 (`repeated`): an enrolled member already credited (集中培训) this calendar year for a course of this
      class's sessions;
    - 多头调训 (`overlapping`): an enrolled member also enrolled in another organizer's class with a session
      overlapping one of this class's;
    - 长期漏训 (`long_untrained`): active members of the organizer's subtree with no training in the last N
      months, listed as candidates (the count and the first 50).

    A JSON-ready dict (kept on the class at filing). It names members; pages show only those the viewer sees
    (`visible_findings`)."""
    enrolled = Enrollment.objects.active().filter(training_class=training_class).values("member_id")
    repeated_count, repeated = _repeated(training_class, enrolled)
    overlapping_count, overlapping = _overlapping(training_class, enrolled)
    months = long_untrained_months()
    candidates = long_untrained(organization=training_class.organizer, months=months)
    listed = list(candidates.values("pk", "name", "organization__name")[:LONG_UNTRAINED_LISTED])
    return {
        "checked_at": timezone.now().isoformat(timespec="seconds"),
        "repeated": {"count": repeated_count, "items": repeated},
        "overlapping": {"count": overlapping_count, "items": overlapping},
        "long_untrained": {
            "months": months,
            "count": candidates.count(),
            "items": [
                {"member_id": row["pk"], "member": row["name"], "organization": row["organization__name"]}
                for row in listed
            ],
        },
    }


@dataclass(frozen=True)
class VisibleFindings:
    """Filing warnings as one viewer may see them: items naming a member the viewer does not see are dropped
    (`hidden` counts them), and another class the viewer does not see is not named."""

    checked_at: dt.datetime | None
    repeated: list[dict]
    overlapping: list[dict]
    long_untrained: list[dict]
    counts: dict[str, int]
    months: int
    hidden: int

    @property
    def any(self) -> bool:
        return any(self.counts.values())


def visible_findings(*, user, warnings: dict) -> VisibleFindings | None:
    """The stored (or freshly computed) filing warnings, filtered for `user`: two queries."""
    if not warnings:
        return None
    sections = {key: warnings.get(key) or {} for key in ("repeated", "overlapping", "long_untrained")}
    member_ids = {item["member_id"] for section in sections.values() for item in section.get("items", ())}
    seen = set(Member.objects.visible_to(user).filter(pk__in=member_ids).values_list("pk", flat=True))
    class_ids = {item["other_class_id"] for item in sections["overlapping"].get("items", ())}
    classes = set(TrainingClass.objects.visible_to(user).filter(pk__in=class_ids).values_list("pk", flat=True))
    kept: dict[str, list[dict]] = {}
    hidden = 0
    for key, section in sections.items():
        kept[key] = []
        for item in section.get("items", ()):
            if item["member_id"] not in seen:
                hidden += 1
                continue
            if key == "overlapping":
                item = {**item, "other_class_visible": item["other_class_id"] in classes}
                if not item["other_class_visible"]:
                    item["other_class"] = "其他主办单位的培训班"
            kept[key].append(item)
    checked_at = None
    try:
        checked_at = dt.datetime.fromisoformat(warnings.get("checked_at", ""))
    except (TypeError, ValueError):
        pass
    return VisibleFindings(
        checked_at=checked_at,
        repeated=kept["repeated"],
        overlapping=kept["overlapping"],
        long_untrained=kept["long_untrained"],
        counts={key: int(section.get("count", 0)) for key, section in sections.items()},
        months=int(sections["long_untrained"].get("months", long_untrained_months())),
        hidden=hidden,
    )
