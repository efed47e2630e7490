"""The short course's hours from the training ledger (学时台账) for a person who is in the member roster."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Sum

from dangjian.development.models import Candidate, StepRecord
from dangjian.development.steps import step_list
from dangjian.members.models import Member
from dangjian.training.models import HoursEntry


def course_hours_from_ledger(*, by, candidate: Candidate, until: dt.date) -> Decimal | None:
    """The hours credited to the person in the ledger since they became a development candidate (the step that
    makes them one) up to `until`, when they are in the roster the user sees (their linked entry, or a member with
    the same ID number); None when they are not, and the hours are entered by hand."""
    member = candidate.member or Member.objects.visible_to(by).with_id_number(candidate.id_number).first()
    if member is None:
        return None
    since = (
        StepRecord.objects.dangerously_all()
        .filter(candidate=candidate, number=step_list().number_of(becomes="development"))
        .values_list("date", flat=True)
        .first()
    )
    entries = HoursEntry.objects.visible_to(by).filter(member=member, date__lte=until)
    if since is not None:
        entries = entries.filter(date__gte=since)
    return entries.aggregate(total=Sum("hours"))["total"] or Decimal("0")
