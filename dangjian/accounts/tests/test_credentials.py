"""三员分立 holds for credentials: nobody sets the password of a 三员 account but its holder (the operator's
`reset_password` command excepted, audited); a password set by someone else is audited and must be changed at the
next login; account creation is audited; a grant without an organization is a form error (security probe F2, F12)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.test import Client

from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import TEST_PASSWORD
from dangjian.audit.models import AuditAction, AuditEvent

NEW_PASSWORD = "Takeover#2026x"
OWN_PASSWORD = "Mine#Only2026y"


def set_password_as(client: Client, target: User, password: str = NEW_PASSWORD):
    return client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": password, "password2": password},
        REMOTE_ADDR="10.1.2.3",
    )


@pytest.mark.parametrize("target_role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_the_system_admin_cannot_set_a_three_admin_password(world, target_role):
    """The probe set the auditor's password as `admin`, then logged in as the auditor."""
    target = world.user(target_role)
    before = target.password
    response = set_password_as(world.client(Role.SYSTEM_ADMIN), target)
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.password == before
    assert Client().post("/login/", {"username": target.username, "password": NEW_PASSWORD}).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.PERMISSION_DENIED, actor_id=world.user(Role.SYSTEM_ADMIN).pk)
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_SET).exists()


def test_not_even_the_emergency_superuser_sets_a_three_admin_password_from_the_web(world):
    superuser = User.objects.create_superuser("emergency", password=TEST_PASSWORD)
    client = Client()
    client.force_login(superuser)
    target = world.user(Role.AUDIT_ADMIN)
    before = target.password
    assert set_password_as(client, target).status_code == 403
    target.refresh_from_db()
    assert target.password == before


def test_a_password_set_by_the_system_admin_is_audited_and_must_be_changed(world):
    admin, target = world.user(Role.SYSTEM_ADMIN), world.user(Role.SECRETARY)
    response = set_password_as(world.client(Role.SYSTEM_ADMIN), target)
    assert response.status_code == 302
    target.refresh_from_db()
    assert check_password(NEW_PASSWORD, target.password)
    assert target.must_change_password
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_SET)
    assert (event.actor_id, event.object_id, event.source_ip) == (admin.pk, str(target.pk), "10.1.2.3")
    assert event.detail["target"] == target.username

    # Whoever logs in with it can do nothing but change it.
    client = Client()
    assert client.post("/login/", {"username": target.username, "password": NEW_PASSWORD}).status_code == 302
    for path in ("/", "/members/", f"/members/{world.members['A'][0].pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == "/account/password/", path
    response = client.post(
        "/account/password/",
        {"old_password": NEW_PASSWORD, "new_password1": OWN_PASSWORD, "new_password2": OWN_PASSWORD},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.must_change_password
    assert client.get("/members/").status_code == 200


def test_a_user_changing_their_own_password_is_not_asked_again(world):
    client = world.client(Role.SECRETARY)
    response = client.post(
        "/account/password/",
        {"old_password": TEST_PASSWORD, "new_password1": OWN_PASSWORD, "new_password2": OWN_PASSWORD},
    )
    assert response.status_code == 302
    user = world.user(Role.SECRETARY)
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get("/").status_code == 200


def test_an_account_created_in_the_admin_is_audited_and_must_change_its_password(world):
    response = world.client(Role.SYSTEM_ADMIN).post(
        "/admin/accounts/user/add/",
        {"username": "shadow", "full_name": "影子", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="shadow")
    assert user.must_change_password
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_CREATE)
    assert (event.actor_id, event.object_id) == (world.user(Role.SYSTEM_ADMIN).pk, str(user.pk))


def test_an_account_edit_in_the_admin_is_audited_by_field_name(world):
    target = world.user(Role.SECRETARY)
    client = world.client(Role.SYSTEM_ADMIN)
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {"username": target.username, "full_name": "改过的名字", "phone": "", "email": "", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action=AuditAction.ACCOUNT_UPDATE)
    assert event.detail["fields"] == ["full_name"]
    assert "改过的名字" not in str(event.detail)


def test_the_operators_command_may_reset_a_three_admin_password_audited(world):
    target = world.user(Role.AUDIT_ADMIN)
    out = io.StringIO()
    call_command(
        "reset_password", target.username, "--stdin", stdin_stream=io.StringIO(NEW_PASSWORD + "\n"), stdout=out
    )
    assert "下次登录时须修改密码" in out.getvalue()
    target.refresh_from_db()
    assert check_password(NEW_PASSWORD, target.password)
    assert target.must_change_password
    event = AuditEvent.objects.get(action=AuditAction.PASSWORD_SET)
    assert event.object_id == str(target.pk)
    assert event.detail["via"] == "reset_password"


def test_the_operators_command_refuses_a_weak_password(world):
    from django.core.management.base import CommandError

    target = world.user(Role.AUDIT_ADMIN)
    before = target.password
    with pytest.raises(CommandError, match="密码不符合要求"):
        call_command("reset_password", target.username, "--stdin", stdin_stream=io.StringIO("123\n"))
    target.refresh_from_db()
    assert target.password == before
    assert not AuditEvent.objects.filter(action=AuditAction.PASSWORD_SET).exists()


def test_a_business_grant_without_an_organization_is_a_form_error(world):
    """The probe's POST answered 500: the check constraint surfaced only on save."""
    before = RoleAssignment.objects.count()
    response = world.client(Role.SECURITY_ADMIN).post(
        "/admin/accounts/roleassignment/add/", {"user": world.user(Role.MEMBER).pk, "role": Role.SECRETARY}
    )
    assert response.status_code == 200
    assert "业务角色必须指定授权党组织" in response.content.decode()
    assert RoleAssignment.objects.count() == before


def test_an_admin_grant_with_an_organization_is_a_form_error(world):
    from dangjian.accounts.tests.factories import UserFactory

    user = UserFactory()
    response = world.client(Role.SECURITY_ADMIN).post(
        "/admin/accounts/roleassignment/add/",
        {"user": user.pk, "role": Role.AUDIT_ADMIN, "organization": world.orgs["A"].pk},
    )
    assert response.status_code == 200
    assert "三员角色不指定党组织" in response.content.decode()
    assert not RoleAssignment.objects.filter(user=user).exists()
