"""Payments and their corrections (党费缴纳与冲正; docs/dues.md, "Payments" and "Month close").

中共中央组织部《关于中国共产党党费收缴、使用和管理的规定》(2008): members pay monthly; paying late or in advance covers
at most 6 months at once (the policy's `max_months`); a member may pay more than the rate of their own will (recorded
as such). A payment writes one ledger line per month covered; a correction is a reversing line with its reason, never
an edit; nothing is booked into a month the branch has closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.core.services import Errors, acting_user, require, service, set_history
from dangjian.dues.models import WAYS_WITH_REFERENCE, DuesEntry, DuesPayment, EntryKind, Way
from dangjian.dues.rules import add_months, month_label, month_of, months_apart, months_from
from dangjian.dues.selectors.ledger import live_entries, schedules
from dangjian.dues.selectors.member import next_unpaid_month
from dangjian.dues.selectors.policy import policy_for
from dangjian.dues.services.common import NOT_DUES_ROLE, as_month, dues_access_covers, dues_member, money, refuse_closed

ZERO = Decimal("0.00")


def receipt_number(payment: DuesPayment) -> str:
    """收据编号: DF, the year paid, and the payment's number (unique, never reused)."""
    return f"DF{payment.paid_on.year}-{payment.pk:07d}"


def _identical(member, months: list[dt.date], *, paid_on, way, reference, extra) -> DuesPayment | None:
    """The payment already recorded with exactly these details (a second submission of the same form)."""
    found = live_entries([member.pk], months[0], months[-1])
    payments = {found[(member.pk, m)].payment for m in months if (member.pk, m) in found}
    if len(payments) != 1 or len(found) != len(months):
        return None
    payment = payments.pop()
    same = (
        payment.first_month == months[0]
        and payment.months == len(months)
        and payment.paid_on == paid_on
        and payment.way == way
        and payment.reference == reference
        and payment.extra == extra
    )
    return payment if same else None


@service
def payment_record(
    *,
    by,
    member,
    first_month=None,
    months: int = 1,
    paid_on: dt.date | None = None,
    way: str = Way.CASH,
    reference: str = "",
    extra=ZERO,
    today: dt.date | None = None,
) -> DuesPayment:
    """Record a payment of `months` consecutive months from `first_month` (default: the member's first unpaid month).

    Refused, with the field named and nothing saved: a member outside the user's dues scope; a payment date in the
    future or in a month the branch has closed; more months than the policy allows at once (6), or a last month more
    than that many months ahead of the current one; a month without a base, exempted, or already paid; a negative
    voluntary extra; a bank or online payment without its reference. The same submission twice (the same member,
    months, date, way, reference and extra) returns the first payment instead of recording a second."""
    today = today or timezone.localdate()
    member = dues_member(by, member)
    branch = member.organization
    errors = Errors()
    paid_on = paid_on or today
    if not isinstance(paid_on, dt.date):
        errors.add("paid_on", "请填写缴纳日期。")
        paid_on = today
    elif paid_on > today:
        errors.add("paid_on", "缴纳日期不能晚于今天。")
    policy = policy_for(branch, today.year)
    try:
        count = int(months)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= policy.max_months:
        errors.add("months", f"一次缴纳（补交或预交）应为1至{policy.max_months}个月。")
        count = max(1, min(count, policy.max_months))
    try:
        first = (
            as_month(first_month, field="first_month", label="起始月份")
            if first_month
            else next_unpaid_month(member, today=today)
        )
    except ValidationError as exc:
        errors.merge(exc)
        first = month_of(today)
    if way not in Way.values:
        errors.add("way", "请选择缴纳方式。")
    reference = (reference or "").strip()[:64]
    if way in WAYS_WITH_REFERENCE and not reference:
        errors.add("reference", "银行转账和网上缴纳须填写交易流水号。")
    try:
        extra = money(
            extra if extra not in (None, "") else "0", field="extra", label="自愿多交金额", maximum=policy.max_base
        )
    except ValidationError as exc:
        errors.merge(exc)
        extra = ZERO
    errors.raise_if_any()

    covered = months_from(first, count)
    current = month_of(today)
    latest = add_months(current, policy.max_months)
    if months_apart(current, covered[-1]) > policy.max_months:
        errors.add("first_month", f"预交最多{policy.max_months}个月，最晚只能交到{month_label(latest)}。")
    joined = month_of(member.join_date)
    if covered[0] < joined:
        errors.add("first_month", f"{member.name}{month_label(joined)}入党，此前没有应交党费。")
    errors.raise_if_any()
    refuse_closed(branch, month_of(paid_on), field="paid_on")

    twin = _identical(member, covered, paid_on=paid_on, way=way, reference=reference, extra=extra)
    if twin is not None:
        return twin
    schedule = schedules([member.pk], covered[0], covered[-1])[member.pk]
    paid = live_entries([member.pk], covered[0], covered[-1])
    for month in covered:
        due = schedule[month]
        if (member.pk, month) in paid:
            receipt = paid[(member.pk, month)].payment.receipt_no
            errors.add("first_month", f"{month_label(month)}的党费已缴纳（收据{receipt}），不能重复缴纳。")
        elif due.amount is None:
            errors.add("first_month", f"尚未核定{member.name}{month_label(month)}的党费基数，请先设置基数。")
        elif due.exempt:
            errors.add("first_month", f"{member.name}{month_label(month)}已批准免交党费。")
    errors.raise_if_any()

    amounts = [schedule[m].amount or ZERO for m in covered]
    try:
        with transaction.atomic():
            payment = DuesPayment.objects.create(
                receipt_no=f"pending-{member.pk}-{covered[0]:%Y%m}",
                member=member,
                organization=branch,
                paid_on=paid_on,
                first_month=covered[0],
                months=count,
                way=way,
                reference=reference,
                amount=sum(amounts, ZERO),
                extra=extra,
                recorded_by=acting_user(by),
            )
            payment.receipt_no = receipt_number(payment)
            payment.save(update_fields=["receipt_no", "updated_at"])
            booked = month_of(paid_on)
            for i, (month, amount) in enumerate(zip(covered, amounts, strict=True)):
                DuesEntry.objects.create(
                    payment=payment,
                    member=member,
                    organization=branch,
                    period=month,
                    booked=booked,
                    amount=amount,
                    extra=extra if i == 0 else ZERO,
                    created_by=acting_user(by),
                )
    except IntegrityError:
        # Another submission recorded these months a moment ago: the same payment is that one, another is refused.
        twin = _identical(member, covered, paid_on=paid_on, way=way, reference=reference, extra=extra)
        if twin is not None:
            return twin
        raise ValidationError({"first_month": "所选月份的党费刚刚已被登记，请刷新后核对。"}) from None
    return payment


@service
def payment_reverse(*, by, payment: DuesPayment, reason: str, today: dt.date | None = None) -> list[DuesEntry]:
    """Reverse every live line of a payment (冲正) with a reason: one negative line per month, booked in the current
    month, which must be open; the months become unpaid again. Never an edit of the payment itself."""
    today = today or timezone.localdate()
    require(dues_access_covers(by, payment.organization), NOT_DUES_ROLE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "冲正须填写原因。"})
    refuse_closed(payment.organization, month_of(today), field="reason")
    lines = list(
        DuesEntry.objects.select_for_update()
        .filter(payment=payment, kind=EntryKind.PAYMENT, reversed=False)
        .order_by("period")
    )
    if not lines:
        raise ValidationError({"reason": "该缴纳记录已全部冲正。"})
    reversals = []
    for line in lines:
        line.reversed = True
        set_history(line, by, reason)
        line.save(update_fields=["reversed"])
        reversals.append(
            DuesEntry.objects.create(
                payment=payment,
                member_id=line.member_id,
                organization=line.organization,
                period=line.period,
                booked=month_of(today),
                kind=EntryKind.REVERSAL,
                amount=-line.amount,
                extra=-line.extra,
                reverses=line,
                reason=reason[:200],
                created_by=acting_user(by),
            )
        )
    return reversals
