"""The second factor (双因素认证, GB/T 22239-2019 8.1.4.1 d): TOTP with recovery codes, via django-otp.

A used TOTP code cannot be replayed: django-otp remembers the last accepted time step per device and
throttles repeated failures. Recovery codes are single-use and stored only as keyed hashes
(`accounts.models.RecoveryCodeDevice`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.accounts.access import access_for
from dangjian.accounts.models import RecoveryCode, RecoveryCodeDevice, recovery_code_digest

RECOVERY_CODE_COUNT = 10


def otp_required_for(user) -> bool:
    """Whether policy requires a second factor of this user (by role; configurable, see settings)."""
    if not settings.DANGJIAN_OTP_ENFORCE:
        return False
    roles = access_for(user).roles
    return bool(roles & set(settings.DANGJIAN_OTP_REQUIRED_ROLES)) or user.is_superuser


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_factor_due(user) -> bool:
    """Whether a login of this user is complete only after a second factor: entered (a bound device) or
    first bound (a role that requires one)."""
    return has_confirmed_device(user) or otp_required_for(user)


def pending_device(user) -> TOTPDevice:
    """The user's unconfirmed TOTP device for enrollment, made on first ask and reused until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="待绑定", confirmed=False)
    return device


@transaction.atomic
def otp_enroll_confirm(*, user, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending device with a code from the app. On success the device replaces any earlier
    one and a fresh set of recovery codes is issued (returned once, never shown again)."""
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.name = "动态口令"
    device.save(update_fields=["confirmed", "name"])
    StaticDevice.objects.filter(user=user).delete()  # plain-text codes of an older install
    RecoveryCodeDevice.objects.filter(user=user).delete()
    recovery = RecoveryCodeDevice.objects.create(user=user, name="恢复码", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create([RecoveryCode(device=recovery, digest=recovery_code_digest(c)) for c in codes])
    return codes
