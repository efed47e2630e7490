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

from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.orglife.models import ActivityRecord
from dangjian.orglife.selectors.compliance import YEAR_MAX, YEAR_MIN, compliance_for, orglife_organizations
from dangjian.training.exports import write_csv, write_table

HEADERS: tuple[str, ...] = ("党组织编码", "党组织名称", "活动类型", "要求次数", "已开展次数", "状态")


class Command(DangjianCommand):
    help = "组织生活落实情况：某党组织（含下级）某年度（或季度）每项组织生活要求的要求次数、已开展次数和状态。"

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--quarter", type=int, help="季度（1-4；默认全年）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        self.add_as_argument(parser)

    def handle(self, *args, org, year, quarter=None, output_format=None, as_user=None, **options):
        year = self.year_in_range(year, minimum=YEAR_MIN, maximum=YEAR_MAX)
        if quarter is not None and quarter not in (1, 2, 3, 4):
            raise CommandError("季度应为1到4之间的数字。")
        run = self.run_as(as_user)
        by = run.by
        organization = self.organization(orglife_organizations(by), org)
        report = compliance_for(by=by, org=organization, year=year, quarter=quarter)
        lines = (
            (row.organization.code, row.organization.name, row.duty.label, row.required, row.done, row.status)
            for row in report.rows
        )
        rows = (write_csv if output_format == "csv" else write_table)(self.stdout, HEADERS, lines)
        if output_format == "csv":
            self.record_export(
                what="组织生活落实情况",
                model=ActivityRecord,
                params={"org": organization.code, "year": year, "quarter": quarter},
                rows=rows,
                run=run,
                format=output_format,
            )
