"""The dues report and its commands (docs/dues.md, "Reports"): the CSV header and figures, subtree totals, --as
scoping, a closed month that never changes afterwards, and verify_dues proving the totals equal the ledger."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.dues import services
from dangjian.dues.models import DuesMonthClose
from dangjian.dues.rules import month_of
from dangjian.dues.selectors.report import dues_report
from dangjian.dues.tests.factories import SYSTEM, base, pay

D = Decimal
THIS = month_of(timezone.localdate())
HEADER = ["党组织编码", "党组织名称", "应交人数", "已交人数", "应交金额", "实交金额", "欠交人数"]


def _csv(*args) -> list[list[str]]:
    out = io.StringIO()
    call_command("dues_report", *args, "--format", "csv", stdout=out)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.fixture
def collected(world):
    a1, a2 = world.members["A"]
    b1 = world.members["B"][0]
    base(a1, "4000")  # 40.00
    base(a2, "3000.01")  # 30.00
    base(b1, "12000")  # 240.00
    pay(a1, first_month=THIS, extra="5.00")
    pay(b1, first_month=THIS)
    return world


def test_the_csv_has_the_header_and_subtree_totals(collected):
    world = collected
    rows = _csv("--org", world.orgs["C1"].code, "--year", str(THIS.year), "--month", str(THIS.month))
    assert rows[0] == HEADER
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[world.orgs["A"].code][2:] == ["2", "1", "70.00", "45.00", "1"]
    assert by_code[world.orgs["B"].code][2:] == ["1", "1", "240.00", "240.00", "0"]
    assert by_code[world.orgs["C1"].code][2:] == ["3", "2", "310.00", "285.00", "1"]
    assert world.orgs["XB"].code not in by_code


def test_as_a_user_an_organization_outside_the_scope_is_not_found(collected):
    world = collected
    with pytest.raises(CommandError, match="找不到党组织编码"):
        _csv("--org", world.orgs["B"].code, "--year", str(THIS.year), "--as", world.user(Role.SECRETARY).username)
    rows = _csv("--org", world.orgs["A"].code, "--year", str(THIS.year), "--as", world.user(Role.SECRETARY).username)
    assert [r[0] for r in rows[1:]] == [world.orgs["A"].code]


def test_a_closed_month_never_changes_afterwards(collected):
    world = collected
    branch = world.orgs["A"]
    services.month_close(by=SYSTEM, organization=branch, month=THIS)
    args = ("--org", branch.code, "--year", str(THIS.year), "--month", str(THIS.month))
    before = _csv(*args)
    # Today's data changes: a new base, a reversal, a member leaving the branch's roll.
    a1, a2 = world.members["A"]
    payment = a1.dues_payments.get()
    with pytest.raises(ValidationError):  # nothing can be booked into the closed month
        services.payment_reverse(by=SYSTEM, payment=payment, reason="误录")
    a2.status = "transferred_out"
    a2.save()
    assert _csv(*args) == before
    assert DuesMonthClose.objects.dangerously_all().get(organization=branch).paid_amount == D("45.00")


def test_a_year_sums_its_months(collected):
    world = collected
    rows = dues_report(org=world.orgs["A"], year=THIS.year)
    assert rows[0].figures.paid_amount == D("45.00")
    assert rows[0].figures.due_amount >= D("70.00")


def test_verify_dues_agrees_and_finds_a_tampered_close(collected):
    world = collected
    out = io.StringIO()
    call_command("verify_dues", "--year", str(THIS.year), stdout=out)
    assert "无误" in out.getvalue()
    close = services.month_close(by=SYSTEM, organization=world.orgs["A"], month=THIS)
    DuesMonthClose.objects.dangerously_all().filter(pk=close.pk).update(paid_amount=D("1.00"))
    with pytest.raises(CommandError, match="差异"):
        call_command("verify_dues", "--year", str(THIS.year), stdout=io.StringIO(), stderr=io.StringIO())


def test_a_bad_month_is_refused():
    with pytest.raises(CommandError, match="月份"):
        call_command("dues_report", "--org", "X", "--year", "2025", "--month", "13")
