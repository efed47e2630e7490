"""development_report: member development in an organization's subtree in a year (发展党员情况).

    python manage.py development_report --org CODE --year YYYY [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user (the roles that act in
member development), and an organization outside their scope is refused exactly like an unknown code. One row per
organization of the subtree (in tree order), each counting its whole subtree: the people at each stage as of the
year's end (today for the current year), the year's admissions, the plan's quota and the overdue steps — all from
the dated step records, so that a closed year's report never changes (docs/development-of-members.md). As CSV
(stdout) with the header `党组织编码,党组织名称,申请人,积极分子,发展对象,预备党员,本年发展,计划数,逾期步骤`, recorded
in the audit trail as an export; without --format an aligned table with the same columns.
"""

from __future__ import annotations

from django.utils import timezone

from dangjian.core.commands import DangjianCommand
from dangjian.development.forms import acting_organizations
from dangjian.development.models import Candidate
from dangjian.development.selectors.report import development_report
from dangjian.training.exports import write_csv, write_table

HEADERS: tuple[str, ...] = (
    "党组织编码",
    "党组织名称",
    "申请人",
    "积极分子",
    "发展对象",
    "预备党员",
    "本年发展",
    "计划数",
    "逾期步骤",
)


class Command(DangjianCommand):
    help = "发展党员情况：某党组织（含下级）某年度末（本年度为今天）各阶段人数、本年发展数、计划数和逾期步骤数。"

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        self.add_as_argument(parser)

    def handle(self, *args, org, year, output_format=None, as_user=None, **options):
        today = timezone.localdate()
        year = self.year_in_range(year, maximum=today.year)
        run = self.run_as(as_user)
        by = run.by
        organization = self.organization(acting_organizations(by), org)
        rows = development_report(by=by, org=organization, year=year, today=today)
        lines = (row.line for row in rows)
        count = (write_csv if output_format == "csv" else write_table)(self.stdout, HEADERS, lines)
        if output_format == "csv":
            self.record_export(
                what="发展党员情况",
                model=Candidate,
                params={"org": organization.code, "year": year},
                rows=count,
                run=run,
                format=output_format,
            )
