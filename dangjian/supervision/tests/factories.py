"""Factories of the off-campus institutions' party building. `institution()` builds a training-institution unit
under an organization (covered by it, or only managed by it with `covered=False`) and registers it; `instructor()`
appoints a user; `assign()` and `visit()` go through the services with the system access."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.core.files.base import ContentFile
from django.test import Client
from factory.django import DjangoModelFactory

from dangjian.accounts.access import Access
from dangjian.accounts.tests.factories import UserFactory
from dangjian.orgs.models import UnitKind
from dangjian.orgs.tests.factories import UnitFactory
from dangjian.supervision.models import (
    AppointmentSource,
    ApprovalStatus,
    Clue,
    Institution,
    InstructorAppointment,
    Pairing,
    SubjectType,
    Visit,
    VisitPhoto,
    first_of_month,
)
from dangjian.supervision.services.clues import clue_record
from dangjian.supervision.services.institutions import institution_register
from dangjian.supervision.services.instructors import institution_assign, instructor_appoint
from dangjian.supervision.services.visits import visit_record

SYSTEM = Access.system_access()
_licences = itertools.count(1)


def licence(n: int | None = None) -> str:
    return f"教民{430902270000000 + (n if n is not None else next(_licences)):015d}号"


class InstitutionFactory(DjangoModelFactory):
    """A row written directly (for the scope test and page tests); tests of the rules use `institution()`."""

    class Meta:
        model = Institution

    unit = factory.SubFactory(UnitFactory, kind=UnitKind.TRAINING_INSTITUTION)
    licence_no = factory.LazyFunction(licence)
    subject_type = SubjectType.NON_SUBJECT
    approval_status = ApprovalStatus.APPROVED
    approved_on = dt.date(2023, 3, 1)
    staff_count = 8
    area = "城东"


def institution(org, *, covered: bool = True, name: str | None = None, area: str = "城东", **kwargs) -> Institution:
    unit = UnitFactory(
        kind=UnitKind.TRAINING_INSTITUTION,
        organization=org if covered else None,
        managing_organization=org,
        **({"name": name} if name else {}),
    )
    values = {
        "licence_no": licence(),
        "subject_type": SubjectType.NON_SUBJECT,
        "approval_status": ApprovalStatus.APPROVED,
        "approved_on": dt.date(2023, 3, 1),
        "staff_count": 8,
        "area": area,
    }
    values.update(kwargs)
    return institution_register(by=SYSTEM, unit=unit, **values)


def instructor(org, *, user=None, start_on=dt.date(2023, 1, 1), **kwargs) -> InstructorAppointment:
    return instructor_appoint(
        by=SYSTEM,
        user=user or UserFactory(),
        appointing_organization=org,
        source=kwargs.pop("source", AppointmentSource.BUREAU),
        start_on=start_on,
        **kwargs,
    )


def assign(inst, appointment, start_on=dt.date(2024, 1, 1), **kwargs):
    return institution_assign(by=SYSTEM, institution=inst, appointment=appointment, start_on=start_on, **kwargs)


def visit(inst, date, *, by=SYSTEM, **kwargs):
    values = {"party_lecture": True, "policy_talk": True, "hazard_check": True, "ledger_check": True}
    values.update(kwargs)
    return visit_record(by=by, institution=inst, date=date, **values)


# A 1x1 PNG.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
    b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def visit_photo(visit: Visit, name: str = "现场.png") -> VisitPhoto:
    """A photo row written directly, with its file (for the scope test and page tests)."""
    photo = VisitPhoto(visit=visit, name=name, size=len(PNG))
    photo.file.save(name, ContentFile(PNG), save=False)
    photo.save()
    return photo


def visit_row(inst, appointment, date=dt.date(2024, 3, 5)) -> Visit:
    """A visit written directly (for the scope test): no assignment needed."""
    return Visit.objects.create(
        institution=inst, appointment=appointment, month=first_of_month(date), date=date, party_lecture=True
    )


def clue(inst, found_on=dt.date(2024, 3, 5), description="无证开展学科类培训") -> Clue:
    return clue_record(by=SYSTEM, institution=inst, description=description, found_on=found_on)


class PairingFactory(DjangoModelFactory):
    """A row written directly (for the scope test); tests of the rules use `pairing_create`."""

    class Meta:
        model = Pairing

    school_branch = factory.SubFactory("dangjian.orgs.tests.factories.OrganizationFactory")
    institution_branch = factory.LazyAttribute(lambda o: o.school_branch)
    start_on = dt.date(2024, 1, 1)


def client_for(user) -> Client:
    """A test client logged in as `user`."""
    client = Client()
    client.force_login(user)
    return client
