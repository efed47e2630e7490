"""Members absent from organizational life (连续未参加组织生活): the case the member-education regulation hands to the
branch — a member who for 6 consecutive months has not taken part in organizational life (连续6个月不参加党的组织生活)
is dealt with by the branch (《中国共产党党员教育管理工作条例》, 2019; 党章第九条 for 自行脱党). The system flags, a
person decides: nothing here changes a member.

The rule. A member is flagged when they are an active member of the organization and have no attendance marked
present (`ActivityAttendance.present`) at any record of their own organization from the first day of the month N
full months before the current one up to `today` (N = DANGJIAN_ORGLIFE_ABSENCE_MONTHS, default 6): on 15 June with
N = 6 the window is 1 December to 15 June, so six full months and the current one. A member who was not in the
organization for the whole window is not flagged: one who joined the party after the window's first day
(`Member.join_date`), or whose organization changed on or after it (an accepted internal transfer, decided then,
or a completed incoming transfer from outside the system, on its transfer date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from dangjian.members.models import Member, MemberTransfer, Status, TransferKind, TransferStatus
from dangjian.orglife.models import ActivityAttendance
from dangjian.orgs.models import Organization

DEFAULT_ABSENCE_MONTHS = 6


def absence_months() -> int:
    """N of the rule (DANGJIAN_ORGLIFE_ABSENCE_MONTHS, default 6: the regulation's 连续6个月)."""
    return int(getattr(settings, "DANGJIAN_ORGLIFE_ABSENCE_MONTHS", DEFAULT_ABSENCE_MONTHS))


def absence_window_start(today: dt.date, months: int) -> dt.date:
    """The first day of the month `months` full months before `today`'s month."""
    index = today.year * 12 + today.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _moved_in_since(start: dt.date) -> QuerySet[MemberTransfer, Mapping[str, Any]]:
    """The members whose organization changed on or after `start` (an uncorrelated subquery: a hashed IN)."""
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    internal = Q(kind=TransferKind.INTERNAL, status=TransferStatus.ACCEPTED, decided_at__gte=since)
    incoming = Q(
        kind=TransferKind.INCOMING,
        status__in=(TransferStatus.COMPLETED, TransferStatus.ACCEPTED),
        transfer_date__gte=start,
    )
    return MemberTransfer.objects.dangerously_all().filter(internal | incoming).values("member_id")


def _present_at_own_organization(since: dt.date | None = None, until: dt.date | None = None):
    attendances = ActivityAttendance.objects.filter(
        member=OuterRef("pk"), present=True, record__organization=OuterRef("organization")
    )
    if since is not None:
        attendances = attendances.filter(record__date__gte=since)
    if until is not None:
        attendances = attendances.filter(record__date__lte=until)
    return attendances


def absent_members(
    *, by, org: Organization, today: dt.date | None = None, months: int | None = None
) -> QuerySet[Member]:
    """The active members of `org`'s subtree on `by`'s rolls (`Member.objects.held_by`: a member in transfer is
    counted on the sending side) who have not been present at any activity of their organization for `months`
    (default `absence_months()`) consecutive full months, by the module's rule; ordered by organization and name.
    One query (the attendance test is a NOT EXISTS, the move-ins a hashed IN)."""
    today = today or timezone.localdate()
    months = absence_months() if months is None else months
    start = absence_window_start(today, months)
    return (
        Member.objects.dangerously_all()
        .held_by(by)
        .filter(organization__path__startswith=org.path, status=Status.ACTIVE, join_date__lte=start)
        .exclude(pk__in=_moved_in_since(start))
        .exclude(Exists(_present_at_own_organization(since=start, until=today)))
        .order_by("organization__path", "name", "pk")
    )


def with_last_present(members: QuerySet[Member]) -> QuerySet[Member]:
    """The members with `last_present`: the date of the last activity of their organization they were present at
    (None: never), for the list page."""
    last = (
        _present_at_own_organization()
        .order_by()
        .values("member_id")
        .annotate(last=Max("record__date"))
        .values("last")[:1]
    )
    return members.select_related("organization").annotate(last_present=Subquery(last))
