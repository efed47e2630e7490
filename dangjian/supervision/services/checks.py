"""The three checks (三同步, Qinhuai: 登记时同步指导、年检时同步检查、评估时同步考核): party-building checks at an
institution's approval, annual inspection and grading."""

from __future__ import annotations

import datetime as dt

from dangjian.core.services import Errors, acting_user, service
from dangjian.supervision.models import ApprovalStatus, CheckKind, CheckResult, Institution, PartyCheck
from dangjian.supervision.services._common import check_date, local_today, require_manager


@service
def check_record(
    *,
    by,
    institution: Institution,
    kind: str,
    date: dt.date,
    result: str,
    precondition_met: bool | None = None,
    notes: str = "",
    today: dt.date | None = None,
) -> PartyCheck:
    """Record a party-building check (三同步, Qinhuai: 登记时同步指导、年检时同步检查、评估时同步考核): at the
    approval of an institution in preparation (whether the party-building precondition was met — not met cannot
    pass), at its annual inspection (once a year, for an approved institution; the inspection date is kept on the
    institution) or at its grading."""
    institution = Institution.objects.select_for_update(of=("self",)).select_related("unit").get(pk=institution.pk)
    require_manager(by, institution)
    today = local_today(today)
    errors = Errors()
    if kind not in CheckKind.values:
        errors.add("kind", "请选择检查环节（审批、年检或等级评估）。")
    if result not in CheckResult.values:
        errors.add("result", "请选择检查结果。")
    check_date(errors, "date", date, today, "检查日期")
    if kind == CheckKind.APPROVAL:
        if precondition_met is None:
            errors.add("precondition_met", "审批环节须填写党建前置条件是否满足。")
        elif not precondition_met and result == CheckResult.PASS:
            errors.add("result", "党建前置条件未满足，审批检查结果不能为合格。")
        if institution.approval_status != ApprovalStatus.PREPARING:
            errors.add("kind", "只有筹设中的机构进行审批环节检查。")
    elif kind in CheckKind.values:
        precondition_met = None  # only recorded at approval
        if institution.approval_status != ApprovalStatus.APPROVED:
            errors.add("kind", "只有已审批的机构进行年检或等级评估检查。")
        if (
            kind == CheckKind.ANNUAL
            and isinstance(date, dt.date)
            and institution.checks.filter(kind=CheckKind.ANNUAL, date__year=date.year).exists()
        ):
            errors.add("date", f"该机构{date.year}年度已有年检党建检查记录。")
    errors.raise_if_any()
    check = PartyCheck.objects.create(
        institution=institution,
        kind=kind,
        date=date,
        result=result,
        precondition_met=precondition_met,
        notes=notes or "",
        recorded_by=acting_user(by),
    )
    if kind == CheckKind.ANNUAL and (institution.last_inspection_on is None or date > institution.last_inspection_on):
        institution.last_inspection_on = date
        institution.save(update_fields=["last_inspection_on", "updated_at"])
    return check
