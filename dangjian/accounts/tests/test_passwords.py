"""The password policy (身份鉴别): length, character classes, common passwords, history, expiry, change."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from dangjian.accounts.models import PasswordHistory, User
from dangjian.accounts.tests.factories import TEST_PASSWORD, UserFactory
from dangjian.audit.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD_PAGE = "/account/password/"
# Passwords that pass every rule but the one under test (3 classes, long enough, not common).
GOOD = "Qingshan#2026"
HISTORY = ["Hongqi#Lake01", "Hongqi#Lake02", "Hongqi#Lake03", "Hongqi#Lake04", "Hongqi#Lake05", "Hongqi#Lake06"]


def codes(password: str, user=None) -> set[str]:
    """The codes of every rule the password breaks (empty: accepted)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


@pytest.fixture
def user():
    return UserFactory(username="pw_tester", full_name="周测试")


# ---------------------------------------------------------------------------------------------------------
# Each rule of the policy.


def test_a_good_password_is_accepted(user):
    assert codes(GOOD, user) == set()


def test_minimum_length_is_8():
    assert "password_too_short" in codes("Ab#1xyz")  # 7 characters
    assert codes("Ab#1xyzw") == set()  # 8 characters


@pytest.mark.parametrize(
    "password",
    ["qingshanhongqi", "QINGSHANHONGQI", "qingshan20261", "qingshan#hongqi", "20262026#"],
    ids=["lower-only", "upper-only", "lower+digit", "lower+symbol", "digit+symbol"],
)
def test_fewer_than_3_character_classes_are_refused(password):
    error_codes = codes(password)
    assert "password_classes" in error_codes


@pytest.mark.parametrize(
    "password",
    ["Qingshanhong1", "qingshan#hong1", "QINGSHAN#HONG1", "Qingshan#hong"],
    ids=["upper+lower+digit", "lower+symbol+digit", "upper+symbol+digit", "upper+lower+symbol"],
)
def test_any_3_of_the_4_classes_are_enough(password):
    assert codes(password) == set()


def test_the_character_class_message_is_chinese():
    with pytest.raises(ValidationError) as caught:
        validate_password("qingshanhongqi")
    assert "密码须至少包含大写字母、小写字母、数字、特殊字符中的 3 类。" in caught.value.messages


@pytest.mark.parametrize("password", ["Password1!", "P@ssw0rd", "Password123", "1qaz@WSX"])
def test_common_passwords_are_refused(password):
    assert "password_too_common" in codes(password)


def test_128_characters_are_accepted_and_129_refused():
    base = "Aa1#" * 32
    assert len(base) == 128
    assert codes(base) == set()
    error_codes = codes(base + "x")
    assert error_codes == {"password_too_long"}


def test_the_maximum_length_message_is_chinese():
    with pytest.raises(ValidationError) as caught:
        validate_password("Aa1#" * 33)
    assert "密码不能超过 128 个字符。" in caught.value.messages


# ---------------------------------------------------------------------------------------------------------
# History: the last 5 passwords cannot be used again.


def change_to(user: User, password: str) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.save()


def test_the_last_5_passwords_are_refused_and_the_6th_is_accepted(user):
    for password in HISTORY:
        change_to(user, password)
    # HISTORY[-1] is the current one; together with the four before it, those are the last 5.
    for password in HISTORY[1:]:
        assert codes(password, user) == {"password_reused"}, password
    assert codes(HISTORY[0], user) == set()
    # Only hashes are kept, and no more than 5 of them.
    kept = list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True))
    assert len(kept) == 5
    assert not any(password in encoded for encoded in kept for password in HISTORY)


def test_the_current_password_cannot_be_set_again(user):
    change_to(user, GOOD)
    assert codes(GOOD, user) == {"password_reused"}


def test_the_reuse_message_is_chinese(user):
    change_to(user, GOOD)
    with pytest.raises(ValidationError) as caught:
        validate_password(GOOD, user)
    assert caught.value.messages == ["不能使用最近 5 次用过的密码。"]


def test_set_password_records_the_change_time(user):
    before = timezone.now()
    user.set_password(GOOD)
    user.save()
    user.refresh_from_db()
    assert user.password_changed_at is not None
    assert before <= user.password_changed_at <= timezone.now()


# ---------------------------------------------------------------------------------------------------------
# Expiry after 90 days.


def test_a_password_expires_after_90_days_on_a_frozen_clock(user):
    change_to(user, GOOD)
    changed = user.password_changed_at
    with mock.patch("django.utils.timezone.now", return_value=changed + dt.timedelta(days=89, hours=23)):
        assert not user.password_expired
    with mock.patch("django.utils.timezone.now", return_value=changed + dt.timedelta(days=90, seconds=1)):
        assert user.password_expired


@pytest.fixture
def expired_user():
    user = UserFactory(username="pw_expired", full_name="吴过期")
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    user.refresh_from_db()
    assert user.password_expired
    return user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/", "/orgs/", "/members/", "/members/new/", "/orgs/units/", "/audit/", "/admin/"])
def test_an_expired_password_sends_every_page_to_the_password_page(expired_user, path):
    response = logged_in(expired_user).get(path)
    assert response.status_code == 302
    assert response.url == PASSWORD_PAGE


def test_an_expired_password_sends_a_post_to_the_password_page_too(expired_user):
    response = logged_in(expired_user).post("/members/new/", {"name": "x"})
    assert response.status_code == 302
    assert response.url == PASSWORD_PAGE


def test_the_password_page_and_logout_stay_reachable_when_expired(expired_user):
    client = logged_in(expired_user)
    redirected = client.get("/", follow=True)
    assert redirected.redirect_chain == [(PASSWORD_PAGE, 302)]
    assert "您的密码已过期，请先修改密码。" in redirected.content.decode()
    assert client.get(PASSWORD_PAGE).status_code == 200
    assert client.get("/logout/").status_code == 200  # the confirmation page
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response.url == "/login/"


def test_expiry_on_a_frozen_clock_redirects_pages(user):
    change_to(user, GOOD)
    later = user.password_changed_at + dt.timedelta(days=91)
    with mock.patch("django.utils.timezone.now", return_value=later):
        client = logged_in(user)  # the session is made on the frozen clock too
        response = client.get("/")
        assert response.status_code == 302
        assert response.url == PASSWORD_PAGE
        assert client.get(PASSWORD_PAGE).status_code == 200


def test_a_fresh_password_does_not_redirect(user):
    change_to(user, GOOD)
    assert logged_in(user).get("/").status_code == 200


# ---------------------------------------------------------------------------------------------------------
# Changing the password on the page.


def test_a_wrong_old_password_changes_nothing(expired_user):
    before_hash = expired_user.password
    before_changed = expired_user.password_changed_at
    client = logged_in(expired_user)
    response = client.post(
        PASSWORD_PAGE, {"old_password": "Wrong#Pass2026", "new_password1": GOOD, "new_password2": GOOD}
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    expired_user.refresh_from_db()
    assert expired_user.password == before_hash
    assert expired_user.password_changed_at == before_changed
    assert expired_user.check_password(TEST_PASSWORD)
    assert not PasswordHistory.objects.filter(user=expired_user).exists()
    assert client.get("/").url == PASSWORD_PAGE  # still expired


def test_the_page_asks_for_the_old_password(expired_user):
    response = logged_in(expired_user).get(PASSWORD_PAGE)
    assert 'name="old_password"' in response.content.decode()


def test_the_page_applies_the_policy(expired_user):
    response = logged_in(expired_user).post(
        PASSWORD_PAGE,
        {"old_password": TEST_PASSWORD, "new_password1": "qingshanhongqi", "new_password2": "qingshanhongqi"},
    )
    assert response.status_code == 200
    assert "密码须至少包含大写字母、小写字母、数字、特殊字符中的 3 类。" in response.content.decode()
    expired_user.refresh_from_db()
    assert expired_user.check_password(TEST_PASSWORD)


def test_changing_the_password_on_the_page_ends_the_expiry(expired_user):
    client = logged_in(expired_user)
    response = client.post(PASSWORD_PAGE, {"old_password": TEST_PASSWORD, "new_password1": GOOD, "new_password2": GOOD})
    assert response.status_code == 302
    assert response.url == "/"
    expired_user.refresh_from_db()
    assert expired_user.check_password(GOOD)
    assert not expired_user.password_expired
    assert PasswordHistory.objects.filter(user=expired_user).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGE, actor_id=expired_user.pk).count() == 1
    # The session survives the change and the pages open again.
    assert client.get("/").status_code == 200
    assert codes(GOOD, expired_user) == {"password_reused"}
