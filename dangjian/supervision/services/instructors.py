"""Party-building instructors (党建指导员): appointments by an organization, dismissals, and assignments to
institutions (派驻; a reassignment closes the current one, history kept)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, service
from dangjian.orgs.models import Organization
from dangjian.supervision.models import (
    AppointmentSource,
    ApprovalStatus,
    Assignment,
    Institution,
    InstructorAppointment,
)
from dangjian.supervision.services._common import NOT_COMMITTEE_ORG, full_clean, local_today, locked, require_manager


def _appointable(by, user) -> bool:
    from dangjian.supervision.selectors.coverage import appointable_accounts

    return appointable_accounts(by).filter(pk=user.pk).exists()


@service
def instructor_appoint(
    *,
    by,
    user,
    appointing_organization: Organization,
    source: str,
    start_on: dt.date,
    member=None,
    name: str = "",
    today: dt.date | None = None,
) -> InstructorAppointment:
    """Appoint a party-building instructor (选派党建指导员), from the education bureau or a school of the area
    (Yiyang: 187 instructors from the education administration and the area's schools). One open appointment per
    user."""
    if not access_for(by).is_committee_over(appointing_organization):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    today = local_today(today)
    errors = Errors()
    if source not in AppointmentSource.values:
        errors.add("source", "请选择选派来源（教育行政部门或辖区学校）。")
    if user is None or not getattr(user, "is_active", False):
        errors.add("user", "请选择一个有效的登录账号。")
    elif not _appointable(by, user):
        errors.add("user", "该账号不在您的管理范围内。")
    elif InstructorAppointment.objects.filter(user=user, end_on=None).exists():
        errors.add("user", "该账号已是在任党建指导员。")
    if member is not None and member.user_id not in (None, getattr(user, "pk", None)):
        errors.add("member", "该党员已关联其他登录账号。")
    if isinstance(start_on, dt.date) and start_on > today + dt.timedelta(days=366):
        errors.add("start_on", "任职日期不能晚于一年以后。")
    elif not isinstance(start_on, dt.date):
        errors.add("start_on", "请填写任职日期。")
    display = (name or "").strip() or (member.name if member else "") or (user.get_full_name() if user else "")
    errors.raise_if_any()
    appointment = InstructorAppointment(
        user=user,
        member=member,
        name=display[:50],
        source=source,
        appointing_organization=appointing_organization,
        start_on=start_on,
    )
    full_clean(errors, appointment)
    errors.raise_if_any()
    appointment.save()
    return appointment


@service
def instructor_dismiss(*, by, appointment: InstructorAppointment, end_on: dt.date) -> InstructorAppointment:
    """End an appointment (离任); its open assignments end the same day."""
    appointment = locked(InstructorAppointment, appointment)
    if not access_for(by).is_committee_over(appointment.appointing_organization):
        raise PermissionDenied(NOT_COMMITTEE_ORG)
    if not isinstance(end_on, dt.date) or end_on < appointment.start_on:
        raise ValidationError({"end_on": "离任日期不能早于任职日期。"})
    if appointment.end_on is not None:
        raise ValidationError({"end_on": "该指导员已离任。"})
    if appointment.assignments.filter(start_on__gt=end_on, end_on=None).exists():
        raise ValidationError({"end_on": "离任日期早于其在岗派驻的开始日期，请先调整派驻。"})
    appointment.end_on = end_on
    appointment.save()
    appointment.assignments.filter(end_on=None).update(end_on=end_on)
    return appointment


@service
def institution_assign(
    *, by, institution: Institution, appointment: InstructorAppointment, start_on: dt.date, today=None
) -> Assignment:
    """Assign an instructor to an institution from `start_on` (派驻). A reassignment closes the institution's
    current assignment on the day before (history kept): from then on only the new instructor records visits."""
    institution = Institution.objects.select_for_update(of=("self",)).select_related("unit").get(pk=institution.pk)
    require_manager(by, institution)
    today = local_today(today)
    errors = Errors()
    if not isinstance(start_on, dt.date):
        errors.add("start_on", "请填写派驻日期。")
        errors.raise_if_any()
    if start_on > today + dt.timedelta(days=366):
        errors.add("start_on", "派驻日期不能晚于一年以后。")
    if not appointment.is_active(start_on):
        errors.add("appointment", "该党建指导员在派驻日期不在任。")
    if institution.approval_status in (ApprovalStatus.SUSPENDED, ApprovalStatus.CANCELLED):
        errors.add("institution", "停办或注销的机构不再派驻党建指导员。")
    current = institution.assignments.filter(end_on=None).first()
    if current is not None:
        if current.appointment_id == appointment.pk:
            errors.add("appointment", "该指导员已派驻本机构。")
        elif start_on <= current.start_on:
            errors.add("start_on", f"派驻日期须晚于现任指导员的派驻日期（{current.start_on:%Y-%m-%d}）。")
    if institution.assignments.filter(end_on__gte=start_on).exclude(end_on=None).exists():
        errors.add("start_on", "派驻日期与该机构已结束的派驻记录重叠。")
    errors.raise_if_any()
    if current is not None:
        current.end_on = start_on - dt.timedelta(days=1)
        current.save()
    return Assignment.objects.create(appointment=appointment, institution=institution, start_on=start_on)


def assignment_on(institution: Institution, day: dt.date) -> Assignment | None:
    """The institution's assignment covering `day` (at most one: assignments do not overlap)."""
    return (
        Assignment.objects.filter(institution=institution, start_on__lte=day)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=day))
        .select_related("appointment")
        .first()
    )
