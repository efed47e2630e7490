"""Two submissions of the step that approves full membership at the same moment write one record and one roster
entry (the person's row is locked for the step). They commit for real, so they run on PostgreSQL only."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from dangjian.development import services
from dangjian.development.models import StepRecord
from dangjian.development.tests.factories import on_path
from dangjian.members.models import Category, Member

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]


def test_full_membership_submitted_twice_at_the_same_moment_writes_the_roster_once(place):
    candidate = on_path(place.secretary, place.branch, to=23, branch_members=place.members)
    Member.objects.filter(pk=candidate.member_id).update(category=Category.PROBATIONARY)
    day = min(candidate.steps.get(number=23).date + dt.timedelta(days=10), timezone.localdate())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            services.step_record(by=place.secretary, candidate=candidate, number=24, date=day)
            outcomes.append("recorded")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        except Exception as exc:  # anything else is a failure the assertion below shows
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("recorded") == 1 and any("只登记一次" in o for o in outcomes), outcomes
    assert StepRecord.objects.filter(candidate=candidate, number=24).count() == 1
    member = Member.objects.with_id_number(candidate.id_number).get()
    assert member.category == Category.FULL
