"""The dues pages: the secretary's sheet (one tap records the month paid, the close), the committee's view of its
branches, a member's dues page for the collector with its bad inputs, the member's own page and receipts, the report
and its Excel export; each in the user's scope only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.dues.models import DuesBase, DuesMonthClose, DuesPayment
from dangjian.dues.rules import add_months, month_of
from dangjian.dues.tests.factories import base, pay

D = Decimal
THIS = month_of(timezone.localdate())
SHEET = reverse("dues:sheet")


def test_the_secretary_records_a_month_with_one_tap(world):
    member = world.members["A"][0]
    base(member, "4000")
    client = world.client(Role.SECRETARY)
    page = client.get(SHEET)
    assert page.status_code == 200
    body = page.content.decode()
    assert member.name in body and "已交 40.00" in body
    assert world.members["B"][0].name not in body
    response = client.post(f"{SHEET}?org={world.orgs['A'].code}", {"action": "pay", "member": member.pk})
    assert response.status_code == 302
    payment = DuesPayment.objects.dangerously_all().get(member=member)
    assert (payment.first_month, payment.amount, payment.way) == (THIS, D("40.00"), "cash")


def test_a_tap_for_a_member_of_another_branch_saves_nothing(world):
    outsider = world.members["B"][0]
    base(outsider, "4000")
    client = world.client(Role.SECRETARY)
    response = client.post(SHEET, {"action": "pay", "member": outsider.pk}, follow=True)
    assert "不在您的管理范围内" in response.content.decode()
    assert not DuesPayment.objects.dangerously_all().exists()


def test_the_close_button_closes_the_branch_month(world):
    base(world.members["A"][0], "4000")
    client = world.client(Role.SECRETARY)
    client.post(SHEET, {"action": "close"})
    close = DuesMonthClose.objects.dangerously_all().get(organization=world.orgs["A"], month=THIS)
    assert close.due_amount == D("40.00")
    assert "已结账" in client.get(SHEET).content.decode()


def test_the_committee_sees_each_branch_and_its_close(world):
    base(world.members["A"][0], "4000")
    base(world.members["B"][0], "12000")
    page = world.client(Role.COMMITTEE).get(SHEET).content.decode()
    assert world.orgs["A"].name in page and world.orgs["B"].name in page
    assert world.orgs["XB"].name not in page


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SCHOOL_ADMIN, Role.INSTRUCTOR, Role.SYSTEM_ADMIN])
def test_roles_that_do_not_collect_are_refused(world, role):
    assert world.client(role).get(SHEET).status_code == 403


def test_a_bad_base_on_the_member_page_is_named_and_nothing_saved(world):
    member = world.members["A"][0]
    url = f"{reverse('dues:member')}?member={member.pk}"
    client = world.client(Role.SECRETARY)
    response = client.post(url, {"action": "base", "base-standing": "employed", "base-amount": "-100"})
    assert response.status_code == 200
    assert "月计缴基数（元）：月计缴基数不能为负数。" in response.content.decode()
    response = client.post(url, {"action": "base", "base-standing": "employed", "base-amount": "2000000"})
    assert "超过" in response.content.decode()
    assert not DuesBase.objects.dangerously_all().exists()


def test_a_payment_over_six_months_on_the_member_page_is_named(world):
    member = world.members["A"][0]
    base(member, "4000", effective=add_months(THIS, -8))
    url = f"{reverse('dues:member')}?member={member.pk}"
    response = world.client(Role.SECRETARY).post(
        url, {"action": "pay", "pay-first_month": f"{add_months(THIS, -8):%Y-%m}", "pay-months": "7", "pay-way": "cash"}
    )
    assert "1至6个月" in response.content.decode()
    assert not DuesPayment.objects.dangerously_all().exists()


def test_the_member_page_of_another_branch_is_not_found(world):
    outsider = world.members["B"][0]
    response = world.client(Role.SECRETARY).get(f"{reverse('dues:member')}?member={outsider.pk}")
    assert response.status_code == 404


def test_the_member_sees_their_dues_and_prints_a_receipt(world):
    member = world.self_member
    base(member, "4000")
    payment = pay(member, first_month=THIS)
    client = world.client(Role.MEMBER)
    page = client.get(reverse("dues:mine")).content.decode()
    assert "每月应交 <strong>40.00</strong>" in page and payment.receipt_no in page
    receipt = client.get(f"{reverse('dues:receipt')}?no={payment.receipt_no}")
    assert receipt.status_code == 200 and "党费收据" in receipt.content.decode()


def test_a_receipt_of_someone_else_is_not_found(world):
    other = world.members["A"][1]
    base(other, "4000")
    payment = pay(other, first_month=THIS)
    assert world.client(Role.MEMBER).get(f"{reverse('dues:receipt')}?no={payment.receipt_no}").status_code == 404
    assert world.client(Role.SECRETARY).get(f"{reverse('dues:receipt')}?no={payment.receipt_no}").status_code == 200


def test_the_report_page_and_its_excel_export(world):
    base(world.members["A"][0], "4000")
    client = world.client(Role.COMMITTEE)
    url = f"{reverse('dues:report')}?org={world.orgs['C1'].code}&year={THIS.year}&month={THIS.month}"
    page = client.get(url).content.decode()
    assert "40.00" in page and world.orgs["A"].name in page
    download = client.get(url + "&format=xlsx")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_member_home_shows_their_dues_only_when_there_are_some(world):
    client = world.client(Role.MEMBER)
    assert 'id="my-dues"' not in client.get(reverse("home")).content.decode()
    base(world.self_member, "4000")
    pay(world.self_member, first_month=THIS)
    page = client.get(reverse("home")).content.decode()
    assert 'id="my-dues"' in page and "每月应交 <strong>40.00</strong>" in page


def test_a_transfer_shows_the_month_paid_up_to(world):
    from dangjian.members.services import member_transfer_start

    member = world.members["A"][1]
    base(member, "4000", effective=add_months(THIS, -1))
    pay(member, first_month=add_months(THIS, -1), months=2)
    member_transfer_start(by=world.user(Role.COMMITTEE), member=member, to_organization=world.orgs["B"])
    page = world.client(Role.COMMITTEE).get(reverse("members:detail", args=[member.pk])).content.decode()
    assert f"党费已交至{THIS.year}年{THIS.month}月" in page
    following = add_months(THIS, 1)
    assert f"自{following.year}年{following.month}月起收缴" in page
