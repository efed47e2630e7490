"""python manage.py rank_schools --year YYYY [--org CODE] [--format csv] [--as USERNAME] [--publish]

As CSV every text cell is guarded against formula injection (`core.exports.write_csv`; scores stay numbers) and the
run is recorded in the audit trail as an export, with the --as user as the actor."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.core.exports import display_width, write_csv
from dangjian.schools.models import PartySchool
from dangjian.schools.selectors.evaluation import Ranking, school_ranking, school_view_orgs
from dangjian.schools.services.evaluation import ranking_publish

CSV_HEADER = ["学校编码", "学校名称", "综合得分", "名次", "等次"]
TABLE_HEADER = [*CSV_HEADER, "补助（元）", "并列说明"]
FORMATS = ("table", "csv")
CENT = Decimal("0.01")


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


class Command(DangjianCommand):
    help = (
        "按黄陂区业余党校评定办法对某年度已完成考评的业余党校排名（示范/优秀/合格/不合格；区委党校不参加）。"
        "综合得分相同者名次并列；等次分界落在并列之间时等次“待定”，由工委会议决定后方可发布。"
        "--format csv 输出 CSV（学校编码,学校名称,综合得分,名次,等次）；默认输出表格（含补助与并列说明）。"
        "未指定 --as 时以系统身份（全部范围）运行；--publish 发布排名并为不合格党校生成整改任务（须指定 --org）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", help="考评年度，如 2024（必填）")
        parser.add_argument("--org", help="排名范围：党组织编码（该组织及其下级的党校）")
        parser.add_argument("--format", dest="output_format", default="table", help="输出格式：csv 或 table（默认）")
        self.add_as_argument(parser, help="以该用户的身份和管理范围运行")
        parser.add_argument("--publish", action="store_true", help="发布排名结果（须指定 --org）")

    def handle(self, *args, year=None, org=None, output_format="table", as_user=None, publish=False, **options):
        year = self._year(year)
        output_format = (output_format or "table").strip().lower()
        if output_format not in FORMATS:
            raise CommandError(f"不支持的输出格式“{output_format}”，可选：csv、table。")
        run = self.run_as(as_user, superuser_scope=True)
        access = run.access
        if not access.can_view_schools:
            raise CommandError("该用户的角色无权查看党校考评。")
        scope = self.organization(school_view_orgs(access), org) if org is not None else None
        if publish and scope is None:
            raise CommandError("发布排名须用 --org 指定排名范围（党组织编码）。")
        ranking = school_ranking(access, year, org=scope)
        if ranking.empty:
            raise CommandError(ranking.message)
        if output_format == "csv":
            rows = self._write_csv(ranking)
            self.record_export(
                what="党校考评排名",
                model=PartySchool,
                params={"org": scope.code if scope is not None else None, "year": year},
                rows=rows,
                run=run,
                format=output_format,
            )
        else:
            self._write_table(ranking)
        if ranking.incomplete:
            names = "、".join(e.school.name for e in ranking.incomplete)
            self.stderr.write(f"另有{len(ranking.incomplete)}所党校考评尚未录入完整，未参加排名：{names}")
        if ranking.not_ranked:
            self.stderr.write(ranking.not_ranked_message)
        if ranking.rule.honours_need_activity and ranking.barred_rows:
            names = "、".join(f"{r.school.name}（{r.barred}）" for r in ranking.barred_rows)
            self.stderr.write(f"以下党校不得评为示范、优秀：{names}")
        if ranking.undecided_message:
            self.stderr.write(f"并列待决定：{ranking.undecided_message}")
        if publish:
            try:
                published = ranking_publish(by=access, org=scope, year=year)
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from None
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from None
            self.stderr.write(f"已发布{year}年度“{scope.name}”考评排名，共{len(published)}所党校。")

    def _year(self, raw) -> int:
        return self.year_from(
            raw,
            missing="请用 --year 指定考评年度，如 --year 2024。",
            invalid="考评年度“{raw}”不正确：请填写{minimum}至{maximum}之间的四位年份。",
        )

    def _write_csv(self, ranking: Ranking) -> int:
        lines = (
            (r.school.code, r.school.name, r.composite.quantize(CENT), r.rank, r.grade_label) for r in ranking.rows
        )
        return write_csv(self.stdout, CSV_HEADER, lines)

    def _write_table(self, ranking: Ranking) -> None:
        scope = f"“{ranking.scope.name}”" if ranking.scope is not None else "全部范围"
        self.stdout.write(f"{ranking.year}年度党校考评排名（{scope}，{len(ranking.rows)}所党校）")
        self.stdout.write(ranking.rule_statement)
        self.stdout.write(ranking.tie_break_statement)
        lines = [TABLE_HEADER] + [
            [
                r.school.code,
                r.school.name,
                f"{r.composite:.2f}",
                str(r.rank),
                r.grade_label,
                "待定" if r.pending else f"{r.subsidy:.2f}",
                r.tie_note,
            ]
            for r in ranking.rows
        ]
        widths = [max(display_width(line[i]) for line in lines) for i in range(len(TABLE_HEADER))]
        for line in lines:
            self.stdout.write("  ".join(_pad(cell, w) for cell, w in zip(line, widths, strict=True)).rstrip())
        totals = "，".join(f"{t.label}{t.count}所" for t in ranking.totals)
        pending = f"，待定{len(ranking.pending_rows)}所" if ranking.pending_rows else ""
        self.stdout.write(f"合计：{totals}{pending}；补助合计{ranking.subsidy_total:.2f}元。")
