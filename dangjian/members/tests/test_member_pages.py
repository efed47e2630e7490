"""The member pages: bad input on every form, scope on every form, the list's search, filters and paging."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.core.validators import MALE, id_check_char
from dangjian.members.models import UNREGISTRABLE_ID_MESSAGE, Member, PartyPost, Status
from dangjian.members.tests.factories import MemberFactory, PartyPostFactory, make_id_number, member_form_data

BIRTH = dt.date(1985, 6, 15)
NEW_ID = make_id_number(BIRTH, MALE, 7, "320104")
TOMORROW = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"


def body(response) -> str:
    return response.content.decode()


def field_error(label: str, message: str) -> str:
    """How the form template shows an error beside its field."""
    return f"{label}：{message}"


def member_data(**overrides) -> dict:
    data = {
        "name": "周新一",
        "gender": "M",
        "ethnicity": "汉族",
        "birth_date": BIRTH.isoformat(),
        "id_number": NEW_ID,
        "phone": "13912345678",
        "education": "bachelor",
        "join_date": "2010-07-01",
        "full_date": "2011-07-01",
        "category": "full",
        "organization": "BJ01A",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def with_bad_check_digit(number: str) -> str:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong


# (overrides, field label, message): every rule of the member form. `None` drops the field.
BAD_MEMBER_INPUT = {
    "id-bad-check-digit": (
        {"id_number": with_bad_check_digit(NEW_ID)},
        "公民身份号码",
        "公民身份号码校验位错误，请核对号码。",
    ),
    "id-too-short": ({"id_number": NEW_ID[:10]}, "公民身份号码", "公民身份号码应为18位，当前为10位。"),
    "id-letters": (
        {"id_number": NEW_ID[:10] + "AB" + NEW_ID[12:]},
        "公民身份号码",
        "公民身份号码前17位应为数字，最后一位为数字或X。",
    ),
    "id-date-19990230": (
        {"id_number": "32010419990230007" + id_check_char("32010419990230007")},
        "公民身份号码",
        "公民身份号码中的出生日期（第7-14位）不是有效日期。",
    ),
    "id-missing": ({"id_number": ""}, "公民身份号码", "请填写公民身份号码。"),
    "join-before-18": ({"join_date": "2003-06-14"}, "入党日期", "入党日期不能早于年满十八周岁之日。"),
    "full-before-join": ({"full_date": "2010-06-30"}, "转正日期", "转正日期必须晚于入党日期。"),
    "full-equals-join": ({"full_date": "2010-07-01"}, "转正日期", "转正日期必须晚于入党日期。"),
    "probationary-with-full-date": ({"category": "probationary"}, "转正日期", "预备党员尚未转正，不应填写转正日期。"),
    "birth-not-as-in-id": (
        {"birth_date": "1985-06-16"},
        "出生日期",
        "出生日期与公民身份号码不一致（号码中为1985-06-15）。",
    ),
    "gender-not-as-in-id": ({"gender": "F"}, "性别", "性别与公民身份号码不一致（号码中为男）。"),
    "join-in-future": ({"join_date": TOMORROW, "full_date": ""}, "入党日期", "日期不能晚于今天。"),
    "full-in-future": ({"full_date": TOMORROW}, "转正日期", "日期不能晚于今天。"),
    "birth-in-future": ({"birth_date": TOMORROW}, "出生日期", "日期不能晚于今天。"),
    "date-not-a-date": ({"join_date": "2010-02-30"}, "入党日期", "输入一个有效的日期。"),
    "org-out-of-scope": ({"organization": "LH01"}, "所在党组织", NOT_FOUND.format(code="LH01")),
    "org-above-scope": ({"organization": "BJ"}, "所在党组织", NOT_FOUND.format(code="BJ")),
    "org-unknown": ({"organization": "NOSUCH"}, "所在党组织", NOT_FOUND.format(code="NOSUCH")),
    "org-missing": ({"organization": ""}, "所在党组织", "请选择所在党组织。"),
    "phone-bad": ({"phone": "12345"}, "手机号码", "手机号码格式不正确：应为11位手机号码或带区号的固定电话。"),
    "name-missing": ({"name": ""}, "姓名", "请填写姓名。"),
    "ethnicity-unknown": ({"ethnicity": "火星族"}, "民族", "选择一个有效的选项。"),
    "category-unknown": ({"category": "honorary"}, "人员类别", "选择一个有效的选项。"),
}


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.SECRETARY])
def test_valid_input_registers_a_member(world, role):
    response = world.client(role).post("/members/new/", member_data())
    assert response.status_code == 302
    member = Member.objects.with_id_number(NEW_ID).get()
    assert response["Location"] == f"/members/{member.pk}/"
    assert (member.organization, member.birth_date, member.gender) == (world.orgs["A"], BIRTH, MALE)
    assert member.history.count() == 1
    assert member.history.first().history_user == world.user(role)


def test_join_on_the_18th_birthday_is_accepted(world):
    response = world.client(Role.SECRETARY).post("/members/new/", member_data(join_date="2003-06-15", full_date=""))
    assert response.status_code == 302


def test_lowercase_x_is_stored_uppercase(world):
    seq = next(s for s in range(450) if make_id_number(BIRTH, MALE, s).endswith("X"))
    number = make_id_number(BIRTH, MALE, seq)
    response = world.client(Role.SECRETARY).post("/members/new/", member_data(id_number=number.lower()))
    assert response.status_code == 302
    assert Member.objects.with_id_number(number).exists()


@pytest.mark.parametrize(("overrides", "label", "message"), BAD_MEMBER_INPUT.values(), ids=BAD_MEMBER_INPUT.keys())
def test_create_with_bad_input(world, overrides, label, message):
    before = Member.objects.count()
    response = world.client(Role.SECRETARY).post("/members/new/", member_data(**overrides))
    assert response.status_code == 200
    assert field_error(label, message) in body(response)
    assert Member.objects.count() == before


@pytest.mark.parametrize("typed", ["same", "lowercase"])
def test_create_with_a_duplicate_id_number(world, typed):
    existing = world.members["X"][0]  # registered outside the user's scope: refused, but without saying why (F7)
    seq = next(s for s in range(450) if make_id_number(existing.birth_date, existing.gender, s).endswith("X"))
    existing.id_number = make_id_number(existing.birth_date, existing.gender, seq)
    existing.save()
    data = member_data(
        birth_date=existing.birth_date.isoformat(),
        gender=existing.gender,
        id_number=existing.id_number if typed == "same" else existing.id_number.lower(),
        join_date=existing.join_date.isoformat(),
        full_date=existing.full_date.isoformat(),
    )
    before = Member.objects.count()
    response = world.client(Role.SECRETARY).post("/members/new/", data)
    assert response.status_code == 200
    assert field_error("公民身份号码", UNREGISTRABLE_ID_MESSAGE) in body(response)
    assert "已登记为党员" not in body(response)
    assert Member.objects.count() == before


def test_secretary_cannot_register_in_the_sibling_branch(world):
    before = Member.objects.count()
    response = world.client(Role.SECRETARY).post("/members/new/", member_data(organization="BJ01B"))
    assert response.status_code == 200
    assert field_error("所在党组织", NOT_FOUND.format(code="BJ01B")) in body(response)
    assert Member.objects.count() == before


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_roles_without_member_rights_cannot_register(world, role):
    before = Member.objects.count()
    assert world.client(role).post("/members/new/", member_data()).status_code == 403
    assert Member.objects.count() == before


# ---------------------------------------------------------------------------------------------------------
# Editing


def record(member: Member) -> dict:
    member = Member.objects.get(pk=member.pk)
    return {**model_to_dict(member), "updated_at": member.updated_at, "history": member.history.count()}


def edit_data(member: Member, **overrides) -> dict:
    return member_form_data(member, **overrides)


def test_edit_saves_valid_changes(world):
    member = world.members["A"][1]
    response = world.client(Role.SECRETARY).post(f"/members/{member.pk}/edit/", edit_data(member, phone="010-88886666"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.phone == "010-88886666"


# case → (how to spoil the member's current data, field label, message)
EDIT_CASES = {
    "id-bad-check-digit": (
        lambda m: {"id_number": with_bad_check_digit(m.id_number)},
        "公民身份号码",
        "公民身份号码校验位错误，请核对号码。",
    ),
    "join-before-18": (
        lambda m: {"join_date": (m.birth_date + dt.timedelta(days=365 * 17)).isoformat()},
        "入党日期",
        "入党日期不能早于年满十八周岁之日。",
    ),
    "full-before-join": (
        lambda m: {"full_date": (m.join_date - dt.timedelta(days=1)).isoformat()},
        "转正日期",
        "转正日期必须晚于入党日期。",
    ),
    "birth-not-as-in-id": (
        lambda m: {"birth_date": (m.birth_date + dt.timedelta(days=1)).isoformat()},
        "出生日期",
        "出生日期与公民身份号码不一致",
    ),
    "gender-not-as-in-id": (
        lambda m: {"gender": "F" if m.gender == "M" else "M"},
        "性别",
        "性别与公民身份号码不一致",
    ),
    "join-in-future": (lambda m: {"join_date": TOMORROW, "full_date": ""}, "入党日期", "日期不能晚于今天。"),
    "org-out-of-scope": (lambda m: {"organization": "LH01"}, "所在党组织", NOT_FOUND.format(code="LH01")),
    "phone-bad": (lambda m: {"phone": "0000"}, "手机号码", "手机号码格式不正确"),
}


@pytest.mark.parametrize("case", EDIT_CASES.keys())
def test_edit_with_bad_input_changes_nothing(world, case):
    member = world.self_member
    spoil, label, message = EDIT_CASES[case]
    before = record(member)
    response = world.client(Role.COMMITTEE).post(f"/members/{member.pk}/edit/", edit_data(member, **spoil(member)))
    assert response.status_code == 200
    assert f"{label}：{message}" in body(response)
    assert record(member) == before


def test_edit_to_another_members_id_number(world):
    member, other = world.members["A"]
    before = record(member)
    data = edit_data(
        member,
        id_number=other.id_number,
        birth_date=other.birth_date.isoformat(),
        gender=other.gender,
        join_date=other.join_date.isoformat(),
        full_date="",
    )
    response = world.client(Role.SECRETARY).post(f"/members/{member.pk}/edit/", data)
    assert response.status_code == 200
    assert field_error("公民身份号码", "该公民身份号码已登记为党员，不能重复登记。") in body(response)
    assert record(member) == before


def test_secretary_cannot_edit_a_member_of_branch_b(world):
    member = world.members["B"][0]
    before = record(member)
    secretary = world.client(Role.SECRETARY)
    assert secretary.get(f"/members/{member.pk}/edit/").status_code == 404
    assert secretary.post(f"/members/{member.pk}/edit/", edit_data(member, name="改名")).status_code == 404
    assert record(member) == before


@pytest.mark.parametrize("target", ["BJ01B", "BJ01", "LH01"], ids=["sibling-branch", "own-committee", "other-root"])
def test_secretary_cannot_move_a_member_out_of_scope(world, target):
    member = world.members["A"][1]
    before = record(member)
    response = world.client(Role.SECRETARY).post(f"/members/{member.pk}/edit/", edit_data(member, organization=target))
    assert response.status_code == 200
    assert field_error("所在党组织", NOT_FOUND.format(code=target)) in body(response)
    assert record(member) == before


def test_committee_moves_a_member_between_its_branches(world):
    member = world.members["A"][1]
    response = world.client(Role.COMMITTEE).post(f"/members/{member.pk}/edit/", edit_data(member, organization="BJ01B"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.organization == world.orgs["B"]
    # Now out of the secretary's scope.
    assert world.client(Role.SECRETARY).get(f"/members/{member.pk}/").status_code == 404


@pytest.mark.parametrize(("role", "status"), [(Role.MEMBER, 403), (Role.SCHOOL_ADMIN, 403), (Role.INSTRUCTOR, 404)])
def test_edit_without_rights(world, role, status):
    member = world.self_member
    before = record(member)
    client = world.client(role)
    assert client.get(f"/members/{member.pk}/edit/").status_code == status
    assert client.post(f"/members/{member.pk}/edit/", edit_data(member, name="改名")).status_code == status
    assert record(member) == before


def test_detail_masks_personal_data(world):
    member = world.self_member
    response = world.client(Role.SECRETARY).get(f"/members/{member.pk}/")
    assert member.id_number not in body(response)
    assert member.masked_id_number in body(response)
    assert member.phone not in body(response)


# ---------------------------------------------------------------------------------------------------------
# Status changes


def status_url(member: Member) -> str:
    return f"/members/{member.pk}/status/"


def test_status_change_keeps_the_record_and_its_history(world):
    member = world.members["A"][1]
    today = timezone.localdate()
    response = world.client(Role.SECRETARY).post(
        status_url(member), {"status": Status.TRANSFERRED_OUT, "on": today.isoformat(), "reason": "调往外省工作"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.status, member.status_changed_on) == (Status.TRANSFERRED_OUT, today)
    latest, previous = member.history.order_by("-history_date", "-history_id")[:2]
    assert latest.history_change_reason == "调往外省工作"
    assert latest.history_user == world.user(Role.SECRETARY)
    assert (latest.status, previous.status) == (Status.TRANSFERRED_OUT, Status.ACTIVE)
    page = world.client(Role.SECRETARY).get(f"/members/{member.pk}/")
    assert "调往外省工作" in body(page)
    assert "转出" in body(page)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": Status.SUSPENDED, "on": TOMORROW, "reason": "未来"}, "日期不能晚于今天。"),
        ({"status": Status.ACTIVE, "on": "2020-01-01", "reason": "无变化"}, "党籍状态没有变化。"),
        ({"status": Status.SUSPENDED, "on": "BEFORE_JOIN", "reason": "太早"}, "日期不能早于入党日期。"),
        ({"status": "retired", "on": "2020-01-01", "reason": "x"}, "选择一个有效的选项。"),
        ({"status": Status.SUSPENDED, "on": "", "reason": "x"}, "请填写变更日期。"),
        ({"status": Status.SUSPENDED, "on": "2020-01-01", "reason": ""}, "请填写变更原因。"),
    ],
    ids=["future-date", "same-status", "before-join", "unknown-status", "no-date", "no-reason"],
)
def test_status_change_with_bad_input(world, data, message):
    member = world.self_member
    if data["on"] == "BEFORE_JOIN":
        data = {**data, "on": (member.join_date - dt.timedelta(days=1)).isoformat()}
    before = record(member)
    response = world.client(Role.SECRETARY).post(status_url(member), data, follow=True)
    assert response.status_code == 200
    assert "党籍状态未变更：" in body(response)
    assert message in body(response)
    assert record(member) == before


@pytest.mark.parametrize(
    ("role", "place", "status"),
    [(Role.SECRETARY, "B", 404), (Role.INSTRUCTOR, "B", 403), (Role.MEMBER, "A", 403), (Role.COMMITTEE, "X", 404)],
)
def test_status_change_without_rights(world, role, place, status):
    member = world.members[place][0]
    before = record(member)
    data = {"status": Status.DECEASED, "on": "2020-01-01", "reason": "x"}
    assert world.client(role).post(status_url(member), data).status_code == status
    assert record(member) == before


def test_status_page_refuses_get(world):
    assert world.client(Role.SECRETARY).get(status_url(world.self_member)).status_code == 405


# ---------------------------------------------------------------------------------------------------------
# Party posts


def test_post_add_and_end(world):
    member = world.self_member
    secretary = world.client(Role.SECRETARY)
    data = {"organization": "BJ01A", "post": "secretary", "start_date": "2020-01-01"}
    assert secretary.post(f"/members/{member.pk}/posts/", data).status_code == 302
    post = PartyPost.objects.get(member=member)
    response = secretary.post(f"/members/{member.pk}/posts/{post.pk}/end/", {"end_date": "2019-12-31"}, follow=True)
    assert "离任未记录：" in body(response)
    assert "离任日期不能早于任职日期。" in body(response)
    post.refresh_from_db()
    assert post.end_date is None
    response = secretary.post(f"/members/{member.pk}/posts/{post.pk}/end/", {"end_date": ""}, follow=True)
    assert "离任未记录：离任日期：请填写离任日期。" in body(response)
    secretary.post(f"/members/{member.pk}/posts/{post.pk}/end/", {"end_date": "2021-01-01"})
    post.refresh_from_db()
    assert post.end_date == dt.date(2021, 1, 1)


def test_risky_actions_sit_behind_a_confirmation_that_says_what_happens(world):
    member = world.self_member
    secretary = world.client(Role.SECRETARY)
    secretary.post(
        f"/members/{member.pk}/posts/", {"organization": "BJ01A", "post": "secretary", "start_date": "2020-01-01"}
    )
    page = body(secretary.get(f"/members/{member.pk}/"))
    for dialog, consequence in [
        ("dlg-status", "变更后该党员不再计入正常党员的人数"),
        ("dlg-transfer", "确认前不能再变更其党籍状态"),
        ("dlg-transfer-out", "党籍状态变为“转出”"),
        ("post-end-", "离任记录保留"),
    ]:
        # A button opens the dialog; the form sits inside the dialog with the consequence above it.
        assert f'data-bs-target="#{dialog}' in page
        dialog_html = page[page.index(f'class="modal fade" id="{dialog}') :]
        assert consequence in dialog_html[: dialog_html.index("</form>")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"organization": "BJ01B", "post": "secretary", "start_date": "2020-01-01"}, NOT_FOUND.format(code="BJ01B")),
        ({"organization": "BJ01A", "post": "king", "start_date": "2020-01-01"}, "选择一个有效的选项。"),
        ({"organization": "BJ01A", "post": "secretary", "start_date": TOMORROW}, "日期不能晚于今天。"),
        (
            {"organization": "BJ01A", "post": "secretary", "start_date": "2020-01-01", "end_date": "2019-01-01"},
            "离任日期不能早于任职日期。",
        ),
    ],
    ids=["org-out-of-scope", "unknown-post", "future-start", "end-before-start"],
)
def test_post_add_with_bad_input(world, data, message):
    member = world.self_member
    response = world.client(Role.SECRETARY).post(f"/members/{member.pk}/posts/", data, follow=True)
    assert response.status_code == 200
    assert "党内职务未记录：" in body(response)
    assert message in body(response)
    assert not PartyPost.objects.filter(member=member).exists()


def test_post_of_another_member_is_404(world):
    member, other = world.members["A"]
    foreign_post = PartyPostFactory(member=world.members["B"][0])
    own_other = PartyPostFactory(member=other)
    secretary = world.client(Role.SECRETARY)
    for post in (foreign_post, own_other):
        response = secretary.post(f"/members/{member.pk}/posts/{post.pk}/end/", {"end_date": "2024-01-01"})
        assert response.status_code == 404
        post.refresh_from_db()
        assert post.end_date is None


# ---------------------------------------------------------------------------------------------------------
# The list: search, filters, paging


def listed(response) -> set[str]:
    assert response.status_code == 200
    return {m.name for m in response.context["page"].object_list}


def search(client, q: str, **filters):
    """The list's search box, as the page sends it (POST), followed to the list it redirects to."""
    return client.post("/members/search/", {"q": q, **filters}, follow=True)


def test_search_by_name(world):
    client = world.client(Role.COMMITTEE)
    assert listed(client.get("/members/", {"q": "钱甲"})) == {"钱甲二"}
    assert listed(client.get("/members/", {"q": "甲"})) == {"赵甲一", "钱甲二"}
    assert listed(client.get("/members/", {"q": "李外一"})) == set()  # out of scope
    # Through the search box: a name comes back as a plain ?q= (bookmarkable).
    response = search(client, "钱甲")
    assert listed(response) == {"钱甲二"}
    assert response.redirect_chain[-1][0] == "/members/?q=%E9%92%B1%E7%94%B2"


def test_search_by_full_id_number_only(world):
    """ID numbers are stored encrypted (security baseline): only a whole number matches, via its keyed hash."""
    client = world.client(Role.COMMITTEE)
    target = world.members["B"][0]
    assert listed(search(client, target.id_number)) == {target.name}
    outside = world.members["X"][0]
    assert listed(search(client, outside.id_number)) == set()
    # Neither a prefix nor the middle of a number finds anything: the ciphertext cannot be searched.
    assert target.name not in listed(search(client, target.id_number[:14]))
    assert target.name not in listed(search(client, target.id_number[6:14]))


def test_search_by_id_number_with_lowercase_x(world):
    member = world.members["A"][1]
    seq = next(s for s in range(450) if make_id_number(member.birth_date, member.gender, s).endswith("X"))
    member.id_number = make_id_number(member.birth_date, member.gender, seq)
    member.save()
    client = world.client(Role.SECRETARY)
    assert listed(search(client, member.id_number.lower())) == {member.name}


def test_search_by_whole_phone_number(world):
    client = world.client(Role.COMMITTEE)
    assert listed(search(client, "13800000003")) == {"孙乙一"}
    assert listed(search(client, "138 0000 0003")) == {"孙乙一"}
    assert listed(search(client, "13800000004")) == set()  # 李外一, out of scope
    assert listed(search(client, "1380000000")) == set()  # a prefix finds nothing, for every role (F3)


@pytest.mark.parametrize(
    ("role", "params", "expected"),
    [
        (Role.COMMITTEE, {"org": "BJ01"}, {"赵甲一", "钱甲二", "孙乙一"}),
        (Role.COMMITTEE, {"org": "BJ01A"}, {"赵甲一", "钱甲二"}),
        (Role.COMMITTEE, {"category": "probationary"}, {"钱甲二"}),
        (Role.COMMITTEE, {"category": "full"}, {"赵甲一", "孙乙一"}),
        (Role.COMMITTEE, {"org": "BJ01A", "category": "full"}, {"赵甲一"}),
        (Role.COMMITTEE, {"status": "active"}, {"赵甲一", "钱甲二", "孙乙一"}),
        (Role.COMMITTEE, {"status": "deceased"}, set()),
        (Role.SECRETARY, {"org": "BJ01A"}, {"赵甲一", "钱甲二"}),
        (Role.INSTRUCTOR, {"org": "BJ01B"}, {"孙乙一"}),
        (Role.COMMITTEE, {"org": "BJ01", "sub": "own"}, set()),
        (Role.COMMITTEE, {"org": "BJ01A", "sub": "own"}, {"赵甲一", "钱甲二"}),
        (Role.COMMITTEE, {"sub": "own"}, {"赵甲一", "钱甲二", "孙乙一"}),
    ],
    ids=[
        "org-committee-subtree",
        "org-branch",
        "probationary",
        "full",
        "org-and-category",
        "active",
        "deceased",
        "secretary-own-branch",
        "instructor-branch",
        "org-alone-without-subtree",
        "branch-alone",
        "range-without-org-narrows-nothing",
    ],
)
def test_filters(world, role, params, expected):
    assert listed(world.client(role).get("/members/", params)) == expected


@pytest.mark.parametrize(
    ("role", "code"),
    [(Role.COMMITTEE, "LH01"), (Role.COMMITTEE, "LH"), (Role.SECRETARY, "BJ01B"), (Role.SECRETARY, "BJ01")],
)
def test_filter_by_an_org_out_of_scope(world, role, code):
    response = world.client(role).get("/members/", {"org": code})
    assert response.status_code == 200
    assert field_error("党组织", NOT_FOUND.format(code=code)) in body(response)
    assert "李外一" not in body(response)
    if role == Role.SECRETARY:
        assert "孙乙一" not in body(response)


def test_status_filter_after_a_change(world):
    member = world.members["B"][0]
    world.client(Role.COMMITTEE).post(status_url(member), {"status": "deceased", "on": "2024-01-01", "reason": "病故"})
    client = world.client(Role.COMMITTEE)
    assert listed(client.get("/members/", {"status": "deceased"})) == {"孙乙一"}
    assert "孙乙一" not in listed(client.get("/members/", {"status": "active"}))


@pytest.fixture
def many_members(world):
    return MemberFactory.create_batch(60, organization=world.orgs["A"])


def test_pagination(world, many_members):
    client = world.client(Role.SECRETARY)  # 62 members in A
    page1 = client.get("/members/", {"per_page": 25})
    assert len(page1.context["page"].object_list) == 25
    assert page1.context["page"].paginator.num_pages == 3
    assert "第 1 / 3 页" in body(page1)
    page3 = client.get("/members/", {"per_page": 25, "page": 3})
    assert len(page3.context["page"].object_list) == 12
    seen = set()
    for number in (1, 2, 3):
        page = client.get("/members/", {"per_page": 25, "page": number})
        seen |= {m.pk for m in page.context["page"].object_list}
    assert len(seen) == 62
    beyond = client.get("/members/", {"per_page": 25, "page": 99})
    assert beyond.context["page"].number == 3
    default = client.get("/members/", {"per_page": "many"})
    assert len(default.context["page"].object_list) == 20
    capped = client.get("/members/", {"per_page": 100000})
    assert capped.context["page"].paginator.per_page == 200


def test_pagination_links_keep_the_filters(world, many_members):
    response = world.client(Role.SECRETARY).get("/members/", {"category": "full", "per_page": 10})
    assert "category=full" in body(response)
    assert "page=2" in body(response)


@pytest.mark.parametrize("params", [{}, {"q": "批"}, {"org": "BJ01", "category": "full"}], ids=["all", "q", "filters"])
def test_member_list_queries_do_not_grow_with_page_size(world, many_members, params):
    Member.objects.filter(pk__in=[m.pk for m in many_members]).update(name=Concat(Value("批"), "name"))
    client = world.client(Role.COMMITTEE)
    client.get("/members/")  # warm up the session
    counts = {}
    for size in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/members/", {**params, "per_page": size})
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == size
        counts[size] = len(ctx.captured_queries)
    assert counts[5] == counts[50], counts


def test_a_second_concurrent_edit_is_refused_not_silently_overwriting(world):
    """Two users open the same member's edit page; the second save, based on the outdated copy, is refused
    with a message and the first user's change stays."""
    member = world.members["A"][0]
    first, second = world.client(Role.COMMITTEE), world.client(Role.SECRETARY)
    form_first = first.get(f"/members/{member.pk}/edit/").context["form"]
    form_second = second.get(f"/members/{member.pk}/edit/").context["form"]

    def data(form, name):
        values = {k: ("" if v is None else v) for k, v in form.initial.items()}
        values.update(name=name, organization=member.organization.code, id_number="")
        for flag in ("is_leadership", "is_district_cadre"):
            if not values.get(flag):
                values.pop(flag, None)
        return values

    assert first.post(f"/members/{member.pk}/edit/", data(form_first, "先改的名字")).status_code == 302
    response = second.post(f"/members/{member.pk}/edit/", data(form_second, "后改的名字"))
    assert response.status_code == 200
    assert "已被他人修改" in response.content.decode()
    member.refresh_from_db()
    assert member.name == "先改的名字"
