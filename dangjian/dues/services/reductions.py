"""Reductions and exemptions (党费减免; docs/dues.md, "Reductions"): 中共中央组织部《关于中国共产党党费收缴、使用和
管理的规定》(2008) — a member in real difficulty may pay less or nothing, with the approval of the next-higher party
committee (上一级党委), for a stated period and reason."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, acting_user, require, service
from dangjian.dues.models import DuesReduction, ReductionKind
from dangjian.dues.rules import month_label, month_of
from dangjian.dues.selectors.policy import policy_for
from dangjian.dues.services.common import as_month, dues_member, is_closed, money
from dangjian.orgs.models import Organization

NOT_APPROVER = "党费减免须由党员所在党支部的上一级党委批准，您无权批准。"


@service
def reduction_grant(
    *,
    by,
    member,
    kind: str,
    start,
    end,
    reason: str,
    monthly_amount=None,
    today: dt.date | None = None,
) -> DuesReduction:
    """Record an approved reduction (the reduced monthly amount) or exemption for months `start`–`end`. Only committee
    staff over the branch's parent organization (the next-higher committee) approve; the reason is required; the
    period is not before the current month's closed months, not overlapping another reduction of the member."""
    today = today or timezone.localdate()
    member = dues_member(by, member)
    branch = member.organization
    step = Organization.steplen
    parent = (
        Organization.objects.dangerously_all().filter(path=branch.path[:-step]).first()
        if len(branch.path) > step
        else None
    )
    require(access_for(by).is_committee_over(parent), NOT_APPROVER)
    errors = Errors()
    if kind not in ReductionKind.values:
        errors.add("kind", "请选择减交或免交。")
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", "请填写减免原因。")
    first = last = month_of(today)
    for field, value, label in (("start", start, "起始月份"), ("end", end, "截止月份")):
        try:
            parsed = as_month(value, field=field, label=label)
        except ValidationError as exc:
            errors.merge(exc)
            continue
        if field == "start":
            first = parsed
        else:
            last = parsed
    if last < first:
        errors.add("end", "截止月份不能早于起始月份。")
    amount = None
    if kind == ReductionKind.REDUCE:
        try:
            amount = money(
                monthly_amount,
                field="monthly_amount",
                label="减交后每月金额",
                maximum=policy_for(member.organization, first.year).max_base,
            )
        except ValidationError as exc:
            errors.merge(exc)
    if not errors and is_closed(member.organization, first):
        errors.add("start", f"{month_label(first)}已结账，减免请从未结账的月份开始。")
    if (
        not errors
        and DuesReduction.objects.dangerously_all().filter(member=member, start__lte=last, end__gte=first).exists()
    ):
        errors.add("start", "该期间与该党员已批准的减免重叠。")
    errors.raise_if_any()
    row = DuesReduction(
        member=member,
        kind=kind,
        monthly_amount=amount,
        start=first,
        end=last,
        reason=reason[:200],
        approved_by_org=parent,
        approved_by=acting_user(by),
        approved_on=today,
    )
    row.full_clean()
    row.save()
    return row
