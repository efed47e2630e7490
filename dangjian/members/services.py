"""State changes of member records. Pages, commands and imports all call these functions."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.services import acting_user, service, set_history
from dangjian.core.versioning import check_version
from dangjian.members.lookups import id_number_taken
from dangjian.members.models import (
    UNREGISTRABLE_ID_MESSAGE,
    Category,
    Member,
    MemberFlagChange,
    MemberTransfer,
    PartyPost,
    Status,
    TransferKind,
    TransferStatus,
    flag_changes,
)
from dangjian.orgs.models import BRANCH_KINDS, Organization

MEMBER_FIELDS = frozenset(
    {
        "name",
        "gender",
        "ethnicity",
        "birth_date",
        "id_number",
        "phone",
        "education",
        "join_date",
        "full_date",
        "category",
        "organization",
        "unit",
        "is_leadership",
        "is_district_cadre",
    }
)


def _check_can_edit_in(access, org: Organization) -> None:
    if not access.can_edit_member_in(org):
        raise PermissionDenied("该党组织不在您的管理范围内。")


@service
def member_create(*, by, reason: str = "", **fields) -> Member:
    """Register a member in an organization of the actor's scope (validated by Member.clean).

    `reason` is kept on the history record (e.g. "Excel导入", "从系统外转入")."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise TypeError(f"member_create does not take {sorted(unknown)}")
    access = access_for(by)
    member = Member(**fields)
    _check_can_edit_in(access, member.organization)
    _full_clean(member, access)
    set_history(member, by, reason)
    _save_unique(member, access)
    audit_record(
        action=AuditAction.CREATE, actor=acting_user(by), obj=member, detail={"organization": member.organization.code}
    )
    return member


def _full_clean(member: Member, access) -> None:
    """Member.full_clean(), with the ID number's uniqueness checked for `access`: a number held by a member the
    user can see is refused with the precise duplicate message, one held outside their scope only with the
    neutral UNREGISTRABLE_ID_MESSAGE (the model's own check knows no scope and would say which)."""
    member.full_clean(validate_unique=False)
    member.validate_unique(exclude={"id_number", "id_number_digest"})
    if member.id_number:
        message = id_number_taken(access, member.id_number, exclude_pk=member.pk)
        if message:
            raise ValidationError({"id_number": message})


def _save_unique(member: Member, access) -> None:
    """Save, bumping the version; a concurrent registration of the same ID number loses to the unique
    constraint, and is answered as the check before would have answered it."""
    if member.pk is not None:
        member.version += 1
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        message = id_number_taken(access, member.id_number, exclude_pk=member.pk) if member.id_number else None
        raise ValidationError({"id_number": message or UNREGISTRABLE_ID_MESSAGE}) from None


def _lock(member: Member) -> Member:
    """The member's current row, locked until the transaction ends (two requests never interleave).

    The row is locked alone, then read with its organization: on PostgreSQL a locking query that joins the
    organization, having waited for another transaction that moved the member (a transfer accepted at the same
    moment), re-checks the join against the old organization row and finds no member at all."""
    Member.objects.select_for_update().filter(pk=member.pk).values_list("pk", flat=True).get()
    return Member.objects.select_related("organization").get(pk=member.pk)


PENDING_TRANSFER_MESSAGE = "该党员的组织关系正在转接中（转往%(to)s），请等待接收方接收或退回后再办理。"


def _check_no_pending_transfer(member: Member, *, field: str | None = None) -> None:
    pending = MemberTransfer.objects.pending().filter(member=member).select_related("to_organization").first()
    if pending is not None:
        error = ValidationError(PENDING_TRANSFER_MESSAGE, code="transfer_pending", params={"to": pending.other_side})
        raise ValidationError({field: error}) if field else error


def _check_version(member: Member, expected_version: int | None) -> None:
    """Refuse a change made on an outdated copy (two people editing the same member; `core.versioning`), naming
    who saved last and when."""
    check_version(member, expected_version, what="该党员的信息")


def record_flag_changes(member: Member, before: dict, *, by=None, at=None) -> list[MemberFlagChange]:
    """Keep the old value of each re-categorized flag (班子成员, 区管干部) in `before` (field → old value), so that
    the reports of a closed period read the flags of the time (`members.selectors.flag_on`)."""
    changes = flag_changes(member, before, at=at or timezone.now(), changed_by_id=getattr(by, "pk", None))
    return MemberFlagChange.objects.bulk_create(changes)


@service
def member_update(*, by, member: Member, expected_version: int | None = None, reason: str = "", **fields) -> Member:
    """Change a member's record. Moving to another organization stays inside the actor's scope:
    both the old and the new organization must be editable by the actor, and a member whose transfer
    is pending (组织关系转接中) moves only by that transfer. Status has its own service.

    `expected_version` is the version the user's form was built from: if someone saved in between, the
    change is refused rather than silently overwriting theirs."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise TypeError(f"member_update does not change {sorted(unknown)}")
    access = access_for(by)
    member = _lock(member)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    before = {name: getattr(member, name) for name in fields}
    for name, value in fields.items():
        setattr(member, name, value)
    _check_can_edit_in(access, member.organization)
    if "organization" in fields and member.organization_id != before["organization"].pk:
        _check_no_pending_transfer(member, field="organization")
    _full_clean(member, access)
    set_history(member, by, reason)
    _save_unique(member, access)
    changed = sorted(name for name, value in fields.items() if before[name] != value)
    record_flag_changes(member, {name: before[name] for name in changed}, by=acting_user(by))
    # Field names only: values (an ID number among them) never enter the audit trail.
    audit_record(action=AuditAction.UPDATE, actor=acting_user(by), obj=member, detail={"fields": changed})
    return member


@service
def member_change_status(
    *,
    by,
    member: Member,
    status: str,
    on: dt.date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Member:
    """Change a member's status (正常/转出/停止党籍/出党/去世). The record is kept, never deleted;
    the history records who changed it, when, and why."""
    access = access_for(by)
    member = _lock(member)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    if status not in Status.values:
        raise ValidationError({"status": "无效的党籍状态。"})
    if status == member.status:
        raise ValidationError({"status": "党籍状态没有变化。"})
    _check_no_pending_transfer(member, field="status")
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"status_changed_on": "日期不能晚于今天。"})
    if on < member.join_date:
        raise ValidationError({"status_changed_on": "日期不能早于入党日期。"})
    old_status = member.status
    member.status = status
    member.status_changed_on = on
    # The reason the history row keeps (at most 100 characters) is the one the audit record shows.
    history_reason = (reason.strip() or f"党籍状态变更为{Status(status).label}")[:100]
    set_history(member, by, history_reason)
    member.version += 1
    member.save()
    audit_record(
        action=AuditAction.STATUS_CHANGE,
        actor=acting_user(by),
        obj=member,
        detail={"from": old_status, "to": status, "on": on.isoformat(), "reason": history_reason},
    )
    return member


@service
def party_post_add(
    *, by, member: Member, organization: Organization, post: str, start_date: dt.date, end_date=None
) -> PartyPost:
    """Record a post (书记/副书记/委员) the member holds in an organization of the actor's scope."""
    access = access_for(by)
    _check_can_edit_in(access, member.organization)
    _check_can_edit_in(access, organization)
    party_post = PartyPost(
        member=member, organization=organization, post=post, start_date=start_date, end_date=end_date
    )
    party_post.full_clean()
    party_post.save()
    return party_post


@service
def party_post_end(*, by, party_post: PartyPost, end_date: dt.date) -> PartyPost:
    """Close a post's term (离任) on `end_date`; the post stays in the member's record."""
    access = access_for(by)
    party_post = PartyPost.objects.select_for_update().select_related("organization").get(pk=party_post.pk)
    _check_can_edit_in(access, party_post.organization)
    party_post.end_date = end_date
    party_post.full_clean()
    party_post.save()
    return party_post


# ---------------------------------------------------------------------------------------------------------
# Probationary → full (预备党员转正)


@service
def member_make_full(
    *, by, member: Member, on: dt.date, reason: str = "", expected_version: int | None = None
) -> Member:
    """Make a probationary member a full member (预备党员转正) on `on`: after the join date, not in the future."""
    access = access_for(by)
    member = _lock(member)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    if member.category != Category.PROBATIONARY:
        raise ValidationError("该党员已是正式党员，无需转正。", code="already_full")
    if member.status != Status.ACTIVE:
        raise ValidationError(
            "只有党籍状态为“正常”的预备党员才能转正（该党员为“%(status)s”）。",
            code="not_active",
            params={"status": member.get_status_display()},
        )
    if on is None:
        raise ValidationError({"full_date": "请填写转正日期。"})
    if on > timezone.localdate():
        raise ValidationError({"full_date": "转正日期不能晚于今天。"})
    if on <= member.join_date:
        raise ValidationError({"full_date": f"转正日期必须晚于入党日期（{member.join_date:%Y-%m-%d}）。"})
    member.category = Category.FULL
    member.full_date = on
    member.full_clean()
    set_history(member, by, reason.strip() or "预备党员转为正式党员")
    member.version += 1
    member.save()
    audit_record(
        action=AuditAction.STATUS_CHANGE,
        actor=acting_user(by),
        obj=member,
        detail={"from": Category.PROBATIONARY, "to": Category.FULL, "on": on.isoformat()},
    )
    return member


# ---------------------------------------------------------------------------------------------------------
# Transfers of the organizational relationship (组织关系接转)

NOT_ACTIVE_FOR_TRANSFER = "只有党籍状态为“正常”的党员才能转接组织关系（该党员为“%(status)s”）。"


def _check_transferable(member: Member) -> None:
    if member.status != Status.ACTIVE:
        raise ValidationError(
            NOT_ACTIVE_FOR_TRANSFER, code="not_active", params={"status": member.get_status_display()}
        )
    _check_no_pending_transfer(member)


def _save_transfer(transfer: MemberTransfer, by) -> MemberTransfer:
    """Save a transfer record; a second pending transfer of the member, started concurrently, loses to the
    database's partial unique constraint."""
    set_history(transfer, by)
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        raise ValidationError("该党员已有一笔正在办理的组织关系转接。", code="transfer_pending") from None
    return transfer


def _check_date(on: dt.date | None, member: Member | None, *, field: str, label: str) -> dt.date:
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})
    if member is not None and member.join_date and on < member.join_date:
        raise ValidationError({field: f"{label}不能早于入党日期（{member.join_date:%Y-%m-%d}）。"})
    return on


@service
def member_transfer_start(
    *,
    by,
    member: Member,
    to_organization: Organization | None,
    letter_number: str = "",
    expected_version: int | None = None,
) -> MemberTransfer:
    """Start a transfer inside the system (系统内转接): the sending side (who may edit the member) names the
    receiving branch, which may lie outside the sender's scope. Until the receiving side accepts or returns
    it the member is 转接中: still in the sending organization, seen read-only by the receiving side."""
    access = access_for(by)
    member = _lock(member)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    _check_transferable(member)
    if to_organization is None:
        raise ValidationError({"to_organization": "请选择接收党组织。"})
    if to_organization.pk == member.organization_id:
        raise ValidationError({"to_organization": "接收党组织不能是该党员当前所在的党组织。"})
    if to_organization.kind not in BRANCH_KINDS:
        raise ValidationError(
            {
                "to_organization": "接收党组织必须是党支部、联合党支部或临时党支部"
                f"（“{to_organization.name}”是{to_organization.get_kind_display()}）。"
            }
        )
    transfer = MemberTransfer(
        member=member,
        kind=TransferKind.INTERNAL,
        status=TransferStatus.PENDING,
        from_organization=member.organization,
        to_organization=to_organization,
        letter_number=(letter_number or "").strip(),
        transfer_date=timezone.localdate(),
        started_by=acting_user(by),
        started_at=timezone.now(),
    )
    transfer.full_clean(validate_constraints=False)
    _save_transfer(transfer, by)
    audit_record(
        action=AuditAction.CREATE,
        actor=acting_user(by),
        obj=transfer,
        detail={
            "member": member.pk,
            "kind": TransferKind.INTERNAL,
            "from": member.organization.code,
            "to": to_organization.code,
        },
    )
    return transfer


def _lock_pending(transfer: MemberTransfer, access, *, action: str) -> tuple[MemberTransfer, Member]:
    """Lock the member, then the transfer (the order every transfer service takes), and check that the
    transfer is still pending and that the actor may decide it (the receiving side)."""
    member = _lock(transfer.member)
    transfer = (
        MemberTransfer.objects.select_for_update(of=("self",))  # the organizations are joined, not locked
        .select_related("from_organization", "to_organization")
        .get(pk=transfer.pk)
    )
    if transfer.to_organization is None or not access.can_edit_member_in(transfer.to_organization):
        raise PermissionDenied(f"只有接收党组织可以{action}该转接。")
    if transfer.status != TransferStatus.PENDING:
        raise ValidationError(
            "该转接已办理（%(status)s），不能再%(action)s。",
            code="not_pending",
            params={"status": transfer.get_status_display(), "action": action},
        )
    return transfer, member


@service
def member_transfer_accept(*, by, transfer: MemberTransfer) -> MemberTransfer:
    """The receiving side accepts: the member moves to the receiving organization, join dates unchanged."""
    access = access_for(by)
    transfer, member = _lock_pending(transfer, access, action="接收")
    # _lock_pending refuses a transfer with no receiving organization.
    assert transfer.to_organization is not None
    member.organization = transfer.to_organization
    set_history(member, by, "组织关系转入")
    member.version += 1
    member.save()
    transfer.status = TransferStatus.ACCEPTED
    transfer.decided_by = acting_user(by)
    transfer.decided_at = timezone.now()
    _save_transfer(transfer, by)
    audit_record(
        action=AuditAction.UPDATE,
        actor=acting_user(by),
        obj=member,
        detail={
            "fields": ["organization"],
            "transfer": transfer.pk,
            "event": TransferStatus.ACCEPTED,
            "from": transfer.from_organization.code if transfer.from_organization else "",
            "to": transfer.to_organization.code,
        },
    )
    return transfer


@service
def member_transfer_return(*, by, transfer: MemberTransfer, reason: str) -> MemberTransfer:
    """The receiving side returns the transfer with a reason (退回): the member stays where they are."""
    access = access_for(by)
    transfer, _member = _lock_pending(transfer, access, action="退回")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退回原因。"})
    if len(reason) > 200:
        raise ValidationError({"reason": "退回原因不能超过200个字。"})
    transfer.status = TransferStatus.RETURNED
    transfer.reason = reason
    transfer.decided_by = acting_user(by)
    transfer.decided_at = timezone.now()
    _save_transfer(transfer, by)
    audit_record(
        action=AuditAction.UPDATE,
        actor=acting_user(by),
        obj=transfer,
        detail={"member": transfer.member_id, "event": TransferStatus.RETURNED, "reason": reason},
    )
    return transfer


def _required_text(value: str, *, field: str, message: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    if len(value) > max_length:
        raise ValidationError({field: f"不能超过{max_length}个字。"})
    return value


@service
def member_transfer_out(
    *,
    by,
    member: Member,
    destination: str,
    letter_number: str,
    on: dt.date | None = None,
    expected_version: int | None = None,
) -> MemberTransfer:
    """Transfer a member out of the system (转出系统外): record the destination and the introduction letter;
    the member's status becomes 转出 on `on`. The record is kept."""
    access = access_for(by)
    member = _lock(member)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    _check_transferable(member)
    destination = _required_text(
        destination, field="external_organization", message="请填写转往的党组织。", max_length=200
    )
    letter_number = _required_text(letter_number, field="letter_number", message="请填写介绍信编号。", max_length=50)
    on = _check_date(on, member, field="transfer_date", label="转出日期")
    member_change_status(
        by=by,
        member=member,
        status=Status.TRANSFERRED_OUT,
        on=on,
        reason=f"组织关系转出至{destination}（介绍信编号{letter_number}）",
    )
    now = timezone.now()
    transfer = MemberTransfer(
        member=member,
        kind=TransferKind.OUTGOING,
        status=TransferStatus.COMPLETED,
        from_organization=member.organization,
        external_organization=destination,
        letter_number=letter_number,
        transfer_date=on,
        started_by=acting_user(by),
        started_at=now,
        decided_by=acting_user(by),
        decided_at=now,
    )
    transfer.full_clean(validate_constraints=False)
    _save_transfer(transfer, by)
    audit_record(
        action=AuditAction.CREATE,
        actor=acting_user(by),
        obj=transfer,
        detail={"member": member.pk, "kind": TransferKind.OUTGOING, "from": member.organization.code},
    )
    return transfer


@service
def member_register_incoming(
    *, by, origin: str, letter_number: str, on: dt.date | None = None, **fields
) -> tuple[Member, MemberTransfer]:
    """Register a member whose relationship comes from outside the system (从系统外转入): the member (through
    member_create, with all its rules) and the incoming transfer record, in one transaction."""
    origin = _required_text(origin, field="external_organization", message="请填写原所在党组织。", max_length=200)
    letter_number = _required_text(letter_number, field="letter_number", message="请填写介绍信编号。", max_length=50)
    on = _check_date(on, None, field="transfer_date", label="转入日期")
    join_date = fields.get("join_date")
    if join_date and on < join_date:
        raise ValidationError({"transfer_date": f"转入日期不能早于入党日期（{join_date:%Y-%m-%d}）。"})
    member = member_create(by=by, reason=f"从系统外转入（{origin}）", **fields)
    now = timezone.now()
    transfer = MemberTransfer(
        member=member,
        kind=TransferKind.INCOMING,
        status=TransferStatus.COMPLETED,
        to_organization=member.organization,
        external_organization=origin,
        letter_number=letter_number,
        transfer_date=on,
        started_by=acting_user(by),
        started_at=now,
        decided_by=acting_user(by),
        decided_at=now,
    )
    transfer.full_clean(validate_constraints=False)
    _save_transfer(transfer, by)
    audit_record(
        action=AuditAction.CREATE,
        actor=acting_user(by),
        obj=transfer,
        detail={"member": member.pk, "kind": TransferKind.INCOMING, "to": member.organization.code},
    )
    return member, transfer
