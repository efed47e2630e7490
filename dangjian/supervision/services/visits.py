"""The instructors' monthly visits (每月上门“四个一”, Yiyang), recorded by the instructor assigned to the institution
on the visit's date; a clue found on the visit is recorded with it (`clues.clue_create`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.services import Errors, acting_user, service
from dangjian.core.uploads import check_file_upload
from dangjian.supervision.models import Institution, InstructorAppointment, Visit, VisitPhoto, first_of_month
from dangjian.supervision.services._common import local_today
from dangjian.supervision.services.clues import clue_create
from dangjian.supervision.services.instructors import assignment_on

MAX_PHOTOS = 10
PHOTO_EXTENSIONS = ("jpg", "jpeg", "png")
PHOTO_LABEL = "现场照片"


@service
def visit_record(
    *,
    by,
    institution: Institution,
    date: dt.date,
    party_lecture: bool = False,
    policy_talk: bool = False,
    hazard_check: bool = False,
    ledger_check: bool = False,
    findings: str = "",
    hazards: str = "",
    is_case_law_session: bool = False,
    is_supplement: bool = False,
    clue_description: str = "",
    photos: Iterable = (),
    appointment: InstructorAppointment | None = None,
    today: dt.date | None = None,
) -> Visit:
    """Record an instructor's monthly visit (每月上门“四个一”：上党课、讲政策、排隐患、核台账, Yiyang) with its
    findings and hazards; a "以案说法" session is marked. Only for an institution assigned to the instructor on the
    visit's date; one regular visit per institution and month, any further one only as a supplement (补充走访). A
    clue found on the visit (`clue_description`) is recorded with it, 待移交. Its photos (现场照片, JPG or PNG whose
    content matches the extension, at most `MAX_PHOTOS`) are stored with it: one bad photo refuses the whole visit."""
    today = local_today(today)
    errors = Errors()
    photos = [p for p in (photos or ()) if p]
    _check_photos(photos, errors)
    if not isinstance(date, dt.date):
        errors.add("date", "请填写走访日期。")
        errors.raise_if_any()
    if date > today:
        errors.add("date", "走访日期不能晚于今天。")
    assignment = assignment_on(institution, date)
    if appointment is None and not access_for(by).system:
        user = acting_user(by)
        # Every appointment names a user: without one there is none to find.
        appointment = (
            InstructorAppointment.objects.active_on(date).filter(user_id=user.pk).first() if user is not None else None
        )
        if appointment is None:
            raise PermissionDenied("您在走访日期不是在任的党建指导员。")
    if appointment is None:  # the system access: the instructor assigned on that day
        appointment = assignment.appointment if assignment else None
    if assignment is None or appointment is None or assignment.appointment_id != appointment.pk:
        errors.add("institution", "该机构在走访日期未派驻给您，不能登记走访。")
    if not any((party_lecture, policy_talk, hazard_check, ledger_check)):
        errors.add("party_lecture", "请至少勾选一项“四个一”工作（上党课、讲政策、排隐患、核台账）。")
    month = first_of_month(date)
    regular = Visit.objects.filter(institution=institution, month=month, is_supplement=False).exists()
    if regular and not is_supplement:
        errors.add("is_supplement", "该机构本月已有走访记录，再次走访请勾选“补充走访”。")
    if is_supplement and not regular:
        errors.add("is_supplement", "该机构本月尚无常规走访，请先登记常规走访（不勾选“补充走访”）。")
    errors.raise_if_any()
    visit = Visit(
        institution=institution,
        appointment=appointment,
        month=month,
        date=date,
        party_lecture=bool(party_lecture),
        policy_talk=bool(policy_talk),
        hazard_check=bool(hazard_check),
        ledger_check=bool(ledger_check),
        findings=findings or "",
        hazards=hazards or "",
        is_case_law_session=bool(is_case_law_session),
        is_supplement=bool(is_supplement),
        recorded_by=acting_user(by),
    )
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:  # a concurrent regular visit of the same month won the race
        raise ValidationError({"is_supplement": "该机构本月已有走访记录，再次走访请勾选“补充走访”。"}) from None
    if (clue_description or "").strip():
        clue_create(by, institution, clue_description, date, visit=visit, reporter=appointment)
    _store_photos(by, visit, photos)
    return visit


def _check_photos(photos: list, errors: Errors) -> None:
    if len(photos) > MAX_PHOTOS:
        errors.add("photos", f"每次走访最多上传{MAX_PHOTOS}张{PHOTO_LABEL}（本次选择了{len(photos)}张）。")
        return
    for upload in photos:
        try:
            check_file_upload(upload, field="photos", label=f"{PHOTO_LABEL}“{upload.name}”", allowed=PHOTO_EXTENSIONS)
        except ValidationError as exc:
            errors.merge(exc)


def _store_photos(by, visit: Visit, photos: list) -> list[VisitPhoto]:
    stored = []
    for upload in photos:
        photo = VisitPhoto(visit=visit, name=upload.name[:200], size=upload.size or 0, uploaded_by=acting_user(by))
        photo.file.save(upload.name, upload, save=False)
        photo.save()
        audit_record(
            action=AuditAction.UPLOAD,
            actor=acting_user(by),
            obj=visit,
            detail={"photo": photo.pk, "name": photo.name, "size": photo.size},
        )
        stored.append(photo)
    return stored
