"""audit_export: the audit trail as CSV (every text cell guarded against formula injection, as the page's export) or
JSON Lines (values exactly as recorded), for off-site archiving. The export is itself recorded."""

import datetime as dt
import json

from django.core.management.base import CommandError

from dangjian.audit.models import AuditEvent
from dangjian.audit.services import EXPORT_COLUMNS, audit_csv_rows, audit_rows
from dangjian.core.commands import DangjianCommand
from dangjian.core.exports import write_csv


class Command(DangjianCommand):
    help = "导出审计记录（CSV 或 JSON Lines），用于异地归档。"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="起始日期 YYYY-MM-DD（UTC，含）")
        parser.add_argument("--until", help="截止日期 YYYY-MM-DD（UTC，含）")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--output", help="输出文件；缺省写到标准输出")

    def handle(self, *args, since=None, until=None, format="csv", output=None, **options):
        queryset = AuditEvent.objects.all()
        try:
            if since:
                queryset = queryset.filter(at__date__gte=dt.date.fromisoformat(since))
            if until:
                queryset = queryset.filter(at__date__lte=dt.date.fromisoformat(until))
        except ValueError:
            raise CommandError("日期格式应为 YYYY-MM-DD。") from None
        stream = open(output, "w", encoding="utf-8", newline="") if output else self.stdout  # noqa: SIM115
        names = [name for name, _ in EXPORT_COLUMNS]
        count = 0
        try:
            if format == "csv":
                count = write_csv(stream, names, audit_csv_rows(queryset), lineterminator="\r\n")
            else:
                for row in audit_rows(queryset):
                    stream.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n")
                    count += 1
        finally:
            if output:
                stream.close()
        self.record_export(
            what="审计记录", model=AuditEvent, params={"since": since, "until": until}, rows=count, format=format
        )
        if output:
            self.stderr.write(f"已导出 {count} 条审计记录到 {output}。")
