"""hours_report: the hours compliance of an organization's subtree for a year, per member or per child organization.

    python manage.py hours_report --year YYYY --org CODE [--level members|children] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user, and an organization
outside their scope is refused exactly like an unknown code. As CSV (stdout) a header row then one row per member
or child organization (headers and formats: `training.exports`; text cells guarded against formula injection); without
--format an aligned table with the same columns. A CSV run, and any member-level run (names and masked ID numbers), is
recorded in the audit trail as an export, with the --as user as the actor.
"""

from __future__ import annotations

from dangjian.core.commands import DangjianCommand
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


class Command(DangjianCommand):
    help = "学时达标报表：某党组织（含下级）某年度每名党员或每个下级党组织的学时达标情况。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument(
            "--level", choices=["members", "children"], default="members", help="members：逐人；children：按下级党组织"
        )
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        self.add_as_argument(parser)

    def handle(self, *args, year, org, level="members", output_format=None, as_user=None, **options):
        year = self.year_in_range(year, minimum=YEAR_MIN, maximum=YEAR_MAX)
        run = self.run_as(as_user)
        by = run.by
        organization = self.organization(report_organizations(by), org)
        write = write_csv if output_format == "csv" else write_table
        params = {"org": organization.code, "year": year, "level": level}
        if level == "children":
            report = compliance_children(by=by, org=organization, year=year)
            # An organization without children (a branch) is its own row, so the report is never empty.
            lines = report.children or [report.own or RollupRow(organization, 0, 0, own=True)]
            rows = write(self.stdout, CHILDREN_HEADERS, (child_line(row) for row in lines))
            if output_format == "csv":
                self._record("学时达标报表（按组织）", Organization, params, rows, run, output_format)
            return
        members = compliance_members(by=by, org=organization, year=year, kinds=False)
        rows = write(self.stdout, MEMBER_HEADERS, (member_line(compliance_row(m, year)) for m in iterate(members)))
        self._record("学时达标报表", Member, params, rows, run, output_format, masked=True)

    def _record(self, what, model, params, rows, run, output_format, **extra) -> None:
        self.record_export(
            what=what, model=model, params=params, rows=rows, run=run, format=output_format or "table", **extra
        )
