"""Closing a year's hours (学时年度关账): the committee signs the year's figures, and from then on the ledger of that
year is closed for the members it reported.

Rule (docs/rules.md, "How the rules combine": a report of a closed period never changes afterwards). The hours reports
of a past year already count each member where they belonged at the year's end (`YearEndPlacement`), so transfers,
status changes and re-categorizations never change them. What still could is a late entry dated in that year — a
session closed late, a manual credit, a reversal. Once a work committee closes the year for its subtree, every
ledger write dated in that year for a member who belonged to the subtree at the year's end is refused with the
reason (`check_open`, called by the ledger on every write, in its transaction: nothing is half-written). A closure
covers the organization's whole subtree; reopening needs a reason and the same rights, and is kept in the history.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service, set_history
from dangjian.members.models import Member
from dangjian.orgs.models import Organization, ancestor_paths
from dangjian.training.models import HoursYearClose

NOT_COMMITTEE = "只有该党组织或上级党组织的工委工作人员可以关账或重新开账。"


def closure_covering(org: Organization, year: int) -> HoursYearClose | None:
    """The closure of `year` that covers `org`: its own, or an ancestor's (the highest one first)."""
    return (
        HoursYearClose.objects.filter(year=year, organization__path__in=[*ancestor_paths([org.path]), org.path])
        .select_related("organization", "closed_by")
        .order_by("organization__depth")
        .first()
    )


@service
def hours_year_close(*, by, org: Organization, year: int, note: str = "", today: dt.date | None = None):
    """Close `year` for `org`'s subtree. Only a year that is over, and not closed already (here or above)."""
    if not access_for(by).is_committee_over(org):
        raise PermissionDenied(NOT_COMMITTEE)
    today = today or timezone.localdate()
    if year >= today.year:
        raise ValidationError({"year": f"{year}年度尚未结束，不能关账。"})
    covering = closure_covering(org, year)
    if covering is not None:
        raise ValidationError({"year": f"{year}年度学时已由{covering.organization.name}关账。"})
    closure = HoursYearClose(organization=org, year=year, closed_by=acting_user(by), note=(note or "").strip()[:200])
    set_history(closure, by, "学时年度关账")
    try:
        with transaction.atomic():
            closure.save()
    except IntegrityError:  # closed by someone else at the same moment
        raise ValidationError({"year": f"{year}年度学时已关账。"}) from None
    return closure


@service
def hours_year_reopen(*, by, org: Organization, year: int, reason: str) -> None:
    """Reopen a closed year of `org` (重新开账), with a reason kept in the history and the audit trail."""
    if not access_for(by).is_committee_over(org):
        raise PermissionDenied(NOT_COMMITTEE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写重新开账的原因。"})
    closure = HoursYearClose.objects.select_for_update().filter(organization=org, year=year).first()
    if closure is None:
        raise ValidationError({"year": f"{org.name}{year}年度学时未关账。"})
    set_history(closure, by, f"重新开账：{reason}")
    closure.delete()


def check_open(member_years: set[tuple[int, int]]) -> None:
    """Refuse a ledger write into a closed year: for each (member id, year) written, the organization the member
    belonged to at the year's end must not be in a closed subtree. One query when no year written is closed."""
    years = {year for _, year in member_years}
    closures = list(
        HoursYearClose.objects.filter(year__in=years).values_list("year", "organization__path", "organization__name")
    )
    if not closures:
        return
    # Imported here: the compliance selectors read the ledger's models, and this module is imported by the ledger.
    from dangjian.training.selectors.compliance import YearEndPlacement

    for year in sorted({year for year, _, _ in closures}):
        closed = [(path, name) for y, path, name in closures if y == year]
        ids = {member_id for member_id, y in member_years if y == year}
        placement = YearEndPlacement(year)
        paths = (
            placement.annotate(Member.objects.dangerously_all().filter(pk__in=ids))
            .values_list(placement.path_field, flat=True)
            .distinct()
        )
        for path in paths:
            for closed_path, name in closed:
                if path and path.startswith(closed_path):
                    raise ValidationError(
                        {
                            "date": f"{year}年度学时已由{name}关账，不能再登记、冲销或更正该年度的学时；"
                            "确需更正的，请先由关账组织重新开账。"
                        }
                    )
