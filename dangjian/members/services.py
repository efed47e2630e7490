"""State changes of member records. Pages, commands and imports all call these functions."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.members.models import Member, PartyPost, Status
from dangjian.orgs.models import Organization

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


@transaction.atomic
def member_create(*, by, **fields) -> Member:
    """Register a member in an organization of the actor's scope (validated by Member.clean)."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise TypeError(f"member_create does not take {sorted(unknown)}")
    access = access_for(by)
    member = Member(**fields)
    _check_can_edit_in(access, member.organization)
    member.full_clean()
    _save_unique(member)
    audit_record(
        action=AuditAction.CREATE, actor=_actor(by), obj=member, detail={"organization": member.organization.code}
    )
    return member


def _actor(by):
    """The user behind `by` (a user or an Access); None lets the audit read the request context."""
    return None if hasattr(by, "view_roots") else by


def _save_unique(member: Member) -> None:
    """Save, bumping the version; a concurrent registration of the same ID number loses to the unique
    constraint."""
    if member.pk is not None:
        member.version += 1
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise ValidationError({"id_number": "该公民身份号码已登记为党员，不能重复登记。"}) from None


STALE_MESSAGE = "该党员的信息已被他人修改，您的修改未保存。请刷新页面查看最新信息后重新修改。"


def _check_version(member: Member, expected_version: int | None) -> None:
    """Refuse a change made on an outdated copy (two people editing the same member)."""
    if expected_version is not None and member.version != expected_version:
        raise ValidationError(STALE_MESSAGE, code="stale")


@transaction.atomic
def member_update(*, by, member: Member, expected_version: int | None = None, **fields) -> Member:
    """Change a member's record. Moving to another organization stays inside the actor's scope:
    both the old and the new organization must be editable by the actor. Status has its own service.

    `expected_version` is the version the user's form was built from: if someone saved in between, the
    change is refused rather than silently overwriting theirs."""
    unknown = set(fields) - MEMBER_FIELDS
    if unknown:
        raise TypeError(f"member_update does not change {sorted(unknown)}")
    access = access_for(by)
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    before = {name: getattr(member, name) for name in fields}
    for name, value in fields.items():
        setattr(member, name, value)
    _check_can_edit_in(access, member.organization)
    member.full_clean()
    _save_unique(member)
    changed = sorted(name for name, value in fields.items() if before[name] != value)
    # Field names only: values (an ID number among them) never enter the audit trail.
    audit_record(action=AuditAction.UPDATE, actor=_actor(by), obj=member, detail={"fields": changed})
    return member


@transaction.atomic
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
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    _check_can_edit_in(access, member.organization)
    _check_version(member, expected_version)
    if status not in Status.values:
        raise ValidationError({"status": "无效的党籍状态。"})
    if status == member.status:
        raise ValidationError({"status": "党籍状态没有变化。"})
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise ValidationError({"status_changed_on": "日期不能晚于今天。"})
    if on < member.join_date:
        raise ValidationError({"status_changed_on": "日期不能早于入党日期。"})
    old_status = member.status
    member.status = status
    member.status_changed_on = on
    member._change_reason = reason.strip()[:100] or f"党籍状态变更为{Status(status).label}"
    member.version += 1
    member.save()
    audit_record(
        action=AuditAction.STATUS_CHANGE,
        actor=_actor(by),
        obj=member,
        detail={"from": old_status, "to": status, "on": on.isoformat(), "reason": member._change_reason},
    )
    return member


@transaction.atomic
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


@transaction.atomic
def party_post_end(*, by, party_post: PartyPost, end_date: dt.date) -> PartyPost:
    """Close a post's term (离任) on `end_date`; the post stays in the member's record."""
    access = access_for(by)
    party_post = PartyPost.objects.select_for_update().select_related("organization").get(pk=party_post.pk)
    _check_can_edit_in(access, party_post.organization)
    party_post.end_date = end_date
    party_post.full_clean()
    party_post.save()
    return party_post
