"""Masking (个人信息保护): ID numbers and phones masked on every member page; the full number only on request, for
the roles granted it (and the member themself), each viewing audited."""

from __future__ import annotations

import pytest

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.members.models import Member
from dangjian.members.tests.factories import member_form_data

# The roles that see members, and the place ("A": 高一年级党支部, "B": 高二年级党支部) of a member each sees.
SEES_MEMBERS = {
    Role.COMMITTEE: ("A", "B"),
    Role.SCHOOL_ADMIN: ("A", "B"),
    Role.SECRETARY: ("A",),
    Role.INSTRUCTOR: ("B",),
    Role.MEMBER: ("A",),  # themself
}
EDITORS = (Role.COMMITTEE, Role.SECRETARY)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def visible_members(world, role) -> list[Member]:
    if role == Role.MEMBER:
        return [world.self_member]
    return [m for place in SEES_MEMBERS[role] for m in world.members[place]]


def all_numbers(world) -> list[str]:
    return [m.id_number for ms in world.members.values() for m in ms]


def all_phones(world) -> list[str]:
    return [m.phone for ms in world.members.values() for m in ms if m.phone]


def test_the_masks_look_as_documented(world):
    member = world.self_member
    assert member.masked_id_number == member.id_number[:1] + "*" * 13 + member.id_number[-4:]
    assert member.masked_phone == "138****0001"


@pytest.mark.parametrize("role", SEES_MEMBERS)
def test_the_member_list_masks_id_numbers_and_phones(world, role):
    text = page(world.client(role).get("/members/"))
    for member in visible_members(world, role):
        assert member.name in text
        assert member.masked_id_number in text
        assert member.masked_phone in text
    assert [n for n in all_numbers(world) if n in text] == []
    assert [p for p in all_phones(world) if p in text] == []


@pytest.mark.parametrize("role", SEES_MEMBERS)
def test_the_member_detail_masks_id_numbers_and_phones(world, role):
    client = world.client(role)
    for member in visible_members(world, role):
        text = page(client.get(f"/members/{member.pk}/"))
        assert member.masked_id_number in text
        assert member.masked_phone in text
        assert [n for n in all_numbers(world) if n in text] == []
        assert [p for p in all_phones(world) if p in text] == []


@pytest.mark.parametrize("role", EDITORS)
def test_the_edit_page_never_shows_the_full_id_number(world, role):
    client = world.client(role)
    for member in visible_members(world, role):
        text = page(client.get(f"/members/{member.pk}/edit/"))
        assert member.masked_id_number in text  # as the field's placeholder
        assert "不修改请留空。" in text
        assert [n for n in all_numbers(world) if n in text] == []


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.MEMBER])
def test_roles_that_do_not_edit_get_no_edit_page(world, role):
    member = visible_members(world, role)[0]
    assert world.client(role).get(f"/members/{member.pk}/edit/").status_code == 403


def test_the_list_search_by_id_number_shows_the_match_masked(world):
    member = world.members["A"][1]
    response = world.client(Role.COMMITTEE).post("/members/search/", {"q": member.id_number}, follow=True)
    text = page(response)
    assert member.name in text
    assert member.masked_id_number in text
    # The number typed is not echoed (the search box stays empty, the search is named masked) nor in the URL.
    assert member.id_number not in text
    assert member.id_number not in response.redirect_chain[-1][0]


# ---------------------------------------------------------------------------------------------------------
# The full number, on request.


def full_id_views() -> int:
    return AuditEvent.objects.filter(action=AuditAction.VIEW_FULL_ID).count()


@pytest.mark.parametrize(
    ("role", "place"),
    [(Role.COMMITTEE, "A"), (Role.COMMITTEE, "B"), (Role.SECRETARY, "A")],
)
def test_the_granted_roles_see_the_full_number_and_each_view_is_audited(world, role, place):
    client = world.client(role)
    for member in world.members[place]:
        before = full_id_views()
        text = page(client.post(f"/members/{member.pk}/id-number/"))
        assert member.id_number in text
        assert full_id_views() == before + 1
        event = AuditEvent.objects.filter(action=AuditAction.VIEW_FULL_ID).latest("id")
        assert (event.actor_id, event.object_id) == (world.user(role).pk, str(member.pk))


def test_every_viewing_is_audited_again(world):
    client = world.client(Role.SECRETARY)
    member = world.self_member
    for _ in range(3):
        client.post(f"/members/{member.pk}/id-number/")
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_FULL_ID, object_id=str(member.pk)).count() == 3


def test_the_member_sees_their_own_full_number(world):
    member = world.self_member
    before = full_id_views()
    text = page(world.client(Role.MEMBER).post(f"/members/{member.pk}/id-number/"))
    assert member.id_number in text
    assert full_id_views() == before + 1


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.INSTRUCTOR])
def test_other_roles_are_refused_the_full_number(world, role):
    member = visible_members(world, role)[0]
    response = world.client(role).post(f"/members/{member.pk}/id-number/")
    assert response.status_code == 403
    assert member.id_number not in response.content.decode()
    assert full_id_views() == 0


@pytest.mark.parametrize(
    ("role", "place"),
    [(Role.SECRETARY, "B"), (Role.SECRETARY, "X"), (Role.COMMITTEE, "X"), (Role.INSTRUCTOR, "A"), (Role.MEMBER, "A")],
)
def test_out_of_scope_members_answer_404(world, role, place):
    member = next(m for m in world.members[place] if m != world.self_member)
    response = world.client(role).post(f"/members/{member.pk}/id-number/")
    assert response.status_code == 404
    assert member.id_number not in response.content.decode()
    assert full_id_views() == 0


def test_the_full_number_needs_a_post(world):
    member = world.self_member
    response = world.client(Role.SECRETARY).get(f"/members/{member.pk}/id-number/")
    assert response.status_code == 405
    assert member.id_number not in response.content.decode()
    assert full_id_views() == 0


def test_the_detail_page_offers_the_full_number_only_to_granted_roles(world):
    member = world.self_member
    url = f"/members/{member.pk}/id-number/"
    assert url in page(world.client(Role.SECRETARY).get(f"/members/{member.pk}/"))
    assert url in page(world.client(Role.MEMBER).get(f"/members/{member.pk}/"))
    assert url not in page(world.client(Role.SCHOOL_ADMIN).get(f"/members/{member.pk}/"))


# ---------------------------------------------------------------------------------------------------------
# Editing with the ID field left blank keeps the number.


def edit_data(member: Member, **overrides) -> dict:
    return member_form_data(member, **{"id_number": "", **overrides})


@pytest.mark.parametrize("role", EDITORS)
def test_editing_with_the_id_field_left_blank_keeps_the_number(world, role):
    member = world.self_member
    number, digest = member.id_number, member.id_number_digest
    response = world.client(role).post(f"/members/{member.pk}/edit/", edit_data(member, name="赵甲一改"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.name == "赵甲一改"
    assert member.id_number == number
    assert member.id_number_digest == digest
    assert Member.objects.with_id_number(number).get() == member
    update = AuditEvent.objects.get(action=AuditAction.UPDATE, object_id=str(member.pk))
    assert update.detail == {"fields": ["name"]}


# Roles that see members but not their full ID numbers (DANGJIAN_FULL_ID_ROLES is committee, secretary).
MASKED_ROLES = (Role.SCHOOL_ADMIN, Role.INSTRUCTOR)


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_masked_number_and_the_page_beside_it_do_not_give_the_full_number(world, role):
    """Security probe F1: the old mask hid exactly the birth-date digits while the page showed 出生日期."""
    client = world.client(role)
    for member in visible_members(world, role):
        text = page(client.get(f"/members/{member.pk}/"))
        assert member.masked_id_number in text
        assert member.id_number[1:6] not in member.masked_id_number  # no region code left
        assert f"{member.birth_date:%Y-%m-%d}" not in text
        assert "出生日期" not in text and "年龄" in text


@pytest.mark.parametrize("role", (Role.COMMITTEE, Role.SECRETARY))
def test_roles_with_full_id_rights_still_see_the_birth_date(world, role):
    member = world.members["A"][0]
    text = page(world.client(role).get(f"/members/{member.pk}/"))
    assert f"{member.birth_date:%Y-%m-%d}" in text


@pytest.mark.parametrize("role", MASKED_ROLES)
def test_a_masked_export_gives_the_birth_year_only(world, role):
    """The probe rebuilt 17 of 17 numbers from the instructor's export (masked number + 出生日期)."""
    import io

    from openpyxl import load_workbook

    response = world.client(role).get("/members/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    birth_col, id_col = header.index("出生日期"), header.index("公民身份号码")
    numbers = {m.id_number: m for m in visible_members(world, role)}
    assert body
    for row in body:
        assert isinstance(row[birth_col], str) and row[birth_col].endswith("-**-**"), row[birth_col]
        assert len(row[id_col]) == 18 and row[id_col][1:14] == "*" * 13
    masked_to_member = {m.masked_id_number: m for m in numbers.values()}
    for row in body:
        member = masked_to_member[row[id_col]]
        assert row[birth_col] == f"{member.birth_date:%Y}-**-**"
