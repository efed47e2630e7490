"""Certificates (证书): numbering, one per member and source, the public check, the printable page, and the
certificates a finished class issues to the members who completed it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.learning.models import Certificate, CertificateKind
from dangjian.learning.services.certificates import issue_certificate
from dangjian.learning.tests.factories import certificate
from dangjian.training.models import ClassStatus
from dangjian.training.services.attendance import attendance_mark, session_close
from dangjian.training.services.classes import class_finish
from dangjian.training.services.enrollment import enrollment_add, enrollment_withdraw
from dangjian.training.services.sessions import session_add
from dangjian.training.tests.factories import TrainingClassFactory

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def test_numbers_are_sequential_per_year_and_formatted(world):
    member = world.self_member
    first = certificate(member, on=dt.date(2025, 6, 1))
    second = certificate(member, on=dt.date(2025, 7, 1))
    other_year = certificate(member, on=dt.date(2024, 3, 1))
    assert first.number == "ZS2025-000001"
    assert second.number == "ZS2025-000002"
    assert other_year.number == "ZS2024-000001"


def test_issuing_twice_returns_the_same_certificate_and_uses_no_number(world):
    member = world.self_member
    training_class = TrainingClassFactory(organizer=member.organization)
    first = certificate(member, source=training_class)
    again = certificate(member, source=training_class, title="另一个名称")
    assert again.pk == first.pk and again.number == first.number
    assert Certificate.objects.dangerously_all().count() == 1
    # The next certificate takes the next number: the repeated call consumed none.
    nxt = certificate(member)
    assert nxt.serial == first.serial + 1


def test_the_same_source_gives_each_kind_and_member_its_own_certificate(world):
    training_class = TrainingClassFactory(organizer=world.orgs["A"])
    a = certificate(world.self_member, source=training_class)
    b = certificate(world.members["A"][1], source=training_class)
    c = certificate(world.self_member, source=training_class, kind=CertificateKind.EXAM)
    assert len({a.number, b.number, c.number}) == 3


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": "  "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"kind": "diploma"}, "kind"),
        ({"on": "2025-01-01"}, "issued_on"),
        ({"on": "future"}, "issued_on"),
        ({"issuer": None}, "issuer"),
        ({"source": None}, "source"),
    ],
    ids=["blank-title", "long-title", "bad-kind", "date-as-text", "future-date", "no-issuer", "no-source"],
)
def test_bad_input_is_refused_by_field_and_nothing_is_saved(world, change, field):
    member = world.self_member
    values = {
        "member": member,
        "title": "结业证书",
        "kind": CertificateKind.CLASS,
        "source": TrainingClassFactory(organizer=member.organization),
        "issuer": member.organization,
        "on": today(),
    }
    values.update(change)
    if values["on"] == "future":
        values["on"] = today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        issue_certificate(**values)
    assert field in caught.value.message_dict
    assert not Certificate.objects.dangerously_all().exists()


# ---------------------------------------------------------------------------------------------------------
# The public check


def test_anyone_checks_a_number_and_sees_only_the_masked_name_title_date_and_issuer(world, client):
    issued = certificate(world.self_member, title="2025年入党积极分子培训班结业证书", on=dt.date(2025, 5, 20))
    response = client.get(reverse("certificate_verify", args=[issued.number]))
    assert response.status_code == 200
    body = response.content.decode()
    assert world.self_member.name[0] + "*" in body
    assert world.self_member.name not in body
    assert "2025年入党积极分子培训班结业证书" in body
    assert "2025年5月20日" in body
    assert world.self_member.organization.name in body
    assert world.self_member.phone not in body
    # The lower case of a number is the same number.
    assert client.get(reverse("certificate_verify", args=[issued.number.lower()])).status_code == 200


@pytest.mark.parametrize("number", ["ZS2025-999999", "ZS2025-1", "abc", "ZS2025-000001x"])
def test_an_unknown_or_malformed_number_is_not_found(world, client, number):
    certificate(world.self_member, on=dt.date(2025, 5, 20))
    response = client.get(reverse("certificate_verify", args=[number]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "未找到该证书" in body
    assert "ZS2025-000001" not in body


# ---------------------------------------------------------------------------------------------------------
# The printable certificate and the lists


def test_the_member_prints_their_own_certificate(world):
    issued = certificate(world.self_member)
    response = world.client(Role.MEMBER).get(issued.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert issued.number in body and world.self_member.name in body
    assert world.self_member.organization.name in body
    assert "css/learning.css" in body and "data-print" in body
    listing = world.client(Role.MEMBER).get(reverse("learning:certificate_list")).content.decode()
    assert issued.number in listing


@pytest.mark.parametrize(
    "role, place, status",
    [
        (Role.SECRETARY, "A", 200),
        (Role.COMMITTEE, "B", 200),
        (Role.SECRETARY, "B", 404),
        (Role.MEMBER, "B", 404),
        (Role.SYSTEM_ADMIN, "A", 404),
    ],
)
def test_staff_see_the_certificates_of_their_members_only(world, role, place, status):
    member = world.members[place][0]
    issued = certificate(member)
    assert world.client(role).get(issued.get_absolute_url()).status_code == status
    listing = world.client(role).get(reverse("learning:certificate_list")).content.decode()
    assert (issued.number in listing) == (status == 200)


# ---------------------------------------------------------------------------------------------------------
# A finished class issues its certificates


def test_finishing_a_class_certifies_the_members_present_at_every_session(world):
    admin = world.user(Role.SCHOOL_ADMIN)
    training_class = TrainingClassFactory(
        organizer=world.orgs["C1"], starts_on=today() - dt.timedelta(days=3), ends_on=today() - dt.timedelta(days=1)
    )
    everywhere, half, withdrawn = world.members["A"][0], world.members["A"][1], world.members["B"][0]
    enrollment_add(by=admin, training_class=training_class, members=[everywhere, half, withdrawn])
    start = timezone.now().replace(microsecond=0) - dt.timedelta(days=2)
    sessions = [
        session_add(
            by=admin,
            training_class=training_class,
            title=f"专题{i}",
            starts_at=start + dt.timedelta(days=i),
            ends_at=start + dt.timedelta(days=i, hours=3),
            hours="3",
        )
        for i in range(2)
    ]
    attendance_mark(by=admin, session=sessions[0], members=[everywhere, half, withdrawn])
    attendance_mark(by=admin, session=sessions[1], members=[everywhere, withdrawn])
    enrollment_withdraw(by=admin, training_class=training_class, member=withdrawn)
    for session in sessions:
        session_close(by=admin, session=session)

    finished = class_finish(by=admin, training_class=training_class)

    assert finished.status == ClassStatus.FINISHED
    issued = Certificate.objects.dangerously_all().filter(kind=CertificateKind.CLASS)
    assert [c.member_id for c in issued] == [everywhere.pk]
    only = issued.get()
    assert only.issuer == world.orgs["C1"]
    assert only.title == f"{training_class.title}结业证书"
    assert only.issued_on == training_class.ends_on
    assert only.source == training_class
