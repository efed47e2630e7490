"""Notifications the apps below ask for through their signals (they may not import notices)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.dispatch import receiver
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.members.signals import foreign_lookup_alert
from dangjian.notices.services import notifications_record

SECURITY_ALERT_KIND = "security_alert"


def security_admins():
    """Every active user holding the security admin role (三员之一)."""
    return get_user_model().objects.filter(is_active=True, role_assignments__role=Role.SECURITY_ADMIN).distinct()


@receiver(foreign_lookup_alert, dispatch_uid="notices.foreign_lookup_alert")
def notify_security_admins_of_foreign_lookups(sender, *, user, detail, **kwargs) -> None:
    """One notification to each security admin: who checked how many ID numbers registered outside their scope.
    The link opens that user's role grants (the security admin's page), to revoke them if need be."""
    now = timezone.now()
    try:
        url = reverse("admin:accounts_roleassignment_changelist") + f"?q={user.get_username()}"
    except NoReverseMatch:  # pragma: no cover - the admin is always installed
        url = ""
    item = {
        "kind": SECURITY_ALERT_KIND,
        "title": (
            f"安全告警：用户“{user.get_username()}”核验的公民身份号码中有 {detail.get('hits', 0)} 个"
            f"登记在其管理范围以外（今日累计 {detail.get('today', 0)} 个，阈值 {detail.get('threshold', 0)}），"
            "疑似批量探测党员身份，请核查。"
        ),
        "url": url,
        "key": f"foreign-lookups:{user.pk}:{now:%H%M%S%f}",
        "period": f"{timezone.localdate():%Y-%m-%d}",
    }
    for admin in security_admins():
        notifications_record(user=admin, items=[item], now=now)
