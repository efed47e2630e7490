"""Factories of online learning and certificates. Certificates are issued through the service, never built by a
factory, so that their numbers come from the year's counter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from dangjian.learning.models import Certificate, CertificateKind, CourseOffer, MaterialKind, OnlineMaterial
from dangjian.learning.services.certificates import issue_certificate
from dangjian.training.tests.factories import TrainingClassFactory


def certificate(member, *, source=None, kind=CertificateKind.CLASS, title="测试培训班结业证书", on=None) -> Certificate:
    """A certificate for `member` (for a new class of the member's organization unless `source` is given)."""
    source = source or TrainingClassFactory(organizer=member.organization)
    on = on or timezone.localdate() - dt.timedelta(days=1)
    return issue_certificate(member=member, title=title, kind=kind, source=source, issuer=member.organization, on=on)


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 4


def material(course, *, kind=MaterialKind.VIDEO, minutes: int = 10, title: str = "专题视频") -> OnlineMaterial:
    """A material row written directly, with a small file for the kinds that have one (scope and page tests)."""
    row = OnlineMaterial(course=course, title=title, kind=kind, duration_seconds=minutes * 60)
    if kind == MaterialKind.LINK:
        row.url = "https://video.example.cn/course/1"
    elif kind == MaterialKind.PDF:
        row.file.save("doc.pdf", ContentFile(b"%PDF-1.4\n%test\n"), save=False)
    else:
        row.file.save("video.mp4", ContentFile(MP4), save=False)
    row.save()
    return row


def offer(course, organization, *, required: bool = True, training_class=None) -> CourseOffer:
    return CourseOffer.objects.create(
        course=course, organization=organization, required=required, training_class=training_class
    )


def online_course(owner, *, hours: str = "2", minutes: int = 10, kind=MaterialKind.VIDEO):
    """A catalog course of `owner` with one tracked material."""
    from dangjian.schools.tests.factories import CourseFactory

    course = CourseFactory(owner=owner, hours=Decimal(hours))
    return course, material(course, kind=kind, minutes=minutes)
