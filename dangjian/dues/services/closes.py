"""The branch's month close (党费月度结账; docs/dues.md, "Month close"): the branch closes a month once it has
collected it; nothing is booked into that month afterwards (corrections are reversing lines booked in an open month)
and its figures are kept as they stood, so every report of the month reads them unchanged."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.core.services import acting_user, require, service
from dangjian.dues.models import DuesMonthClose
from dangjian.dues.rules import month_label, month_of
from dangjian.dues.selectors.report import Figures, live_branch_figures
from dangjian.dues.services.common import NOT_DUES_ROLE, as_month, dues_access_covers
from dangjian.orgs.models import BRANCH_KINDS, Organization


@service
def month_close(*, by, organization: Organization, month, today: dt.date | None = None) -> DuesMonthClose:
    """Close `month` for a branch: only a branch (党支部, 联合党支部, 临时党支部), by its secretary or the committee
    above it, a month that has begun, once."""
    today = today or timezone.localdate()
    require(dues_access_covers(by, organization), NOT_DUES_ROLE)
    if organization.kind not in BRANCH_KINDS:
        raise ValidationError({"org": "党费按党支部结账，请选择党支部。"})
    month = as_month(month, field="month", label="结账月份")
    if month > month_of(today):
        raise ValidationError({"month": f"{month_label(month)}尚未开始，不能结账。"})
    figures = live_branch_figures(organization, month).get(organization.pk, Figures())
    try:
        with transaction.atomic():
            return DuesMonthClose.objects.create(
                organization=organization,
                month=month,
                closed_by=acting_user(by),
                due_count=figures.due_count,
                paid_count=figures.paid_count,
                due_amount=figures.due_amount,
                paid_amount=figures.paid_amount,
                arrears_count=figures.arrears_count,
            )
    except IntegrityError:
        raise ValidationError({"month": f"{organization.name}{month_label(month)}已结账。"}) from None
