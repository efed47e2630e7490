"""Factories of organizational life. A record belongs to its organization; pass the organization of the place a
test needs. `record()` writes through `orglife.services.record_create` (with the system's access by default) for
tests of the rules; the factory writes rows directly, for dates the service refuses (beyond the lock)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from dangjian.accounts.access import Access
from dangjian.orglife import services
from dangjian.orglife.models import (
    ActivityAttendance,
    ActivityKind,
    ActivityRecord,
    ActivityRecordKind,
    Duty,
    RecordAttachment,
)
from dangjian.orgs.tests.factories import OrganizationFactory


class ActivityRecordFactory(DjangoModelFactory):
    class Meta:
        model = ActivityRecord
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    date = factory.LazyFunction(timezone.localdate)
    topic = factory.Sequence(lambda n: f"测试活动{n:04d}")

    @factory.post_generation
    def kinds(self, create, extracted, **kwargs):
        if create:
            ActivityRecordKind.objects.bulk_create(
                [ActivityRecordKind(record=self, kind=k) for k in (extracted or [ActivityKind.THEME_DAY])]
            )

    @factory.post_generation
    def attendance(self, create, extracted, **kwargs):
        """attendance=[(member, present), …]"""
        if create and extracted:
            ActivityAttendance.objects.bulk_create(
                [ActivityAttendance(record=self, member=m, present=p) for m, p in extracted]
            )


class DutyFactory(DjangoModelFactory):
    class Meta:
        model = Duty

    name = factory.Sequence(lambda n: f"组织生活要求{n:03d}")
    kind = ActivityKind.THEME_DAY
    frequency = "month"
    min_count = 1


def record(org, *, kinds=(ActivityKind.THEME_DAY,), date: dt.date | None = None, by=None, **kwargs) -> ActivityRecord:
    return services.record_create(
        by=by or Access.system_access(),
        organization=org,
        kinds=list(kinds),
        date=date or timezone.localdate(),
        topic=kwargs.pop("topic", "测试活动"),
        **kwargs,
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class RecordAttachmentFactory(DjangoModelFactory):
    class Meta:
        model = RecordAttachment

    record = factory.SubFactory(ActivityRecordFactory)
    name = "签到表.png"
    size = len(PNG)
    file = factory.django.FileField(filename="sign-in.png", data=PNG)
