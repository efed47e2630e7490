"""python manage.py import_hours FILE [--dry-run] [--as USERNAME] [--source NAME] [--sheet NAME]"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.training.services.hours_import import import_hours


class Command(DangjianCommand):
    help = (
        "导入在其他平台获得的学时（省干部网络学院、在线学院、其他部门组织的培训）：.xlsx、.xls 或 .csv 文件，"
        "每行一名党员（公民身份号码，或姓名+党组织）、学时、类型（网络学习/集中培训）、日期或起止日期、来源、课程名称。全部校验通过"
        "才写入，已导入过的行（同一来源、党员、课程、日期）不重复导入；有错误时逐行列出（第N行 列名: 说明）且不写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx、.xls 或 .csv 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--source", metavar="NAME", default="", help="来源（文件中没有“来源”列或该列为空时使用）")
        parser.add_argument("--sheet", metavar="NAME", help="工作簿中有多个工作表时，要导入的工作表名称")
        self.add_as_argument(parser, help="以该用户的身份和管理范围导入")

    def handle(self, *args, file: str, dry_run=False, source="", sheet=None, as_user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件“{file}”。")
        run = self.run_as_or_superuser(as_user, doing="导入")
        try:
            with path.open("rb") as stream:
                result = import_hours(
                    stream,
                    name=path.name,
                    by=run.access,
                    actor=run.user,
                    source=source,
                    sheet=sheet,
                    dry_run=dry_run,
                    via="import_hours",
                )
        except PermissionDenied as exc:
            raise CommandError(f"{run.label}：{exc}") from None
        except OSError as exc:
            raise CommandError(f"无法读取文件“{file}”：{exc.strerror or exc}。") from None
        if result.sheet_names:
            raise CommandError(f"{result.errors[0].message}请用 --sheet 指定，如 --sheet {result.sheet_names[0]}")
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error) if error.row is not None else f"错误：{error}")
            raise CommandError(f"导入失败：共 {len(result.errors)} 处错误，未写入任何数据。")
        if dry_run:
            self.stdout.write(f"校验通过，可导入 {result.created} 条学时（未写入：--dry-run）")
        else:
            self.stdout.write(result.summary())
        if result.skipped:
            self.stdout.write(f"已导入过的 {result.skipped} 条未重复导入。")
