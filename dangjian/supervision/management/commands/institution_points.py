"""institution_points: the process-supervision points ranking (过程监管积分) of a year, with the red list.

    python manage.py institution_points --year YYYY [--org CODE] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user, and an organization
outside their scope is refused exactly like an unknown code. Without --org every institution in scope is ranked.
As CSV (stdout) the header row `机构名称,许可证号,积分,名次,红名单` then one row per institution in operation
in the year (or with points in it), ranked by points descending (ties share a rank: see `selectors.points`). 红名单 is
the actual listing of that year: 是 only for an institution on the published red list of the year (`RedListEntry`,
Yiyang seed docs/rules.md: 创建“红名单”制度), 否 otherwise — never mere eligibility. A year with no data (no
points and no institution in operation in the scope) exits non-zero with a message, as `rank_schools` does, instead
of ranking everyone first. Text cells guarded against
formula injection (`core.exports`) and the run recorded in the audit trail as an export with the --as user as the
actor; without --format an aligned table with the same columns.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.supervision.exports import RANKING_HEADERS as HEADERS
from dangjian.supervision.exports import ranking_line
from dangjian.supervision.models import Institution
from dangjian.supervision.selectors.coverage import supervision_organizations
from dangjian.supervision.selectors.points import YEAR_MAX, YEAR_MIN, points_ranking
from dangjian.training.exports import write_csv, write_table


class Command(DangjianCommand):
    help = "培训机构过程监管积分排名：某年度（某党组织及其下级）每家已审批机构的积分、名次和是否列入红名单。"

    def add_arguments(self, parser):
        parser.add_argument("--year", help="年度（四位数字，必填）")
        parser.add_argument("--org", help="党组织编码（默认：管理范围内全部机构）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        self.add_as_argument(parser)

    def handle(self, *args, year=None, org=None, output_format=None, as_user=None, **options):
        year = self.year_from(
            year,
            missing="请用 --year 指定年度，如 --year 2024。",
            invalid="年度“{raw}”不正确：年度应为{minimum}到{maximum}之间的四位数字。",
            minimum=YEAR_MIN,
            maximum=YEAR_MAX,
        )
        run = self.run_as(as_user)
        by = run.by
        root = self.organization(supervision_organizations(by), org) if org is not None else None
        ranking = points_ranking(by=by, year=year, root=root)
        if ranking.empty:
            raise CommandError(ranking.message)
        rows = (write_csv if output_format == "csv" else write_table)(
            self.stdout, HEADERS, (ranking_line(row) for row in ranking.rows)
        )
        if output_format == "csv":
            self.record_export(
                what="过程监管积分排名",
                model=Institution,
                params={"org": root.code if root else None, "year": year},
                rows=rows,
                run=run,
                format=output_format,
            )
