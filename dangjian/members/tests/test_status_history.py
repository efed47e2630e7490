"""Status changes and history: probationary → full (预备党员转正) with its rules; the member page's timeline
(变更记录) of edits, registrations, status changes and transfers, with who and when; history rows that the
application cannot alter."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib import admin
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.members import services
from dangjian.members.admin import MemberAdmin
from dangjian.members.models import Category, Member, MemberTransfer, PartyPost, Status
from dangjian.members.selectors import member_timeline
from dangjian.members.tests.factories import make_id_number
from tests.scope import project_urls

TODAY = timezone.localdate()
TOMORROW = TODAY + dt.timedelta(days=1)


def body(response) -> str:
    return response.content.decode()


def record(member: Member) -> dict:
    member = Member.objects.get(pk=member.pk)
    return {
        "category": member.category,
        "full_date": member.full_date,
        "version": member.version,
        "history": member.history.count(),
    }


@pytest.fixture
def probationary(world):
    """钱甲二: probationary, in branch A."""
    member = world.members["A"][1]
    assert member.category == Category.PROBATIONARY
    return member


def make_full(world, member, role=Role.SECRETARY, **data):
    return world.client(role).post(f"/members/{member.pk}/make-full/", data, follow=True)


# ---------------------------------------------------------------------------------------------------------
# Probationary → full


def test_make_full_sets_category_and_date(world, probationary):
    on = probationary.join_date + dt.timedelta(days=366)
    before = record(probationary)
    response = make_full(world, probationary, full_date=on.isoformat(), reason="支部大会讨论通过")
    assert "已转为正式党员。" in body(response)
    probationary.refresh_from_db()
    assert (probationary.category, probationary.full_date) == (Category.FULL, on)
    assert probationary.version == before["version"] + 1
    latest = probationary.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason == "支部大会讨论通过"
    assert latest.history_user == world.user(Role.SECRETARY)
    event = AuditEvent.objects.filter(action=AuditAction.STATUS_CHANGE, object_id=str(probationary.pk)).latest("id")
    assert event.detail == {"from": "probationary", "to": "full", "on": on.isoformat()}
    # The timeline names it, and the form is gone.
    page = world.client(Role.SECRETARY).get(f"/members/{probationary.pk}/")
    assert page.context["make_full_form"] is None
    entry = page.context["timeline"][0]
    assert (entry.kind, entry.who, entry.reason) == ("转正", "支部书记用户", "支部大会讨论通过")
    assert entry.text == f"预备党员 → 正式党员，转正日期{on:%Y-%m-%d}"
    assert f"转正：预备党员 → 正式党员，转正日期{on:%Y-%m-%d}（支部大会讨论通过）" in body(page)


def test_make_full_without_a_reason_records_a_default_one(world, probationary):
    make_full(world, probationary, full_date=TODAY.isoformat())
    latest = probationary.history.order_by("-history_date", "-history_id").first()
    assert latest.history_change_reason == "预备党员转为正式党员"


def test_the_form_shows_only_for_probationary_members_to_editors(world, probationary):
    full = world.members["A"][0]
    secretary = world.client(Role.SECRETARY)
    assert secretary.get(f"/members/{probationary.pk}/").context["make_full_form"] is not None
    assert 'id="make-full"' in body(secretary.get(f"/members/{probationary.pk}/"))
    assert secretary.get(f"/members/{full.pk}/").context["make_full_form"] is None
    assert world.client(Role.SCHOOL_ADMIN).get(f"/members/{probationary.pk}/").context["make_full_form"] is None


@pytest.mark.parametrize(
    ("full_date", "message"),
    [
        ("JOIN", "转正日期必须晚于入党日期"),
        ("BEFORE_JOIN", "转正日期必须晚于入党日期"),
        (TOMORROW.isoformat(), "转正日期不能晚于今天。"),
        ("", "转正日期：请填写转正日期。"),
        ("2024-13-01", "转正日期：输入一个有效的日期。"),
    ],
    ids=["on-join-date", "before-join", "future", "missing", "not-a-date"],
)
def test_make_full_refusals(world, probationary, full_date, message):
    if full_date == "JOIN":
        full_date = probationary.join_date.isoformat()
    elif full_date == "BEFORE_JOIN":
        full_date = (probationary.join_date - dt.timedelta(days=1)).isoformat()
    before = record(probationary)
    response = make_full(world, probationary, full_date=full_date)
    assert "未转正：" in body(response)
    assert message in body(response)
    assert record(probationary) == before


def test_make_full_of_a_full_member_is_refused(world):
    member = world.members["A"][0]
    before = record(member)
    response = make_full(world, member, full_date=TODAY.isoformat())
    assert "未转正：该党员已是正式党员，无需转正。" in body(response)
    assert record(member) == before


def test_make_full_of_a_suspended_member_is_refused(world, probationary):
    services.member_change_status(
        by=world.user(Role.SECRETARY), member=probationary, status=Status.SUSPENDED, reason="停止党籍"
    )
    before = record(probationary)
    response = make_full(world, probationary, full_date=TODAY.isoformat())
    assert "只有党籍状态为“正常”的预备党员才能转正（该党员为“停止党籍”）。" in body(response)
    assert record(probationary) == before


def test_make_full_on_an_outdated_page_is_refused(world, probationary):
    page = world.client(Role.SECRETARY).get(f"/members/{probationary.pk}/")
    version = page.context["make_full_form"].initial["version"]
    services.member_update(by=world.user(Role.COMMITTEE), member=probationary, phone="13911112222")
    before = record(probationary)
    response = make_full(world, probationary, full_date=TODAY.isoformat(), version=version)
    assert "已被他人修改" in body(response)
    assert record(probationary) == before


@pytest.mark.parametrize(
    ("role", "status"), [(Role.SCHOOL_ADMIN, 403), (Role.INSTRUCTOR, 404), (Role.MEMBER, 404), (Role.AUDIT_ADMIN, 404)]
)
def test_make_full_without_rights(world, probationary, role, status):
    before = record(probationary)
    response = world.client(role).post(f"/members/{probationary.pk}/make-full/", {"full_date": TODAY.isoformat()})
    assert response.status_code == status
    assert record(probationary) == before


def test_make_full_refuses_get(world, probationary):
    assert world.client(Role.SECRETARY).get(f"/members/{probationary.pk}/make-full/").status_code == 405


# ---------------------------------------------------------------------------------------------------------
# Status changes on the page need a date and a reason (停止党籍 / 出党 / 去世)


@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.EXPELLED, Status.DECEASED])
def test_status_changes_keep_the_member_with_date_and_reason_in_the_timeline(world, status):
    member = world.members["A"][0]
    on = TODAY - dt.timedelta(days=3)
    secretary = world.client(Role.SECRETARY)
    for missing in ("on", "reason"):
        data = {"status": status, "on": on.isoformat(), "reason": "支部决定", missing: ""}
        assert "党籍状态未变更：" in body(secretary.post(f"/members/{member.pk}/status/", data, follow=True))
    secretary.post(f"/members/{member.pk}/status/", {"status": status, "on": on.isoformat(), "reason": "支部决定"})
    member.refresh_from_db()
    assert (member.status, member.status_changed_on) == (status, on)
    assert Member.objects.filter(pk=member.pk).exists()
    entry = member_timeline(member=member)[0]
    assert entry.kind == "党籍状态"
    assert entry.text == f"正常 → {Status(status).label}，变更日期{on:%Y-%m-%d}"
    assert (entry.who, entry.reason) == ("支部书记用户", "支部决定")


# ---------------------------------------------------------------------------------------------------------
# The timeline


def test_the_timeline_shows_every_kind_of_change_with_who_and_when(world):
    secretary = world.user(Role.SECRETARY)
    member = services.member_create(
        by=secretary,
        reason="Excel导入",
        name="冯时间",
        gender="F",
        birth_date=dt.date(1990, 2, 3),
        id_number=_id(dt.date(1990, 2, 3)),
        join_date=dt.date(2015, 7, 1),
        category=Category.PROBATIONARY,
        organization=world.orgs["A"],
    )
    services.member_update(by=world.user(Role.COMMITTEE), member=member, phone="13911112222", name="冯时间二")
    services.member_make_full(by=secretary, member=member, on=dt.date(2016, 7, 1))
    services.member_transfer_start(by=secretary, member=member, to_organization=world.orgs["B"])
    transfer = MemberTransfer.objects.get(member=member)
    services.member_transfer_return(by=world.user(Role.COMMITTEE), transfer=transfer, reason="请补交材料")

    page = world.client(Role.SECRETARY).get(f"/members/{member.pk}/")
    timeline = page.context["timeline"]
    kinds = [e.kind for e in timeline]
    assert kinds == ["退回转接", "发起转接", "转正", "修改", "登记"]
    returned, started, full, edit, created = timeline
    assert (returned.who, returned.text, returned.reason) == ("工委工作人员用户", "高二年级党支部退回", "请补交材料")
    assert (started.who, started.text) == ("支部书记用户", "高一年级党支部 → 高二年级党支部")
    assert full.who == "支部书记用户"
    assert edit.who == "工委工作人员用户"
    assert edit.text == "姓名、手机号码"  # field names, never values
    assert (created.who, created.text, created.reason) == ("支部书记用户", "新建党员记录", "Excel导入")
    assert all(newer.at >= older.at for newer, older in itertools.pairwise(timeline))
    text = body(page)
    assert 'id="timeline"' in text
    assert "退回转接：高二年级党支部退回（请补交材料）" in text
    assert "登记：新建党员记录（Excel导入）" in text
    assert "修改：姓名、手机号码" in text
    assert "13911112222" not in text


def test_the_timeline_never_shows_id_numbers(world):
    member = world.members["A"][0]
    old = member.id_number
    new = _id(member.birth_date, gender=member.gender, seq=77)
    services.member_update(by=world.user(Role.SECRETARY), member=member, id_number=new)
    page = world.client(Role.SECRETARY).get(f"/members/{member.pk}/")
    assert page.context["timeline"][0].text == "公民身份号码"
    text = body(page)
    assert old not in text and new not in text


def test_the_timeline_costs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    member = world.members["A"][0]
    for n in range(15):
        services.member_update(by=world.user(Role.SECRETARY), member=member, phone=f"1391111{n:04d}")
    with django_assert_max_num_queries(4):
        member_timeline(member=member)


# ---------------------------------------------------------------------------------------------------------
# History cannot be altered through the app


def test_no_admin_for_history_rows():
    registry = admin.site._registry
    for model in (Member, PartyPost, MemberTransfer):
        assert model.history.model not in registry
    assert MemberTransfer not in registry  # transfers change only through their services
    member_admin = registry[Member]
    assert isinstance(member_admin, MemberAdmin)
    assert not isinstance(member_admin, SimpleHistoryAdmin)  # no history views, no revert


def test_the_member_admin_neither_changes_nor_deletes(world, rf):
    request = rf.get("/admin/members/member/")
    request.user = world.user(Role.SYSTEM_ADMIN)
    member_admin = admin.site._registry[Member]
    member = world.members["A"][0]
    assert not member_admin.has_add_permission(request)
    assert not member_admin.has_change_permission(request, member)
    assert not member_admin.has_delete_permission(request, member)


def test_no_url_changes_history(world):
    """The member pages have no route that edits or deletes a history row or a transfer record."""
    routes = [entry.route for entry in project_urls()]
    assert not [r for r in routes if "history" in r]
    assert not [r for r in routes if r.startswith("members/") and "delete" in r]


def _id(birth: dt.date, gender: str = "F", seq: int = 5) -> str:
    return make_id_number(birth, gender, seq, "430902")
