"""institution_points: the process-supervision points ranking (过程监管积分) of a year, with the red list.

    python manage.py institution_points --year YYYY [--org CODE] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user, and an organization
outside their scope is refused exactly like an unknown code. Without --org every institution in scope is ranked.
As CSV (stdout) the header row `机构名称,许可证号,积分,名次,红名单` then one row per institution in operation
in the year (or with points in it), ranked by points descending (ties share a rank: see `selectors.points`). 红名单 is
the actual listing of that year: 是 only for an institution on the published red list of the year (`RedListEntry`,
Yiyang seed shared/seeds/000_*: 创建“红名单”制度), 否 otherwise — never mere eligibility. A year with no data (no
points and no institution in operation in the scope) exits non-zero with a message, as `rank_schools` does, instead
of ranking everyone first. Text cells guarded against
formula injection (`core.exports`) and the run recorded in the audit trail as an export with the --as user as the
actor; without --format an aligned table with the same columns.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dangjian.accounts.access import Access
from dangjian.core.exports import record_export
from dangjian.supervision.exports import RANKING_HEADERS as HEADERS
from dangjian.supervision.exports import ranking_line
from dangjian.supervision.models import Institution
from dangjian.supervision.selectors.coverage import supervision_organizations
from dangjian.supervision.selectors.points import YEAR_MAX, YEAR_MIN, points_ranking
from dangjian.training.exports import write_csv, write_table

NOT_FOUND = "找不到党组织编码“{code}”，或该组织不在您的管理范围内。"


class Command(BaseCommand):
    help = "培训机构过程监管积分排名：某年度（某党组织及其下级）每家已审批机构的积分、名次和是否列入红名单。"

    def add_arguments(self, parser):
        parser.add_argument("--year", help="年度（四位数字，必填）")
        parser.add_argument("--org", help="党组织编码（默认：管理范围内全部机构）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        parser.add_argument("--as", dest="as_user", metavar="USERNAME", help="以该用户的管理范围生成报表")

    def handle(self, *args, year=None, org=None, output_format=None, as_user=None, **options):
        year = self._year(year)
        by, actor = self._actor(as_user)
        root = None
        if org is not None:
            code = org.strip()
            root = supervision_organizations(by).filter(code=code).first() if code else None
            if root is None:
                raise CommandError(NOT_FOUND.format(code=code))
        ranking = points_ranking(by=by, year=year, root=root)
        if ranking.empty:
            raise CommandError(ranking.message)
        rows = (write_csv if output_format == "csv" else write_table)(
            self.stdout, HEADERS, (ranking_line(row) for row in ranking.rows)
        )
        if output_format == "csv":
            record_export(
                what="过程监管积分排名",
                object_type=Institution._meta.label_lower,
                params={"org": root.code if root else None, "year": year},
                rows=rows,
                via="command",
                actor=actor,
                command="institution_points",
                format=output_format,
            )

    def _year(self, raw) -> int:
        """The --year argument: required, four digits within range, else a message naming it (never a traceback)."""
        if raw is None or not str(raw).strip():
            raise CommandError("请用 --year 指定年度，如 --year 2024。")
        raw = str(raw).strip()
        if not raw.isdigit() or not YEAR_MIN <= int(raw) <= YEAR_MAX:
            raise CommandError(f"年度“{raw}”不正确：年度应为{YEAR_MIN}到{YEAR_MAX}之间的四位数字。")
        return int(raw)

    def _actor(self, username):
        """(whom the report is scoped to, the actor of the audit record): the user, or the system and nobody."""
        if not username:
            return Access.system_access(), None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"找不到用户“{username}”，或该账号已停用。")
        return user, user
