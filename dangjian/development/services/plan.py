"""The yearly development plan (年度发展党员计划): a committee's quota for each organization of its subtree."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, require, service, set_history
from dangjian.development.models import PlanQuota
from dangjian.orgs.models import Organization

NOT_COMMITTEE = "只有上级党委（工委）工作人员才能下达发展党员计划。"


@service
def quota_set(*, by, organization: Organization, year: int, quota: int, note: str = "") -> PlanQuota:
    """Set (or change) `organization`'s quota of `year` in the plan of the committee above it (年度发展党员计划,
    docs/development-of-members.md "计划"): committee staff over the organization only."""
    access = access_for(by)
    require(access.system or access.is_committee_over(organization), NOT_COMMITTEE)
    errors = Errors()
    if year is None or not 2000 <= year <= 2100:
        errors.add("year", "年度应为2000到2100之间的四位数字。")
    if quota is None or not 0 <= quota <= 10000:
        errors.add("quota", "计划发展数应为0到10000之间的整数。")
    errors.raise_if_any()
    row = PlanQuota.objects.select_for_update().filter(organization=organization, year=year).first()
    if row is None:
        row = PlanQuota(organization=organization, year=year)
    row.quota = quota
    row.note = (note or "").strip()
    try:
        row.full_clean(validate_unique=False)
    except ValidationError as exc:
        errors.merge(exc)
        errors.raise_if_any()
    set_history(row, by, "下达发展党员计划")
    row.save()
    return row
