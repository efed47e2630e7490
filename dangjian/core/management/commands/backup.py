"""backup: one archive of the database, the media files and a manifest (core.backup; docs/operator-guide.md)."""

from __future__ import annotations

from django.core.management.base import CommandError

from dangjian.core import backup
from dangjian.core.commands import DangjianCommand


class Command(DangjianCommand):
    help = (
        "备份数据库和上传文件：在 --out 目录（默认 var/backups）写入一个 dangjian-backup-日期-时间.tar 文件，"
        "内含数据库导出、媒体文件和清单（不含密钥，密钥须另行备份，见运维手册）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--gzip", action="store_true", help="压缩备份文件（.tar.gz；SQLite 数据库时有用）")
        parser.add_argument(
            "--out", metavar="DIR", help="备份文件写入的目录（默认 DANGJIAN_BACKUP_DIR 或 var/backups）"
        )

    def handle(self, *args, out=None, gzip=False, **options):
        try:
            result = backup.create_backup(out, gzip=gzip)
        except backup.BackupError as exc:
            raise CommandError(f"备份失败：{exc}") from exc
        manifest = result.manifest
        rows = sum(table["rows"] for table in manifest["tables"].values())
        self.record_export(
            what="全库备份",
            params={"archive": result.path.name},
            rows=rows,
            tables=len(manifest["tables"]),
            media_files=len(manifest["media"]),
        )
        self.stdout.write(f"已写入备份 {result.path}（{backup.human_size(result.size)}）")
        self.stdout.write(
            f"数据库 {backup.VENDOR_LABELS[manifest['vendor']]}：{len(manifest['tables'])} 张表，{rows} 行；"
            f"媒体文件 {len(manifest['media'])} 个；加密密钥 {', '.join(manifest['keys']['field_key_ids'])}"
            "（密钥不在备份中，须另行保管）。"
        )
