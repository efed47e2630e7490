"""The roster is no oracle (security review F3, F6, F7, F8).

- Phones are encrypted at rest, with a keyed hash for whole-number lookups, whatever writes them (F8).
- The list's search matches a phone or an ID number only whole, for every role, and a number never travels in a
  URL: the search box is POSTed and the number kept, hashed, in the session under a short-lived token (F3, F6).
- The import and the member forms answer a number registered outside the user's scope with one neutral message;
  lookups are counted per user and day and limited; many out-of-scope hits raise a security alert that reaches
  the security admins; every import leaves one IMPORT record (F7).

The world (tests/scope.py): the secretary edits branch A, the committee user C1's subtree (A and B), the school
admin sees A and B masked; LH01 (place X) lies outside everybody's scope.
"""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core import crypto
from dangjian.core.validators import mask_id_number, mask_phone
from dangjian.members import search as member_search
from dangjian.members.filters import NUMBER_IN_URL_MESSAGE, TOKEN_EXPIRED_MESSAGE
from dangjian.members.models import (
    DUPLICATE_ID_MESSAGE,
    UNREGISTRABLE_ID_MESSAGE,
    IdLookupDay,
    Member,
    phone_digest,
)
from dangjian.members.tests.factories import member_form_data
from dangjian.members.tests.test_import import _as_row, issues, person, run, xlsx
from dangjian.notices.models import Notification

NEUTRAL_FIELD_ERROR = f"公民身份号码：{UNREGISTRABLE_ID_MESSAGE}"


def stored(table: str, pk_column: str, pk) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone, phone_digest FROM {table} WHERE {pk_column} = %s", [pk])
        return cursor.fetchone()


def listed(response) -> set[str]:
    assert response.status_code == 200
    return {m.name for m in response.context["page"].object_list}


def search(client, q: str, **extra):
    return client.post(reverse("members:search"), {"q": q, **extra}, follow=True)


def events(action) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# ---------------------------------------------------------------------------------------------------------
# F8: phones encrypted at rest


def test_a_saved_phone_is_stored_encrypted_with_its_digest_in_the_member_and_history_tables(world):
    member = world.members["A"][0]
    member.phone = "13912340099"
    member.save()
    for table, pk_column, pk in (
        ("members_member", "id", member.pk),
        ("members_historicalmember", "history_id", member.history.latest("history_id").history_id),
    ):
        phone, digest = stored(table, pk_column, pk)
        assert crypto.is_token(phone) and "13912340099" not in phone, table
        assert digest == phone_digest("13912340099") == crypto.blind_index("13912340099")
    assert Member.objects.get(pk=member.pk).phone == "13912340099"
    assert list(Member.objects.with_phone("139-1234-0099")) == [member]


def test_imported_phones_are_stored_encrypted_and_found_whole(world):
    result = run(world.user(Role.SECRETARY), [person(1), person(2, 手机号码="")])
    assert result.ok, issues(result)
    member = Member.objects.with_phone(person(1)["手机号码"]).get()
    phone, digest = stored("members_member", "id", member.pk)
    assert crypto.is_token(phone) and digest == phone_digest(person(1)["手机号码"])
    history_phone, history_digest = stored("members_historicalmember", "history_id", member.history.get().history_id)
    assert crypto.is_token(history_phone) and history_digest == digest
    assert member.phone == person(1)["手机号码"]
    other = Member.objects.get(name="导入测试2")
    assert stored("members_member", "id", other.pk) == ("", "")


def test_an_update_by_import_re_hashes_the_phone(world):
    member = world.members["A"][0]
    result = run(world.user(Role.SECRETARY), [_as_row(member, 手机号码="13911115555")], update=True)
    assert result.ok and result.updated == 1, issues(result)
    assert list(Member.objects.with_phone("13911115555")) == [member]
    assert not Member.objects.with_phone(member.phone).exists()
    phone, _ = stored("members_member", "id", member.pk)
    assert crypto.is_token(phone)


def test_the_demo_bulk_writer_stores_phones_encrypted(world):
    from dangjian.demo.builder import create_with_history

    template = world.members["A"][0]
    member = Member(
        name="演示批量",
        gender=template.gender,
        birth_date=template.birth_date,
        id_number=person(9)["公民身份号码"],
        phone="13612345678",
        join_date=template.join_date,
        full_date=template.full_date,
        category=template.category,
        organization=world.orgs["A"],
    )
    create_with_history(Member, [member])
    phone, digest = stored("members_member", "id", member.pk)
    assert crypto.is_token(phone) and digest == phone_digest("13612345678")
    history = Member.history.model.objects.get(id=member.pk)
    assert crypto.is_token(stored("members_historicalmember", "history_id", history.history_id)[0])


def test_the_migration_seals_clear_phones_in_batches_and_can_be_reversed(world, monkeypatch):
    import importlib

    migration = importlib.import_module("dangjian.members.migrations.0003_encrypt_phones")
    monkeypatch.setattr(migration, "BATCH", 2)  # several batches over the world's few rows
    members = [m for ms in world.members.values() for m in ms]
    with connection.cursor() as cursor:  # as the rows were before the migration: clear, no digest
        for table in ("members_member", "members_historicalmember"):
            cursor.execute(f"UPDATE {table} SET phone = '010-8765432' WHERE id = %s", [members[0].pk])
            for member in members[1:]:
                cursor.execute(
                    f"UPDATE {table} SET phone = %s, phone_digest = '' WHERE id = %s", [member.phone, member.pk]
                )
    editor = SimpleNamespace(connection=connection)
    migration.encrypt_phones(None, editor)
    migration.encrypt_phones(None, editor)  # a second run changes nothing
    for member in members[1:]:
        assert Member.objects.get(pk=member.pk).phone == member.phone
        assert list(Member.objects.with_phone(member.phone)) == [member]
        for history in member.history.all():
            assert history.phone == member.phone
    assert Member.objects.get(pk=members[0].pk).phone == "010-8765432"
    assert list(Member.objects.with_phone("0108765432")) == [members[0]]

    migration.decrypt_phones(None, editor)
    phone, digest = stored("members_member", "id", members[1].pk)
    assert (phone, digest) == (members[1].phone, "")


# ---------------------------------------------------------------------------------------------------------
# F3, F6: the search


@pytest.mark.parametrize("role", [Role.COMMITTEE, Role.SCHOOL_ADMIN, Role.INSTRUCTOR])
def test_a_phone_is_matched_only_whole_for_every_role(world, role):
    """A role that sees phones masked (138****0003) cannot recover the hidden digits by prefix searches."""
    client = world.client(role)
    target = world.members["B"][0]  # 孙乙一, 13800000003: seen by all three roles
    assert listed(search(client, target.phone)) == {target.name}
    for prefix in ("138", "1380000", "1380000000"):
        assert listed(search(client, prefix)) == set(), prefix
    assert listed(client.get("/members/", {"q": "1380000000"})) == set()


def test_an_id_number_never_enters_a_url_and_the_search_is_audited_masked(world):
    client = world.client(Role.COMMITTEE)
    target = world.members["B"][0]
    response = search(client, target.id_number)
    assert listed(response) == {target.name}
    url = response.redirect_chain[-1][0]
    assert re.fullmatch(r"/members/\?qt=[A-Za-z0-9_\-]+", url), url
    text = response.content.decode()
    assert target.id_number not in text and mask_id_number(target.id_number) in text
    (event,) = events(AuditAction.SEARCH)
    assert event.actor_id == world.user(Role.COMMITTEE).pk
    assert event.detail == {"kind": "id_number", "q": mask_id_number(target.id_number), "matches": 1}
    assert target.id_number not in str(event.detail)


def test_a_phone_search_is_audited_masked(world):
    target = world.members["B"][0]
    search(world.client(Role.SCHOOL_ADMIN), target.phone)
    (event,) = events(AuditAction.SEARCH)
    assert event.detail == {"kind": "phone", "q": mask_phone(target.phone), "matches": 1}


def test_a_name_search_stays_a_plain_get_and_is_not_audited(world):
    response = search(world.client(Role.COMMITTEE), "孙乙", org="BJ01")
    assert listed(response) == {"孙乙一"}
    assert response.redirect_chain[-1][0] == "/members/?org=BJ01&q=%E5%AD%99%E4%B9%99"
    assert events(AuditAction.SEARCH) == []


@pytest.mark.parametrize("typed", ["id", "phone", "digits"])
def test_a_number_typed_into_the_url_is_refused_not_searched(world, typed):
    target = world.members["B"][0]
    q = {"id": target.id_number, "phone": target.phone, "digits": "1380000"}[typed]
    response = world.client(Role.COMMITTEE).get("/members/", {"q": q})
    assert listed(response) == set()
    assert NUMBER_IN_URL_MESSAGE in response.content.decode()


def test_pagination_filters_and_the_export_keep_a_number_search(world):
    client = world.client(Role.COMMITTEE)
    target = world.members["A"][0]
    response = search(client, target.id_number)
    token = re.search(r"qt=([A-Za-z0-9_\-]+)", response.redirect_chain[-1][0]).group(1)
    # The hidden field carries the token: changing a filter keeps the number search.
    assert f'value="{token}"' in response.content.decode()
    kept = client.post(reverse("members:search"), {"q": "", "qt": token, "org": "BJ01A"}, follow=True)
    assert listed(kept) == {target.name}
    assert kept.redirect_chain[-1][0] == f"/members/?org=BJ01A&qt={token}"
    elsewhere = client.post(reverse("members:search"), {"q": "", "qt": token, "org": "BJ01B"}, follow=True)
    assert listed(elsewhere) == set()
    # A page of the result, and its export.
    assert listed(client.get("/members/", {"qt": token, "page": 1, "per_page": 1})) == {target.name}
    export = client.post(reverse("members:search"), {"q": "", "qt": token, "to": "export"}, follow=True)
    assert export.redirect_chain[-1][0] == f"/members/export.xlsx?qt={token}"
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    (exported,) = events(AuditAction.EXPORT)
    assert exported.detail["filter"] == {"q": mask_id_number(target.id_number)} and exported.detail["rows"] == 1


def test_a_search_token_means_nothing_in_another_session_or_once_expired(world, monkeypatch):
    target = world.members["B"][0]
    response = search(world.client(Role.COMMITTEE), target.id_number)
    url = response.redirect_chain[-1][0]
    other = world.client(Role.COMMITTEE)  # the same user, another session
    stolen = other.get(url)
    assert listed(stolen) == set() and TOKEN_EXPIRED_MESSAGE in stolen.content.decode()
    assert listed(other.get(url.replace("/members/", "/members/export.xlsx"), follow=True)) == set()

    client = world.client(Role.COMMITTEE)
    url = search(client, target.id_number).redirect_chain[-1][0]
    monkeypatch.setattr(member_search, "SEARCH_TOKEN_TTL", -1)
    url = search(client, target.id_number).redirect_chain[-1][0]  # issued already expired
    assert listed(client.get(url)) == set()


@pytest.mark.parametrize("token", ["", "x" * 200, "../../etc", "%00", "a b c d e f g h"])
def test_a_bad_token_never_500s(world, token):
    response = world.client(Role.COMMITTEE).get("/members/", {"qt": token})
    assert response.status_code == 200


def test_the_search_page_searches_only_by_post_and_is_scoped(world):
    get = world.client(Role.COMMITTEE).get(reverse("members:search"), {"q": world.members["A"][0].id_number})
    assert (get.status_code, get["Location"]) == (302, reverse("members:list"))
    assert not AuditEvent.objects.filter(action=AuditAction.SEARCH).exists()
    assert world.client(Role.AUDIT_ADMIN).post(reverse("members:search"), {"q": "x"}).status_code == 403
    response = world.client(None).post(reverse("members:search"), {"q": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# ---------------------------------------------------------------------------------------------------------
# F7: the import and the member forms


def _foreign_row(world, place: str = "X", **overrides) -> dict:
    return _as_row(world.members[place][0], 党组织编码="BJ01A", **overrides)


@pytest.mark.parametrize("update", [False, True], ids=["create", "update"])
@pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
@pytest.mark.parametrize("place", ["B", "X"], ids=["sibling-branch", "other-tree"])
def test_the_import_answers_a_number_registered_outside_scope_neutrally(world, update, dry_run, place):
    result = run(world.user(Role.SECRETARY), [person(1), _foreign_row(world, place)], update=update, dry_run=dry_run)
    assert issues(result) == [(3, "公民身份号码", UNREGISTRABLE_ID_MESSAGE)]
    assert not result.written


def test_the_import_keeps_the_precise_message_for_a_member_in_scope(world):
    result = run(world.user(Role.SECRETARY), [_as_row(world.members["A"][0])])
    ((_, column, message),) = issues(result)
    assert column == "公民身份号码" and message.startswith(DUPLICATE_ID_MESSAGE)


def test_the_import_says_so_of_a_member_seen_but_not_editable(world):
    from dangjian.accounts.tests.factories import grant

    secretary = world.user(Role.SECRETARY)
    grant(secretary, Role.INSTRUCTOR, world.orgs["B"])  # now sees branch B, still edits only A
    secretary = type(secretary).objects.get(pk=secretary.pk)
    result = run(secretary, [_as_row(world.members["B"][0], 党组织编码="BJ01A")], update=True)
    ((_, column, message),) = issues(result)
    assert column == "公民身份号码" and message != UNREGISTRABLE_ID_MESSAGE and "不能在此更新" in message


def test_the_import_command_answers_neutrally_too(world, tmp_path):
    target = tmp_path / "roster.xlsx"
    target.write_bytes(xlsx([_foreign_row(world)]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_members", str(target), "--dry-run", "--as", "world_secretary", stdout=io.StringIO(), stderr=err
        )
    assert err.getvalue().strip() == f"第2行 公民身份号码: {UNREGISTRABLE_ID_MESSAGE}"


def test_the_new_member_and_incoming_forms_answer_neutrally(world):
    client = world.client(Role.SECRETARY)
    outsider = world.members["X"][0]
    data = member_form_data(outsider, organization="BJ01A")
    response = client.post(reverse("members:create"), data)
    assert NEUTRAL_FIELD_ERROR in response.content.decode() and "已登记为党员" not in response.content.decode()
    incoming = {**data, "external_organization": "外省某党支部", "letter_number": "JS-1", "transfer_date": "2024-01-02"}
    response = client.post(reverse("members:incoming"), incoming)
    assert NEUTRAL_FIELD_ERROR in response.content.decode()
    # A member the secretary sees: the precise message.
    inside = world.members["A"][1]
    response = client.post(reverse("members:create"), member_form_data(inside, name="重复登记"))
    assert f"公民身份号码：{DUPLICATE_ID_MESSAGE}" in response.content.decode()


def test_the_edit_form_answers_neutrally_for_a_number_held_outside_scope(world):
    member = world.members["A"][0]
    outsider = world.members["X"][0]
    data = member_form_data(
        member,
        id_number=outsider.id_number,
        birth_date=outsider.birth_date.isoformat(),
        gender=outsider.gender,
        version=member.version,
    )
    response = world.client(Role.SECRETARY).post(reverse("members:edit", args=[member.pk]), data)
    assert NEUTRAL_FIELD_ERROR in response.content.decode()
    assert Member.objects.get(pk=member.pk).id_number == member.id_number


def test_lookups_are_counted_per_user_and_day_and_limited(world, settings):
    settings.DANGJIAN_ID_LOOKUP_DAILY_LIMIT = 4
    secretary = world.user(Role.SECRETARY)
    assert run(secretary, [person(1), person(2)], dry_run=True).ok
    day = IdLookupDay.objects.get(user=secretary, day=timezone.localdate())
    assert day.lookups == 2  # in the database: the count holds for every process
    # Three more would pass the limit: the import is refused whole, nothing written, nothing more counted.
    result = run(secretary, [person(1), person(2), person(3)])
    assert not result.written and not any(e.row for e in result.errors)
    assert "今日核验公民身份号码的次数已达上限（每人每天 4 个）" in result.file_error
    assert not Member.objects.filter(name__startswith="导入测试").exists()
    assert IdLookupDay.objects.get(pk=day.pk).lookups == 2
    (limited,) = events(AuditAction.LOOKUP_LIMITED)
    assert limited.actor_id == secretary.pk and limited.detail["requested"] == 3 and limited.detail["limit"] == 4
    # Two fit exactly; then the new-member form is refused too.
    assert run(secretary, [person(1), person(2)]).written
    response = world.client(Role.SECRETARY).post(reverse("members:create"), member_form_data(world.members["X"][0]))
    assert "次数已达上限" in response.content.decode()
    # Another user has a day of their own.
    assert run(world.user(Role.COMMITTEE), [person(3)], dry_run=True).ok


def test_the_limit_counts_the_page_upload_and_its_confirmation(world, settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"
    settings.DANGJIAN_ID_LOOKUP_DAILY_LIMIT = 3
    client = world.client(Role.SECRETARY)
    upload = io.BytesIO(xlsx([person(1), person(2)]))
    upload.name = "名册.xlsx"
    response = client.post(reverse("members:import"), {"file": upload})
    token = re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)
    response = client.post(reverse("members:import"), {"token": token, "confirm": "1"})
    assert response.status_code == 200 and "次数已达上限" in response.content.decode()
    assert not Member.objects.filter(name__startswith="导入测试").exists()


def test_the_system_access_is_not_counted(world, settings):
    from dangjian.accounts.access import Access

    settings.DANGJIAN_ID_LOOKUP_DAILY_LIMIT = 1
    assert run(Access.system_access(), [person(1), person(2)], dry_run=True).ok
    assert not IdLookupDay.objects.exists()


def test_every_import_leaves_one_import_record_with_counts_only(world, tmp_path):
    secretary = world.user(Role.SECRETARY)
    run(secretary, [person(1), _foreign_row(world)], dry_run=True)
    run(secretary, [person(1), _foreign_row(world)])
    run(secretary, [person(1), person(2)])
    run(secretary, data=b"not an xlsx")
    target = tmp_path / "roster.xlsx"
    target.write_bytes(xlsx([person(3)]))
    call_command("import_members", str(target), "--as", "world_secretary", stdout=io.StringIO())
    records = events(AuditAction.IMPORT)
    assert [(r.detail["via"], r.detail["dry_run"], r.detail["written"], r.result) for r in records] == [
        ("page", True, False, "failure"),
        ("page", False, False, "failure"),
        ("page", False, True, "success"),
        ("page", False, False, "failure"),
        ("import_members", False, True, "success"),
    ]
    assert [r.detail["out_of_scope"] for r in records] == [1, 1, 0, 0, 0]
    assert [r.detail["lookups"] for r in records] == [2, 2, 2, 0, 1]
    assert records[2].detail["created"] == 2 and records[2].detail["rows"] == 2
    assert all(r.actor_id == secretary.pk for r in records)
    text = "".join(str(r.detail) + r.object_repr for r in records)
    for number in (person(1)["公民身份号码"], world.members["X"][0].id_number):
        assert number not in text
    # The import's one record is the IMPORT (no more CREATE record for it).
    assert not AuditEvent.objects.filter(object_repr="党员名册导入").exclude(action=AuditAction.IMPORT).exists()


def test_many_out_of_scope_numbers_in_one_import_alert_the_security_admins(world, settings):
    settings.DANGJIAN_FOREIGN_LOOKUP_ALERT = 1
    secretary = world.user(Role.SECRETARY)
    rows = [_foreign_row(world, "X"), _foreign_row(world, "B")]
    result = run(secretary, rows, dry_run=True)
    assert [message for _, _, message in issues(result)] == [UNREGISTRABLE_ID_MESSAGE] * 2
    (alert,) = events(AuditAction.SECURITY_ALERT)
    assert alert.actor_id == secretary.pk
    assert (alert.detail["hits"], alert.detail["today"], alert.detail["threshold"]) == (2, 2, 1)
    (notice,) = Notification.objects.dangerously_all()
    assert notice.user == world.user(Role.SECURITY_ADMIN)
    assert "world_secretary" in notice.title and "2" in notice.title
    assert world.members["X"][0].id_number not in notice.title
    # Nobody else is told; the security admin reads it on their notification page.
    page = world.client(Role.SECURITY_ADMIN).get(reverse("notices:list"))
    assert "安全告警" in page.content.decode()


def test_a_day_of_single_lookups_crossing_the_threshold_alerts_once(world, settings):
    settings.DANGJIAN_FOREIGN_LOOKUP_ALERT = 2
    client = world.client(Role.SECRETARY)
    outsiders = [world.members["X"][0], world.members["B"][0], world.members["X"][0], world.members["B"][0]]
    for n, outsider in enumerate(outsiders):
        response = client.post(reverse("members:create"), member_form_data(outsider, organization="BJ01A"))
        assert NEUTRAL_FIELD_ERROR in response.content.decode()
        assert len(events(AuditAction.SECURITY_ALERT)) == (1 if n >= 2 else 0), n
    day = IdLookupDay.objects.get(user=world.user(Role.SECRETARY))
    assert (day.lookups, day.foreign_hits) == (4, 4)
    assert Notification.objects.dangerously_all().filter(user=world.user(Role.SECURITY_ADMIN)).count() == 1


def test_a_limit_of_zero_turns_the_limit_off(world, settings):
    settings.DANGJIAN_ID_LOOKUP_DAILY_LIMIT = 0  # as bench/import_bench.py runs its 100,000 rows
    assert run(world.user(Role.SECRETARY), [person(n) for n in range(1, 6)], dry_run=True).ok
    assert IdLookupDay.objects.get(user=world.user(Role.SECRETARY)).lookups == 5


def test_the_member_form_keeps_the_phone_on_one_line(world):
    text = world.client(Role.SECRETARY).get(reverse("members:create")).content.decode()
    assert '<input type="text" name="phone"' in text and "<textarea" not in text
