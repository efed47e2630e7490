import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dangjian.audit.services import RetentionError, audit_purge


class Command(BaseCommand):
    help = "清理早于指定日期的审计记录（不得早于保留期限，默认至少180天）。"

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="清理此日期（YYYY-MM-DD，UTC）之前的记录")

    def handle(self, *args, before, **options):
        try:
            day = dt.date.fromisoformat(before)
        except ValueError:
            raise CommandError("--before 日期格式应为 YYYY-MM-DD。") from None
        cutoff = timezone.make_aware(dt.datetime.combine(day, dt.time.min), dt.UTC)
        try:
            count = audit_purge(before=cutoff)
        except RetentionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"已清理 {count} 条审计记录。")
