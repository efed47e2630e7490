"""hours_report: the hours compliance of an organization's subtree for a year, per member or per child organization.

    python manage.py hours_report --year YYYY --org CODE [--level members|children] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user, and an organization
outside their scope is refused exactly like an unknown code. As CSV (stdout) a header row then one row per member
or child organization (headers and formats: `training.exports`; text cells guarded against formula injection); without
--format an aligned table with the same columns. A CSV run, and any member-level run (names and masked ID numbers), is
recorded in the audit trail as an export, with the --as user as the actor.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dangjian.accounts.access import Access
from dangjian.core.exports import record_export
from dangjian.members.models import Member
from dangjian.orgs.models import Organization
from dangjian.training.exports import CHILDREN_HEADERS, MEMBER_HEADERS, child_line, member_line, write_csv, write_table
from dangjian.training.selectors.compliance import (
    YEAR_MAX,
    YEAR_MIN,
    RollupRow,
    compliance_children,
    compliance_members,
    compliance_row,
    iterate,
    report_organizations,
)

NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"


class Command(BaseCommand):
    help = "学时达标报表：某党组织（含下级）某年度每名党员或每个下级党组织的学时达标情况。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument(
            "--level", choices=["members", "children"], default="members", help="members：逐人；children：按下级党组织"
        )
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help="以该用户的管理范围生成报表")

    def handle(self, *args, year, org, level="members", output_format=None, as_user=None, **options):
        if not YEAR_MIN <= year <= YEAR_MAX:
            raise CommandError(f"年度应为{YEAR_MIN}到{YEAR_MAX}之间的四位数字。")
        by, actor = self._actor(as_user)
        code = (org or "").strip()
        organization = report_organizations(by).filter(code=code).first() if code else None
        if organization is None:
            raise CommandError(NOT_FOUND.format(code=code))
        write = write_csv if output_format == "csv" else write_table
        params = {"org": organization.code, "year": year, "level": level}
        if level == "children":
            report = compliance_children(by=by, org=organization, year=year)
            # An organization without children (a branch) is its own row, so the report is never empty.
            lines = report.children or [report.own or RollupRow(organization, 0, 0, own=True)]
            rows = write(self.stdout, CHILDREN_HEADERS, (child_line(row) for row in lines))
            if output_format == "csv":
                self._record("学时达标报表（按组织）", Organization, params, rows, actor, output_format)
            return
        members = compliance_members(by=by, org=organization, year=year, kinds=False)
        rows = write(self.stdout, MEMBER_HEADERS, (member_line(compliance_row(m, year)) for m in iterate(members)))
        self._record("学时达标报表", Member, params, rows, actor, output_format, masked=True)

    def _record(self, what, model, params, rows, actor, output_format, **extra) -> None:
        record_export(
            what=what,
            object_type=model._meta.label_lower,
            params=params,
            rows=rows,
            via="command",
            actor=actor,
            command="hours_report",
            format=output_format or "table",
            **extra,
        )

    def _actor(self, username):
        if not username:
            return Access.system_access(), None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到用户“{username}”，或该账号已停用。")
        return user, user
