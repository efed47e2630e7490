"""The demo county's online learning and certificates (演示数据 · 网络学习与证书): three catalog courses with online
material offered by the county (two required, one optional); the `member` login and a few members of their branch
have watched some of them — one course completed (its online hours in the ledger and its certificate), one half
way; and the finished classes' members hold their class certificates.

Progress is written through the heartbeat service, as the player would send it (at past moments), so the ledger,
the kept totals and the certificates come out exactly as in use."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.learning.models import CourseOffer, MaterialKind, OnlineMaterial
from dangjian.learning.services.certificates import class_certificates_issue
from dangjian.learning.services.progress import progress_beat
from dangjian.members.models import Member
from dangjian.orgs.models import Organization
from dangjian.schools.models import Course
from dangjian.training.models import ClassStatus, TrainingClass

# A few bytes that start as an MP4 does: the demo's video stands in for the real upload.
DEMO_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(1024)
DEMO_PDF = b"%PDF-1.4\n% demo\n"
# Each course's video length (minutes) and whether the county requires it.
COURSES = ((20, True), (12, True), (10, False))


def _courses(root: Organization) -> list[Course]:
    """Three courses of the county's catalog for members (the demo's catalog, `schools_demo`)."""
    return list(
        Course.objects.dangerously_all()
        .filter(owner=root, active=True, for_members=True)
        .order_by("pk")[: len(COURSES)]
    )


def _material(course: Course, minutes: int, kind: str = MaterialKind.VIDEO) -> OnlineMaterial:
    row = OnlineMaterial(course=course, title=f"{course.title}（{'视频' if kind != 'pdf' else '讲义'}）", kind=kind)
    row.duration_seconds = minutes * 60
    if kind == MaterialKind.PDF:
        row.file.save("demo.pdf", ContentFile(DEMO_PDF), save=False)
    else:
        row.file.save("demo.mp4", ContentFile(DEMO_MP4), save=False)
    row.save()
    return row


def _watch(user, material: OnlineMaterial, *, share: float, start: dt.datetime) -> None:
    """Play `material` from the start to `share` of it in real time, a heartbeat every 15 seconds."""
    tab = f"demo-{material.pk:08d}"
    end = int(material.duration_seconds * share)
    progress_beat(by=user, material=material, tab=tab, position=0, event="open", now=start)
    position = 0
    while position < end:
        position = min(end, position + 15)
        progress_beat(
            by=user,
            material=material,
            tab=tab,
            position=position,
            event="beat",
            now=start + dt.timedelta(seconds=position),
        )


def write_demo_learning(plan=None, *, seed: int = 1, today: dt.date | None = None) -> dict[str, int]:
    root = Organization.objects.dangerously_all().filter(depth=1).order_by("path").first()
    member = Member.objects.dangerously_all().filter(user__username="member").select_related("organization").first()
    if root is None or member is None or len(_courses(root)) < len(COURSES):
        return {"materials": 0}
    materials = []
    for course, (minutes, required) in zip(_courses(root), COURSES, strict=False):
        video = _material(course, minutes)
        CourseOffer.objects.create(course=course, organization=root, required=required)
        materials.append(video)
    # The member: the first course completed (credited and certified), the second half way, the optional one begun.
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=3)
    _watch(member.user, materials[0], share=0.95, start=start)
    _watch(member.user, materials[1], share=0.5, start=start + dt.timedelta(minutes=30))
    _watch(member.user, materials[2], share=0.2, start=start + dt.timedelta(minutes=50))
    # A few members of the branch with login accounts have begun too.
    others = (
        Member.objects.dangerously_all()
        .filter(organization=member.organization, user__isnull=False)
        .exclude(pk=member.pk)
        .select_related("user")[:3]
    )
    for n, other in enumerate(others):
        _watch(other.user, materials[0], share=0.3 + 0.3 * n, start=start + dt.timedelta(minutes=10 * n))
    # The finished classes certify the members who completed them.
    system = Access.system_access()
    issued = 0
    for training_class in (
        TrainingClass.objects.dangerously_all().filter(status=ClassStatus.FINISHED).order_by("pk")[:5]
    ):
        issued += len(class_certificates_issue(by=system, training_class=training_class))
    return {"materials": len(materials), "class_certificates": issued}


def wipe_demo_learning() -> None:
    """Delete the demo's learning rows (they PROTECT members, courses, classes and ledger entries), for the demo
    tests' wipe."""
    from dangjian.learning.models import (
        Certificate,
        CertificateCounter,
        CourseCompletion,
        DailyLearning,
        MaterialProgress,
    )

    CourseCompletion.objects.dangerously_all().delete()
    MaterialProgress.objects.dangerously_all().delete()
    DailyLearning.objects.all().delete()
    CourseOffer.objects.dangerously_all().delete()
    OnlineMaterial.objects.dangerously_all().delete()
    Certificate.objects.dangerously_all().delete()
    CertificateCounter.objects.all().delete()
