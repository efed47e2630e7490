"""What a member sees first on the home page (我的): their hours of the year against their requirement (and what
counted), their next class session and how to sign in to it, and the latest organizational life of their branch
with their own attendance — their own work, not the statistics of a subtree (docs/rules.md, "Who uses it": a party
member sees themself).

Read through the same selectors as the member's own pages (我的学时, 我的培训), so the figures agree with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from dangjian.members.models import Member
from dangjian.orglife.models import ActivityAttendance, ActivityRecord
from dangjian.training.models import SessionStatus, TrainingSession
from dangjian.training.selectors.classes import member_for
from dangjian.training.selectors.compliance import YearSummary, member_year

RECORDS_SHOWN = 3


@dataclass(frozen=True)
class RecordLine:
    record: ActivityRecord
    attended: bool | None  # None: not on the record's attendance

    @property
    def attendance_label(self) -> str:
        return {True: "出席", False: "缺席", None: "未登记"}[self.attended]


@dataclass(frozen=True)
class MemberHome:
    member: Member
    hours: YearSummary
    next_session: TrainingSession | None
    signs_in_today: bool
    records: list[RecordLine] = field(default_factory=list)


def _next_session(user, member: Member, now: dt.datetime) -> TrainingSession | None:
    """The member's next (or running) session of a class they are enrolled in and not withdrawn from."""
    return (
        TrainingSession.objects.visible_to(user)
        .filter(
            training_class__enrollments__member=member,
            training_class__enrollments__withdrawn_at__isnull=True,
            ends_at__gte=now,
        )
        .exclude(status=SessionStatus.CLOSED)
        .select_related("training_class")
        .order_by("starts_at", "pk")
        .first()
    )


def _records(user, member: Member) -> list[RecordLine]:
    records = list(
        ActivityRecord.objects.visible_to(user)
        .filter(organization_id=member.organization_id)
        .prefetch_related("kinds")
        .order_by("-date", "-pk")[:RECORDS_SHOWN]
    )
    attended = dict(
        ActivityAttendance.objects.filter(record__in=records, member=member).values_list("record_id", "present")
    )
    return [RecordLine(record, attended.get(record.pk)) for record in records]


def member_home(user, *, today: dt.date | None = None) -> MemberHome | None:
    """The home panel of the member linked to `user` (None for an account that is not a member's). Five queries."""
    member = member_for(user)
    if member is None:
        return None
    now = timezone.localtime()
    today = today or now.date()
    session = _next_session(user, member, now)
    return MemberHome(
        member=member,
        hours=member_year(member, today.year, today=today),
        next_session=session,
        signs_in_today=session is not None and timezone.localtime(session.starts_at).date() == today,
        records=_records(user, member),
    )
