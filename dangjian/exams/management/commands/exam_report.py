"""exam_report: how an organization's subtree stands on the year's competence test (履职能力测试), or on one paper.

    python manage.py exam_report --org CODE --year YYYY [--paper ID] [--format csv] [--as USERNAME]

Without --as the report runs with the system access; with --as it is scoped to that user, and an organization outside
their scope is refused exactly like an unknown code. As CSV (stdout) the header row
`党组织编码,党组织名称,应考人数,已考人数,通过人数,通过率`, then the organization (its whole subtree) and one row per
child organization (its subtree); 通过率 is a percentage with one decimal (87.5; 0.0 where nobody must sit it). The
figures are computed from dated rows (exams.selectors.results.exam_summary), so a closed year's never change. A CSV run
is recorded in the audit trail as an export with the --as user as the actor; without --format an aligned table.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.exams.models import Assignment, Paper
from dangjian.exams.selectors.results import exam_summary
from dangjian.orgs.models import Organization
from dangjian.training.exports import write_csv, write_table

HEADERS: tuple[str, ...] = ("党组织编码", "党组织名称", "应考人数", "已考人数", "通过人数", "通过率")


class Command(DangjianCommand):
    help = "考试情况：某党组织（含下级）某年度履职能力测试（或指定试卷）的应考、已考、通过人数和通过率。"

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="党组织编码")
        parser.add_argument("--year", type=int, required=True, help="年度（四位数字）")
        parser.add_argument("--paper", type=int, help="试卷编号（默认：该年度的履职能力测试）")
        parser.add_argument("--format", choices=["csv"], dest="output_format", help="csv：输出CSV（默认：对齐的表格）")
        self.add_as_argument(parser)

    def handle(self, *args, org, year, paper=None, output_format=None, as_user=None, **options):
        year = self.year_in_range(year)
        run = self.run_as(as_user)
        by = run.by
        organization = self.organization(Organization.objects.visible_to(by), org)
        chosen = None
        if paper is not None:
            chosen = Paper.objects.visible_to(by).filter(pk=paper).first()
            if chosen is None:
                raise CommandError(f"找不到试卷“{paper}”，或该试卷不在您的管理范围内。")
            if chosen.root.year != year:
                raise CommandError(f"试卷“{chosen.title}”属于{chosen.root.year}年度，不是{year}年度。")
        rows = exam_summary(by=by, org=organization, year=year, paper=chosen)
        lines = (
            (r.organization.code, r.organization.name, r.required, r.taken, r.passed, Decimal(r.rate)) for r in rows
        )
        written = (write_csv if output_format == "csv" else write_table)(self.stdout, HEADERS, lines)
        if output_format == "csv":
            self.record_export(
                what="考试情况",
                model=Assignment,
                params={"org": organization.code, "year": year, "paper": paper},
                rows=written,
                run=run,
                format=output_format,
            )
