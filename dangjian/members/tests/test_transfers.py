"""Transfers of the organizational relationship (组织关系接转): inside the system (start → 转接中 on both sides →
accept or return), out of the system (转出), into the system (转入); every refusal leaves nothing behind;
overdue reminders; scope."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core.validators import MALE
from dangjian.members import services
from dangjian.members.models import Member, MemberTransfer, Status, TransferKind, TransferStatus
from dangjian.members.selectors import transfers_overdue_for
from dangjian.members.tests.factories import MemberFactory, make_id_number
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory


def body(response) -> str:
    return response.content.decode()


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot(member: Member) -> dict:
    member = Member.objects.get(pk=member.pk)
    return {
        "organization": member.organization_id,
        "status": member.status,
        "version": member.version,
        "history": member.history.count(),
        "transfers": MemberTransfer.objects.filter(member=member).count(),
    }


@pytest.fixture
def receiver(world):
    """The secretary of the branch in the other tree (临湖实验小学党支部, LH01): outside the sender's scope."""
    return user_with_role(Role.SECRETARY, world.orgs["XB"], full_name="临湖书记")


@pytest.fixture
def moving(world):
    """钱甲二 (probationary, branch A), about to be transferred by the secretary of A."""
    return world.members["A"][1]


def start(world, member, code="LH01", **extra):
    return world.client(Role.SECRETARY).post(
        f"/members/{member.pk}/transfer/", {"to_organization": code, **extra}, follow=True
    )


# ---------------------------------------------------------------------------------------------------------
# Inside the system


def test_start_shows_the_member_in_transfer_to_both_sides(world, moving, receiver):
    response = start(world, moving, letter_number="滨组转〔2026〕7号")
    assert "已发起组织关系转接，转往“临湖实验小学党支部”" in body(response)
    transfer = MemberTransfer.objects.get(member=moving)
    assert (transfer.kind, transfer.status) == (TransferKind.INTERNAL, TransferStatus.PENDING)
    assert (transfer.from_organization, transfer.to_organization) == (world.orgs["A"], world.orgs["XB"])
    assert transfer.started_by == world.user(Role.SECRETARY)
    assert transfer.letter_number == "滨组转〔2026〕7号"
    moving.refresh_from_db()
    assert moving.organization == world.orgs["A"]  # still with the sender until accepted

    for client in (world.client(Role.SECRETARY), client_of(receiver)):
        page = client.get(f"/members/{moving.pk}/")
        assert page.status_code == 200
        assert 'id="in-transfer">转接中' in body(page)
        assert "高一年级党支部 → 临湖实验小学党支部" in body(page)
        listed = client.get("/members/", {"q": moving.name})
        assert [m.name for m in listed.context["page"].object_list] == [moving.name]
        assert "转接中" in body(listed)

    # Read-only for the receiver until accepted: no edit, no status change, no full ID; but accept/return.
    page = client_of(receiver).get(f"/members/{moving.pk}/")
    assert page.context["can_edit"] is False
    assert page.context["can_see_full_id"] is False
    assert page.context["can_decide"] is True
    assert client_of(receiver).get(f"/members/{moving.pk}/edit/").status_code == 403
    assert moving.id_number not in body(page)
    # The sender sees it waiting, and may not decide it.
    page = world.client(Role.SECRETARY).get(f"/members/{moving.pk}/")
    assert page.context["can_decide"] is False
    assert "等待接收党组织接收或退回" in body(page)

    event = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="members.membertransfer").latest("id")
    assert event.detail == {"member": moving.pk, "kind": "internal", "from": "BJ01A", "to": "LH01"}


def test_the_receivers_other_pages_do_not_see_the_member(world, moving, receiver):
    """Only the member in transfer is shared: the sender's other members stay out of the receiver's sight."""
    start(world, moving)
    listed = client_of(receiver).get("/members/", {"per_page": 200})
    names = {m.name for m in listed.context["page"].object_list}
    assert names == {moving.name, "李外一"}


def test_visible_to_stays_one_query(world, moving, receiver):
    start(world, moving)
    access_for(receiver)  # built once per request, before the query
    with CaptureQueriesContext(connection) as ctx:
        names = set(Member.objects.visible_to(receiver).values_list("name", flat=True))
    assert names == {moving.name, "李外一"}
    assert len(ctx.captured_queries) == 1


def test_accept_moves_the_member_keeping_the_join_dates(world, moving, receiver):
    start(world, moving)
    before = Member.objects.get(pk=moving.pk)
    transfer = MemberTransfer.objects.get(member=moving)
    response = client_of(receiver).post(
        f"/members/{moving.pk}/transfer/accept/", {"transfer": transfer.pk}, follow=True
    )
    assert response.status_code == 200
    assert "已接收“钱甲二”的组织关系，转入“临湖实验小学党支部”" in body(response)
    moving.refresh_from_db()
    assert moving.organization == world.orgs["XB"]
    assert (moving.join_date, moving.full_date, moving.category) == (
        before.join_date,
        before.full_date,
        before.category,
    )
    assert moving.version == before.version + 1
    latest = moving.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason == "组织关系转入"
    assert latest.history_user == receiver
    transfer.refresh_from_db()
    assert (transfer.status, transfer.decided_by) == (TransferStatus.ACCEPTED, receiver)
    assert transfer.decided_at is not None
    # Now the receiver's member, editable by them, out of the sender's reach.
    page = client_of(receiver).get(f"/members/{moving.pk}/")
    assert page.context["can_edit"] is True
    assert "转接中" not in body(page)
    assert world.client(Role.SECRETARY).get(f"/members/{moving.pk}/").status_code == 404
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(moving.pk)).latest("id")
    assert event.detail["event"] == "accepted" and event.detail["to"] == "LH01"


def test_return_with_a_reason_keeps_the_member(world, moving, receiver):
    start(world, moving)
    before = snapshot(moving)
    response = client_of(receiver).post(
        f"/members/{moving.pk}/transfer/return/", {"reason": "介绍信抬头有误"}, follow=True
    )
    assert "已退回“钱甲二”的组织关系转接" in body(response)
    transfer = MemberTransfer.objects.get(member=moving)
    assert (transfer.status, transfer.reason, transfer.decided_by) == (
        TransferStatus.RETURNED,
        "介绍信抬头有误",
        receiver,
    )
    after = snapshot(moving)
    assert {k: after[k] for k in ("organization", "status", "version", "history")} == {
        k: before[k] for k in ("organization", "status", "version", "history")
    }
    # No longer the receiver's to see; the sender sees why it came back and may start again.
    assert client_of(receiver).get(f"/members/{moving.pk}/").status_code == 404
    page = world.client(Role.SECRETARY).get(f"/members/{moving.pk}/")
    assert "退回转接：临湖实验小学党支部退回（介绍信抬头有误）" in body(page)
    assert "介绍信抬头有误" in body(page)
    assert page.context["transfer_form"] is not None
    assert "已发起组织关系转接" in body(start(world, moving, code="BJ01B"))


def test_return_without_a_reason_is_refused(world, moving, receiver):
    start(world, moving)
    response = client_of(receiver).post(f"/members/{moving.pk}/transfer/return/", {"reason": "  "}, follow=True)
    assert "未退回：退回原因：请填写退回原因。" in body(response)
    assert MemberTransfer.objects.get(member=moving).status == TransferStatus.PENDING


def test_both_sides_see_the_trail(world, moving, receiver):
    start(world, moving)
    client_of(receiver).post(f"/members/{moving.pk}/transfer/accept/")
    for client in (world.client(Role.SECRETARY), world.client(Role.COMMITTEE), client_of(receiver)):
        response = client.get("/members/transfers/")
        assert response.status_code == 200
        recent = response.context["recent"]
        assert [(t.member.name, t.status) for t in recent] == [(moving.name, TransferStatus.ACCEPTED)]
        assert "已接收" in body(response)
    # The member page shows every step, with who and when.
    page = client_of(receiver).get(f"/members/{moving.pk}/")
    timeline = [(e.who, e.kind, e.text) for e in page.context["timeline"]]
    assert timeline[:3] == [
        ("临湖书记", "接收转接", "转入临湖实验小学党支部"),
        ("临湖书记", "修改", "所在党组织（高一年级党支部 → 临湖实验小学党支部）"),
        ("支部书记用户", "发起转接", "高一年级党支部 → 临湖实验小学党支部"),
    ] or timeline[:3] == [
        ("临湖书记", "修改", "所在党组织（高一年级党支部 → 临湖实验小学党支部）"),
        ("临湖书记", "接收转接", "转入临湖实验小学党支部"),
        ("支部书记用户", "发起转接", "高一年级党支部 → 临湖实验小学党支部"),
    ]
    assert "发起转接：高一年级党支部 → 临湖实验小学党支部" in body(page)


def test_transfer_list_sections(world, moving, receiver):
    start(world, moving)
    sender_view = world.client(Role.SECRETARY).get("/members/transfers/")
    receiver_view = client_of(receiver).get("/members/transfers/")
    assert [t.member for t in sender_view.context["outgoing"]] == [moving]
    assert sender_view.context["incoming"] == []
    assert [t.member for t in receiver_view.context["incoming"]] == [moving]
    assert receiver_view.context["outgoing"] == []
    assert f'href="/members/{moving.pk}/"' in body(receiver_view)


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.COMMITTEE, True),
        (Role.SCHOOL_ADMIN, True),
        (Role.SECRETARY, True),
        (Role.INSTRUCTOR, False),
        (Role.MEMBER, False),
    ],
)
def test_transfer_list_is_scoped(world, moving, role, sees):
    start(world, moving, code="LH01")
    response = world.client(role).get("/members/transfers/")
    assert response.status_code == 200
    assert (moving.name in body(response)) is sees


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_transfer_list_is_closed_to_the_three_admins(world, role):
    assert world.client(role).get("/members/transfers/").status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Refusals: a clear message naming the field, nothing saved.


@pytest.mark.parametrize(
    ("setup", "data", "message"),
    [
        (None, {"to_organization": "BJ01A"}, "接收党组织：接收党组织不能是该党员当前所在的党组织。"),
        (
            None,
            {"to_organization": "BJ01"},
            "接收党组织：接收党组织必须是党支部、联合党支部或临时党支部（“滨江一中党委”是党委）。",
        ),
        (None, {"to_organization": "NOSUCH"}, "接收党组织：找不到党组织编码“NOSUCH”。"),
        (None, {"to_organization": ""}, "接收党组织：请选择接收党组织。"),
        (None, {"to_organization": "LH01", "letter_number": "x" * 51}, "介绍信编号："),
        ("deceased", {"to_organization": "LH01"}, "只有党籍状态为“正常”的党员才能转接组织关系（该党员为“去世”）。"),
        ("pending", {"to_organization": "BJ01B"}, "该党员的组织关系正在转接中（转往临湖实验小学党支部）"),
        ("stale", {"to_organization": "LH01", "version": "0"}, "该党员的信息已被他人修改"),
    ],
    ids=["same-org", "not-a-branch", "unknown-code", "no-code", "letter-too-long", "not-active", "pending", "stale"],
)
def test_start_refusals(world, moving, setup, data, message):
    if setup == "deceased":
        services.member_change_status(
            by=world.user(Role.SECRETARY), member=moving, status=Status.DECEASED, reason="病故"
        )
    elif setup == "pending":
        start(world, moving)
    elif setup == "stale":
        services.member_update(by=world.user(Role.SECRETARY), member=moving, phone="13911112222")
    before = snapshot(moving)
    pending_before = list(MemberTransfer.objects.pending().values_list("pk", "to_organization_id"))
    response = start(
        world, moving, **{k: v for k, v in data.items() if k != "to_organization"}, code=data["to_organization"]
    )
    assert response.status_code == 200
    assert "组织关系转接未发起：" in body(response)
    assert message in body(response)
    assert snapshot(moving) == before
    assert list(MemberTransfer.objects.pending().values_list("pk", "to_organization_id")) == pending_before


def test_the_database_holds_one_pending_transfer_per_member(world, moving):
    start(world, moving)
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberTransfer.objects.create(
            member=moving,
            kind=TransferKind.INTERNAL,
            from_organization=world.orgs["A"],
            to_organization=world.orgs["B"],
        )


def test_a_member_in_transfer_neither_moves_nor_changes_status_by_other_means(world, moving):
    start(world, moving)
    before = snapshot(moving)
    committee = world.client(Role.COMMITTEE)
    data = {
        "name": moving.name,
        "gender": moving.gender,
        "ethnicity": moving.ethnicity,
        "birth_date": moving.birth_date.isoformat(),
        "id_number": "",
        "phone": moving.phone,
        "join_date": moving.join_date.isoformat(),
        "full_date": "",
        "category": moving.category,
        "organization": "BJ01B",
        "version": moving.version,
    }
    response = committee.post(f"/members/{moving.pk}/edit/", data)
    assert response.status_code == 200
    assert "所在党组织：该党员的组织关系正在转接中（转往临湖实验小学党支部）" in body(response)
    response = committee.post(
        f"/members/{moving.pk}/status/", {"status": "suspended", "on": "2024-01-01", "reason": "x"}, follow=True
    )
    assert "党籍状态未变更：" in body(response)
    assert "正在转接中" in body(response)
    assert snapshot(moving) == before


@pytest.mark.parametrize("action", ["accept", "return"])
def test_only_the_receiving_side_decides(world, moving, receiver, action):
    start(world, moving)
    before = snapshot(moving)
    data = {"reason": "不收"}
    # The sender and the committee above it see the member but may not decide for the receiver: 403.
    for client in (world.client(Role.SECRETARY), world.client(Role.COMMITTEE)):
        assert client.post(f"/members/{moving.pk}/transfer/{action}/", data).status_code == 403
    # A viewer on the receiving side without edit rights: 403 too.
    viewer = user_with_role(Role.INSTRUCTOR, world.orgs["XB"])
    assert client_of(viewer).get(f"/members/{moving.pk}/").status_code == 200
    assert client_of(viewer).post(f"/members/{moving.pk}/transfer/{action}/", data).status_code == 403
    assert snapshot(moving) == before
    assert MemberTransfer.objects.get(member=moving).status == TransferStatus.PENDING


def test_a_user_who_sees_neither_side_gets_404(world, moving):
    start(world, moving)
    elsewhere = OrganizationFactory(code="LH02", name="临湖二小党支部", kind=OrgKind.BRANCH, parent=world.orgs["X"])
    stranger = user_with_role(Role.SECRETARY, elsewhere)
    client = client_of(stranger)
    before = snapshot(moving)
    assert client.get(f"/members/{moving.pk}/").status_code == 404
    for action in ("transfer/accept", "transfer/return", "transfer", "transfer-out"):
        assert (
            client.post(f"/members/{moving.pk}/{action}/", {"reason": "x", "to_organization": "LH02"}).status_code
            == 404
        )
    assert moving.name not in body(client.get("/members/transfers/"))
    assert moving.name not in body(client.get("/members/", {"per_page": 200}))
    assert snapshot(moving) == before
    # The world's instructor (branch B) sees neither A nor LH01 either.
    assert world.client(Role.INSTRUCTOR).get(f"/members/{moving.pk}/").status_code == 404


def test_accept_twice_is_refused_with_a_message(world, moving, receiver):
    start(world, moving)
    transfer = MemberTransfer.objects.get(member=moving)
    client = client_of(receiver)
    client.post(f"/members/{moving.pk}/transfer/accept/", {"transfer": transfer.pk})
    before = snapshot(moving)
    response = client.post(f"/members/{moving.pk}/transfer/accept/", {"transfer": transfer.pk}, follow=True)
    assert "未接收：该转接已办理（已接收），不能再接收。" in body(response)
    assert snapshot(moving) == before


def test_accept_without_a_pending_transfer(world, moving):
    response = world.client(Role.SECRETARY).post(f"/members/{moving.pk}/transfer/accept/", follow=True)
    assert "该党员没有待办理的组织关系转接。" in body(response)


def test_a_transfer_of_another_member_cannot_be_decided_through_this_one(world, moving, receiver):
    start(world, moving)
    other = world.members["A"][0]
    transfer = MemberTransfer.objects.get(member=moving)
    response = world.client(Role.SECRETARY).post(
        f"/members/{other.pk}/transfer/accept/", {"transfer": transfer.pk}, follow=True
    )
    assert "该党员没有待办理的组织关系转接。" in body(response)
    assert MemberTransfer.objects.get(pk=transfer.pk).status == TransferStatus.PENDING


# ---------------------------------------------------------------------------------------------------------
# Out of the system


def test_outgoing_records_the_destination_and_sets_transferred_out(world, moving):
    today = timezone.localdate()
    response = world.client(Role.SECRETARY).post(
        f"/members/{moving.pk}/transfer-out/",
        {
            "external_organization": "江苏省南京市某中学党支部",
            "letter_number": "滨组转〔2026〕9号",
            "transfer_date": today,
        },
        follow=True,
    )
    assert "已办理组织关系转出，转往“江苏省南京市某中学党支部”" in body(response)
    moving.refresh_from_db()
    assert (moving.status, moving.status_changed_on, moving.organization) == (
        Status.TRANSFERRED_OUT,
        today,
        world.orgs["A"],
    )
    transfer = MemberTransfer.objects.get(member=moving)
    assert (transfer.kind, transfer.status) == (TransferKind.OUTGOING, TransferStatus.COMPLETED)
    assert (transfer.external_organization, transfer.letter_number) == ("江苏省南京市某中学党支部", "滨组转〔2026〕9号")
    assert transfer.from_organization == world.orgs["A"] and transfer.to_organization is None
    event = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGE, object_id=str(moving.pk)).latest("id")
    assert event.detail["to"] == Status.TRANSFERRED_OUT
    page = world.client(Role.SECRETARY).get(f"/members/{moving.pk}/")
    assert "转出系统外：转往江苏省南京市某中学党支部，介绍信编号滨组转〔2026〕9号" in body(page)
    assert page.context["transfer_form"] is None  # no longer 正常


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"letter_number": ""}, "介绍信编号：请填写介绍信编号。"),
        ({"external_organization": ""}, "转往党组织：请填写转往党组织。"),
        ({"transfer_date": "TOMORROW"}, "转出日期不能晚于今天。"),
        ({"transfer_date": "BEFORE_JOIN"}, "转出日期不能早于入党日期"),
        ({"transfer_date": "2024-02-30"}, "转出日期：输入一个有效的日期。"),
    ],
    ids=["no-letter", "no-destination", "future", "before-join", "not-a-date"],
)
def test_outgoing_refusals(world, moving, data, message):
    values = {"external_organization": "某地党支部", "letter_number": "1号", "transfer_date": "2024-01-01", **data}
    if values["transfer_date"] == "TOMORROW":
        values["transfer_date"] = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    elif values["transfer_date"] == "BEFORE_JOIN":
        values["transfer_date"] = (moving.join_date - dt.timedelta(days=1)).isoformat()
    before = snapshot(moving)
    response = world.client(Role.SECRETARY).post(f"/members/{moving.pk}/transfer-out/", values, follow=True)
    assert "组织关系未转出：" in body(response)
    assert message in body(response)
    assert snapshot(moving) == before


def test_outgoing_of_a_member_in_transfer_is_refused(world, moving):
    start(world, moving)
    before = snapshot(moving)
    response = world.client(Role.SECRETARY).post(
        f"/members/{moving.pk}/transfer-out/",
        {"external_organization": "某地党支部", "letter_number": "1号", "transfer_date": "2024-01-01"},
        follow=True,
    )
    assert "正在转接中" in body(response)
    assert snapshot(moving) == before


@pytest.mark.parametrize(("role", "status"), [(Role.INSTRUCTOR, 404), (Role.SCHOOL_ADMIN, 403), (Role.MEMBER, 403)])
def test_outgoing_without_rights(world, moving, role, status):
    before = snapshot(moving)
    data = {"external_organization": "某地党支部", "letter_number": "1号", "transfer_date": "2024-01-01"}
    member = moving if role != Role.MEMBER else world.self_member
    before = snapshot(member)
    assert world.client(role).post(f"/members/{member.pk}/transfer-out/", data).status_code == status
    assert snapshot(member) == before


# ---------------------------------------------------------------------------------------------------------
# Into the system

BIRTH = dt.date(1988, 3, 9)
NEW_ID = make_id_number(BIRTH, MALE, 11, "420116")


def incoming_data(**overrides) -> dict:
    data = {
        "external_organization": "湖北省武汉市黄陂区某小学党支部",
        "letter_number": "黄组转〔2026〕3号",
        "transfer_date": "2026-01-05" if timezone.localdate() >= dt.date(2026, 1, 5) else "2020-01-05",
        "name": "吴转入",
        "gender": "M",
        "ethnicity": "汉族",
        "birth_date": BIRTH.isoformat(),
        "id_number": NEW_ID,
        "phone": "13712345678",
        "education": "bachelor",
        "join_date": "2012-07-01",
        "full_date": "2013-07-01",
        "category": "full",
        "organization": "BJ01A",
    }
    data.update(overrides)
    return data


def test_incoming_creates_the_member_and_the_record(world):
    response = world.client(Role.SECRETARY).post("/members/new/incoming/", incoming_data())
    assert response.status_code == 302
    member = Member.objects.with_id_number(NEW_ID).get()
    assert response["Location"] == f"/members/{member.pk}/"
    assert member.organization == world.orgs["A"]
    transfer = MemberTransfer.objects.get(member=member)
    assert (transfer.kind, transfer.status, transfer.to_organization) == (
        TransferKind.INCOMING,
        TransferStatus.COMPLETED,
        world.orgs["A"],
    )
    assert (transfer.external_organization, transfer.letter_number) == (
        "湖北省武汉市黄陂区某小学党支部",
        "黄组转〔2026〕3号",
    )
    record = member.history.get()
    assert record.history_change_reason == "从系统外转入（湖北省武汉市黄陂区某小学党支部）"
    assert record.history_user == world.user(Role.SECRETARY)
    page = world.client(Role.SECRETARY).get(f"/members/{member.pk}/")
    assert "从系统外转入：来自湖北省武汉市黄陂区某小学党支部，介绍信编号黄组转〔2026〕3号" in body(page)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"letter_number": ""}, "介绍信编号：请填写介绍信编号。"),
        ({"external_organization": ""}, "原所在党组织：请填写原所在党组织。"),
        ({"id_number": NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")}, "公民身份号码：公民身份号码校验位错误"),
        ({"organization": "LH01"}, "所在党组织：找不到党组织编码“LH01”，或该组织不在您的管理范围内。"),
        ({"transfer_date": "2011-01-01"}, "转入日期不能早于入党日期（2012-07-01）。"),
    ],
    ids=["no-letter", "no-origin", "bad-id", "org-out-of-scope", "before-join"],
)
def test_incoming_refusals_save_nothing(world, overrides, message):
    members, transfers = Member.objects.count(), MemberTransfer.objects.count()
    response = world.client(Role.SECRETARY).post("/members/new/incoming/", incoming_data(**overrides))
    assert response.status_code == 200
    assert message in body(response)
    assert (Member.objects.count(), MemberTransfer.objects.count()) == (members, transfers)


def test_incoming_is_one_transaction(world):
    """If the transfer record cannot be written, the member is not registered either."""
    members = Member.objects.count()
    boom = mock.patch.object(services, "_save_transfer", side_effect=RuntimeError("disk full"))
    with boom, pytest.raises(RuntimeError):
        services.member_register_incoming(
            by=world.user(Role.SECRETARY),
            origin="某地",
            letter_number="1号",
            **{
                "name": "吴转入",
                "gender": "M",
                "birth_date": BIRTH,
                "id_number": NEW_ID,
                "join_date": dt.date(2012, 7, 1),
                "full_date": dt.date(2013, 7, 1),
                "organization": world.orgs["A"],
            },
        )
    assert Member.objects.count() == members


@pytest.mark.parametrize("role", [Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_incoming_without_rights(world, role):
    members = Member.objects.count()
    assert world.client(role).post("/members/new/incoming/", incoming_data()).status_code == 403
    assert Member.objects.count() == members


# ---------------------------------------------------------------------------------------------------------
# Overdue


def later(days: float):
    moment = timezone.now() + dt.timedelta(days=days)
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_overdue_transfers_show_to_both_sides(world, moving, receiver):
    start(world, moving)
    sender = world.user(Role.SECRETARY)
    bystander = world.user(Role.INSTRUCTOR)
    assert list(transfers_overdue_for(user=sender)) == []
    with later(29):
        assert list(transfers_overdue_for(user=receiver)) == []
    with later(31):
        for user in (sender, receiver, world.user(Role.COMMITTEE)):
            assert [t.member for t in transfers_overdue_for(user=user)] == [moving], user
        assert list(transfers_overdue_for(user=bystander)) == []
        page = client_of(receiver).get(f"/members/{moving.pk}/")
        assert "转接已超过30天未办理" in body(page)
        listing = world.client(Role.SECRETARY).get("/members/transfers/")
        assert "逾期" in body(listing)


def test_the_overdue_threshold_is_a_setting(world, moving, receiver):
    start(world, moving)
    with override_settings(DANGJIAN_TRANSFER_OVERDUE_DAYS=5), later(6):
        assert [t.member for t in transfers_overdue_for(user=receiver)] == [moving]
    with override_settings(DANGJIAN_TRANSFER_OVERDUE_DAYS=5), later(4):
        assert list(transfers_overdue_for(user=receiver)) == []


def test_decided_transfers_are_never_overdue(world, moving, receiver):
    start(world, moving)
    client_of(receiver).post(f"/members/{moving.pk}/transfer/return/", {"reason": "不符"})
    with later(90):
        assert list(transfers_overdue_for(user=receiver)) == []
        assert list(transfers_overdue_for(user=world.user(Role.SECRETARY))) == []


def test_a_new_member_between_two_transfers_is_listed_once(world, receiver):
    """Two members of A in transfer to LH01: each once in the receiver's list (the subquery, not a join)."""
    one, two = MemberFactory(organization=world.orgs["A"]), MemberFactory(organization=world.orgs["A"])
    for member in (one, two):
        start(world, member)
    names = list(Member.objects.visible_to(receiver).values_list("name", flat=True))
    assert sorted(names) == sorted([one.name, two.name, "李外一"])


@pytest.mark.parametrize("value", ["abc", "-1", "0", "9" * 40, "1.5"])
def test_a_mangled_transfer_id_is_answered_not_crashed(world, moving, receiver, value):
    start(world, moving)
    for action in ("accept", "return"):
        response = client_of(receiver).post(
            f"/members/{moving.pk}/transfer/{action}/", {"transfer": value, "reason": "x"}, follow=True
        )
        assert response.status_code == 200
        assert "该党员没有待办理的组织关系转接。" in body(response)
    assert MemberTransfer.objects.get(member=moving).status == TransferStatus.PENDING


def test_the_workbench_to_do_list_shows_waiting_and_overdue_transfers(world, moving, receiver):
    start(world, moving)
    waiting = body(client_of(receiver).get("/"))
    assert 'id="todo"' in waiting and moving.name in waiting and "待接收或退回" in waiting
    # Not overdue yet: nothing about the transfer on the sending side (its other duties may be listed).
    assert "已超过" not in body(world.client(Role.SECRETARY).get("/"))
    assert moving.name not in body(world.client(Role.INSTRUCTOR).get("/"))  # a bystander
    with later(31):
        for client in (client_of(receiver), world.client(Role.SECRETARY), world.client(Role.COMMITTEE)):
            page = body(client.get("/"))
            assert moving.name in page and "已超期" in page
            # Once on the to-do list, though both overdue and waiting (the home page's role panels may name the
            # member too, as a pending transfer or as behind on hours).
            assert body(client.get("/todo/")).count(f"{moving.name} ") == 1


# ---------------------------------------------------------------------------------------------------------
# Choosing the receiving branch: a picker over the whole system, not a typed code.


def test_the_transfer_form_chooses_the_receiving_branch_with_the_picker(world, moving):
    page = body(world.client(Role.SECRETARY).get(f"/members/{moving.pk}/"))
    assert 'data-org-picker="/orgs/pick/receiving/"' in page
    # The receiving branch lies outside the secretary's view; the picker finds it by name, with its trail.
    found = world.client(Role.SECRETARY).get("/orgs/pick/receiving/", {"q": "临湖实验"}).json()["results"]
    assert [row["code"] for row in found] == ["LH01"]
    # Only names and codes: no member of it.
    assert set(found[0]) == {"code", "name", "trail", "children"}


def test_the_picker_of_receiving_branches_is_for_those_who_transfer(world):
    assert world.client(Role.MEMBER).get("/orgs/pick/receiving/", {"q": "临湖"}).status_code == 403
    assert world.client(Role.AUDIT_ADMIN).get("/orgs/pick/receiving/").status_code == 403


def test_the_pickers_name_and_code_are_taken_without_script(world, moving, receiver):
    response = start(world, moving, code="临湖实验小学党支部（LH01）")
    assert "已发起组织关系转接，转往“临湖实验小学党支部”" in body(response)
