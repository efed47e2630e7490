"""python manage.py export_members --org CODE --out FILE.xlsx [--as USERNAME]"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.members.exports import members_export
from dangjian.members.selectors import member_list
from dangjian.orgs.models import Organization


class Command(DangjianCommand):
    help = (
        "导出一个党组织（含下级）的党员名册为 .xlsx，列与导入模板相同。以 --as 指定的用户的管理范围导出；"
        "未指定时以超级用户（若没有，则以系统身份）导出全部范围。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码：导出该组织及其下级组织的党员")
        parser.add_argument("--out", required=True, help="输出的 .xlsx 文件")
        self.add_as_argument(parser, help="以该用户的身份和管理范围导出")

    def handle(self, *args, org: str, out: str, as_user: str | None = None, **options):
        run = self.run_as_or_superuser(as_user, doing="导出")
        user, access, who = run.user, run.access, run.label
        if not access.can_view_members:
            raise CommandError(f"{who}的角色无权查看党员信息。")
        organization = self.organization(
            Organization.objects.visible_to(access),
            org,
            message=f"找不到党组织编码“{{code}}”，或该组织不在{who}的管理范围内。",
        )
        code = organization.code
        target = Path(out)
        if not target.parent.is_dir():
            raise CommandError(f"无法写入“{out}”：目录不存在。")
        queryset = member_list(user=access).filter(organization__path__startswith=organization.path)
        # Written next to the target and renamed at the end: a failed run leaves no half-written file.
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".xlsx.part")
        try:
            with os.fdopen(fd, "wb") as stream:
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
