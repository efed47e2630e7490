"""The demo's exams: the `member` login has an exam to take, the competence test has results, and who has not passed
is on the secretary's to-do list; exam_report runs on it."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dangjian.exams.models import Attempt, Paper, PaperKind
from dangjian.exams.todo import competence as competence_todo
from dangjian.orgs.models import Organization

pytestmark = pytest.mark.django_db


def test_demo_exams(small_demo, client):
    users = get_user_model().objects
    client.force_login(users.get(username="member"))
    page = client.get(reverse("exams:my_exams")).content.decode()
    assert "党章党规知识测试" in page and "未参加" in page
    test = Paper.objects.get(kind=PaperKind.COMPETENCE)
    finished = Attempt.objects.dangerously_all().filter(assignment__paper=test)
    assert finished.filter(passed=True).exists() and finished.count() >= 2
    today = timezone.localdate()
    assert any("尚未通过" in item.title for item in competence_todo(user=users.get(username="secretary"), today=today))
    out = io.StringIO()
    root = Organization.objects.get(depth=1)
    call_command("exam_report", "--org", root.code, "--year", str(today.year), "--format", "csv", stdout=out)
    header, total, *_ = out.getvalue().splitlines()
    assert header == "党组织编码,党组织名称,应考人数,已考人数,通过人数,通过率"
    required, taken, passed = (int(x) for x in total.split(",")[2:5])
    assert required > taken >= passed > 0
