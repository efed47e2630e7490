"""The grid and pairings (两个全覆盖, Yiyang): grid cells anchored on public schools, pairings of a school's branch
with an institution's branch, and their joint activities. Committee staff over either side write them."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, service
from dangjian.orgs.models import BRANCH_KINDS, Organization, Unit, UnitKind
from dangjian.supervision.models import GridCell, Institution, Pairing, PairingActivity
from dangjian.supervision.services._common import NOT_COMMITTEE_ORG, check_date, full_clean, local_today


@service
def grid_cell_create(*, by, name: str, school: Unit, area: str = "") -> GridCell:
    """A grid cell (网格) anchored on a public school: the school's organization guides the institutions in it
    (Yiyang: 创新“网格化”管理机制，依托公办学校实施属地指导和管理)."""
    errors = Errors()
    if school.kind != UnitKind.SCHOOL:
        errors.add("school", "网格须依托公办学校设立。")
    if school.organization_id is None:
        errors.add("school", "该学校尚未建立党组织，不能作为网格依托学校。")
    elif not access_for(by).is_committee_over_any(school.organization, school.managing_organization):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    cell = GridCell(
        name=(name or "").strip(),
        school=school,
        # None only for a school without an organization: refused above, before anything is saved.
        organization_id=school.organization_id,  # type: ignore[misc]
        area=area or "",
    )
    full_clean(errors, cell, exclude=["organization"] if school.organization_id is None else None)
    errors.raise_if_any()
    cell.save()
    return cell


@service
def pairing_create(
    *, by, school_branch: Organization, institution_branch: Organization, start_on: dt.date, today=None
) -> Pairing:
    """Pair a public school's branch with an institution's branch (结对共建, Yiyang: 26 institution branches with 28
    school branches). The institution branch must cover at least one registered institution."""
    today = local_today(today)
    if not access_for(by).is_committee_over_any(institution_branch, school_branch):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    errors = Errors()
    if school_branch.kind not in BRANCH_KINDS or not school_branch.units.filter(kind=UnitKind.SCHOOL).exists():
        errors.add("school_branch", "请选择一所公办学校的党支部。")
    if (
        institution_branch.kind not in BRANCH_KINDS
        or not Institution.objects.dangerously_all().filter(unit__organization=institution_branch).exists()
    ):
        errors.add("institution_branch", "请选择一个覆盖培训机构的党支部（单独或联合党支部）。")
    check_date(errors, "start_on", start_on, today, "结对日期")
    if Pairing.objects.filter(school_branch=school_branch, institution_branch=institution_branch, end_on=None).exists():
        errors.add("institution_branch", "这两个党支部已经结对。")
    errors.raise_if_any()
    return Pairing.objects.create(school_branch=school_branch, institution_branch=institution_branch, start_on=start_on)


@service
def pairing_activity_record(
    *, by, pairing: Pairing, date: dt.date, title: str, participants: int = 0, note: str = "", today=None
) -> PairingActivity:
    """Record a joint activity of a pairing (结对活动)."""
    today = local_today(today)
    if not access_for(by).is_committee_over_any(pairing.institution_branch, pairing.school_branch):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    errors = Errors()
    if check_date(errors, "date", date, today, "活动日期") and date < pairing.start_on:
        errors.add("date", "活动日期不能早于结对日期。")
    activity = PairingActivity(
        pairing=pairing, date=date, title=(title or "").strip(), participants=participants or 0, note=note or ""
    )
    full_clean(errors, activity)
    errors.raise_if_any()
    activity.save()
    return activity
