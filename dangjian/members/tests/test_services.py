"""Member services: scope is checked again inside, validation runs before saving, records are never lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.core.validators import FEMALE, MALE, parse_id_number
from dangjian.members import services
from dangjian.members.models import (
    DUPLICATE_ID_MESSAGE,
    UNREGISTRABLE_ID_MESSAGE,
    Category,
    Member,
    PartyPost,
    Post,
    Status,
)
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory, make_id_number

BIRTH = dt.date(1990, 3, 7)


def fields(world, **overrides) -> dict:
    data = {
        "name": "吴新二",
        "gender": FEMALE,
        "birth_date": BIRTH,
        "id_number": make_id_number(BIRTH, FEMALE, 3, "420116"),
        "join_date": dt.date(2012, 6, 1),
        "full_date": dt.date(2013, 6, 1),
        "category": Category.FULL,
        "organization": world.orgs["A"],
    }
    data.update(overrides)
    return data


def snapshot(member: Member) -> tuple:
    member = Member.objects.get(pk=member.pk)
    return (
        member.name,
        member.organization_id,
        member.id_number,
        member.status,
        member.status_changed_on,
        member.history.count(),
    )


# ---------------------------------------------------------------------------------------------------------
# Create


def test_create_validates_and_records_history(world):
    member = services.member_create(by=world.user(Role.SECRETARY), **fields(world))
    assert member.pk and member.status == Status.ACTIVE
    assert member.history.count() == 1


def _number_ending_in_x() -> str:
    seq = next(s for s in range(450) if make_id_number(BIRTH, FEMALE, s).endswith("X"))
    return make_id_number(BIRTH, FEMALE, seq)


def test_create_upper_cases_a_lowercase_x(world):
    number = _number_ending_in_x()
    member = services.member_create(by=world.user(Role.SECRETARY), **fields(world, id_number=number.lower()))
    assert Member.objects.get(pk=member.pk).id_number == number


@pytest.mark.parametrize(
    "typed",
    [lambda n: n + " ", lambda n: " " + n, lambda n: f"{n[:6]} {n[6:14]} {n[14:]}"],
    ids=["trailing", "leading", "grouped"],
)
def test_create_normalizes_spaces_in_the_id_number(world, typed):
    """Imports and commands call the service directly: the number is normalized (normalize_id_number) the
    same way Member.clean() means to, before the 18-character limit is checked."""
    number = _number_ending_in_x()
    member = services.member_create(by=world.user(Role.SECRETARY), **fields(world, id_number=typed(number)))
    assert Member.objects.get(pk=member.pk).id_number == number


@pytest.mark.parametrize(
    ("role", "place"),
    [
        (Role.SECRETARY, "B"),
        (Role.SECRETARY, "C1"),
        (Role.COMMITTEE, "XB"),
        (Role.COMMITTEE, "R"),
        (Role.SCHOOL_ADMIN, "A"),
        (Role.INSTRUCTOR, "B"),
        (Role.MEMBER, "A"),
        (Role.SYSTEM_ADMIN, "A"),
    ],
)
def test_create_outside_the_editable_scope_is_refused(world, role, place):
    before = Member.objects.count()
    with pytest.raises(PermissionDenied):
        services.member_create(by=world.user(role), **fields(world, organization=world.orgs[place]))
    assert Member.objects.count() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "110105199003070001"}, "id_number"),
        ({"birth_date": dt.date(1990, 3, 8)}, "birth_date"),
        ({"gender": MALE}, "gender"),
        ({"join_date": dt.date(2008, 3, 6)}, "join_date"),
        ({"full_date": dt.date(2012, 6, 1)}, "full_date"),
        ({"category": Category.PROBATIONARY}, "full_date"),
        ({"join_date": timezone.localdate() + dt.timedelta(days=1), "full_date": None}, "join_date"),
        ({"phone": "12345"}, "phone"),
    ],
    ids=[
        "bad-id",
        "birth-mismatch",
        "gender-mismatch",
        "join-before-18",
        "full-equals-join",
        "probationary-with-full-date",
        "future-join",
        "bad-phone",
    ],
)
def test_create_with_invalid_fields(world, overrides, field):
    before = Member.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.member_create(by=world.user(Role.SECRETARY), **fields(world, **overrides))
    assert field in exc.value.message_dict
    assert Member.objects.count() == before


def test_join_on_the_18th_birthday_of_a_leap_day_child(world):
    birth = dt.date(2000, 2, 29)
    data = fields(
        world,
        birth_date=birth,
        id_number=make_id_number(birth, FEMALE, 5),
        join_date=dt.date(2018, 3, 1),
        full_date=None,
        category=Category.PROBATIONARY,
    )
    with pytest.raises(ValidationError):
        services.member_create(by=world.user(Role.SECRETARY), **{**data, "join_date": dt.date(2018, 2, 28)})
    member = services.member_create(by=world.user(Role.SECRETARY), **data)
    assert member.join_date == dt.date(2018, 3, 1)


@pytest.mark.parametrize(
    ("place", "message"),
    [("A", DUPLICATE_ID_MESSAGE), ("B", UNREGISTRABLE_ID_MESSAGE), ("X", UNREGISTRABLE_ID_MESSAGE)],
    ids=["own-branch", "sibling-branch", "other-tree"],
)
def test_create_with_a_duplicate_id_number(world, place, message):
    """A number held by a member the secretary sees: the precise message; held outside their scope: only the
    neutral one (F7), which names neither the member nor where they are registered."""
    existing = world.members[place][0]
    data = fields(
        world,
        id_number=existing.id_number,
        birth_date=existing.birth_date,
        gender=existing.gender,
        join_date=existing.join_date,
        full_date=existing.full_date,
    )
    before = Member.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.member_create(by=world.user(Role.SECRETARY), **data)
    assert exc.value.message_dict["id_number"] == [message]
    assert Member.objects.count() == before


def test_a_concurrent_duplicate_loses_to_the_unique_constraint(world, monkeypatch):
    """Two registrations of one number racing past validation: the database decides, with a field error."""
    existing = world.members["A"][1]
    data = fields(
        world,
        id_number=existing.id_number,
        birth_date=existing.birth_date,
        gender=existing.gender,
        join_date=existing.join_date,
        full_date=None,
        category=Category.PROBATIONARY,
    )
    monkeypatch.setattr(services, "_full_clean", lambda member, access: None)
    before = Member.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.member_create(by=world.user(Role.SECRETARY), **data)
    assert exc.value.message_dict["id_number"] == [DUPLICATE_ID_MESSAGE]  # a member the secretary sees
    # The transaction is still usable after the failed insert.
    assert Member.objects.count() == before


def test_create_refuses_unknown_fields(world):
    with pytest.raises(TypeError):
        services.member_create(by=world.user(Role.SECRETARY), **fields(world), status=Status.DECEASED)


# ---------------------------------------------------------------------------------------------------------
# Update


def test_update_moves_within_scope(world):
    member = world.members["A"][1]
    updated = services.member_update(by=world.user(Role.COMMITTEE), member=member, organization=world.orgs["B"])
    assert updated.organization == world.orgs["B"]
    assert member.history.count() == 2


@pytest.mark.parametrize(
    ("role", "member_place", "target"),
    [
        (Role.SECRETARY, "A", "B"),  # moving out of their branch
        (Role.SECRETARY, "A", "XB"),
        (Role.SECRETARY, "B", "A"),  # moving into their branch from outside
        (Role.COMMITTEE, "A", "XB"),
        (Role.COMMITTEE, "X", "A"),
    ],
    ids=["out-to-sibling", "out-to-other-root", "in-from-sibling", "committee-out", "committee-in"],
)
def test_update_cannot_cross_the_scope(world, role, member_place, target):
    member = world.members[member_place][-1]
    before = snapshot(member)
    with pytest.raises(PermissionDenied):
        services.member_update(by=world.user(role), member=member, organization=world.orgs[target])
    assert snapshot(member) == before


def test_update_of_a_member_out_of_scope_is_refused(world):
    member = world.members["B"][0]
    before = snapshot(member)
    with pytest.raises(PermissionDenied):
        services.member_update(by=world.user(Role.SECRETARY), member=member, name="改名")
    assert snapshot(member) == before


def test_update_validates(world):
    member = world.self_member
    before = snapshot(member)
    with pytest.raises(ValidationError) as exc:
        services.member_update(by=world.user(Role.SECRETARY), member=member, birth_date=dt.date(1950, 1, 1))
    assert "birth_date" in exc.value.message_dict
    assert snapshot(member) == before


def test_update_refuses_the_status(world):
    with pytest.raises(TypeError):
        services.member_update(by=world.user(Role.SECRETARY), member=world.self_member, status=Status.EXPELLED)


# ---------------------------------------------------------------------------------------------------------
# Status


@pytest.mark.parametrize("status", [s for s in Status.values if s != Status.ACTIVE])
def test_status_change_keeps_the_record(world, status):
    member = world.members["A"][1]
    on = timezone.localdate() - dt.timedelta(days=3)
    services.member_change_status(by=world.user(Role.SECRETARY), member=member, status=status, on=on, reason="原因")
    member = Member.objects.get(pk=member.pk)
    assert (member.status, member.status_changed_on) == (status, on)
    latest = member.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason == "原因"
    assert latest.status == status
    assert member.history.count() == 2
    # Still found, by everybody who saw them before.
    assert Member.objects.visible_to(world.user(Role.SECRETARY)).filter(pk=member.pk).exists()


def test_status_change_defaults_to_today_and_a_reason(world):
    member = world.members["A"][1]
    services.member_change_status(by=world.user(Role.SECRETARY), member=member, status=Status.TRANSFERRED_OUT)
    member = Member.objects.get(pk=member.pk)
    assert member.status_changed_on == timezone.localdate()
    assert member.history.first().history_change_reason == "党籍状态变更为转出"


def test_status_can_be_restored(world):
    member = world.members["A"][1]
    secretary = world.user(Role.SECRETARY)
    services.member_change_status(by=secretary, member=member, status=Status.SUSPENDED, reason="停止")
    services.member_change_status(by=secretary, member=member, status=Status.ACTIVE, reason="恢复")
    assert [h.status for h in member.history.order_by("history_date", "history_id")] == [
        Status.ACTIVE,
        Status.SUSPENDED,
        Status.ACTIVE,
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"status": Status.SUSPENDED, "on": "TOMORROW"}, "status_changed_on"),
        ({"status": Status.SUSPENDED, "on": "BEFORE_JOIN"}, "status_changed_on"),
        ({"status": Status.ACTIVE}, "status"),
        ({"status": "retired"}, "status"),
    ],
    ids=["future-date", "before-join", "same-status", "unknown-status"],
)
def test_status_change_refused(world, kwargs, field):
    member = world.self_member
    on = {"TOMORROW": timezone.localdate() + dt.timedelta(days=1), "BEFORE_JOIN": member.join_date - dt.timedelta(1)}
    kwargs = {**kwargs, "on": on.get(kwargs.get("on"))}
    before = snapshot(member)
    with pytest.raises(ValidationError) as exc:
        services.member_change_status(by=world.user(Role.SECRETARY), member=member, **kwargs)
    assert field in exc.value.message_dict
    assert snapshot(member) == before


@pytest.mark.parametrize(
    ("role", "place"),
    [
        (Role.SECRETARY, "B"),
        (Role.INSTRUCTOR, "B"),
        (Role.SCHOOL_ADMIN, "A"),
        (Role.MEMBER, "A"),
        (Role.COMMITTEE, "X"),
    ],
)
def test_status_change_out_of_scope(world, role, place):
    member = world.members[place][0]
    before = snapshot(member)
    with pytest.raises(PermissionDenied):
        services.member_change_status(by=world.user(role), member=member, status=Status.DECEASED)
    assert snapshot(member) == before


def test_system_access_changes_any_status(world):
    member = world.members["X"][0]
    services.member_change_status(by=Access.system_access(), member=member, status=Status.DECEASED)
    assert Member.objects.get(pk=member.pk).status == Status.DECEASED


# ---------------------------------------------------------------------------------------------------------
# Party posts


def test_post_add_and_end(world):
    secretary = world.user(Role.SECRETARY)
    member = world.self_member
    post = services.party_post_add(
        by=secretary, member=member, organization=world.orgs["A"], post=Post.SECRETARY, start_date=dt.date(2021, 1, 1)
    )
    assert post.is_current
    post = services.party_post_end(by=secretary, party_post=post, end_date=dt.date(2023, 1, 1))
    assert not post.is_current
    with pytest.raises(ValidationError):
        services.party_post_end(by=secretary, party_post=post, end_date=dt.date(2020, 1, 1))
    assert PartyPost.objects.get(pk=post.pk).end_date == dt.date(2023, 1, 1)


def test_post_out_of_scope(world):
    secretary = world.user(Role.SECRETARY)
    with pytest.raises(PermissionDenied):
        services.party_post_add(
            by=secretary,
            member=world.self_member,
            organization=world.orgs["B"],
            post=Post.COMMITTEE_MEMBER,
            start_date=dt.date(2021, 1, 1),
        )
    with pytest.raises(PermissionDenied):
        services.party_post_add(
            by=secretary,
            member=world.members["B"][0],
            organization=world.orgs["A"],
            post=Post.COMMITTEE_MEMBER,
            start_date=dt.date(2021, 1, 1),
        )
    foreign = PartyPostFactory(member=world.members["B"][0])
    with pytest.raises(PermissionDenied):
        services.party_post_end(by=secretary, party_post=foreign, end_date=dt.date(2024, 1, 1))
    assert not PartyPost.objects.filter(member=world.self_member).exists()


# ---------------------------------------------------------------------------------------------------------
# The factory itself


def test_factory_members_pass_validation_and_have_unique_id_numbers(world):
    members = MemberFactory.create_batch(40, organization=world.orgs["B"])
    members += MemberFactory.create_batch(10, organization=world.orgs["B"], probationary=True)
    for member in members:
        member.full_clean()
        info = parse_id_number(member.id_number)
        assert (info.birth_date, info.gender) == (member.birth_date, member.gender)
    assert len({m.id_number for m in members}) == len(members)
    # Same birth date and gender for many members: the sequence still keeps the numbers apart.
    twins = MemberFactory.create_batch(20, birth_date=BIRTH, gender=MALE, organization=world.orgs["B"])
    assert len({m.id_number for m in twins}) == 20
