"""Factories of training and hours. A class belongs to its organizer; pass the organization of the place a test
needs. Ledger entries are written through `training.services.ledger`, never by a factory, so the kept totals
stay equal to the ledger (use `credit()` below)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from dangjian.accounts.access import Access
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.training.models import ClassStatus, HoursEntry, HoursKind, HoursPolicy, TrainingClass, TrainingSession


class TrainingClassFactory(DjangoModelFactory):
    class Meta:
        model = TrainingClass

    title = factory.Sequence(lambda n: f"测试培训班{n:04d}")
    organizer = factory.SubFactory(OrganizationFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate())
    ends_on = factory.LazyAttribute(lambda o: o.starts_on + dt.timedelta(days=2))
    status = ClassStatus.APPROVED


def _session_start():
    return timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)


class TrainingSessionFactory(DjangoModelFactory):
    class Meta:
        model = TrainingSession

    training_class = factory.SubFactory(TrainingClassFactory)
    title = factory.Sequence(lambda n: f"专题课{n:04d}")
    starts_at = factory.LazyFunction(_session_start)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=3))
    hours = Decimal("3")
    short_code = factory.Sequence(lambda n: f"{n:06d}")


class HoursPolicyFactory(DjangoModelFactory):
    class Meta:
        model = HoursPolicy

    name = factory.Sequence(lambda n: f"学时要求{n:03d}")
    owner = factory.SubFactory(OrganizationFactory)
    required_hours = Decimal("32")
    valid_from = 2020


def credit(member, hours="2", kind=HoursKind.CONCENTRATED, on: dt.date | None = None, **extra) -> HoursEntry:
    """A ledger credit through the service (with the system access)."""
    from dangjian.training.services.ledger import hours_credit

    reason = extra.pop("reason", "测试补录" if kind in (HoursKind.MANUAL, HoursKind.EXTERNAL) else "")
    return hours_credit(
        by=Access.system_access(),
        member=member,
        on=on or timezone.localdate(),
        hours=hours,
        kind=kind,
        reason=reason,
        **extra,
    )
