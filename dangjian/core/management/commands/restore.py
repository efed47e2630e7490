"""restore: the database and media files of a backup archive, into the configured database (core.backup)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DatabaseError

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
        self.add_as_argument(parser, help="在审计日志中记为该用户（恢复后的数据库中的账号）所做；服务器用户总会记下")

    def handle(self, *args, archive, yes=False, as_user=None, **options):
        try:
            result = backup.restore_backup(archive, replace=yes)
        except backup.BackupError as exc:
            raise CommandError(f"未恢复：{exc}") from exc
        self.stdout.write(
            f"已从 {archive} 恢复：{result.tables} 张表，{result.rows} 行；媒体文件 {result.media_files} 个。"
        )
        self._audit(archive, as_user, result)
        if result.media_left:
            self.stdout.write(f"媒体目录中另有 {result.media_left} 个备份中没有的文件，已保留未动。")
        if result.pending_migrations:
            self.stdout.write(
                f"备份早于当前程序版本：还有 {len(result.pending_migrations)} 个数据库迁移未执行，"
                "请运行 manage.py migrate 后再启动服务。"
            )
        self.stdout.write("请运行 manage.py restore_drill 或抽查几个页面确认数据，然后启动服务。")

    def _audit(self, archive, as_user, result) -> None:
        """The restore's record in the restored database's audit trail (core.backup.record_operation): the --as
        user, looked up in the restored accounts, and the server account. A restored database whose audit table
        predates this program (migrations pending) cannot take it: the operator is told to record it by hand."""
        actor = None
        if as_user:
            try:
                actor = self.run_as(as_user, superuser_scope=True).user
            except CommandError as exc:
                self.stderr.write(f"{exc} 审计记录中只记服务器用户。")
        detail = {
            "tables": result.tables,
            "rows": result.rows,
            "media_files": result.media_files,
            "as": as_user or "",
            "pending_migrations": len(result.pending_migrations),
        }
        try:
            backup.record_operation(action="restore", archive=archive, actor=actor, detail=detail)
        except DatabaseError as exc:
            self.stderr.write(
                f"恢复已完成，但审计记录未能写入恢复后的数据库（{type(exc).__name__}）：请运行 manage.py migrate 后"
                "在运维记录中登记本次恢复（时间、备份文件、执行人）。"
            )
        else:
            self.stdout.write(f"已在审计日志中记录本次恢复（服务器用户 {backup.os_user()}）。")
