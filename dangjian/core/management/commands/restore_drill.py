"""restore_drill: restore a backup into a scratch database and compare every table and media file with the
archive's manifest (core.backup); exits non-zero on any difference."""

from __future__ import annotations

from django.core.management.base import CommandError

from dangjian.core import backup
from dangjian.core.commands import DangjianCommand

MISSING = "—"


class Command(DangjianCommand):
    help = (
        "恢复演练：把备份恢复到临时数据库（演练后删除），逐表核对行数和校验和、逐个核对媒体文件，"
        "并检查密钥环能否读取备份；有任何不一致时以非零状态退出。不改动当前数据库。"
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="ARCHIVE", help="backup 命令写出的 .tar 文件")
        self.add_as_argument(parser, help="在审计日志中记为该用户所做；服务器用户总会记下")

    def handle(self, *args, archive, as_user=None, **options):
        # Who runs the drill, checked before it starts (the drill leaves the current database as it is).
        actor = self.run_as(as_user, superuser_scope=True).user if as_user else None
        try:
            report = backup.restore_drill(archive)
        except backup.BackupError as exc:
            self._audit(archive, actor, passed=False, detail={"error": str(exc)[:200]})
            raise CommandError(f"恢复演练失败：{exc}") from exc
        tables_failed = sum(1 for row in report.rows if not row.ok)
        self._audit(
            archive,
            actor,
            passed=report.ok,
            detail={
                "tables": len(report.rows),
                "tables_failed": tables_failed,
                "media_problems": len(report.media_problems),
                "key_problems": len(report.key_problems),
            },
        )
        width = max([len(row.table) for row in report.rows] + [8]) + 2
        self.stdout.write(
            backup.pad("表", width) + backup.pad("行数（清单/恢复）", 22) + backup.pad("校验和", 10) + "结果"
        )
        for row in report.rows:
            expected = str(row.expected.rows) if row.expected else MISSING
            found = str(row.found.rows) if row.found else MISSING
            if row.expected and row.found:
                checksum = "一致" if row.expected.checksum == row.found.checksum else "不一致"
            else:
                checksum = MISSING
            self.stdout.write(
                backup.pad(row.table, width)
                + backup.pad(f"{expected}/{found}", 22)
                + backup.pad(checksum, 10)
                + ("通过" if row.ok else "不符")
            )
        failed = [row for row in report.rows if not row.ok]
        self.stdout.write(
            f"媒体文件：{report.media_files} 个，"
            + ("全部与清单一致。" if not report.media_problems else "；".join(report.media_problems))
        )
        if report.key_problems:
            self.stdout.write("密钥：" + "；".join(report.key_problems) + f"（见 {backup.GUIDE}）。")
        else:
            self.stdout.write("密钥：当前密钥环可以读取该备份。")
        for problem in report.other_problems:
            self.stdout.write(problem)
        if not report.ok:
            raise CommandError(
                f"恢复演练未通过：{len(failed)} 张表不符，{len(report.media_problems)} 个媒体文件问题，"
                f"{len(report.key_problems)} 个密钥问题。"
            )
        rows = sum(row.found.rows for row in report.rows if row.found)
        self.stdout.write(f"恢复演练通过：{len(report.rows)} 张表、{rows} 行与备份清单一致。")

    def _audit(self, archive, actor, *, passed: bool, detail: dict) -> None:
        """The drill's record in the current database's audit trail (core.backup.record_operation): passed or
        not, by whom (the --as user, the server account)."""
        backup.record_operation(action="restore_drill", archive=archive, actor=actor, detail=detail, passed=passed)
