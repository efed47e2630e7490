"""python manage.py import_members FILE [--dry-run] [--update] [--as USERNAME] [--sheet NAME]"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.members.imports import import_members


class Command(DangjianCommand):
    help = (
        "从 .xlsx、.xls 或 .csv 文件导入党员名册（表头可在标题行之下，列名可用常见写法，见 docs/imports.md）。"
        "全部校验通过才写入；有错误时逐行列出（第N行 列名: 说明）"
        "且不写入任何数据。以 --as 指定的用户的管理范围校验；未指定时以超级用户（若没有，则以系统身份）导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx、.xls 或 .csv 文件")
        parser.add_argument("--sheet", metavar="NAME", help="工作簿中有多个工作表时，要导入的工作表名称")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--update", action="store_true", help="更新模式：按公民身份号码更新已登记的党员")
        self.add_as_argument(parser, help="以该用户的身份和管理范围导入")

    def handle(
        self, *args, file: str, dry_run: bool = False, update: bool = False, as_user=None, sheet=None, **options
    ):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件“{file}”。")
        run = self.run_as_or_superuser(as_user, doing="导入")
        user, access, who = run.user, run.access, run.label
        if not access.can_edit_members:
            raise CommandError(f"{who}的角色无权导入党员信息。")
        try:
            with path.open("rb") as stream:
                result = import_members(
                    stream,
                    name=path.name,
                    by=access,
                    actor=user,
                    update=update,
                    dry_run=dry_run,
                    via="import_members",
                    sheet=sheet,
                )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"无法读取文件“{file}”：{exc.strerror or exc}。") from None
        for warning in result.warnings:
            self.stderr.write(f"警告：{warning}")
        if result.sheet_names:
            raise CommandError(f"{result.errors[0].message}请用 --sheet 指定，如 --sheet {result.sheet_names[0]}")
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error) if error.row is not None else f"错误：{error}")
            count = len(result.errors)
            raise CommandError(f"导入失败：共 {count} 处错误，未写入任何数据。")
        if dry_run:
            self.stdout.write(f"校验通过，可{result.summary()}（未写入：--dry-run）")
        else:
            self.stdout.write(result.summary())
