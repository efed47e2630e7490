"""The demo county's dues (docs/dues.md): two years for the sample, a few exemptions, arrears and a 6-month case,
last year's months closed with their kept figures equal to the ledger, and the `member` login sees their own dues."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dangjian.dues.models import DuesEntry, DuesMonthClose, DuesReduction
from dangjian.dues.selectors.arrears import arrears_in
from dangjian.orgs.models import Organization


def test_the_demo_has_two_years_of_dues(small_demo):
    today = timezone.localdate()
    periods = DuesEntry.objects.dangerously_all().values_list("period__year", flat=True).distinct()
    assert set(periods) >= {today.year - 1}
    assert DuesMonthClose.objects.dangerously_all().filter(month__year=today.year - 1).exists()
    assert DuesReduction.objects.dangerously_all().exists() or DuesEntry.objects.dangerously_all().count() > 100
    root = Organization.objects.dangerously_all().filter(depth=1).first()
    from dangjian.accounts.access import Access

    behind = arrears_in(by=Access.system_access(), org=root, today=today, at_least=3)
    assert any(a.run >= 6 for a in behind)
    out = io.StringIO()
    call_command("verify_dues", "--year", str(today.year - 1), stdout=out)
    assert "无误" in out.getvalue()


def test_the_member_login_sees_their_dues(small_demo):
    client = Client()
    client.force_login(get_user_model().objects.get(username="member"))
    page = client.get(reverse("dues:mine")).content.decode()
    assert "每月应交" in page and "收据" in page
