"""The audit trail (安全审计): what is recorded and with which fields, no full ID number in it, append-only
(the model, the queryset and on PostgreSQL a trigger), retention and purge, the audit page and its export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from dangjian.accounts import services as account_services
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import TEST_PASSWORD, UserFactory
from dangjian.audit.models import AppendOnlyError, AuditAction, AuditEvent, AuditResult
from dangjian.audit.services import RetentionError, audit_purge, audit_record
from dangjian.core.validators import MALE
from dangjian.members.models import Member
from dangjian.members.tests.factories import make_id_number, member_form_data
from tests.scope import ROLES

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only (audit migration 0002)"
)

BIRTH = dt.date(1986, 3, 9)
NEW_ID = make_id_number(BIRTH, MALE, 11, "320104")
EXPORT_HEADER = "时间 操作人 来源IP 操作 结果 对象类型 对象ID 对象 说明 请求ID".split()
LOCAL_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def only_event(action: str, **filters) -> AuditEvent:
    return AuditEvent.objects.get(action=action, **filters)


def assert_request_fields(event: AuditEvent, response, actor=None) -> None:
    """The fields every record carries: UTC time, actor, source IP, request id (as sent to the browser)."""
    assert event.at.utcoffset() == dt.timedelta(0)
    assert abs(timezone.now() - event.at) < dt.timedelta(minutes=1)
    assert event.source_ip == "127.0.0.1"
    assert REQUEST_ID.match(event.request_id)
    assert event.request_id == response["X-Request-ID"]
    if actor is not None:
        assert event.actor_id == actor.pk
        assert event.actor_username == actor.username


def new_member_data(**overrides) -> dict:
    data = {
        "name": "冯审一",
        "gender": "M",
        "ethnicity": "汉族",
        "birth_date": BIRTH.isoformat(),
        "id_number": NEW_ID,
        "phone": "13912340001",
        "education": "bachelor",
        "join_date": "2011-07-01",
        "full_date": "2012-07-01",
        "category": "full",
        "organization": "BJ01A",
    }
    data.update(overrides)
    return data


def edit_data(member: Member, **overrides) -> dict:
    return member_form_data(member, **{"id_number": "", **overrides})


# ---------------------------------------------------------------------------------------------------------
# What is recorded.


def test_login_success_is_recorded(world):
    user = world.user(Role.SECRETARY)
    response = Client().post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    event = only_event(AuditAction.LOGIN_SUCCESS, actor_id=user.pk)
    assert_request_fields(event, response, user)
    assert event.result == AuditResult.SUCCESS
    assert (event.object_type, event.object_id) == ("accounts.user", str(user.pk))


def test_login_failure_is_recorded_with_the_name_typed(world):
    user = world.user(Role.SECRETARY)
    response = Client().post("/login/", {"username": user.username, "password": "Wrong#Pass2026"})
    assert response.status_code == 200
    event = only_event(AuditAction.LOGIN_FAILURE)
    assert_request_fields(event, response)
    assert event.result == AuditResult.FAILURE
    assert event.object_repr == user.username
    assert "Wrong#Pass2026" not in json.dumps(model_to_dict(event), default=str, ensure_ascii=False)


def test_logout_is_recorded(world):
    user = world.user(Role.SECRETARY)
    client = world.client(Role.SECRETARY)
    response = client.post("/logout/")
    event = only_event(AuditAction.LOGOUT)
    assert_request_fields(event, response, user)


def test_a_lockout_is_recorded(world):
    client = Client()
    for _ in range(5):
        response = client.post("/login/", {"username": "world_secretary", "password": "Wrong#Pass2026"})
    assert response.status_code == 429
    event = only_event(AuditAction.LOCKOUT)
    assert_request_fields(event, response)
    assert (event.result, event.object_repr) == (AuditResult.DENIED, "world_secretary")
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILURE).count() == 5


def test_a_permission_denied_is_recorded(world):
    user = world.user(Role.SCHOOL_ADMIN)
    response = world.client(Role.SCHOOL_ADMIN).get("/members/new/")
    assert response.status_code == 403
    event = only_event(AuditAction.PERMISSION_DENIED)
    assert_request_fields(event, response, user)
    assert (event.result, event.object_type, event.object_repr) == (AuditResult.DENIED, "url", "/members/new/")
    assert event.detail["method"] == "GET"


def test_an_out_of_scope_lookup_of_an_existing_object_is_recorded(world):
    user = world.user(Role.SECRETARY)
    outside = world.members["B"][0]
    response = world.client(Role.SECRETARY).get(f"/members/{outside.pk}/")
    assert response.status_code == 404
    event = only_event(AuditAction.OUT_OF_SCOPE)
    assert_request_fields(event, response, user)
    assert (event.result, event.object_type, event.object_id) == (AuditResult.DENIED, "members.member", str(outside.pk))
    assert outside.name not in event.object_repr


def test_a_lookup_of_a_missing_object_is_not_an_out_of_scope_event(world):
    response = world.client(Role.SECRETARY).get("/members/999999/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.OUT_OF_SCOPE).exists()


def test_member_create_update_and_status_change_are_recorded(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    response = client.post("/members/new/", new_member_data())
    assert response.status_code == 302
    member = Member.objects.with_id_number(NEW_ID).get()
    created = only_event(AuditAction.CREATE, object_type="members.member", object_id=str(member.pk))
    assert_request_fields(created, response, user)
    assert (created.object_type, created.object_repr) == ("members.member", "冯审一")

    response = client.post(f"/members/{member.pk}/edit/", edit_data(member, phone="13912340002", education="college"))
    assert response.status_code == 302
    updated = only_event(AuditAction.UPDATE, object_type="members.member", object_id=str(member.pk))
    assert_request_fields(updated, response, user)
    assert updated.detail == {"fields": ["education", "phone"]}

    today = timezone.localdate().isoformat()
    response = client.post(
        f"/members/{member.pk}/status/", {"status": "transferred_out", "on": today, "reason": "调往外区"}
    )
    assert response.status_code == 302
    changed = only_event(AuditAction.STATUS_CHANGE, object_id=str(member.pk))
    assert_request_fields(changed, response, user)
    assert changed.detail == {"from": "active", "to": "transferred_out", "on": today, "reason": "调往外区"}


def test_a_full_id_view_is_recorded(world):
    user = world.user(Role.SECRETARY)
    member = world.self_member
    response = world.client(Role.SECRETARY).post(f"/members/{member.pk}/id-number/")
    assert response.status_code == 200
    event = only_event(AuditAction.VIEW_FULL_ID)
    assert_request_fields(event, response, user)
    assert (event.object_type, event.object_id) == ("members.member", str(member.pk))


def test_a_role_grant_is_recorded(world):
    target = UserFactory(username="audit_grant")
    assignment = account_services.role_grant(
        by=world.user(Role.SECURITY_ADMIN), user=target, role=Role.SECRETARY, organization=world.orgs["A"]
    )
    event = only_event(AuditAction.GRANT, object_id=str(assignment.pk))
    assert event.detail == {"user": "audit_grant", "role": "secretary", "organization": world.orgs["A"].pk}
    assert event.at.utcoffset() == dt.timedelta(0)


def test_a_record_made_outside_a_request_has_no_request_fields(world):
    event = audit_record(action=AuditAction.POLICY_CHANGE, detail={"setting": "x"})
    assert (event.actor_id, event.source_ip, event.request_id) == (None, None, "")


def test_the_source_ip_is_the_client_address(world):
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.force_login(world.user(Role.SCHOOL_ADMIN))
    client.get("/members/new/")
    assert only_event(AuditAction.PERMISSION_DENIED).source_ip == "192.0.2.7"


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(world):
    client = Client(REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.force_login(world.user(Role.SCHOOL_ADMIN))
    client.get("/members/new/")
    assert only_event(AuditAction.PERMISSION_DENIED).source_ip == "192.0.2.7"


@override_settings(DANGJIAN_TRUSTED_PROXIES=["127.0.0.1/32"])
def test_a_forwarded_for_header_from_a_trusted_proxy_gives_the_client_address(world):
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    client.force_login(world.user(Role.SCHOOL_ADMIN))
    client.get("/members/new/")
    assert only_event(AuditAction.PERMISSION_DENIED).source_ip == "203.0.113.9"


def test_every_request_of_the_emergency_superuser_is_recorded(world):
    superuser = UserFactory(username="emergency", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(superuser)
    response = client.get("/orgs/")
    event = only_event(AuditAction.EMERGENCY_USE, object_repr="/orgs/")
    assert_request_fields(event, response, superuser)
    assert event.detail == {"method": "GET", "status": response.status_code}


# ---------------------------------------------------------------------------------------------------------
# No full ID number in the trail, nor in the history display.


def event_text(event: AuditEvent) -> str:
    return json.dumps(model_to_dict(event), default=str, ensure_ascii=False) + repr(event) + str(event)


def test_no_full_id_number_enters_the_trail_or_the_history_display(world):
    client = world.client(Role.COMMITTEE)
    assert client.post("/members/new/", new_member_data()).status_code == 302
    member = Member.objects.with_id_number(NEW_ID).get()
    second_id = make_id_number(BIRTH, MALE, 12, "420116")
    assert client.post(f"/members/{member.pk}/edit/", edit_data(member, id_number=second_id)).status_code == 302
    member.refresh_from_db()
    assert member.id_number == second_id
    assert client.post(f"/members/{member.pk}/id-number/").status_code == 200
    assert (
        client.post(f"/members/{member.pk}/status/", {"status": "suspended", "reason": "停止党籍"}).status_code == 302
    )
    for other in world.members["A"]:
        client.post(f"/members/{other.pk}/id-number/")

    numbers = [NEW_ID, second_id] + [m.id_number for ms in world.members.values() for m in ms]
    events = list(AuditEvent.objects.all())
    assert {AuditAction.CREATE, AuditAction.UPDATE, AuditAction.VIEW_FULL_ID} <= {e.action for e in events}
    for event in events:
        text = event_text(event)
        assert not [n for n in numbers if n in text], event
    update = only_event(AuditAction.UPDATE, object_id=str(member.pk))
    assert update.detail == {"fields": ["id_number"]}

    detail = client.get(f"/members/{member.pk}/").content.decode()
    assert "修改：公民身份号码" in detail
    assert not [n for n in numbers if n in detail]


def test_the_csv_export_holds_no_full_id_number(world):
    client = world.client(Role.SECRETARY)
    for member in world.members["A"]:
        client.post(f"/members/{member.pk}/id-number/")
    export = world.client(Role.AUDIT_ADMIN).get("/audit/export.csv")
    text = b"".join(export.streaming_content).decode("utf-8")
    assert text.count(",查看完整身份证号,") == 2
    assert not [m.id_number for m in world.members["A"] if m.id_number in text]


# ---------------------------------------------------------------------------------------------------------
# Append-only in the application.


@pytest.fixture
def event(world) -> AuditEvent:
    return audit_record(action=AuditAction.POLICY_CHANGE, detail={"n": 1})


def test_a_saved_record_cannot_be_saved_again(event):
    event.result = AuditResult.FAILURE
    with pytest.raises(AppendOnlyError):
        event.save()
    event.refresh_from_db()
    assert event.result == AuditResult.SUCCESS


def test_a_record_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_queryset_refuses_update_and_delete(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(result=AuditResult.FAILURE)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["result"])
    event.refresh_from_db()
    assert event.result == AuditResult.SUCCESS


def test_deleting_a_user_keeps_their_records(world):
    user = UserFactory(username="leaves_soon")
    client = Client()
    client.force_login(user)
    client.post("/logout/")
    pk = user.pk
    count = AuditEvent.objects.filter(actor_id=pk).count()
    assert count == 2
    user.delete()
    assert AuditEvent.objects.filter(actor_id=pk, actor_username="leaves_soon").count() == count


# ---------------------------------------------------------------------------------------------------------
# Append-only in the database (PostgreSQL trigger).


def refused_sql(sql: str, params=()) -> None:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert "append-only" in str(caught.value)


def old_event(days: int) -> AuditEvent:
    return AuditEvent.objects.create(
        at=timezone.now() - dt.timedelta(days=days), action=AuditAction.POLICY_CHANGE, detail={"age": days}
    )


@postgres_only
def test_raw_update_is_refused_by_the_trigger(event):
    refused_sql("UPDATE audit_auditevent SET result = 'failure' WHERE id = %s", [event.pk])
    refused_sql("UPDATE audit_auditevent SET actor_username = 'x'")
    event.refresh_from_db()
    assert event.result == AuditResult.SUCCESS


@postgres_only
def test_raw_delete_is_refused_by_the_trigger(event):
    old = old_event(400)
    refused_sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    refused_sql("DELETE FROM audit_auditevent WHERE id = %s", [old.pk])  # even an old row, outside a purge
    assert AuditEvent.objects.filter(pk__in=[event.pk, old.pk]).count() == 2


# The purge function, TRUNCATE and other roles: test_append_only_pg.py.


@postgres_only
def test_the_orm_purge_path_is_refused_without_the_flag(event):
    old = old_event(400)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=old.pk)._purge()
    assert AuditEvent.objects.filter(pk=old.pk).exists()


# ---------------------------------------------------------------------------------------------------------
# Retention and purge.


def days_ago(days: int) -> str:
    return (timezone.now() - dt.timedelta(days=days)).date().isoformat()


@pytest.mark.parametrize("days", [0, 100, 179])
def test_the_purge_command_refuses_a_cutoff_younger_than_180_days(world, days):
    old_event(400)
    before = AuditEvent.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("audit_purge", before=days_ago(days), stdout=io.StringIO())
    assert "审计记录至少保留 180 天" in str(caught.value)
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_PURGE).exists()


@override_settings(DANGJIAN_AUDIT_RETENTION_DAYS=30)
def test_the_retention_is_never_below_180_days(world):
    with pytest.raises(RetentionError):
        audit_purge(before=timezone.now() - dt.timedelta(days=100))


def test_the_purge_command_deletes_only_older_rows_and_records_itself(world):
    kept_young = old_event(170)
    kept_mid = old_event(185)
    gone = [old_event(200), old_event(365)]
    out = io.StringIO()
    call_command("audit_purge", before=days_ago(190), stdout=out)
    assert "已清理 2 条审计记录。" in out.getvalue()
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in gone]).exists()
    assert AuditEvent.objects.filter(pk__in=[kept_young.pk, kept_mid.pk]).count() == 2
    purge = only_event(AuditAction.AUDIT_PURGE)
    assert purge.detail["deleted"] == 2
    assert purge.detail["before"].startswith(days_ago(190))


def test_the_purge_command_refuses_a_bad_date(world):
    with pytest.raises(CommandError):
        call_command("audit_purge", before="2020-13-01", stdout=io.StringIO())


# ---------------------------------------------------------------------------------------------------------
# The audit page and its export.


@pytest.mark.parametrize("role", ROLES)
def test_the_audit_page_is_for_the_audit_admin_only(world, role):
    expected = 200 if role == Role.AUDIT_ADMIN else 403
    assert world.client(role).get("/audit/").status_code == expected
    assert world.client(role).get("/audit/export.csv").status_code == expected


def test_the_audit_page_asks_anonymous_users_to_log_in(world):
    response = Client().get("/audit/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


def listed(response) -> list[AuditEvent]:
    return list(response.context["page"].object_list)


def test_the_audit_page_filters_by_actor(world):
    world.client(Role.SCHOOL_ADMIN).get("/members/new/")
    world.client(Role.INSTRUCTOR).get("/members/new/")
    response = world.client(Role.AUDIT_ADMIN).get("/audit/", {"actor": "world_school_admin"})
    rows = listed(response)
    assert rows
    assert {e.actor_username for e in rows} == {"world_school_admin"}


def test_the_audit_page_filters_by_action_and_object(world):
    world.client(Role.SCHOOL_ADMIN).get("/members/new/")
    client = world.client(Role.AUDIT_ADMIN)
    rows = listed(client.get("/audit/", {"action": "permission_denied"}))
    assert [e.actor_username for e in rows] == ["world_school_admin"]
    member = world.self_member
    world.client(Role.SECRETARY).post(f"/members/{member.pk}/id-number/")
    rows = listed(client.get("/audit/", {"object_type": "members.member", "object_id": str(member.pk)}))
    assert [e.action for e in rows] == [AuditAction.VIEW_FULL_ID]


def test_the_audit_page_filters_by_date(world):
    ten = old_event(10)
    three = old_event(3)
    client = world.client(Role.AUDIT_ADMIN)
    since = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    until = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    since_rows = {e.pk for e in listed(client.get("/audit/", {"since": since, "per_page": 200}))}
    assert three.pk in since_rows and ten.pk not in since_rows
    until_rows = {e.pk for e in listed(client.get("/audit/", {"until": until, "per_page": 200}))}
    assert ten.pk in until_rows and three.pk not in until_rows


def test_the_audit_page_shows_the_records(world):
    world.client(Role.SCHOOL_ADMIN).get("/members/new/")
    page = world.client(Role.AUDIT_ADMIN).get("/audit/").content.decode()
    assert "越权操作被拒绝" in page
    assert "world_school_admin" in page


def export_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_csv_export_has_the_chinese_header_and_is_audited(world):
    world.client(Role.SCHOOL_ADMIN).get("/members/new/")
    auditor = world.user(Role.AUDIT_ADMIN)
    response = world.client(Role.AUDIT_ADMIN).get("/audit/export.csv", {"action": "permission_denied"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = export_rows(response)
    assert rows[0] == EXPORT_HEADER
    assert len(rows) == 2
    assert rows[1][1] == "党校管理员用户（world_school_admin）"
    assert rows[1][3] == "越权操作被拒绝"
    assert LOCAL_MINUTE.match(rows[1][0])
    export = only_event(AuditAction.EXPORT)
    assert_request_fields(export, response, auditor)
    assert export.object_repr == "审计记录"
    assert export.detail == {"filter": {"action": "permission_denied"}, "rows": 1, "via": "page", "format": "csv"}


def test_the_recorded_row_count_is_the_number_of_rows_exported(world):
    """The export records how many rows it exported (the issue: "who, what filter, how many rows")."""
    response = world.client(Role.AUDIT_ADMIN).get("/audit/export.csv")
    rows = export_rows(response)
    export = only_event(AuditAction.EXPORT)
    assert export.detail["rows"] == len(rows) - 1


def test_the_export_command_writes_the_trail_and_is_audited(world, tmp_path):
    target = tmp_path / "audit.csv"
    call_command("audit_export", output=str(target), stderr=io.StringIO())
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["at", "actor_username", "source_ip"]
    export = only_event(AuditAction.EXPORT)
    assert (export.detail["via"], export.detail["command"]) == ("command", "audit_export")
    assert export.detail["rows"] == len(rows) - 1


def test_the_export_command_writes_json_lines(world, capsys):
    call_command("audit_export", format="jsonl")  # to standard output
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines
    assert {"at", "actor_username", "action", "request_id", "detail"} <= set(lines[0])
