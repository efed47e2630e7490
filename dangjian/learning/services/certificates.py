"""Certificates (证书): a finished class, a completed online course or a passed test issues a numbered certificate
(docs/learning.md, "Certificates"; docs/rules.md, "Rules and numbers from the seeds": every class ends in a
certificate people are asked to show).

- One certificate per member and source: issuing again returns the one already issued, never a second number.
- Numbers are sequential per year, `ZS2026-000123`: the year's counter row is incremented with an UPDATE in the
  issuing transaction (the row stays locked until it commits), and the (year, serial) pair is unique besides.
- The caller has checked scope over the source; this module checks the certificate's own fields.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from dangjian.core.services import Errors, service
from dangjian.learning.models import Certificate, CertificateCounter, CertificateKind
from dangjian.orgs.models import Organization

PREFIX = "ZS"


def certificate_number(year: int, serial: int) -> str:
    return f"{PREFIX}{year}-{serial:06d}"


def _next_serial(year: int) -> int:
    CertificateCounter.objects.bulk_create([CertificateCounter(year=year)], ignore_conflicts=True)
    # The UPDATE takes the row's lock until the transaction ends: a concurrent issue waits and reads the next value.
    CertificateCounter.objects.filter(year=year).update(last=F("last") + 1)
    return CertificateCounter.objects.values_list("last", flat=True).get(year=year)


def _existing(*, kind: str, source_type: ContentType, source_id: int, member_id: int) -> Certificate | None:
    return (
        Certificate.objects.dangerously_all()
        .filter(kind=kind, source_type=source_type, source_id=source_id, member_id=member_id)
        .first()
    )


@service
def issue_certificate(*, member, title: str, kind: str, source, issuer, on: dt.date) -> Certificate:
    """Issue `member` a certificate for `source` (a finished class, a completed course, a passed test), by `issuer`
    on `on`. Idempotent per (kind, source, member): a second call returns the certificate already issued."""
    errors = Errors()
    title = (title or "").strip()
    if not title:
        errors.add("title", "请填写证书名称。")
    elif len(title) > 200:
        errors.add("title", "证书名称不能超过200个字。")
    if kind not in CertificateKind.values:
        errors.add("kind", "证书类型无效。")
    if member is None or getattr(member, "pk", None) is None:
        errors.add("member", "请指定获证党员。")
    if source is None or getattr(source, "pk", None) is None:
        errors.add("source", "请指定证书的来源（培训班、课程或考试）。")
    if not isinstance(issuer, Organization):
        errors.add("issuer", "请指定发证党组织。")
    if not isinstance(on, dt.date):
        errors.add("issued_on", "发证日期无效。")
    elif on > timezone.localdate():
        errors.add("issued_on", "发证日期不能晚于今天。")
    errors.raise_if_any()

    source_type = ContentType.objects.get_for_model(source, for_concrete_model=True)
    found = _existing(kind=kind, source_type=source_type, source_id=source.pk, member_id=member.pk)
    if found is not None:
        return found
    try:
        # A savepoint: when a concurrent issue for the same member and source won, its serial is not consumed.
        with transaction.atomic():
            serial = _next_serial(on.year)
            return Certificate.objects.create(
                number=certificate_number(on.year, serial),
                year=on.year,
                serial=serial,
                member=member,
                title=title,
                kind=kind,
                source_type=source_type,
                source_id=source.pk,
                issuer=issuer,
                issued_on=on,
            )
    except IntegrityError:
        found = _existing(kind=kind, source_type=source_type, source_id=source.pk, member_id=member.pk)
        if found is None:
            raise
        return found


def class_completers(training_class):
    """The members who completed a class (结业): enrolled and not withdrawn, present at every session."""
    from dangjian.members.models import Member
    from dangjian.training.models import Attendance

    sessions = training_class.sessions.count()
    if not sessions:
        return Member.objects.none()
    attended = (
        Attendance.objects.filter(session__training_class=training_class)
        .values("member_id")
        .annotate(n=Count("session", distinct=True))
        .filter(n__gte=sessions)
        .values("member_id")
    )
    enrolled = training_class.enrollments.filter(withdrawn_at__isnull=True).values("member_id")
    return (
        Member.objects.dangerously_all()  # reached through the class, which the caller runs
        .filter(Q(pk__in=enrolled) & Q(pk__in=attended))
        .order_by("pk")
    )


@service
def class_certificates_issue(*, by, training_class) -> list[Certificate]:
    """Issue the certificates of a finished class (培训班结业证书) to the members who completed it, by the class's
    organizer, dated the class's last day (or today when that is later). Called when the class is finished; issuing
    again adds only the missing ones. `by` has been checked as the class's runner by the caller."""
    if training_class.status != "finished":
        raise ValidationError("只有已结班的培训班可以颁发结业证书。")
    on = min(training_class.ends_on, timezone.localdate())
    title = f"{training_class.title}结业证书"
    return [
        issue_certificate(
            member=member,
            title=title,
            kind=CertificateKind.CLASS,
            source=training_class,
            issuer=training_class.organizer,
            on=on,
        )
        for member in class_completers(training_class)
    ]
