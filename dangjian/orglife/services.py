"""Writes of organizational life: activity records, their updates while open and their logged corrections once
locked.

Rules: a record is written by a member editor of its organization (committee staff above it, its
secretary); its date is not in the future, not before the organization was established, and not so old that the
record would already be locked (older activities are corrected, not entered late); it counts for at least one
kind; its attendees and absentees are active members of the organization, each listed once, so the attendance rate
cannot exceed 100% (for a 党委 or 党总支, members of the organizations under it: its leadership members sit in
branches); a lecturer is a member the editor sees. A record locks `lock_days()` after its date: then
`record_update` refuses and `record_correct` (with a reason, logged in `RecordCorrection`) is the only way.
Everything is checked before anything is written; each function is one transaction.

A study record may credit training hours to its attendees through the hours ledger: every present attendee gets
one 集中培训 entry of `credit_hours` on the record's date, written through the ledger (so the yearly totals stay
current) and remembered in `RecordHoursCredit`. When the record's date, hours or
attendance change, exactly what no longer holds is reversed and the new credits are written — the ledger keeps the
whole history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.services import acting_user, require_editor, service
from dangjian.core.uploads import check_attachment
from dangjian.core.versioning import check_version
from dangjian.members.models import Member, Status
from dangjian.orglife.models import (
    ActivityAttendance,
    ActivityKind,
    ActivityRecord,
    ActivityRecordKind,
    AttachmentKind,
    RecordAttachment,
    RecordCorrection,
    RecordHoursCredit,
    lock_days,
)
from dangjian.orgs.models import Organization
from dangjian.training.models import HoursEntry, HoursKind
from dangjian.training.services.ledger import Credit, check_hours, hours_credit_many, hours_reverse_many

NOT_EDITOR = "您无权登记该党组织的组织生活记录。"
LOCKED = "记录已锁定，请通过更正流程修改。"
TEXT_FIELDS = ("place", "host", "topic", "agenda", "minutes", "decisions")
EDITABLE_FIELDS = frozenset(
    {*TEXT_FIELDS, "date", "major_decision", "lecturer", "kinds", "attendees", "absentees", "credit_hours"}
)
# A sanity bound on the hours one activity can credit (a day of study), not a rule of the seeds.
MAX_ACTIVITY_HOURS = Decimal("8")


def _member_id(value) -> int:
    return value.pk if isinstance(value, Member) else int(value)


def _clean_kinds(kinds) -> list[str]:
    values = sorted({str(k) for k in (kinds or ())})
    if not values:
        raise ValidationError({"kinds": "请至少选择一种活动类型。"})
    unknown = [k for k in values if k not in ActivityKind.values]
    if unknown:
        raise ValidationError({"kinds": f"未知的活动类型：{'、'.join(unknown)}。"})
    return values


def _clean_date(date, organization: Organization, *, today: dt.date) -> dt.date:
    if not isinstance(date, dt.date):
        raise ValidationError({"date": "请填写活动日期。"})
    if date > today:
        raise ValidationError({"date": "活动日期不能晚于今天。"})
    if organization.established_on and date < organization.established_on:
        raise ValidationError(
            {"date": f"活动日期不能早于该党组织的成立日期（{organization.established_on:%Y-%m-%d}）。"}
        )
    if date + dt.timedelta(days=lock_days()) < today:
        raise ValidationError(
            {"date": f"活动日期已超过{lock_days()}天的登记期限，记录会立即锁定；请联系上级党组织通过更正流程补录。"}
        )
    return date


def _clean_attendance(
    organization: Organization, attendees, absentees, *, recorded: frozenset[int] = frozenset()
) -> dict[int, tuple[bool, str]]:
    """member id → (present, absence reason), every member an active member of the organization or of one below it
    (a 党委's 中心组学习 is attended by its leadership members, who sit in the branches under it), listed once.

    `recorded`: the members already on the record. They stay allowed after they left the organization (moved,
    transferred out): the record is what happened on its date, and editing its topic must not drop them."""
    present_ids = [_member_id(m) for m in (attendees or ())]
    absent = {_member_id(m): (reason or "").strip()[:100] for m, reason in dict(absentees or {}).items()}
    if len(set(present_ids)) != len(present_ids):
        raise ValidationError({"attendees": "参会人员中有重复的党员。"})
    both = set(present_ids) & set(absent)
    if both:
        raise ValidationError({"absentees": "同一名党员不能既出席又缺席。"})
    wanted = set(present_ids) | set(absent)
    found = set(recorded) & wanted
    found |= set(
        Member.objects.dangerously_all()
        .filter(pk__in=wanted - found, organization__path__startswith=organization.path, status=Status.ACTIVE)
        .values_list("pk", flat=True)
    )
    if wanted - found:
        raise ValidationError({"attendees": "参会或缺席人员必须是本党组织（或其下级党组织）的在册党员。"})
    rows = {pk: (True, "") for pk in present_ids}
    rows.update({pk: (False, reason) for pk, reason in absent.items()})
    return rows


def _clean_lecturer(by, lecturer) -> Member | None:
    if lecturer in (None, ""):
        return None
    member = Member.objects.visible_to(by).filter(pk=_member_id(lecturer)).first()
    if member is None:
        raise ValidationError({"lecturer": "找不到该主讲人，或其不在您的管理范围内。"})
    return member


def _clean_credit_hours(value) -> Decimal | None:
    if value in (None, ""):
        return None
    return check_hours(value, field="credit_hours", limit=MAX_ACTIVITY_HOURS).quantize(Decimal("0.1"))


def _sync_hours(by, record: ActivityRecord, *, reason: str) -> None:
    """Make the ledger hold, for this record, one live credit of `credit_hours` per present attendee on the record's
    date: reverse the live credits that no longer match, write the missing ones. The editor's right over the
    record's organization is the scope (a member who has since moved keeps what they attended)."""
    wanted: dict[int, Decimal] = {}
    if record.credit_hours:
        present = record.attendances.filter(present=True).values_list("member_id", flat=True)
        wanted = dict.fromkeys(present, record.credit_hours)
    live = list(
        HoursEntry.objects.filter(activity_credit__record=record, reverses__isnull=True, reversed_by__isnull=True)
    )
    stale = [e for e in live if wanted.get(e.member_id) != e.hours or e.date != record.date]
    kept = {e.member_id for e in live if e not in stale}
    written: list[HoursEntry] = []
    if stale:
        written += hours_reverse_many(by=by, entries=stale, reason=reason)
    document = f"组织生活：{record.date:%Y-%m-%d} {record.topic}"[:200]
    credits = [
        Credit(member_id=pk, on=record.date, hours=hours, kind=HoursKind.CONCENTRATED, document=document)
        for pk, hours in sorted(wanted.items())
        if pk not in kept
    ]
    if credits:
        written += hours_credit_many(by=by, credits=credits)
    RecordHoursCredit.objects.bulk_create([RecordHoursCredit(record=record, entry=entry) for entry in written])


def _write_kinds(record: ActivityRecord, kinds: list[str]) -> None:
    record.kinds.exclude(kind__in=kinds).delete()
    have = set(record.kinds.values_list("kind", flat=True))
    ActivityRecordKind.objects.bulk_create([ActivityRecordKind(record=record, kind=k) for k in kinds if k not in have])


def _write_attendance(record: ActivityRecord, rows: dict[int, tuple[bool, str]]) -> None:
    record.attendances.all().delete()
    ActivityAttendance.objects.bulk_create(
        [
            ActivityAttendance(record=record, member_id=pk, present=present, absence_reason=reason)
            for pk, (present, reason) in sorted(rows.items())
        ]
    )


@service
def record_create(
    *,
    by,
    organization: Organization,
    kinds: Iterable[str],
    date: dt.date,
    topic: str,
    attendees: Iterable[Member | int] = (),
    absentees: Mapping[Member | int, str] | None = None,
    place: str = "",
    host: str = "",
    agenda: str = "",
    minutes: str = "",
    decisions: str = "",
    major_decision: bool = False,
    lecturer: Member | int | None = None,
    credit_hours=None,
    attachments=(),
    attachment_kind: str = AttachmentKind.PHOTO,
    today: dt.date | None = None,
) -> ActivityRecord:
    """Record a meeting or activity of `organization` (活动登记) with its attendance (and, for a study session, the
    hours it credits to those present)."""
    require_editor(access_for(by), organization, NOT_EDITOR)
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}  # field → its cleaned value, one type per field
    for name, check in (
        ("kinds", lambda: _clean_kinds(kinds)),
        ("date", lambda: _clean_date(date, organization, today=today)),
        ("attendance", lambda: _clean_attendance(organization, attendees, absentees)),
        ("lecturer", lambda: _clean_lecturer(by, lecturer)),
        ("credit_hours", lambda: _clean_credit_hours(credit_hours)),
    ):
        try:
            values[name] = check()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    record = ActivityRecord(
        organization=organization,
        date=values.get("date") or today,
        topic=(topic or "").strip(),
        place=(place or "").strip(),
        host=(host or "").strip(),
        agenda=agenda or "",
        minutes=minutes or "",
        decisions=decisions or "",
        major_decision=bool(major_decision),
        lecturer=values.get("lecturer"),
        credit_hours=values.get("credit_hours"),
        created_by=acting_user(by),
    )
    try:
        record.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    attachments = list(attachments or ())
    for upload in attachments:
        try:
            check_attachment(upload, field="attachments", label=f"{ATTACHMENT_LABEL}“{upload.name}”")
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if len(attachments) > MAX_ATTACHMENTS:
        errors.setdefault("attachments", []).append(f"每条记录最多{MAX_ATTACHMENTS}个附件。")
    if errors:
        raise ValidationError(errors)
    record.save()
    if attachments:
        _store_attachments(by, record, attachments, attachment_kind)
    _write_kinds(record, values["kinds"])
    _write_attendance(record, values["attendance"])
    _sync_hours(by, record, reason="组织生活记录学时计入")
    attendance = values["attendance"]
    audit_record(
        action=AuditAction.CREATE,
        actor=acting_user(by),
        obj=record,
        detail={
            "organization": organization.code,
            "kinds": values["kinds"],
            "present": sum(1 for present, _ in attendance.values() if present),
            "absent": sum(1 for present, _ in attendance.values() if not present),
            "attachments": len(attachments),
        },
    )
    return record


def _snapshot(record: ActivityRecord) -> dict[str, Any]:
    """The record's editable values as plain JSON values (for the correction log)."""
    attendance = list(record.attendances.values_list("member_id", "present", "absence_reason"))
    return {
        **{name: getattr(record, name) for name in TEXT_FIELDS},
        "date": record.date.isoformat(),
        "major_decision": record.major_decision,
        "lecturer": record.lecturer_id,
        "credit_hours": str(record.credit_hours) if record.credit_hours is not None else None,
        "kinds": sorted(record.kinds.values_list("kind", flat=True)),
        "attendees": sorted(pk for pk, present, _ in attendance if present),
        "absentees": {str(pk): reason for pk, present, reason in sorted(attendance) if not present},
    }


def _apply(by, record: ActivityRecord, changes: dict, *, today: dt.date, check_date_window: bool, reason: str) -> dict:
    """Validate and write `changes` to `record`; the diff (field → [old, new]) of what changed."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    before = _snapshot(record)
    errors: dict[str, list[str]] = {}

    def collect(check):
        try:
            return check()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
            return None

    kinds = collect(lambda: _clean_kinds(changes["kinds"])) if "kinds" in changes else None
    if "date" in changes:
        if check_date_window:
            collect(lambda: _clean_date(changes["date"], record.organization, today=today))
        else:  # a correction may set any past date since the organization existed
            date = changes["date"]
            if not isinstance(date, dt.date) or date > today:
                errors.setdefault("date", []).append("活动日期不能晚于今天。")
            elif record.organization.established_on and date < record.organization.established_on:
                errors.setdefault("date", []).append("活动日期不能早于该党组织的成立日期。")
    attendance = None
    if "attendees" in changes or "absentees" in changes:
        # The side not given keeps its members, less those the given side now lists.
        absentees = changes.get("absentees", {int(k): v for k, v in before["absentees"].items()})
        if "absentees" in changes:
            absent_ids = {_member_id(m) for m in absentees}
            attendees = changes.get("attendees", [pk for pk in before["attendees"] if pk not in absent_ids])
        else:
            attendees = changes["attendees"]
            present_ids = {_member_id(m) for m in attendees}
            absentees = {pk: r for pk, r in absentees.items() if pk not in present_ids}
        recorded = frozenset(before["attendees"]) | frozenset(int(k) for k in before["absentees"])
        attendance = collect(lambda: _clean_attendance(record.organization, attendees, absentees, recorded=recorded))
    lecturer = collect(lambda: _clean_lecturer(by, changes["lecturer"])) if "lecturer" in changes else None
    hours = collect(lambda: _clean_credit_hours(changes["credit_hours"])) if "credit_hours" in changes else None
    for name in TEXT_FIELDS:
        if name in changes:
            setattr(
                record, name, (changes[name] or "").strip() if name in ("topic", "place", "host") else changes[name]
            )
    if "date" in changes and isinstance(changes["date"], dt.date):
        record.date = changes["date"]
    if "major_decision" in changes:
        record.major_decision = bool(changes["major_decision"])
    if "lecturer" in changes:
        record.lecturer = lecturer
    if "credit_hours" in changes:
        record.credit_hours = hours
    try:
        record.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    record.save()
    if kinds is not None:
        _write_kinds(record, kinds)
    if attendance is not None:
        _write_attendance(record, attendance)
    _sync_hours(by, record, reason=reason)
    after = _snapshot(record)
    return {name: [before[name], after[name]] for name in before if before[name] != after[name]}


def _locked_for_update(record: ActivityRecord) -> ActivityRecord:
    return ActivityRecord.objects.select_for_update().select_related("organization").get(pk=record.pk)


@service
def record_update(
    *, by, record: ActivityRecord, today: dt.date | None = None, expected_version: str | None = None, **changes
) -> ActivityRecord:
    """Change an open record (within the lock period). A locked record is refused: use `record_correct`.
    `expected_version` is the version the editor loaded: a record saved by someone else since is refused
    (`core.versioning`)."""
    record = _locked_for_update(record)
    require_editor(access_for(by), record.organization, NOT_EDITOR)
    check_version(record, expected_version)
    today = today or timezone.localdate()
    if record.is_locked(today):
        raise ValidationError(LOCKED)
    diff = _apply(by, record, changes, today=today, check_date_window=True, reason="组织生活记录修改")
    if diff:
        audit_record(action=AuditAction.UPDATE, actor=acting_user(by), obj=record, detail={"fields": sorted(diff)})
    return record


@service
def record_correct(
    *,
    by,
    record: ActivityRecord,
    reason: str,
    today: dt.date | None = None,
    expected_version: str | None = None,
    **changes,
) -> RecordCorrection:
    """Correct a record (更正), locked or not, with a stated reason; the change is logged field by field. A record
    saved by someone else since the editor loaded it (`expected_version`) is refused (`core.versioning`)."""
    record = _locked_for_update(record)
    require_editor(access_for(by), record.organization, NOT_EDITOR)
    check_version(record, expected_version)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写更正原因。"})
    diff = _apply(
        by, record, changes, today=today or timezone.localdate(), check_date_window=False, reason=f"更正：{reason}"
    )
    if not diff:
        raise ValidationError("没有需要更正的内容。")
    audit_record(
        action=AuditAction.UPDATE,
        actor=acting_user(by),
        obj=record,
        detail={"fields": sorted(diff), "correction": True},
    )
    return RecordCorrection.objects.create(
        record=record, corrected_by=acting_user(by), changes=diff, reason=reason[:200]
    )


# ---------------------------------------------------------------------------------------------------------
# Attachments

ATTACHMENT_LABEL = "附件"
MAX_ATTACHMENTS = 20


def _check_attachments(record: ActivityRecord, files) -> None:
    if record.attachments.count() + len(files) > MAX_ATTACHMENTS:
        raise ValidationError({"attachments": f"每条记录最多{MAX_ATTACHMENTS}个附件。"})
    for upload in files:
        check_attachment(upload, field="attachments", label=f"{ATTACHMENT_LABEL}“{upload.name}”")


def _store_attachments(by, record: ActivityRecord, files, kind: str) -> list[RecordAttachment]:
    if kind not in AttachmentKind.values:
        raise ValidationError({"attachment_kind": "附件类型无效。"})
    stored = []
    for upload in files:
        attachment = RecordAttachment(
            record=record, kind=kind, name=upload.name[:200], size=upload.size or 0, uploaded_by=acting_user(by)
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        audit_record(
            action=AuditAction.UPLOAD,
            actor=acting_user(by),
            obj=record,
            detail={"attachment": attachment.pk, "name": attachment.name, "size": attachment.size, "kind": kind},
        )
        stored.append(attachment)
    return stored


@service
def attachments_add(
    *, by, record: ActivityRecord, files, kind: str = AttachmentKind.PHOTO, reason: str = "", today=None
) -> list[RecordAttachment]:
    """Attach photos, sign-in sheet scans or materials (附件) to a record: PDF, JPG, PNG, DOCX or XLSX whose content
    matches its extension, at most 10 MB each and `MAX_ATTACHMENTS` per record. To a locked record only with a
    reason, logged as a correction like any other change after the lock."""
    record = _locked_for_update(record)
    require_editor(access_for(by), record.organization, NOT_EDITOR)
    files = list(files)
    if not files:
        raise ValidationError({"attachments": "请选择要上传的文件。"})
    locked = record.is_locked(today or timezone.localdate())
    reason = (reason or "").strip()
    if locked and not reason:
        raise ValidationError({"reason": "记录已锁定，补充附件须填写原因。"})
    _check_attachments(record, files)
    stored = _store_attachments(by, record, files, kind)
    if locked:
        RecordCorrection.objects.create(
            record=record,
            corrected_by=acting_user(by),
            changes={"attachments": [[], [a.name for a in stored]]},
            reason=reason[:200],
        )
    return stored


@service
def attachment_remove(*, by, attachment: RecordAttachment, today=None) -> None:
    """Remove an attachment while its record is open; once locked, attachments are part of the record."""
    record = _locked_for_update(attachment.record)
    require_editor(access_for(by), record.organization, NOT_EDITOR)
    if record.is_locked(today or timezone.localdate()):
        raise ValidationError(LOCKED)
    stored = attachment.file.name
    assert stored is not None  # a saved attachment always has its file
    audit_record(
        action=AuditAction.DELETE,
        actor=acting_user(by),
        obj=record,
        detail={"attachment": attachment.pk, "name": attachment.name},
    )
    attachment.delete()
    # Delete the file only once the row is gone for good.
    transaction.on_commit(lambda: default_storage.delete(stored))
