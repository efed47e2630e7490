"""Dues bases (党费计缴基数; docs/dues.md, "Base"): set once a year from the base the member or the payroll office
gives, changed within the year only with a reason and from the next month. The rate and monthly amount come from the
policy in force (`dues.rules.monthly_due`, 中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》2008)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.core.services import Errors, acting_user, service
from dangjian.dues.models import BaseSource, DuesBase, StandingChoice
from dangjian.dues.rules import FIXED_STANDINGS, add_months, month_label, month_of, monthly_due
from dangjian.dues.selectors.policy import policy_for
from dangjian.dues.services.common import as_month, dues_member, money, refuse_closed


@service
def base_set(
    *,
    by,
    member,
    standing: str = StandingChoice.EMPLOYED,
    amount=None,
    effective=None,
    source: str = BaseSource.ANNUAL,
    reason: str = "",
    today: dt.date | None = None,
) -> DuesBase:
    """Set a member's base from a month on. Rules (docs/dues.md, "Base"):
    - the member is an active member of a branch the user collects for (or over which they are committee staff);
    - employed and retired members give a monthly base, not negative and at most the policy's `max_base`
      (1,000,000 yuan by default); the fixed-amount standings give none;
    - the first base takes effect from the current month (or a later one the user names); the yearly setting
      (年度核定) of a member who has one takes effect in January; any other change takes effect from the next month
      at the earliest and needs a reason;
    - a month already closed for the member's branch cannot take a new base; one base per member and month."""
    today = today or timezone.localdate()
    current = month_of(today)
    member = dues_member(by, member)
    errors = Errors()
    if standing not in StandingChoice.values:
        errors.add("standing", "请选择缴纳类别。")
    reason = (reason or "").strip()
    has_base = DuesBase.objects.dangerously_all().filter(member=member).exists()
    source = source or BaseSource.ANNUAL
    annual = source == BaseSource.ANNUAL
    # The yearly setting (年度核定) takes effect in January, also in the current January; a change, next month.
    earliest = add_months(current, 1) if has_base and not (annual and current.month == 1) else current
    try:
        month = as_month(effective, field="effective", label="起始月份") if effective else earliest
    except ValidationError as exc:
        errors.merge(exc)
        month = earliest
    if month < earliest:
        errors.add(
            "effective",
            f"基数调整自次月起生效，起始月份最早为{month_label(earliest)}。"
            if has_base
            else f"起始月份不能早于本月（{month_label(current)}）。",
        )
    if has_base and annual and month.month != 1 and "effective" not in errors:
        errors.add("effective", "年度核定的基数自1月起生效；年中调整请选择“年中调整”并填写原因。")
    if has_base and not annual and not reason:
        errors.add("reason", "年中调整基数须填写调整原因。")
    policy = policy_for(member.organization, month.year)
    base = None
    if standing not in FIXED_STANDINGS:
        try:
            base = money(amount, field="amount", label="月计缴基数", maximum=policy.max_base)
        except ValidationError as exc:
            errors.merge(exc)
    if not errors and DuesBase.objects.dangerously_all().filter(member=member, effective=month).exists():
        errors.add("effective", f"{member.name}{month_label(month)}起已有党费基数。")
    if not errors:
        try:
            refuse_closed(member.organization, month, field="effective")
        except ValidationError as exc:
            errors.merge(exc)
    errors.raise_if_any()
    rate, due = monthly_due(base, standing, policy)
    row = DuesBase(
        member=member,
        standing=standing,
        amount=base,
        effective=month,
        rate=rate,
        monthly_due=due,
        source=source if source in BaseSource.values else BaseSource.ANNUAL,
        reason=reason[:200],
        recorded_by=acting_user(by),
    )
    row.full_clean()
    row.save()
    return row
