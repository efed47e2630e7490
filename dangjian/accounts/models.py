"""Accounts: the user model and role assignments (用户 / 角色授权)."""

import datetime as dt
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from simple_history.models import HistoricalRecords

from dangjian.accounts.roles import ADMIN_ROLES, Role
from dangjian.core.fields import EncryptedTextField


# django-otp ships no types, so the plugin cannot build the reverse manager of its devices' `user` key.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A person who logs in (用户). Chinese names go in `full_name`, not first/last name."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    # A person's phone: stored encrypted like the members' (core.fields); never looked up, so no blind index.
    phone = EncryptedTextField("联系电话", max_length=20, blank=True)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)
    # Set when someone else set the password (an account created or reset for the user): it must be changed at
    # the next login, so a password another person knows never stays in use (docs/security.md, 1).
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return f"{self.full_name}（{self.username}）" if self.full_name else self.username

    def get_full_name(self) -> str:
        return self.full_name or self.username

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()
        # A password one sets oneself is one's own; accounts.services.password_set marks the others.
        self.must_change_password = False

    @property
    def password_expired(self) -> bool:
        """True once the password is older than DANGJIAN_PASSWORD_MAX_AGE_DAYS (0 turns expiry off)."""
        days = settings.DANGJIAN_PASSWORD_MAX_AGE_DAYS
        if not days or self.password_changed_at is None or not self.has_usable_password():
            return False
        return timezone.now() - self.password_changed_at > dt.timedelta(days=days)


class PasswordHistory(models.Model):
    """A previous password hash of a user, so the last few cannot be reused (历史密码)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = "历史密码"

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d}"


class LockoutRelease(models.Model):
    """An unlock of a locked login name by the security admin (解除锁定): the failures before it no longer count
    (`accounts.lockout`). Axes' failure log is kept whole; this row only moves the point counting starts from."""

    username = models.CharField("用户名", max_length=150, db_index=True)
    released_at = models.DateTimeField("解锁时间", default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="解锁人",
    )

    class Meta:
        verbose_name = "解除锁定"
        verbose_name_plural = "解除锁定"

    def __str__(self) -> str:
        return f"{self.username}@{self.released_at:%Y-%m-%d %H:%M}"


ADMIN_ROLE_VALUES = sorted(r.value for r in ADMIN_ROLES)
THREE_ADMINS_MESSAGE = "三员分立：系统管理员、安全管理员、审计管理员互斥，且不得兼任业务角色。"


class RoleKind(models.TextChoices):
    ADMIN = "admin", "三员角色"
    BUSINESS = "business", "业务角色"


def role_kind(role: str) -> str:
    return RoleKind.ADMIN if role in ADMIN_ROLES else RoleKind.BUSINESS


class RoleAssignment(models.Model):
    """A grant of one role to one user over one organization's subtree (角色授权).

    A user may hold several business roles. Business roles need an organization; the three admin roles
    (三员分立) have none, are mutually exclusive, and exclude every business role. The database enforces
    it: a partial unique index allows one admin grant per user, and a trigger (migration 0003) refuses a
    grant whose kind differs from the user's other grants.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments", verbose_name="用户"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="role_assignments",
        verbose_name="授权党组织",
        help_text="角色覆盖该党组织及其全部下级组织。三员角色不填。",
    )
    kind = models.CharField("角色类别", max_length=8, choices=RoleKind.choices, editable=False)
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "organization"], name="role_assignment_unique"),
            models.CheckConstraint(
                condition=Q(role__in=ADMIN_ROLE_VALUES, organization__isnull=True, kind=RoleKind.ADMIN)
                | (~Q(role__in=ADMIN_ROLE_VALUES) & Q(organization__isnull=False, kind=RoleKind.BUSINESS)),
                name="role_assignment_scope_matches_role",
                violation_error_message="三员角色不指定党组织，业务角色必须指定党组织。",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind=RoleKind.ADMIN),
                name="role_assignment_one_admin_role",
                violation_error_message=THREE_ADMINS_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        scope = f" @ {self.organization}" if self.organization_id else ""
        return f"{self.user} · {self.get_role_display()}{scope}"

    def save(self, *args, **kwargs):
        self.kind = role_kind(self.role)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.kind = role_kind(self.role)
        if self.user_id is None:
            return
        others = RoleAssignment.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
        if (self.kind == RoleKind.ADMIN and others.exists()) or others.filter(kind=RoleKind.ADMIN).exists():
            raise ValidationError({"role": THREE_ADMINS_MESSAGE})


def recovery_code_digest(code: str) -> str:
    """The keyed hash a recovery code is stored as: HMAC-SHA256 under the index key, which is never in the
    database, so a copy of the database gives neither the codes nor a way to test guesses offline."""
    from dangjian.core.crypto import blind_index

    return blind_index("otp-recovery:" + code.strip().replace(" ", "").lower())


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """The single-use recovery codes (恢复码) of a user's second factor, kept only as keyed hashes.

    A django-otp device, so `match_token` tries it beside the TOTP device; failures are throttled like the
    TOTP device's. It replaces django-otp's static device, which stores the codes in plain text."""

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def get_throttle_factor(self):
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = recovery_code_digest(str(token))
        match = next((c for c in self.codes.all() if hmac.compare_digest(c.digest, digest)), None)
        if match is None:
            self.throttle_increment()
            return False
        match.delete()  # single use
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    """One unused recovery code of a `RecoveryCodeDevice`, as its keyed hash."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField("恢复码摘要", max_length=64)

    class Meta:
        verbose_name = "恢复码"
        verbose_name_plural = "恢复码"

    def __str__(self) -> str:
        return f"{self.device_id}:…"
