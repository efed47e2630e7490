"""The demo county's member development: the `secretary` login's branch has people at several stages, one overdue
step, one extended probation and a full member admitted through the path."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dangjian.development import todo
from dangjian.development.models import Candidate, CandidateStage, PlanQuota, ProbationExtension
from dangjian.members.models import Category

pytestmark = pytest.mark.django_db


def test_the_secretary_has_people_at_several_stages(small_demo):
    secretary = get_user_model().objects.get(username="secretary")
    people = Candidate.objects.visible_to(secretary)
    assert set(people.values_list("stage", flat=True)) >= {
        CandidateStage.APPLICANT,
        CandidateStage.ACTIVIST,
        CandidateStage.DEVELOPMENT,
        CandidateStage.PROBATIONARY,
        CandidateStage.FULL,
    }
    assert ProbationExtension.objects.visible_to(secretary).count() == 1
    full = people.get(stage=CandidateStage.FULL)
    assert full.member is not None and full.member.category == Category.FULL
    items = todo.next_steps(user=secretary, today=timezone.localdate())
    assert sum(item.overdue for item in items) == 1 and len(items) >= 3
    assert PlanQuota.objects.visible_to(secretary).filter(year=timezone.localdate().year).exists()
