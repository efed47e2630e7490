"""Factories of the dues. Bases, payments and reductions go through the services (with the system's access by
default), so tests set up data the way users do."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.dues import services
from dangjian.dues.models import BaseSource, DuesBase, DuesPayment, StandingChoice

SYSTEM = Access.system_access()


def base(
    member, amount="4000.00", *, standing=StandingChoice.EMPLOYED, effective=None, by=SYSTEM, **kwargs
) -> DuesBase:
    """A base from `effective` (a month; default the current one). Past months are written directly (the service
    refuses a base in the past), with the amount the rule gives."""
    if effective is not None and effective < timezone.localdate().replace(day=1):
        from dangjian.dues.rules import monthly_due
        from dangjian.dues.selectors.policy import policy_for

        value = None if amount is None else Decimal(amount)
        rate, due = monthly_due(value, standing, policy_for(member.organization, effective.year))
        return DuesBase.objects.create(
            member=member,
            standing=standing,
            amount=value,
            effective=effective,
            rate=rate,
            monthly_due=due,
            source=kwargs.get("source", BaseSource.ANNUAL),
        )
    return services.base_set(by=by, member=member, amount=amount, standing=standing, effective=effective, **kwargs)


def pay(member, *, by=SYSTEM, **kwargs) -> DuesPayment:
    return services.payment_record(by=by, member=member, **kwargs)
