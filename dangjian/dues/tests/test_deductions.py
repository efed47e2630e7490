"""The payroll office's deduction list (docs/dues.md, "Payments"): read as people keep it, checked row by row with
nothing written, then imported all or nothing; rows about members outside the scope read as unknown."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.dues.models import DuesPayment
from dangjian.dues.rules import month_of
from dangjian.dues.services.deductions import deductions_check, deductions_import
from dangjian.dues.tests.factories import base

THIS = month_of(timezone.localdate())


def _csv(*lines: str) -> bytes:
    return ("\n".join(["2026年党费代扣明细表", "序号,党员姓名,所在支部,代扣党费", *lines]) + "\n").encode("gbk")


@pytest.fixture
def based(world):
    for m in world.members["A"] + world.members["B"]:
        base(m, "4000")
    return world


def test_a_clean_list_imports_one_payroll_payment_per_row(based):
    world = based
    a1, a2 = world.members["A"]
    data = _csv(f"1,{a1.name},{world.orgs['A'].code},40", f"2,{a2.name},{world.orgs['A'].name},50.00")
    secretary = world.user(Role.SECRETARY)
    check = deductions_check(by=secretary, fileobj=io.BytesIO(data), name="代扣.csv", month=THIS)
    assert check.ok, [r.errors for r in check.rows]
    assert not DuesPayment.objects.dangerously_all().exists()
    deductions_import(by=secretary, fileobj=io.BytesIO(data), name="代扣.csv", month=THIS)
    payments = {p.member_id: p for p in DuesPayment.objects.dangerously_all()}
    assert payments[a1.pk].way == "payroll" and payments[a1.pk].extra == 0
    assert payments[a2.pk].extra == Decimal("10.00")


def test_one_bad_row_writes_nothing_and_each_problem_is_named(based):
    world = based
    a1 = world.members["A"][0]
    b1 = world.members["B"][0]
    data = _csv(
        f"1,{a1.name},{world.orgs['A'].code},40",
        f"2,{b1.name},{world.orgs['B'].code},40",
        f"3,{a1.name},{world.orgs['A'].code},abc",
    )
    secretary = world.user(Role.SECRETARY)
    check = deductions_check(by=secretary, fileobj=io.BytesIO(data), name="代扣.csv", month=THIS)
    assert not check.ok
    errors = {r.number: r.errors for r in check.rows}
    assert not errors[3] and errors[4] and any(col == "金额" for col, _ in errors[5])
    with pytest.raises(ValidationError):
        deductions_import(by=secretary, fileobj=io.BytesIO(data), name="代扣.csv", month=THIS)
    assert not DuesPayment.objects.dangerously_all().exists()


def test_a_failure_in_the_middle_of_writing_leaves_nothing(based, monkeypatch):
    world = based
    a1, a2 = world.members["A"]
    data = _csv(f"1,{a1.name},{world.orgs['A'].code},40", f"2,{a2.name},{world.orgs['A'].code},40")
    from dangjian.dues.services import deductions

    calls = []
    real = deductions.payment_record

    def failing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("connection lost")
        return real(**kwargs)

    monkeypatch.setattr(deductions, "payment_record", failing)
    with pytest.raises(RuntimeError):
        deductions_import(by=world.user(Role.SECRETARY), fileobj=io.BytesIO(data), name="代扣.csv", month=THIS)
    assert not DuesPayment.objects.dangerously_all().exists()


def test_the_page_checks_then_imports(based, settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path
    world = based
    a1 = world.members["A"][0]
    client = world.client(Role.SECRETARY)
    upload = SimpleUploadedFile("代扣.csv", _csv(f"1,{a1.name},{world.orgs['A'].code},40"), content_type="text/csv")
    page = client.post(reverse("dues:import"), {"action": "check", "month": f"{THIS:%Y-%m}", "file": upload})
    assert page.status_code == 200 and "检查无误" in page.content.decode()
    assert not DuesPayment.objects.dangerously_all().exists()
    token = page.context["token"]
    done = client.post(reverse("dues:import"), {"action": "confirm", "token": token})
    assert done.status_code == 302
    assert DuesPayment.objects.dangerously_all().get().member_id == a1.pk
