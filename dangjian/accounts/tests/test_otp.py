"""The second factor (双因素认证): enrollment, verification at login, replay, recovery codes, enforcement by role."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.accounts.models import RecoveryCode, User, recovery_code_digest
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import TEST_PASSWORD
from dangjian.audit.models import AuditAction, AuditEvent
from tests.scope import ROLES

SETUP = "/account/otp/setup/"
VERIFY = "/account/otp/verify/"
ENFORCED = override_settings(DANGJIAN_OTP_ENFORCE=True)
# Throttling (a growing delay after each wrong code) is django-otp's; a test that follows a refused code with
# a good one at once turns it off, so the good one is judged on its own.
NO_THROTTLE = override_settings(OTP_TOTP_THROTTLE_FACTOR=0, OTP_STATIC_THROTTLE_FACTOR=0)


def code(device: TOTPDevice, ahead: int = 0) -> str:
    """The code the authenticator app shows now (ahead=1: the next time step's). The device's drift, which
    django-otp adjusts on each accepted code, is followed, so a time-step boundary between two calls of a
    test cannot make a code fall out of the device's window."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + ahead)
    return str(value).zfill(device.digits)


def password_login(user) -> Client:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, "the password step must succeed"
    return client


def enroll(client: Client, user) -> tuple[TOTPDevice, list[str], str]:
    """Enroll a TOTP device through the setup page; returns the device, the recovery codes shown and the
    code used to confirm the device."""
    assert client.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    token = code(device)
    response = client.post(SETUP, {"password": TEST_PASSWORD, "token": token})
    assert response.status_code == 200
    assert response.templates[0].name == "accounts/otp_codes.html"
    codes = re.findall(r'<li class="list-group-item">(\w+)</li>', response.content.decode())
    device.refresh_from_db()
    return device, codes, token


def relogin(client: Client, user) -> Client:
    client.post("/logout/")
    return password_login(user)


# ---------------------------------------------------------------------------------------------------------
# Enforcement by role.


def test_enforcement_is_off_by_default_outside_production():
    assert settings.DANGJIAN_OTP_ENFORCE is False
    # Every account with more than its own data (security probe F2): all roles but 党员.
    assert set(settings.DANGJIAN_OTP_REQUIRED_ROLES) == {r.value for r in Role} - {Role.MEMBER}


@ENFORCED
@pytest.mark.parametrize("path", ["/", "/members/", "/orgs/", "/account/password/"])
def test_an_enforced_role_without_a_device_must_enroll_on_every_page(world, path):
    response = world.client(Role.COMMITTEE).get(path)
    assert response.status_code == 302
    assert response.url == SETUP


@ENFORCED
@pytest.mark.parametrize(
    "role",
    [
        Role.SYSTEM_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDIT_ADMIN,
        Role.COMMITTEE,
        Role.SCHOOL_ADMIN,
        Role.SECRETARY,
        Role.INSTRUCTOR,
    ],
)
def test_every_required_role_is_forced(world, role):
    """Every account with more than its own data needs a second factor in production (security probe F2)."""
    response = world.client(role).get("/")
    assert response.status_code == 302
    assert response.url == SETUP


@ENFORCED
@pytest.mark.parametrize("role", [Role.MEMBER])
def test_other_roles_are_not_forced_when_enforced(world, role):
    assert world.client(role).get("/").status_code == 200


@override_settings(DANGJIAN_OTP_ENFORCE=False)
@pytest.mark.parametrize("role", ROLES)
def test_nobody_is_forced_when_enforcement_is_off(world, role):
    assert world.client(role).get("/").status_code == 200


@ENFORCED
def test_the_setup_page_shows_a_qr_code_and_the_secret(world):
    response = world.client(Role.COMMITTEE).get(SETUP)
    assert response.status_code == 200
    page = response.content.decode()
    device = TOTPDevice.objects.get(user=world.user(Role.COMMITTEE), confirmed=False)
    assert "<svg" in page
    assert device.key in page
    assert 'name="password"' in page


# ---------------------------------------------------------------------------------------------------------
# Enrollment.


@ENFORCED
def test_enrollment_needs_the_current_password(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(SETUP, {"password": "Wrong#Pass2026", "token": code(device)})
    assert response.status_code == 200
    assert "当前密码不正确。" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/").url == SETUP


@ENFORCED
def test_enrollment_needs_a_valid_code(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(code(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"password": TEST_PASSWORD, "token": wrong})
    assert response.status_code == 200
    assert "动态口令不正确或已使用" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not RecoveryCode.objects.filter(device__user=user).exists()
    assert AuditEvent.objects.filter(action=AuditAction.OTP_FAILURE, actor_id=user.pk).exists()


@ENFORCED
def test_enrollment_shows_10_recovery_codes_once(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    device, codes, _ = enroll(client, user)
    assert device.confirmed
    assert len(codes) == 10
    assert len(set(codes)) == 10
    # Stored only as keyed hashes (security probe F13): a copy of the database does not give the codes.
    stored = set(RecoveryCode.objects.filter(device__user=user).values_list("digest", flat=True))
    assert stored == {recovery_code_digest(c) for c in codes}
    assert not StaticToken.objects.exists()
    assert not any(c in digest for c in codes for digest in stored)
    # The session is verified now, and the codes are never shown again.
    assert client.get("/").status_code == 200
    again = client.get(SETUP).content.decode()
    assert not any(c in again for c in codes)
    assert AuditEvent.objects.filter(action=AuditAction.OTP_ENROLL, actor_id=user.pk).count() == 1


# ---------------------------------------------------------------------------------------------------------
# Verification at login.


@ENFORCED
@NO_THROTTLE
def test_after_login_the_code_is_asked_and_a_used_code_is_refused(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    device, _, used = enroll(client, user)  # `used`: the code that confirmed the device

    client = relogin(client, user)
    response = client.get("/members/")
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next=/members/"
    # Replay of the enrollment code: refused.
    replay = client.post(VERIFY, {"token": used})
    assert replay.status_code == 200
    assert "动态口令不正确、已使用或已过期。" in replay.content.decode()
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.OTP_FAILURE, actor_id=user.pk).count() == 1
    # A fresh code (the next time step, within the device's tolerance) passes.
    fresh = code(device, ahead=1)
    response = client.post(f"{VERIFY}?next=/members/", {"token": fresh})
    assert response.status_code == 302
    assert response.url == "/members/"
    assert client.get("/").status_code == 200

    # And that code cannot be used again in another session either.
    other = relogin(client, user)
    assert other.post(VERIFY, {"token": fresh}).status_code == 200
    assert other.get("/").status_code == 302


@ENFORCED
@NO_THROTTLE
def test_a_recovery_code_works_exactly_once(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    _, codes, _ = enroll(client, user)

    client = relogin(client, user)
    assert client.post(VERIFY, {"token": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    assert RecoveryCode.objects.filter(device__user=user).count() == 9

    client = relogin(client, user)
    response = client.post(VERIFY, {"token": codes[0]})
    assert response.status_code == 200
    assert "动态口令不正确、已使用或已过期。" in response.content.decode()
    assert client.get("/").status_code == 302
    assert client.post(VERIFY, {"token": codes[1]}).status_code == 302
    assert client.get("/").status_code == 200


def test_a_user_with_a_device_is_asked_for_a_code_even_when_not_enforced(world):
    user = world.user(Role.SECRETARY)
    TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)
    response = world.client(Role.SECRETARY).get("/")
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next=/"


def test_an_unverified_session_cannot_replace_the_device(world):
    user = world.user(Role.SECRETARY)
    device = TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)
    client = world.client(Role.SECRETARY)  # password only: not verified with the device
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response.url == VERIFY
    response = client.post(SETUP, {"password": TEST_PASSWORD, "token": code(device)})
    assert response.status_code == 302
    assert response.url == VERIFY
    assert list(TOTPDevice.objects.filter(user=user)) == [device]
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()


@ENFORCED
def test_the_verify_page_refuses_an_offsite_next(world):
    user = world.user(Role.COMMITTEE)
    client = world.client(Role.COMMITTEE)
    device, _, _ = enroll(client, user)
    client = relogin(client, user)
    response = client.post(f"{VERIFY}?next=https://evil.example/", {"token": code(device, ahead=1)})
    assert response.status_code == 302
    assert response.url == "/"


# ---------------------------------------------------------------------------------------------------------
# The second factor together with an expired password: both steps can be completed, in some order.

NEW_PASSWORD = "Qingshan#2026"


def expire_password(user) -> None:
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))


def walk_to_home(client: Client, device_for) -> list[str]:
    """Follow the pages the user is sent to, doing what each asks (code, enrollment, new password), until the
    home page opens. Returns the pages visited; fails on a redirect cycle or after too many steps."""
    visited: list[str] = []
    url = "/"
    for _ in range(12):
        response = client.get(url)
        visited.append(url)
        if response.status_code == 302:
            url = response.url
            assert visited.count(url) < 2, f"redirect cycle: {visited} -> {url}"
            continue
        assert response.status_code == 200, (url, response.status_code)
        path = url.split("?")[0]
        if path == "/":
            return visited
        if path == VERIFY:
            answer = client.post(url, {"token": code(device_for(), ahead=1)})
        elif path == SETUP:
            client.get(SETUP)
            answer = client.post(SETUP, {"password": TEST_PASSWORD, "token": code(device_for())})
        elif path == "/account/password/":
            answer = client.post(
                path, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
            )
        else:
            raise AssertionError(f"unexpected page {url}")
        assert answer.status_code in (200, 302), (url, answer.status_code)
        url = "/"
    raise AssertionError(f"never reached the home page: {visited}")


@NO_THROTTLE
def test_a_user_with_a_device_and_an_expired_password_can_get_in(world):
    user = world.user(Role.SECRETARY)
    device = TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)
    expire_password(user)
    client = world.client(Role.SECRETARY)
    walk_to_home(client, lambda: device)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.get("/members/").status_code == 200


@ENFORCED
@NO_THROTTLE
def test_an_enforced_user_without_a_device_and_an_expired_password_can_get_in(world):
    user = world.user(Role.COMMITTEE)
    expire_password(user)
    client = world.client(Role.COMMITTEE)
    walk_to_home(client, lambda: TOTPDevice.objects.filter(user=user).order_by("-confirmed", "id").first())
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@ENFORCED
@NO_THROTTLE
def test_a_login_is_complete_only_after_its_second_factor(world):
    """The probe saw 登录成功 written at the password step, before the second factor, and no OTP success."""
    user = world.user(Role.COMMITTEE)

    def count(action):
        return AuditEvent.objects.filter(action=action, actor_id=user.pk).count()

    client = password_login(user)
    assert (count(AuditAction.LOGIN_FIRST_FACTOR), count(AuditAction.LOGIN_SUCCESS)) == (1, 0)
    device, codes, _ = enroll(client, user)  # binding the required factor completes this login
    assert count(AuditAction.LOGIN_SUCCESS) == 1

    client = relogin(client, user)
    assert (count(AuditAction.LOGIN_FIRST_FACTOR), count(AuditAction.LOGIN_SUCCESS)) == (2, 1)
    assert client.post(VERIFY, {"token": code(device, ahead=1)}).status_code == 302
    assert (count(AuditAction.OTP_SUCCESS), count(AuditAction.LOGIN_SUCCESS)) == (1, 2)

    client = relogin(client, user)
    assert client.post(VERIFY, {"token": codes[0]}).status_code == 302
    success = AuditEvent.objects.filter(action=AuditAction.OTP_SUCCESS, actor_id=user.pk).order_by("-id").first()
    assert success.detail == {"device": "recovery_code"}
    assert count(AuditAction.LOGIN_SUCCESS) == 3


def test_without_a_second_factor_due_the_password_completes_the_login(world):
    user = world.user(Role.MEMBER)
    password_login(user)
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_SUCCESS, actor_id=user.pk).count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_FIRST_FACTOR, actor_id=user.pk).exists()
