"""orglife_report: how an organization's subtree kept its organizational-life duties in a year or a quarter.

    python manage.py orglife_report --org CODE --year YYYY [--quarter Q] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user, and an organization
outside their scope is refused exactly like an unknown code. As CSV (stdout) the header row
`党组织编码,党组织名称,活动类型,要求次数,已开展次数,状态` then one row per organization (the organization and every
organization of its subtree) and applicable duty (text cells guarded against formula injection, `core.exports`),
recorded in the audit trail as an export with the --as user as the actor; without --format an aligned table with the
same columns.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dangjian.accounts.access import Access
from dangjian.core.exports import record_export
from dangjian.orglife.models import ActivityRecord
from dangjian.orglife.selectors.compliance import YEAR_MAX, YEAR_MIN, compliance_for, orglife_organizations
from dangjian.training.exports import write_csv, write_table

HEADERS: tuple[str, ...] = ("党组织编码", "党组织名称", "活动类型", "要求次数", "已开展次数", "状态")
NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"


class Command(BaseCommand):
    help = "组织生活落实情况：某党组织（含下级）某年度（或季度）每项组织生活要求的要求次数、已开展次数和状态。"

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--quarter", type=int, help="季度（1-4；默认全年）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help="以该用户的管理范围生成报表")

    def handle(self, *args, org, year, quarter=None, output_format=None, as_user=None, **options):
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise CommandError(f"年度应为{YEAR_MIN}到{YEAR_MAX}之间的四位数字。")
        if quarter is not None and quarter not in (1, 2, 3, 4):
            raise CommandError("季度应为1到4之间的数字。")
        by, actor = self._actor(as_user)
        code = (org or "").strip()
        organization = orglife_organizations(by).filter(code=code).first() if code else None
        if organization is None:
            raise CommandError(NOT_FOUND.format(code=code))
        report = compliance_for(by=by, org=organization, year=year, quarter=quarter)
        lines = (
            (row.organization.code, row.organization.name, row.duty.label, row.required, row.done, row.status)
            for row in report.rows
        )
        rows = (write_csv if output_format == "csv" else write_table)(self.stdout, HEADERS, lines)
        if output_format == "csv":
            record_export(
                what="组织生活落实情况",
                object_type=ActivityRecord._meta.label_lower,
                params={"org": organization.code, "year": year, "quarter": quarter},
                rows=rows,
                via="command",
                actor=actor,
                command="orglife_report",
                format=output_format,
            )

    def _actor(self, username):
        """(whom the report is scoped to, the actor of the audit record): the user, or the system and nobody."""
        if not username:
            return Access.system_access(), None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到用户“{username}”，或该账号已停用。")
        return user, user
