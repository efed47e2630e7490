"""verify_dues: prove that the dues figures equal the ledger (docs/dues.md, "Reports").

    python manage.py verify_dues [--year YYYY]

For every branch month of the year (default: the current one), per organization tree root:
- each close's kept 实交金额 equals the sum of the ledger lines of that branch and month recorded before the close;
- the report's 实交金额 of an open month equals the sum of that month's lines, and the year's total of the report
  equals the sum of the closes' kept amounts plus the lines of the open months;
- every reversal cancels exactly the line it reverses.
Prints each difference and exits non-zero when there is any; says so when everything agrees.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.management.base import CommandError
from django.db.models import F, Sum
from django.utils import timezone

from dangjian.core.commands import DangjianCommand
from dangjian.dues.models import DuesEntry, DuesMonthClose, EntryKind
from dangjian.dues.rules import month_label
from dangjian.dues.selectors.report import dues_report, report_months
from dangjian.orgs.models import Organization

ZERO = Decimal("0.00")


class Command(DangjianCommand):
    help = "核对党费：结账数、报表合计与党费明细之和是否一致；有差异时以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="年度（默认今年）")

    def handle(self, *args, year=None, **options):
        year = self.year_in_range(year or timezone.localdate().year)
        problems: list[str] = []
        closes = DuesMonthClose.objects.dangerously_all().filter(month__year=year).select_related("organization")
        closed = set()
        for close in closes:
            closed.add((close.organization_id, close.month))
            lines = DuesEntry.objects.dangerously_all().filter(
                organization=close.organization, period=close.month, created_at__lte=close.closed_at
            )
            total = lines.aggregate(s=Sum(F("amount") + F("extra")))["s"] or ZERO
            if total != close.paid_amount:
                problems.append(
                    f"{close.organization.code} {close.organization.name} {month_label(close.month)}："
                    f"结账实交金额{close.paid_amount}元，明细合计{total}元"
                )
        months = report_months(year, None)
        expected = ZERO
        for close in closes:
            expected += close.paid_amount
        open_lines = DuesEntry.objects.dangerously_all().filter(period__in=months)
        for row in open_lines.values("organization_id", "period").annotate(s=Sum(F("amount") + F("extra"))).order_by():
            if (row["organization_id"], row["period"]) not in closed:
                expected += row["s"] or ZERO
        reported = ZERO
        for root in Organization.objects.dangerously_all().filter(depth=1).order_by("path"):
            rows = dues_report(org=root, year=year)
            reported += rows[0].figures.paid_amount if rows else ZERO
        if reported != expected:
            problems.append(f"{year}年报表实交金额合计{reported}元，结账数与未结账月份明细合计{expected}元")
        bad_reversals = (
            DuesEntry.objects.dangerously_all()
            .filter(kind=EntryKind.REVERSAL, period__year=year)
            .exclude(amount=-F("reverses__amount"), extra=-F("reverses__extra"))
            .count()
        )
        if bad_reversals:
            problems.append(f"{bad_reversals}笔冲正明细与被冲正的明细金额不符")
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"党费核对发现{len(problems)}处差异。")
        self.stdout.write(f"{year}年党费核对无误：报表合计与明细一致（实交{reported}元）。")
