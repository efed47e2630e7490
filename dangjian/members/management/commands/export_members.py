"""python manage.py export_members --org CODE --out FILE.xlsx [--as USERNAME]"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dangjian.accounts.access import Access, access_for
from dangjian.core import request_context
from dangjian.members.exports import members_export
from dangjian.members.selectors import member_list
from dangjian.orgs.models import Organization


class Command(BaseCommand):
    help = (
        "导出一个党组织（含下级）的党员名册为 .xlsx，列与导入模板相同。以 --as 指定的用户的管理范围导出；"
        "未指定时以超级用户（若没有，则以系统身份）导出全部范围。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码：导出该组织及其下级组织的党员")
        parser.add_argument("--out", required=True, help="输出的 .xlsx 文件")
        parser.add_argument("--as", dest="as_user", help="以该用户的身份和管理范围导出")

    def handle(self, *args, org: str, out: str, as_user: str | None = None, **options):
        user, access, who = self._access(as_user)
        if not access.can_view_members:
            raise CommandError(f"{who}的角色无权查看党员信息。")
        code = org.strip()
        organization = Organization.objects.visible_to(access).filter(code=code).first()
        if organization is None:
            raise CommandError(f"找不到党组织编码“{code}”，或该组织不在{who}的管理范围内。")
        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(f"无法写入“{out}”：目录不存在。")
        queryset = member_list(user=access).filter(organization__path__startswith=organization.path)
        context = request_context.RequestContext(
            request_id=request_context.new_request_id(), user=user, path="manage.py export_members"
        )
        # Written next to the target and renamed at the end: a failed run leaves no half-written file.
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".xlsx.part")
        try:
            with os.fdopen(fd, "wb") as stream, request_context.bind(context):
                result = members_export(
                    by=access,
                    actor=user,
                    queryset=queryset,
                    out=stream,
                    filters={"org": code},
                    via="export_members",
                )
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        if result.masked:
            self.stderr.write("注意：公民身份号码和手机号码已按权限脱敏。")
        self.stdout.write(f"导出 {result.rows} 人")

    def _access(self, username: str | None) -> tuple[object | None, Access, str]:
        """The user the export runs as, their access, and how to name them in messages.

        The superuser is the emergency account, which may do anything: it exports with the system access."""
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
            self.stderr.write(f"未指定 --as：以超级用户“{user.get_username()}”的身份导出（全部范围）。")
            return user, Access.system_access(), f"超级用户“{user.get_username()}”"
        self.stderr.write("未指定 --as，且没有超级用户：以系统身份导出（全部范围）。")
        return None, Access.system_access(), "系统"
