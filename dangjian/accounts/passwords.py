"""Password rules of the security baseline (GB/T 22239-2019 8.1.4.1 身份鉴别 a: 口令复杂度并定期更换).

Defaults: at least 8 characters (Django's MinimumLengthValidator), at least 3 of the 4 character classes,
at most 128 characters, common passwords refused (Django's CommonPasswordValidator), the last 5
passwords not reusable, expiry after 90 days (settings.DANGJIAN_PASSWORD_MAX_AGE_DAYS).
"""

from __future__ import annotations

import string

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

_CLASSES = (
    ("大写字母", lambda c: c in string.ascii_uppercase),
    ("小写字母", lambda c: c in string.ascii_lowercase),
    ("数字", lambda c: c in string.digits),
    ("特殊字符", lambda c: not c.isalnum()),
)


class CharacterClassesValidator:
    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        present = sum(1 for _, test in _CLASSES if any(test(c) for c in password))
        if present < self.min_classes:
            raise ValidationError(
                "密码须至少包含大写字母、小写字母、数字、特殊字符中的 %(n)d 类。",
                code="password_classes",
                params={"n": self.min_classes},
            )

    def get_help_text(self):
        return f"密码须至少包含大写字母、小写字母、数字、特殊字符中的 {self.min_classes} 类。"


class MaximumLengthValidator:
    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                "密码不能超过 %(n)d 个字符。", code="password_too_long", params={"n": self.max_length}
            )

    def get_help_text(self):
        return f"密码不能超过 {self.max_length} 个字符。"


class PasswordHistoryValidator:
    """Refuse the current password and the previous `keep` ones; remember each new one on change."""

    def __init__(self, keep: int = 5):
        self.keep = keep

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        from dangjian.accounts.models import PasswordHistory

        recent = [user.password] if user.password else []
        recent += list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[: self.keep]
        )
        if any(check_password(password, encoded) for encoded in recent if encoded):
            raise ValidationError("不能使用最近 %(n)d 次用过的密码。", code="password_reused", params={"n": self.keep})

    def password_changed(self, password, user=None):
        if user is None or user.pk is None:
            return
        from dangjian.accounts.models import PasswordHistory

        PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).order_by("-created_at", "-id").values_list("id", flat=True)
        PasswordHistory.objects.filter(id__in=list(stale[self.keep :])).delete()

    def get_help_text(self):
        return f"不能使用最近 {self.keep} 次用过的密码。"
