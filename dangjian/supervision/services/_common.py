"""What every supervision service shares: who may manage an institution (committee staff over its covering or
managing organization, `Access.is_committee_over_any`), today's date, the date and model checks, row locks."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.services import Errors
from dangjian.supervision.models import Institution

NOT_COMMITTEE = "您无权管理该机构的党建工作（须为其主管或所属党组织的工委工作人员）。"
NOT_COMMITTEE_ORG = "您无权以该党组织的名义进行此操作。"


def local_today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def committee_roots(by) -> tuple[str, ...]:
    return access_for(by).roots_of({Role.COMMITTEE})


def require_manager(by, institution: Institution) -> None:
    if not access_for(by).is_committee_over_any(*institution.supervising_organizations):
        raise PermissionDenied(NOT_COMMITTEE)


def check_date(errors: Errors, field: str, value, today: dt.date, label: str) -> dt.date | None:
    if not isinstance(value, dt.date):
        errors.add(field, f"请填写{label}。")
        return None
    if value > today:
        errors.add(field, f"{label}不能晚于今天。")
    return value


def full_clean(errors: Errors, obj, exclude=None, **kwargs) -> None:
    try:
        obj.full_clean(exclude=exclude, **kwargs)
    except ValidationError as exc:
        errors.merge(exc)


def locked(model, obj):
    return model.objects.select_for_update().get(pk=obj.pk)
