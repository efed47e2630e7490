"""The audit page reads as Chinese sentences: who (name and username), which action (its Chinese name), on what (the
object's name, or its kind and id), which fields (their Chinese names, never their values), when (local time); its
filters, its export (CSV and .xlsx) and a query count that does not grow with the page."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from openpyxl import load_workbook

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.audit.models import AuditAction, AuditEvent, AuditResult
from dangjian.audit.selectors import PHRASES, describe
from dangjian.audit.services import audit_record
from dangjian.audit.signals import EXPLICITLY_AUDITED
from dangjian.members.tests.factories import make_id_number, member_form_data
from dangjian.orglife.tests.factories import record
from dangjian.schools.models import BookingStatus
from dangjian.schools.tests.factories import BookingRequestFactory, CourseFactory, PartySchoolFactory
from dangjian.supervision.tests.factories import assign, institution, instructor, visit
from dangjian.training.services import classes as class_services
from dangjian.training.tests.factories import TrainingClassFactory

pytestmark = pytest.mark.usefixtures("world")

ROOT = Path(__file__).resolve().parents[2]
# 2026-01-01 16:30 UTC is 2026-01-02 00:30 in Asia/Shanghai.
AT_UTC = dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.UTC)
SHANGHAI = override_settings(TIME_ZONE="Asia/Shanghai")


def lines(response) -> list[str]:
    return [line.sentence for line in response.context["lines"]]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


# ---------------------------------------------------------------------------------------------------------
# The sentences.


def test_every_action_has_its_sentence():
    assert set(PHRASES) == set(AuditAction)


def _written_actions() -> set[str]:
    """Every action the code writes: `AuditAction.X` and the `action="…"` of `security_event.send`."""
    found: set[str] = set()
    for path in ROOT.rglob("*.py"):
        if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Attribute)
                and getattr(node.value, "id", "") == "AuditAction"
                and node.attr.isupper()
            ):
                found.add(AuditAction[node.attr].value)
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "send"):
                continue
            if getattr(getattr(node.func, "value", None), "id", "") != "security_event":
                continue
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                if isinstance(keyword.value, ast.Constant):
                    found.add(keyword.value.value)
                elif isinstance(keyword.value, ast.IfExp):
                    found |= {getattr(branch, "value", "") for branch in (keyword.value.body, keyword.value.orelse)}
    return found


def test_every_action_the_code_writes_has_a_chinese_name():
    written = _written_actions()
    assert {"login_success", "export", "password_set", "account_deactivate"} <= written
    assert written <= set(AuditAction.values), written - set(AuditAction.values)
    for action in written:
        assert re.search(r"[\u4e00-\u9fff]", AuditAction(action).label), action


def test_a_member_change_names_the_member_and_the_fields_and_no_id_number(world):
    member = world.members["A"][0]
    old_id, old_phone = member.id_number, member.phone
    new_id = make_id_number(member.birth_date, member.gender, 31, "320104")
    data = member_form_data(member, id_number=new_id, phone="13912345678", ethnicity="回族")
    assert world.client(Role.COMMITTEE).post(f"/members/{member.pk}/edit/", data).status_code == 302
    committee = world.user(Role.COMMITTEE)

    response = world.client(Role.AUDIT_ADMIN).get("/audit/", {"action": "update", "object_type": "members.member"})
    assert response.status_code == 200
    [sentence] = lines(response)
    assert sentence.startswith(f"{committee.full_name}（{committee.username}）修改了党员“{member.name}”的")
    for field in ("民族", "公民身份号码", "手机号码"):
        assert field in sentence
    page = response.content.decode()
    assert sentence in page
    for value in (old_id, new_id, old_phone, "13912345678", "回族"):
        assert not value or value not in page


def test_a_record_at_utc_afternoon_shows_the_local_next_day():
    event = audit_record(action=AuditAction.POLICY_CHANGE)
    AuditEvent.objects.create(at=AT_UTC, action=AuditAction.POLICY_CHANGE)
    with SHANGHAI:
        [line] = [line for line in describe(list(AuditEvent.objects.filter(at=AT_UTC))) if line.event.pk != event.pk]
        assert line.at == "2026-01-02 00:30"


@SHANGHAI
def test_the_page_shows_local_time(world):
    AuditEvent.objects.create(at=AT_UTC, action=AuditAction.POLICY_CHANGE, actor_username="someone")
    page = world.client(Role.AUDIT_ADMIN).get("/audit/", {"action": "policy_change"}).content.decode()
    assert "2026-01-02 00:30" in page
    assert "2026-01-01 16:30" not in page


def test_a_deleted_object_is_named_by_its_kind_and_id(world):
    audit_record(
        action=AuditAction.UPDATE, object_type="members.member", object_id="999999", detail={"fields": ["name"]}
    )
    audit_record(action=AuditAction.CREATE, object_type="nothing.here", object_id="7", object_repr="x")
    sentences = [line.sentence for line in describe(list(AuditEvent.objects.order_by("id")))]
    assert "系统修改了党员（#999999）的姓名。" in sentences
    assert any(s.startswith("系统新建了nothing.here") for s in sentences)


def test_grants_security_events_and_refusals_read_as_sentences(world):
    secretary = world.user(Role.SECRETARY)
    user = UserFactory(username="li_si", full_name="李四")
    grant(user, Role.SECRETARY, world.orgs["B"])
    world.client(Role.SCHOOL_ADMIN).get("/members/new/")
    audit_record(action=AuditAction.PASSWORD_SET, actor=world.user(Role.SECURITY_ADMIN), obj=user)
    audit_record(action=AuditAction.VIEW_FULL_ID, actor=secretary, obj=world.members["A"][0])
    sentences = [line.sentence for line in describe(list(AuditEvent.objects.order_by("id")))]
    assert f"系统授予李四（li_si）的“支部书记”角色（党组织“{world.orgs['B'].name}”）。" in sentences
    assert "党校管理员用户（world_school_admin）访问“/members/new/”被拒绝（越权操作）。" in sentences
    assert "安全管理员用户（world_security_admin）设置了李四（li_si）的密码。" in sentences
    assert f"支部书记用户（world_secretary）查看了党员“{world.members['A'][0].name}”的完整身份证号。" in sentences


# ---------------------------------------------------------------------------------------------------------
# Filters, export, queries.


def test_the_filters_narrow(world):
    secretary = world.user(Role.SECRETARY)
    audit_record(action=AuditAction.VIEW_FULL_ID, actor=secretary, obj=world.members["A"][0])
    audit_record(action=AuditAction.CREATE, actor=world.user(Role.COMMITTEE), obj=world.orgs["B"])
    old = AuditEvent.objects.create(at=AT_UTC, action=AuditAction.POLICY_CHANGE, actor_username="old")
    client = world.client(Role.AUDIT_ADMIN)

    def events(**params) -> set[int]:
        response = client.get("/audit/", {"per_page": 200, **params})
        assert response.status_code == 200
        return {line.event.pk for line in response.context["lines"]}

    everything = events()
    by_name = events(actor=secretary.full_name)
    by_username = events(actor="world_secretary")
    assert by_name == by_username and by_name and by_name < everything
    assert {AuditEvent.objects.get(pk=pk).actor_id for pk in by_name} == {secretary.pk}
    assert {AuditEvent.objects.get(pk=pk).action for pk in events(action="view_full_id")} == {"view_full_id"}
    assert {AuditEvent.objects.get(pk=pk).object_type for pk in events(object_type="orgs.organization")} == {
        "orgs.organization"
    }
    with SHANGHAI:  # the record is on 2026-01-02 local time
        assert events(since="2026-01-02", until="2026-01-02") == {old.pk}
        assert old.pk not in events(until="2026-01-01")
    form = client.get("/audit/").context["filter"].form
    assert ("view_full_id", "查看完整身份证号") in form.fields["action"].choices
    assert ("members.member", "党员") in form.fields["object_type"].choices


@SHANGHAI
def test_the_exports_have_chinese_action_names_local_times_and_sentences(world):
    AuditEvent.objects.create(
        at=AT_UTC,
        action=AuditAction.LOGIN_SUCCESS,
        actor_id=world.user(Role.SECRETARY).pk,
        actor_username="world_secretary",
    )
    client = world.client(Role.AUDIT_ADMIN)
    params = {"action": "login_success", "until": "2026-01-03"}
    rows = csv_rows(client.get("/audit/export.csv", params))
    assert rows[0][:5] == ["时间", "操作人", "来源IP", "操作", "结果"]
    assert rows[1][0] == "2026-01-02 00:30"
    assert rows[1][3] == "登录成功"
    assert rows[1][8] == "支部书记用户（world_secretary）登录系统。"

    response = client.get("/audit/", {**params, "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0]
    assert values[1][0] == "2026-01-02 00:30"
    assert values[1][3] == "登录成功"
    assert values[1][8] == rows[1][8]
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT).order_by("id")
    assert [(e.object_repr, e.detail["format"], e.detail["rows"]) for e in exports] == [
        ("审计记录", "csv", 1),
        ("审计记录", "xlsx", 1),
    ]


def _make_events(world, count: int, day: dt.date) -> None:
    """`count` records of three kinds by three actors on `day` (local noon): members changed, organizations
    created, passwords set."""
    users = [world.user(role) for role in (Role.SECRETARY, Role.COMMITTEE, Role.SCHOOL_ADMIN)]
    members = [m for ms in world.members.values() for m in ms]
    orgs = list(world.orgs.values())
    at = dt.datetime.combine(day, dt.time(4, 0), tzinfo=dt.UTC)
    for n in range(count):
        actor = users[n % len(users)]
        obj, action, detail = [
            (members[n % len(members)], AuditAction.UPDATE, {"fields": ["name", "phone"]}),
            (orgs[n % len(orgs)], AuditAction.CREATE, {}),
            (users[(n + 1) % len(users)], AuditAction.PASSWORD_SET, {}),
        ][n % 3]
        AuditEvent.objects.create(
            at=at,
            actor_id=actor.pk,
            actor_username=actor.username,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            object_repr=str(obj),
            detail=detail,
        )


def _page_queries(world, until: dt.date) -> tuple[int, int]:
    client = world.client(Role.AUDIT_ADMIN)
    client.get("/audit/")  # the session and the access, warmed
    params = {"per_page": 200, "since": "2030-01-01", "until": until.isoformat()}
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/audit/", params)
    assert response.status_code == 200
    return len(response.context["lines"]), len(queries)


def test_the_page_costs_the_same_queries_for_5_and_50_records(world):
    _make_events(world, 5, dt.date(2030, 1, 1))
    _make_events(world, 45, dt.date(2030, 1, 2))
    five, five_queries = _page_queries(world, dt.date(2030, 1, 1))
    fifty, fifty_queries = _page_queries(world, dt.date(2030, 1, 2))
    assert (five, fifty) == (5, 50)
    assert five_queries == fifty_queries


@pytest.mark.parametrize("role", [r for r in Role if r != Role.AUDIT_ADMIN])
def test_only_the_audit_admin_sees_the_page_and_its_exports(world, role):
    client = world.client(role)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/", {"format": "xlsx"}).status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


# ---------------------------------------------------------------------------------------------------------
# The business writes are on the trail: bookings, classes, organizational life, visits, courses, role grants.


def _events_of(obj) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("id"))


def test_creating_changing_and_deciding_business_records_is_audited(world):
    org = world.orgs["C1"]
    booking = BookingRequestFactory(school=PartySchoolFactory(organization=org))
    booking.status = BookingStatus.SUBMITTED
    booking.save()
    course = CourseFactory(owner=org)
    course.title = "新课程名"
    course.save()
    training_class = TrainingClassFactory(organizer=org, status="filed")
    class_services.class_approve(by=Access.system_access(), training_class=training_class)
    activity = record(world.orgs["A"])
    inst = institution(org)
    appointment = instructor(org)
    assign(inst, appointment, dt.date(2024, 1, 1))
    the_visit = visit(inst, dt.date(2024, 5, 6), by=appointment.user, today=dt.date(2024, 6, 1))
    assignment = grant(UserFactory(), Role.SECRETARY, world.orgs["A"])

    for obj in (booking, course, training_class, activity, the_visit):
        actions = [e.action for e in _events_of(obj)]
        assert actions and actions[0] == AuditAction.CREATE, (obj, actions)
    assert [e.action for e in _events_of(assignment)] == [AuditAction.GRANT]
    for obj in (booking, course, training_class):
        updates = [e for e in _events_of(obj) if e.action == AuditAction.UPDATE]
        assert updates and updates[-1].detail.get("fields"), obj
    sentences = {line.event.pk: line.sentence for line in describe(list(AuditEvent.objects.all()))}
    [booking_update] = [e for e in _events_of(booking) if e.action == AuditAction.UPDATE]
    assert sentences[booking_update.pk] == f"系统修改了约课“{booking.topic}”的状态。"
    [class_update] = [e for e in _events_of(training_class) if e.action == AuditAction.UPDATE]
    assert f"培训班“{training_class.title}”" in sentences[class_update.pk]


@pytest.mark.parametrize(
    "label",
    [
        "schools.bookingrequest",
        "training.trainingclass",
        "training.trainingsession",
        "orglife.activityrecord",
        "supervision.visit",
        "schools.course",
        "accounts.roleassignment",
    ],
)
def test_the_business_models_keep_history_or_write_their_own_records(label):
    from django.apps import apps

    model = apps.get_model(label)
    assert hasattr(model, "history") or label in EXPLICITLY_AUDITED


def test_a_refused_action_says_so(world):
    audit_record(action=AuditAction.IMPORT, result=AuditResult.FAILURE, object_repr="党员名册导入", detail={"rows": 3})
    [line] = describe(list(AuditEvent.objects.filter(action=AuditAction.IMPORT)))
    assert line.sentence == "系统进行了党员名册导入（3 行）（失败）。"
