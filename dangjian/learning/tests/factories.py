"""Factories of online learning and certificates. Certificates are issued through the service, never built by a
factory, so that their numbers come from the year's counter."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dangjian.learning.models import Certificate, CertificateKind
from dangjian.learning.services.certificates import issue_certificate
from dangjian.training.tests.factories import TrainingClassFactory


def certificate(member, *, source=None, kind=CertificateKind.CLASS, title="测试培训班结业证书", on=None) -> Certificate:
    """A certificate for `member` (for a new class of the member's organization unless `source` is given)."""
    source = source or TrainingClassFactory(organizer=member.organization)
    on = on or timezone.localdate() - dt.timedelta(days=1)
    return issue_certificate(member=member, title=title, kind=kind, source=source, issuer=member.organization, on=on)
