"""verify_hours: prove that every member's kept yearly totals equal the sums of the hours ledger."""

from __future__ import annotations

from django.core.management.base import CommandError

from dangjian.core.commands import DangjianCommand
from dangjian.members.models import Member
from dangjian.training.models import KIND_FIELDS, HoursKind
from dangjian.training.selectors.ledger import hours_discrepancies

COLUMN_LABELS = {column: HoursKind(kind).label for kind, column in KIND_FIELDS.items()} | {"total": "合计"}


class Command(DangjianCommand):
    help = "核对学时年度汇总与学时台账：列出每一处不一致，有不一致时以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="只核对这一年度（默认：全部年度）")

    def handle(self, *args, year=None, **options):
        if year is not None:
            year = self.year_in_range(year)
        found = hours_discrepancies(year=year)
        scope = f"{year}年度" if year else "全部年度"
        if not found:
            self.stdout.write(f"{scope}学时汇总与台账一致。")
            return
        names = dict(
            Member.objects.dangerously_all().filter(pk__in={d.member_id for d in found}).values_list("pk", "name")
        )
        for d in found:
            self.stdout.write(
                f"党员{names.get(d.member_id, d.member_id)}（ID {d.member_id}） {d.year}年 {COLUMN_LABELS[d.column]}："
                f"汇总 {d.kept:.1f}，台账 {d.ledger:.1f}"
            )
        raise CommandError(f"{scope}发现 {len(found)} 处不一致。")
