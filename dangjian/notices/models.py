"""In-app notifications (站内通知): the reminders `send_reminders` records from the to-do list: a daily job records
notifications for the people responsible; the in-app notification list shows them; e-mail is optional and off by
default; a reminder is never sent twice for the same item and period.

Scope. A notification is its user's own: nobody else sees it, not even the committee above them (its title may name a
member of the user's branch), and the three admins see none of anybody's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dangjian.accounts.access import access_for


class NotificationQuerySet(models.QuerySet["Notification"]):
    def visible_to(self, user) -> NotificationQuerySet:
        """The user's own notifications (everything only for the system access of jobs)."""
        access = access_for(user)
        if access.system:
            return self.all()
        if access.user_id is None:
            return self.none()
        return self.filter(user_id=access.user_id)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def dangerously_all(self) -> NotificationQuerySet:
        """Every notification, with no scope: for jobs and commands only."""
        return self.all()


class Notification(models.Model):
    """A notification (站内通知): one to-do item reminded to one user — its kind, title and the link to where it is
    done, and the item's key and period. The database keeps it once per user, key and period, so a reminder is
    never recorded (nor mailed) twice for the same item and period, whoever runs the job and how often."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="接收人"
    )
    kind = models.CharField("类别", max_length=40)
    title = models.CharField("内容", max_length=300)
    url = models.CharField("办理链接", max_length=500, blank=True)
    key = models.CharField("事项标识", max_length=120)
    period = models.CharField("周期", max_length=20, blank=True)
    created_at = models.DateTimeField("提醒时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "period"], name="notification_once_per_item_period"),
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_read_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
