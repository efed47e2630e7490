"""restore: the database and media files of a backup archive, into the configured database (core.backup)."""

from __future__ import annotations

from django.core.management.base import CommandError

from dangjian.core import backup
from dangjian.core.commands import DangjianCommand


class Command(DangjianCommand):
    help = (
        "从备份文件恢复数据库和上传文件到当前配置的数据库。会替换现有全部数据：数据库非空时须加 --yes；"
        "恢复前先停止应用服务和后台任务。需要备份时的加密密钥（见运维手册）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="ARCHIVE", help="backup 命令写出的 .tar 文件")
        parser.add_argument("--yes", action="store_true", help="确认用备份替换当前数据库中的全部数据")

    def handle(self, *args, archive, yes=False, **options):
        try:
            result = backup.restore_backup(archive, replace=yes)
        except backup.BackupError as exc:
            raise CommandError(f"未恢复：{exc}") from exc
        self.stdout.write(
            f"已从 {archive} 恢复：{result.tables} 张表，{result.rows} 行；媒体文件 {result.media_files} 个。"
        )
        if result.media_left:
            self.stdout.write(f"媒体目录中另有 {result.media_left} 个备份中没有的文件，已保留未动。")
        if result.pending_migrations:
            self.stdout.write(
                f"备份早于当前程序版本：还有 {len(result.pending_migrations)} 个数据库迁移未执行，"
                "请运行 manage.py migrate 后再启动服务。"
            )
        self.stdout.write("请运行 manage.py restore_drill 或抽查几个页面确认数据，然后启动服务。")
