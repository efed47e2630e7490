"""The demo county: the `member` login has online progress, a completed course credited to the ledger, and
certificates."""

from __future__ import annotations

import pytest
from django.test import Client

from dangjian.learning.models import Certificate, CertificateKind, CourseCompletion, MaterialProgress
from dangjian.members.models import Member
from dangjian.training.models import HoursEntry, HoursKind

pytestmark = pytest.mark.django_db


def test_the_member_login_sees_their_online_progress_and_certificates(small_demo):
    member = Member.objects.dangerously_all().get(user__username="member")
    assert MaterialProgress.objects.filter(member=member).count() == 3
    completion = CourseCompletion.objects.get(member=member)
    assert HoursEntry.objects.filter(member=member, kind=HoursKind.ONLINE, course=completion.course).count() == 1
    assert Certificate.objects.dangerously_all().filter(member=member, kind=CertificateKind.COURSE).exists()
    client = Client()
    client.force_login(member.user)
    courses = client.get("/learning/").content.decode()
    assert completion.course.title in courses and "已完成" in courses
    certificates = client.get("/learning/certificates/").content.decode()
    assert completion.course.title in certificates
