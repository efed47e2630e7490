"""What the dues services share: the member a user may act on, the closed months, the money fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from dangjian.accounts.access import access_for
from dangjian.dues.models import DUES_ROLES, DuesMonthClose
from dangjian.dues.rules import month_label
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization

MEMBER_NOT_FOUND = "找不到该党员，或其不在您的管理范围内。"
NOT_DUES_ROLE = "您无权办理该党组织的党费。"


def dues_access_covers(by, organization: Organization) -> bool:
    access = access_for(by)
    return access.system or access.covers(organization.path, access.roots_of(DUES_ROLES))


def dues_member(by, member, *, field: str = "member", active: bool = True) -> Member:
    """The member (instance or id) if `by` acts in dues over their branch; else a ValidationError on `field`
    (an unknown member and one outside the scope get the same message)."""
    pk = member.pk if isinstance(member, Member) else member
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ValidationError({field: MEMBER_NOT_FOUND}) from None
    found = Member.objects.editable_by(by).select_related("organization").filter(pk=pk).first()
    if found is None or not dues_access_covers(by, found.organization):
        raise ValidationError({field: MEMBER_NOT_FOUND})
    if active and found.status != Status.ACTIVE:
        raise ValidationError({field: f"{found.name}的党籍状态为“{found.get_status_display()}”，不能办理党费。"})
    return found


def money(value, *, field: str, label: str, maximum: Decimal | None = None, allow_zero: bool = True) -> Decimal:
    """A yuan amount with at most two decimals, not negative (nor zero unless allowed), at most `maximum`."""
    if value in (None, ""):
        raise ValidationError({field: f"请填写{label}。"})
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{label}应为数字（元）。"}) from None
    if not amount.is_finite():
        raise ValidationError({field: f"{label}应为数字（元）。"})
    if amount < 0:
        raise ValidationError({field: f"{label}不能为负数。"})
    if not allow_zero and amount == 0:
        raise ValidationError({field: f"{label}应大于0。"})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: f"{label}最多保留两位小数（到分）。"})
    if maximum is not None and amount > maximum:
        raise ValidationError({field: f"{label}超过{maximum:,.0f}元/月，请核对。"})
    return amount.quantize(Decimal("0.01"))


def is_closed(organization: Organization, month: dt.date) -> bool:
    return DuesMonthClose.objects.dangerously_all().filter(organization=organization, month=month).exists()


def refuse_closed(organization: Organization, month: dt.date, *, field: str) -> None:
    if is_closed(organization, month):
        raise ValidationError(
            {field: f"{organization.name}{month_label(month)}的党费已结账，不能再登记或修改；更正请登记冲正。"}
        )


def as_month(value, *, field: str, label: str) -> dt.date:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    if isinstance(value, str):
        text = value.strip()
        for fmt in ("%Y-%m", "%Y-%m-%d", "%Y年%m月", "%Y/%m"):
            try:
                return dt.datetime.strptime(text, fmt).date().replace(day=1)
            except ValueError:
                continue
    raise ValidationError({field: f"{label}应为月份，如2026-01。"})
