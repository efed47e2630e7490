"""python manage.py import_members FILE.xlsx [--dry-run] [--update] [--as USERNAME]"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from dangjian.accounts.access import Access, access_for
from dangjian.core import request_context
from dangjian.members.imports import import_members


class Command(BaseCommand):
    help = (
        "从 .xlsx 文件导入党员名册（列与导入模板相同）。全部校验通过才写入；有错误时逐行列出（第N行 列名: 说明）"
        "且不写入任何数据。以 --as 指定的用户的管理范围校验；未指定时以超级用户（若没有，则以系统身份）导入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="要导入的 .xlsx 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--update", action="store_true", help="更新模式：按公民身份号码更新已登记的党员")
        parser.add_argument("--as", dest="as_user", help="以该用户的身份和管理范围导入")

    def handle(self, *args, file: str, dry_run: bool = False, update: bool = False, as_user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件“{file}”。")
        user, access, who = self._access(as_user)
        if not access.can_edit_members:
            raise CommandError(f"{who}的角色无权导入党员信息。")
        context = request_context.RequestContext(
            request_id=request_context.new_request_id(), user=user, path="manage.py import_members"
        )
        try:
            with path.open("rb") as stream, request_context.bind(context):
                result = import_members(
                    stream, name=path.name, by=access, actor=user, update=update, dry_run=dry_run, via="import_members"
                )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"无法读取文件“{file}”：{exc.strerror or exc}。") from None
        for warning in result.warnings:
            self.stderr.write(f"警告：{warning}")
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error) if error.row is not None else f"错误：{error}")
            count = len(result.errors)
            raise CommandError(f"导入失败：共 {count} 处错误，未写入任何数据。")
        if dry_run:
            self.stdout.write(f"校验通过，可{result.summary()}（未写入：--dry-run）")
        else:
            self.stdout.write(result.summary())

    def _access(self, username: str | None) -> tuple[object | None, Access, str]:
        """The user the import runs as, their access, and how to name them in messages.

        The superuser is the emergency account, which may do anything: it imports with the system access."""
        users = get_user_model().objects
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"找不到用户“{username}”。")
            if not user.is_active:
                raise CommandError(f"用户“{username}”已停用。")
            access = Access.system_access() if user.is_superuser else access_for(user)
            return user, access, f"用户“{username}”"
        user = users.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is not None:
            self.stderr.write(f"未指定 --as：以超级用户“{user.get_username()}”的身份导入（全部范围）。")
            return user, Access.system_access(), f"超级用户“{user.get_username()}”"
        self.stderr.write("未指定 --as，且没有超级用户：以系统身份导入（全部范围）。")
        return None, Access.system_access(), "系统"
