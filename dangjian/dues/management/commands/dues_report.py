"""dues_report: the dues collected in an organization's subtree for a year or a month (docs/dues.md, "Reports").

    python manage.py dues_report --org CODE --year YYYY [--month M] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user's dues roles, and an
organization outside their scope is refused exactly like an unknown code. As CSV (stdout) the header row
`党组织编码,党组织名称,应交人数,已交人数,应交金额,实交金额,欠交人数` then one row per organization of the subtree (each
totalling its subtree; amounts in yuan with two decimals), recorded in the audit trail as an export with the --as user
as the actor; without --format an aligned table with the same columns. A branch's closed month is reported as it
stood at the close: the report of a closed month never changes afterwards.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.core.exports import write_csv
from dangjian.dues.models import DuesPayment
from dangjian.dues.selectors.report import HEADERS, dues_report, report_organizations
from dangjian.training.exports import write_table


class Command(DangjianCommand):
    help = "党费收缴情况：某党组织（含下级）某年度（或某月）的应交人数、已交人数、应交金额、实交金额和欠交人数。"

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--month", type=int, help="月份（1-12；默认全年）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        self.add_as_argument(parser)

    def handle(self, *args, org, year, month=None, output_format=None, as_user=None, **options):
        year = self.year_in_range(year)
        if month is not None and not 1 <= month <= 12:
            raise CommandError("月份应为1到12之间的数字。")
        run = self.run_as(as_user)
        organization = self.organization(report_organizations(run.by), org)
        rows = dues_report(org=organization, year=year, month=month)
        if output_format == "csv":
            written = write_csv(self.stdout, HEADERS, (row.cells() for row in rows))
        else:
            # Amounts as yuan with two decimals (the table's own number format is the hours').
            written = write_table(self.stdout, HEADERS, ([str(c) for c in row.cells()] for row in rows))
        if output_format == "csv":
            self.record_export(
                what="党费收缴情况",
                model=DuesPayment,
                params={"org": organization.code, "year": year, "month": month},
                rows=written,
                run=run,
                format=output_format,
            )
