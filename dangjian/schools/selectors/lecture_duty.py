"""The 上讲台 duty (Huangpi, 《关于建立黄陂区领导干部上讲台制度的实施意见（试行）》:
区级领导每年至少上党校讲台一次，处级干部每年至少在业余党校、本系统论坛讲坛授课一次): for a year and a scope, who owes
a lecture under each active `LectureDuty`, how many they gave, and which school should invite those who have not.

A lecture is a completed booking (约课, 已完成) or a closed session (课次, 考勤已确认) whose instructor is linked to the
member (`Instructor.member`), given in the year at a school of the duty's level: the booking's requesting school;
the session's class school (else the school of the booking it came from). A session made from a completed booking
is the same lecture and counts once (the booking).

Who should invite a member who has not taught: the active schools of the duty's level in the member's own
organization's subtree, else those of the nearest organization above that has one (a district leader → the district
party school; a division-level cadre → the amateur school(s) of their organization, or the nearest above).

Queries are bounded whatever the scope: one for the duties, one per duty for its members, two aggregates for the
lectures of the year and one for the schools — never one per member. Training is read through the model registry
(training builds on schools).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.todo import TodoItem
from dangjian.members.models import Flag, Member, PartyPost, Status
from dangjian.members.selectors import members_flagged_on
from dangjian.orgs.models import Organization, ancestor_paths, subtree_q
from dangjian.schools.models import (
    BookingRequest,
    BookingStatus,
    LectureDuty,
    LectureDutyWho,
    PartySchool,
)


@dataclass
class DutyLine:
    """One member under one duty in a year: required and given lectures, and the schools that should invite them."""

    duty: LectureDuty
    member: Member
    taught: int
    inviting: list[PartySchool] = field(default_factory=list)

    @property
    def required(self) -> int:
        return self.duty.times_per_year

    @property
    def done(self) -> bool:
        return self.taught >= self.required

    @property
    def missing(self) -> int:
        return max(self.required - self.taught, 0)


def duties_for(year: int) -> list[LectureDuty]:
    """The active duties valid in `year`, in their order."""
    return list(
        LectureDuty.objects.filter(active=True, valid_from__lte=year)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))
        .order_by("pk")
    )


def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime(year, 1, 1), tz),
        timezone.make_aware(dt.datetime(year + 1, 1, 1), tz),
    )


def owed_q(duty: LectureDuty, year: int) -> Q:
    """Who owes `duty` in `year`, by its `who`: holding a party post in the year at a top organization (区级领导),
    flagged 区管干部 (处级干部) or flagged 班子成员."""
    # The flags of the year's end: a member re-categorized since owes as they were then.
    if duty.who == LectureDutyWho.DISTRICT_CADRES:
        return Q(pk__in=members_flagged_on(Flag.DISTRICT_CADRE, dt.date(year, 12, 31)).values("pk"))
    if duty.who == LectureDutyWho.LEADERSHIP:
        return Q(pk__in=members_flagged_on(Flag.LEADERSHIP, dt.date(year, 12, 31)).values("pk"))
    posts = PartyPost.objects.filter(organization__depth=1, start_date__lte=dt.date(year, 12, 31)).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=dt.date(year, 1, 1))
    )
    return Q(pk__in=posts.values("member_id"))


def owed_by(duty: LectureDuty, members, year: int):
    """The members of `members` (a queryset) on the rolls (正常) at the end of `year` who owe `duty` in it."""
    on_rolls = Q(status=Status.ACTIVE) | Q(status_changed_on__gt=dt.date(year, 12, 31))
    return members.filter(on_rolls, join_date__lte=dt.date(year, 12, 31)).filter(owed_q(duty, year))


def lectures_in(year: int, members) -> dict[tuple[int, str], int]:
    """Lectures given in `year` by the members of `members` (a queryset), by (member id, school level): two
    aggregate queries."""
    start, end = _year_bounds(year)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    member_ids = members.values("pk")
    bookings = (
        BookingRequest.objects.dangerously_all()
        .filter(
            status=BookingStatus.COMPLETED,
            instructor__member__in=member_ids,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .values_list("instructor__member_id", "school__level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for member_id, level, n in bookings:
        counts[(member_id, level)] += n
    session_model = apps.get_model("training", "TrainingSession")
    sessions = (
        session_model.objects.filter(
            status="closed",  # training.models.SessionStatus.CLOSED
            instructor__member__in=member_ids,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .exclude(booking__status=BookingStatus.COMPLETED)  # counted as the booking
        .annotate(level=Coalesce(F("training_class__school__level"), F("booking__school__level")))
        .filter(level__isnull=False)
        .values_list("instructor__member_id", "level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for member_id, level, n in sessions:
        counts[(member_id, level)] += n
    return counts


def _inviting(org_path: str, schools: list[tuple[str, PartySchool]]) -> list[PartySchool]:
    """The schools of `schools` ((organization path, school), of the right levels) that should invite a member of the
    organization at `org_path`: those in its subtree, else those of the nearest organization above."""
    below = [s for path, s in schools if path.startswith(org_path)]
    if below:
        return below
    above = [(path, s) for path, s in schools if org_path.startswith(path)]
    if not above:
        return []
    nearest = max(len(path) for path, _ in above)
    return [s for path, s in above if len(path) == nearest]


def _schools_by_level(levels: set[str], org_paths: set[str]) -> dict[str, list[tuple[str, PartySchool]]]:
    """The active schools of `levels` in the trees holding `org_paths` (one query), by level."""
    tops = {path[: Organization.steplen] for path in org_paths}
    if not tops or not levels:
        return {}
    tree = Q()
    for top in tops:
        tree |= Q(organization__path__startswith=top)
    found: dict[str, list[tuple[str, PartySchool]]] = defaultdict(list)
    for school in (
        PartySchool.objects.dangerously_all()
        .filter(tree, active=True, level__in=levels)
        .select_related("organization")
        .order_by("organization__path", "code")
    ):
        found[school.level].append((school.organization.path, school))
    return found


def duty_lines(
    *,
    members,
    year: int,
    duties: list[LectureDuty] | None = None,
    with_inviting: bool = True,
) -> list[DutyLine]:
    """Every member of `members` (a scoped queryset) who owes a duty in `year`, with the lectures they gave at
    a school of the duty's level and (with `with_inviting`) the schools that should invite them. Ordered by duty,
    organization, name."""
    duties = duties_for(year) if duties is None else duties
    if not duties:
        return []
    owed: list[tuple[LectureDuty, list[Member]]] = []
    for duty in duties:
        rows = list(
            owed_by(duty, members, year).select_related("organization").order_by("organization__path", "name", "pk")
        )
        owed.append((duty, rows))
    everyone = {m.pk for _d, rows in owed for m in rows}
    if not everyone:
        return []
    anyone = Q()
    for duty in duties:
        anyone |= owed_q(duty, year)
    counts = lectures_in(year, members.filter(status=Status.ACTIVE).filter(anyone))
    schools: dict[str, list[tuple[str, PartySchool]]] = {}
    if with_inviting:
        levels = {level for duty in duties for level in duty.levels}
        schools = _schools_by_level(levels, {m.organization.path for _d, rows in owed for m in rows})
    lines = []
    for duty, rows in owed:
        candidates = [pair for level in duty.levels for pair in schools.get(level, [])]
        for member in rows:
            taught = sum(counts.get((member.pk, level), 0) for level in duty.levels)
            line = DutyLine(duty=duty, member=member, taught=taught)
            if with_inviting and not line.done:
                line.inviting = _inviting(member.organization.path, candidates)
            lines.append(line)
    return lines


def lecture_duty_report(
    *, user, year: int, organization: Organization | None = None, duty: LectureDuty | None = None, pending_only=True
) -> list[DutyLine]:
    """The 上讲台 report of a year over the user's scope (the members on their rolls, `Member.held_by`), optionally
    under an organization and for one duty: by default only who has not (yet) taught as often as required."""
    members = Member.objects.held_by(user)
    if organization is not None:
        members = members.in_subtree(organization)
    lines = duty_lines(members=members, year=year, duties=[duty] if duty is not None else None)
    return [line for line in lines if not line.done] if pending_only else lines


def lecture_duty_todo_lines(*, user, today: dt.date) -> list[tuple[DutyLine, list[PartySchool]]]:
    """The members a party-school admin's schools should invite this year: every member who owes a duty and has
    not yet taught enough, whose inviting schools include a school managed by the user (a school in the subtree of
    one of their school-managing roles). The members considered are those of the user's manage subtrees and of
    the organizations above them (an amateur school of a branch invites the cadres of its committee). Returns each
    line with the user's inviting schools."""
    access = access_for(user)
    roots = access.roots_of({Role.SCHOOL_ADMIN})
    if not roots:
        return []
    duties = duties_for(today.year)
    if not duties:
        return []
    levels = {level for duty in duties for level in duty.levels}
    mine = set(
        PartySchool.objects.dangerously_all()
        .filter(subtree_q(roots, "organization__path"), active=True, level__in=levels)
        .values_list("pk", flat=True)
    )
    if not mine:
        return []
    members = Member.objects.dangerously_all().filter(
        subtree_q(roots, "organization__path") | Q(organization__path__in=ancestor_paths(roots))
    )
    result = []
    for line in duty_lines(members=members, year=today.year, duties=duties):
        if line.done:
            continue
        schools = [s for s in line.inviting if s.pk in mine]
        if schools:
            result.append((line, schools))
    return result


# At most this many to-do items (the report lists them all).
ITEM_LIMIT = 200
ITEM_KIND = "领导干部上讲台"


def lecture_duty_todo_items(*, user, today: dt.date) -> list[TodoItem]:
    """The to-do items (待办) of the 上讲台 duty (registered by `schools.todo`). During the year, a
    party-school admin (党校管理员) gets one item per member their school should invite who has not yet taught as
    often as the duty requires (`lecture_duty_todo_lines`); key "lecture-duty:<duty pk>:<member pk>", period the
    year. A fixed number of queries whatever the scope."""
    lines = lecture_duty_todo_lines(user=user, today=today)
    url = f"{reverse('schools:lecture_duty_report')}?{urlencode({'year': today.year})}"
    items = []
    for line, schools in lines[:ITEM_LIMIT]:
        member = line.member
        items.append(
            TodoItem(
                kind=ITEM_KIND,
                title=f"邀请{member.name}（{member.organization.name}）到{'、'.join(s.name for s in schools)}"
                f"上讲台：{line.duty.name}，{today.year}年已授课{line.taught}次，至少{line.required}次",
                url=url,
                key=f"lecture-duty:{line.duty.pk}:{member.pk}",
                period=str(today.year),
                since=dt.date(today.year, 1, 1),
                overdue=False,
            )
        )
    return items
