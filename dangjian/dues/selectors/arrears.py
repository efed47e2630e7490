"""Arrears (欠交党费; docs/dues.md, "Arrears"): the members of a subtree with months owed and unpaid among the ended
months of the last year, and the length of their unpaid run up to the last ended month. 3 months unpaid put the
member on the secretary's list; 6 consecutive months are a case for the branch (自行脱党 procedure), which a person
decides — the system only flags it. A fixed number of queries whatever the subtree's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from dangjian.dues.rules import add_months, month_of
from dangjian.dues.selectors.ledger import live_entries, schedules
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization

WINDOW_MONTHS = 12


@dataclass(frozen=True)
class Arrears:
    member: Member
    unpaid: int  # months owed and unpaid in the window
    run: int  # consecutive unpaid months up to the last ended month
    since: dt.date  # the oldest unpaid month of the window


def arrears_in(*, by, org: Organization, today: dt.date | None = None, at_least: int = 1) -> list[Arrears]:
    """The members of `org`'s subtree the user holds with at least `at_least` unpaid months, most months first."""
    today = today or timezone.localdate()
    last = add_months(month_of(today), -1)
    first = add_months(last, -(WINDOW_MONTHS - 1))
    members = list(
        Member.objects.held_by(by)
        .filter(organization__path__startswith=org.path, status=Status.ACTIVE)
        .select_related("organization")
        .order_by("organization__path", "name", "pk")
    )
    ids = [m.pk for m in members]
    due = schedules(ids, first, last)
    paid = live_entries(ids, first, last)
    out = []
    for member in members:
        months = [d for d in due[member.pk].values() if d.owed and month_of(member.join_date) <= d.month]
        unpaid = [d.month for d in months if (member.pk, d.month) not in paid]
        if len(unpaid) < at_least:
            continue
        run = 0
        for d in sorted(due[member.pk].values(), key=lambda d: d.month, reverse=True):
            if d.owed and (member.pk, d.month) not in paid:
                run += 1
            elif d.owed or d.exempt:
                break
            else:
                break
        out.append(Arrears(member=member, unpaid=len(unpaid), run=run, since=min(unpaid)))
    out.sort(key=lambda a: (-a.run, -a.unpaid, a.member.name))
    return out
