"""Factories of members (党员) and their party posts.

Every member gets a valid GB 11643 ID number that agrees with their birth date and gender, and is
unique: the birth date and the 3-digit sequence both vary with the factory sequence.
"""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from dangjian.core.validators import FEMALE, MALE, add_years, id_check_char
from dangjian.members.models import Category, Member, PartyPost, Post, Status
from dangjian.orgs.tests.factories import OrganizationFactory

AREA_CODES = ("110105", "320104", "420116", "430902", "120111", "422822")
_FIRST_BIRTH = dt.date(1955, 1, 1)
_BIRTH_SPAN_DAYS = 40 * 365  # births 1955-1994: everybody is over 18 at the join date below


def make_id_number(birth_date: dt.date, gender: str, seq: int = 0, area: str = "110105") -> str:
    """A valid ID number for this birth date and gender; `seq` picks the 3-digit sequence (100-999)."""
    order = 100 + 2 * (seq % 450) + (1 if gender == MALE else 0)
    first17 = f"{area}{birth_date:%Y%m%d}{order:03d}"
    return first17 + id_check_char(first17)


def _birth_date(n: int) -> dt.date:
    return _FIRST_BIRTH + dt.timedelta(days=(n * 7) % _BIRTH_SPAN_DAYS)


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    class Params:
        probationary = factory.Trait(category=Category.PROBATIONARY, full_date=None)

    name = factory.Faker("name", locale="zh_CN")
    gender = factory.Sequence(lambda n: MALE if n % 2 else FEMALE)
    ethnicity = "汉族"
    birth_date = factory.Sequence(_birth_date)
    id_number = factory.LazyAttributeSequence(
        lambda o, n: make_id_number(o.birth_date, o.gender, n, AREA_CODES[(n // 450) % len(AREA_CODES)])
    )
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    education = ""
    join_date = factory.LazyAttribute(lambda o: add_years(o.birth_date, 25))
    full_date = factory.LazyAttribute(lambda o: add_years(o.join_date, 1))
    category = Category.FULL
    status = Status.ACTIVE
    organization = factory.SubFactory(OrganizationFactory)
    unit = None
    user = None


class PartyPostFactory(DjangoModelFactory):
    class Meta:
        model = PartyPost

    member = factory.SubFactory(MemberFactory)
    organization = factory.SelfAttribute("member.organization")
    post = Post.COMMITTEE_MEMBER
    start_date = factory.LazyAttribute(lambda o: add_years(o.member.join_date, 2))
    end_date = None


def member_form_data(member, **overrides) -> dict:
    """The member edit form's fields as a browser would post them for `member`, with overrides."""
    data = {
        "name": member.name,
        "gender": member.gender,
        "ethnicity": member.ethnicity,
        "birth_date": member.birth_date.isoformat(),
        "id_number": member.id_number,
        "phone": member.phone,
        "education": member.education,
        "join_date": member.join_date.isoformat(),
        "full_date": member.full_date.isoformat() if member.full_date else "",
        "category": member.category,
        "organization": member.organization.code,
    }
    data.update(overrides)
    return data
