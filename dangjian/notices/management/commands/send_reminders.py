"""send_reminders: the daily reminder job (the one to-do list, as reminders).

    python manage.py send_reminders [--dry-run] [--email] [--as-of YYYY-MM-DD]

For every active user holding a business role, compute their to-do list (`workbench.selectors.todo_items`, in their
own scope) and record an in-app notification of each item whose key and period were not recorded for them yet — a
reminder is never recorded twice for the same item and period, so running the job twice a day records nothing the
second time. Prints a summary: users, new notifications, skipped duplicates (and mails sent).

E-mail is off by default (DANGJIAN_REMINDER_EMAIL = False): with the setting on, or with --email, each user with
new items and an e-mail address gets one digest mail (django.core.mail). --dry-run computes and counts, writing and
sending nothing. --as-of computes the lists as on that day (for catching up or testing).

Schedule it with cron (or a task queue), e.g.: 0 7 * * * cd /srv/dangjian && .venv/bin/python manage.py send_reminders
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management.base import CommandError
from django.utils import timezone

from dangjian.accounts.models import RoleKind
from dangjian.core.commands import DangjianCommand
from dangjian.notices.selectors import unrecorded
from dangjian.notices.services import notifications_record
from dangjian.workbench.selectors import todo_items


def reminder_email_enabled() -> bool:
    return bool(getattr(settings, "DANGJIAN_REMINDER_EMAIL", False))


def digest(user, notifications) -> mail.EmailMessage:
    """One mail listing a user's new reminders, each with the link to where it is done."""
    site = str(getattr(settings, "DANGJIAN_SITE_URL", "") or "").rstrip("/")
    lines = [f"{user.get_full_name()}，您好：", "", f"党建云有{len(notifications)}项新的待办事项需要您处理：", ""]
    for n in notifications:
        lines.append(f"【{n.kind}】{n.title}")
        if n.url:
            lines.append(f"    {site}{n.url}")
    lines += ["", "请登录党建云查看“通知”和“全部待办”。本邮件由系统自动发送，请勿回复。"]
    return mail.EmailMessage(subject=f"党建云待办提醒：{len(notifications)}项", body="\n".join(lines), to=[user.email])


class Command(DangjianCommand):
    help = (
        "每日提醒：为每位具有业务角色的在用账号计算待办事项，记录尚未提醒过的（同一事项同一周期只提醒一次）；"
        "邮件提醒默认关闭。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只统计，不记录通知、不发邮件")
        parser.add_argument("--email", action="store_true", help="同时发送邮件摘要（默认按 DANGJIAN_REMINDER_EMAIL）")
        parser.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="按该日期计算待办（默认今天）")

    def handle(self, *args, dry_run=False, email=False, as_of=None, **options):
        today = self._day(as_of)
        send = (email or reminder_email_enabled()) and not dry_run
        now = timezone.now()
        users = (
            get_user_model()
            .objects.filter(is_active=True, role_assignments__kind=RoleKind.BUSINESS)
            .distinct()
            .order_by("pk")
        )
        counted = new_total = skipped_total = mailed = failed = 0
        connection = mail.get_connection() if send else None
        for user in users.iterator(chunk_size=500):
            counted += 1
            items = todo_items(user=user, today=today)
            if dry_run:
                new, skipped = unrecorded(user=user, items=items)
                new_total += len(new)
                skipped_total += skipped
                continue
            created = notifications_record(user=user, items=items, now=now)
            new_total += len(created)
            skipped_total += len(items) - len(created)
            if send and created and user.email:
                try:
                    mailed += connection.send_messages([digest(user, created)]) or 0
                except OSError as exc:  # smtplib's errors included: the notifications stay recorded
                    failed += 1
                    self.stderr.write(f"向{user.get_username()}发送邮件失败：{exc}")
        prefix = "（试运行，未记录）" if dry_run else ""
        summary = f"{prefix}{today:%Y-%m-%d}：用户{counted}人，新提醒{new_total}条，已提醒过跳过{skipped_total}条"
        if send:
            summary += f"，发送邮件{mailed}封" + (f"，失败{failed}封" if failed else "")
        self.stdout.write(summary + "。")

    @staticmethod
    def _day(value: str | None) -> dt.date:
        if not value:
            return timezone.localdate()
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD 格式的日期：{value}") from None
