import csv
import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.audit.services import EXPORT_COLUMNS, audit_record, audit_rows


class Command(BaseCommand):
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
        count = 0
        try:
            if format == "csv":
                writer = csv.writer(stream)
                writer.writerow([name for name, _ in EXPORT_COLUMNS])
            for row in audit_rows(queryset):
                if format == "csv":
                    row[-1] = json.dumps(row[-1], ensure_ascii=False)
                    writer.writerow(row)
                else:
                    record = dict(zip([n for n, _ in EXPORT_COLUMNS], row, strict=True))
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        finally:
            if output:
                stream.close()
        audit_record(
            action=AuditAction.EXPORT,
            object_type="audit.auditevent",
            detail={"since": since, "until": until, "format": format, "rows": count, "via": "audit_export"},
        )
        if output:
            self.stderr.write(f"已导出 {count} 条审计记录到 {output}。")
