"""Clues of violations (违规线索) at institutions and their follow-up (跟踪办理): recorded by the committee or the
assigned instructor, passed to an enforcement department, closed or dismissed (`models.CLUE_TRANSITIONS`)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, acting_user, service
from dangjian.supervision.models import CLUE_TRANSITIONS, Clue, ClueStatus, ClueUpdate, Institution, Visit
from dangjian.supervision.services._common import check_date, local_today
from dangjian.supervision.services.instructors import assignment_on


def clue_create(by, institution, description, found_on, *, visit=None, reporter=None) -> Clue:
    """Write a clue, 待移交, with its first update (no checks: `clue_record` and `visits.visit_record` check first)."""
    clue = Clue.objects.create(
        institution=institution,
        visit=visit,
        reported_by=reporter,
        found_on=found_on,
        description=description.strip(),
    )
    ClueUpdate.objects.create(
        clue=clue, date=found_on, to_status=ClueStatus.PENDING, note="发现线索", by=acting_user(by)
    )
    return clue


@service
def clue_record(
    *, by, institution: Institution, description: str, found_on: dt.date, visit: Visit | None = None, today=None
) -> Clue:
    """Record a clue of a violation (违规线索) at an institution, 待移交. By the committee or by an instructor
    assigned to the institution on the day it was found."""
    today = local_today(today)
    errors = Errors()
    if check_date(errors, "found_on", found_on, today, "发现日期") is None:
        errors.raise_if_any()
    reporter = None
    if not access_for(by).is_committee_over_any(*institution.supervising_organizations):
        assignment = assignment_on(institution, found_on)
        if assignment is None or assignment.appointment.user_id != getattr(acting_user(by), "pk", None):
            raise PermissionDenied("只有派驻该机构的党建指导员或工委工作人员可以登记线索。")
        reporter = assignment.appointment
    if not (description or "").strip():
        errors.add("description", "请填写线索内容。")
    if visit is not None and visit.institution_id != institution.pk:
        errors.add("visit", "走访记录不属于该机构。")
    errors.raise_if_any()
    return clue_create(
        by, institution, description, found_on, visit=visit, reporter=reporter or getattr(visit, "appointment", None)
    )


@service
def clue_update_status(
    *,
    by,
    clue: Clue,
    status: str,
    date: dt.date,
    note: str = "",
    department: str = "",
    took_part: bool | None = None,
    today: dt.date | None = None,
) -> Clue:
    """Move a clue along its follow-up (跟踪办理): 待移交 → 已移交 (to a named enforcement department) → 查处中 or
    不予立案; 查处中 → 已办结. Other changes are refused; a closed or dismissed clue is final. Whether the instructor
    took part in the enforcement action (直接参与查处, Yiyang: 7 in 2023) is recorded on the way. The committee does
    it; the reporting instructor may pass their own clue."""
    clue = (
        Clue.objects.select_for_update(of=("self",)).select_related("institution__unit", "reported_by").get(pk=clue.pk)
    )
    is_reporter = clue.reported_by is not None and clue.reported_by.user_id == getattr(acting_user(by), "pk", None)
    if not access_for(by).is_committee_over_any(*clue.institution.supervising_organizations) and not (
        is_reporter and status == ClueStatus.PASSED
    ):
        raise PermissionDenied("您无权办理该线索。")
    today = local_today(today)
    errors = Errors()
    if status not in ClueStatus.values:
        errors.add("status", "请选择办理状态。")
        errors.raise_if_any()
    if status not in CLUE_TRANSITIONS[clue.status]:
        allowed = "、".join(ClueStatus(s).label for s in sorted(CLUE_TRANSITIONS[clue.status])) or "无（已终结）"
        errors.add(
            "status",
            f"线索当前为“{clue.get_status_display()}”，不能改为“{ClueStatus(status).label}”（可改为：{allowed}）。",
        )
    if check_date(errors, "date", date, today, "办理日期") and date < clue.found_on:
        errors.add("date", "办理日期不能早于线索发现日期。")
    department = (department or "").strip()
    if status == ClueStatus.PASSED and not department:
        errors.add("department", "移交线索须填写接收的执法部门。")
    errors.raise_if_any()
    previous = clue.status
    clue.status = status
    if status == ClueStatus.PASSED:
        clue.department = department[:100]
        clue.passed_on = date
    if status in (ClueStatus.CLOSED, ClueStatus.DISMISSED):
        clue.closed_on = date
    if took_part is not None:
        clue.took_part = bool(took_part)
    clue.save()
    ClueUpdate.objects.create(
        clue=clue, date=date, from_status=previous, to_status=status, note=(note or "")[:500], by=acting_user(by)
    )
    return clue


def clue_pass(*, by, clue: Clue, department: str, date: dt.date, note: str = "", today=None) -> Clue:
    """Pass a clue to the enforcement department (移交执法部门): `clue_update_status` to 已移交."""
    return clue_update_status(
        by=by, clue=clue, status=ClueStatus.PASSED, date=date, note=note, department=department, today=today
    )
