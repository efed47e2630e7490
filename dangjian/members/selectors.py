"""Read-side queries of member records: the roster, who may see full ID numbers, a member's timeline
(变更记录) and the transfers (组织关系接转) each side sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db.models import BooleanField, Case, Exists, F, Field, OuterRef, QuerySet, Subquery, When
from django.utils import timezone

from dangjian.accounts.access import Access, access_for
from dangjian.members.models import (
    Category,
    Flag,
    Member,
    MemberFlagChange,
    MemberTransfer,
    MemberTransferQuerySet,
    Status,
    TransferKind,
    TransferStatus,
    overdue_days,
)
from dangjian.orgs.models import Organization, subtree_q

# ---------------------------------------------------------------------------------------------------------
# Flags as they were (a closed period's reports read the flags of the time: docs/rules.md, "How the rules combine")


def _after(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def flag_changes_after(flag: str, day: dt.date) -> QuerySet[MemberFlagChange]:
    """The changes of `flag` made after the end of `day`: each member's first one says what the flag was then."""
    return MemberFlagChange.objects.filter(flag=flag, changed_at__gte=_after(day))


def flag_on(flag: str, day: dt.date):
    """An expression over member rows: the value `flag` (a `Flag`) had at the end of `day`.

    Members re-categorized since (a hashed IN, built once) read the `was` of their first change after the day; all
    the others read their column, so a report stays one query and pays only for the few who changed."""
    Flag(flag)  # only the flags whose changes are kept
    if day >= timezone.localdate():
        return F(flag)
    later = flag_changes_after(flag, day)
    first = later.filter(member=OuterRef("pk")).order_by("changed_at", "pk").values("was")[:1]
    return Case(
        When(pk__in=later.values("member_id"), then=Subquery(first)),
        default=F(flag),
        output_field=BooleanField(),
    )


def flag_of(member: Member, flag: str, day: dt.date) -> bool:
    """`flag_on` for one member."""
    if day >= timezone.localdate():
        return getattr(member, flag)
    first = flag_changes_after(flag, day).filter(member_id=member.pk).order_by("changed_at", "pk").first()
    return first.was if first is not None else getattr(member, flag)


def members_flagged_on(flag: str, day: dt.date) -> QuerySet[Member]:
    """The members whose `flag` was set at the end of `day` (for an IN over member ids)."""
    return Member.objects.dangerously_all().alias(_flag_then=flag_on(flag, day)).filter(_flag_then=True)


def member_list(*, user) -> QuerySet[Member]:
    """The members the user may see, ready for a list page: one query for the rows whatever the page size.
    Each row says whether its transfer is pending (转接中)."""
    pending = MemberTransfer.objects.dangerously_all().pending().filter(member=OuterRef("pk"))
    return (
        Member.objects.visible_to(user)
        .select_related("organization")
        .annotate(in_transfer=Exists(pending))
        .order_by("name", "pk")
    )


# ---------------------------------------------------------------------------------------------------------
# Full ID numbers (and phones): one rule for the page's reveal and for the export.


def full_id_roots(access: Access) -> tuple[str, ...]:
    """The subtrees over which the user holds a role granted full ID numbers (DANGJIAN_FULL_ID_ROLES)."""
    return tuple(root for role in settings.DANGJIAN_FULL_ID_ROLES for root in access.role_roots.get(role, ()))


def may_see_full_id_of(access: Access, roots: tuple[str, ...], member: Member) -> bool:
    """The rule itself, for callers that check many members with the same access and roots."""
    if member.user_id is not None and member.user_id == access.user_id:
        return True
    return access.covers(member.organization.path, roots)


def may_see_full_id(*, user, member: Member) -> bool:
    """Full ID numbers: for the roles granted it over the member's organization, and for the member themself."""
    access = access_for(user)
    return may_see_full_id_of(access, full_id_roots(access), member)


# ---------------------------------------------------------------------------------------------------------
# A member's timeline (变更记录)

# Bookkeeping fields a reader does not care about; the digest is shown once, as the ID number itself.
_QUIET_FIELDS = frozenset({"id_number_digest", "version", "updated_at", "created_at"})
# Fields whose old and new values are shown (they hold no personal data); the others by name only.
_SHOWN_VALUES = frozenset({"status", "category", "organization"})


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    who: str
    kind: str  # 登记 / 修改 / 党籍状态 / 转正 / 发起转接 / 接收转接 / 退回转接 / 转出系统外 / 从系统外转入
    text: str
    reason: str = ""


def _who(user) -> str:
    if user is None:
        return "系统"
    return user.get_full_name() or user.get_username()


def member_history(*, member: Member, limit: int = 50) -> list[dict]:
    """The member's change history, newest first, each record with its field changes (bookkeeping fields left
    out)."""
    records = list(member.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    rows: list[dict] = []
    for newer, older in zip(records, [*records[1:], None], strict=True):
        changes = []
        if older is not None and len(rows) < limit:
            delta = newer.diff_against(older)
            changes = [change for change in delta.changes if change.field not in _QUIET_FIELDS]
        rows.append({"record": newer, "changes": changes})
    return rows[:limit]


def _history_entries(member: Member, limit: int) -> list[TimelineEntry]:
    rows = member_history(member=member, limit=limit)
    org_ids = {
        value
        for row in rows
        for change in row["changes"]
        if change.field == "organization"
        for value in (change.old, change.new)
    }
    org_names = dict(Organization.objects.dangerously_all().filter(pk__in=org_ids).values_list("pk", "name"))
    values = {"status": dict(Status.choices), "category": dict(Category.choices), "organization": org_names}

    def shown(change) -> str:
        names = values[change.field]
        return f"{names.get(change.old, '—')} → {names.get(change.new, '—')}"

    entries = []
    for row in rows:
        record = row["record"]
        changes = {change.field: change for change in row["changes"]}
        if record.history_type == "+":
            kind, text = "登记", "新建党员记录"
        elif "status" in changes:
            kind = "党籍状态"
            text = shown(changes.pop("status"))
            if record.status_changed_on:
                text += f"，变更日期{record.status_changed_on:%Y-%m-%d}"
            changes.pop("status_changed_on", None)
        elif "category" in changes and record.category == Category.FULL:
            kind = "转正"
            text = shown(changes.pop("category"))
            if record.full_date:
                text += f"，转正日期{record.full_date:%Y-%m-%d}"
            changes.pop("full_date", None)
        else:
            kind, text = "修改", ""
        if record.history_type != "+" and changes:
            # Other fields by name; values only for those that hold no personal data.
            parts = []
            for name, change in changes.items():
                # A history diff names concrete fields only, never a reverse relation.
                label = str(cast(Field, Member._meta.get_field(name)).verbose_name)
                parts.append(f"{label}（{shown(change)}）" if name in _SHOWN_VALUES else label)
            text = (text + "；另修改" if text else "") + "、".join(parts)
        entries.append(
            TimelineEntry(
                at=record.history_date,
                who=_who(record.history_user),
                kind=kind,
                text=text or "无字段变化",
                reason=record.history_change_reason or "",
            )
        )
    return entries


def _transfer_entries(member: Member) -> list[TimelineEntry]:
    transfers = member.transfers.select_related("from_organization", "to_organization", "started_by", "decided_by")
    entries = []
    for t in transfers:
        letter = f"，介绍信编号{t.letter_number}" if t.letter_number else ""
        if t.kind == TransferKind.INTERNAL:
            # An internal transfer always names its receiving organization (a check constraint).
            assert t.to_organization is not None
            source = t.from_organization.name if t.from_organization else "—"
            started = f"{source} → {t.to_organization.name}{letter}"
            entries.append(TimelineEntry(at=t.started_at, who=_who(t.started_by), kind="发起转接", text=started))
            # A decided transfer has its decided_at, written with the decision.
            if t.status == TransferStatus.ACCEPTED:
                assert t.decided_at is not None
                text = f"转入{t.to_organization.name}"
                entries.append(TimelineEntry(at=t.decided_at, who=_who(t.decided_by), kind="接收转接", text=text))
            elif t.status == TransferStatus.RETURNED:
                assert t.decided_at is not None
                text = f"{t.to_organization.name}退回"
                entries.append(
                    TimelineEntry(at=t.decided_at, who=_who(t.decided_by), kind="退回转接", text=text, reason=t.reason)
                )
        elif t.kind == TransferKind.OUTGOING:
            text = f"转往{t.external_organization}{letter}，转出日期{t.transfer_date:%Y-%m-%d}"
            entries.append(TimelineEntry(at=t.started_at, who=_who(t.started_by), kind="转出系统外", text=text))
        else:
            text = f"来自{t.external_organization}{letter}，转入日期{t.transfer_date:%Y-%m-%d}"
            entries.append(TimelineEntry(at=t.started_at, who=_who(t.started_by), kind="从系统外转入", text=text))
    return entries


def member_timeline(*, member: Member, limit: int = 100) -> list[TimelineEntry]:
    """Everything that happened to the member, newest first, with who and when: registration (by hand,
    import or transfer in), field edits (by field name: values such as the ID number are never shown),
    status changes, becoming a full member, and each step of their transfers. A fixed number of queries."""
    entries = _history_entries(member, limit) + _transfer_entries(member)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


# ---------------------------------------------------------------------------------------------------------
# Transfers (组织关系接转)


def _transfers(user) -> MemberTransferQuerySet:
    return MemberTransfer.objects.visible_to(user).select_related(
        "member__organization", "from_organization", "to_organization", "started_by", "decided_by"
    )


def _side(access: Access, field: str):
    return None if access.system else subtree_q(access.view_roots, f"{field}__path")


def transfers_incoming_pending(*, user) -> QuerySet[MemberTransfer]:
    """Pending transfers into the user's subtrees: theirs to accept or return."""
    access = access_for(user)
    qs = _transfers(user).pending()
    side = _side(access, "to_organization")
    return (qs if side is None else qs.filter(side)).order_by("started_at", "pk")


def transfers_outgoing_pending(*, user) -> QuerySet[MemberTransfer]:
    """Pending transfers out of the user's subtrees: waiting for the receiving side."""
    access = access_for(user)
    qs = _transfers(user).pending()
    side = _side(access, "from_organization")
    return (qs if side is None else qs.filter(side)).order_by("started_at", "pk")


def transfers_recent(*, user) -> QuerySet[MemberTransfer]:
    """Every transfer the user may see, newest first (for a paginated list)."""
    return _transfers(user).order_by("-started_at", "-pk")


def transfers_overdue_for(*, user, now: dt.datetime | None = None) -> QuerySet[MemberTransfer]:
    """Pending transfers started more than DANGJIAN_TRANSFER_OVERDUE_DAYS ago, on both sides of the user's
    scope (sending and receiving), oldest first: the to-do list's reminders."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=overdue_days())
    return _transfers(user).pending().filter(started_at__lt=cutoff).order_by("started_at", "pk")


def member_visible_in_transfer(access: Access, transfer: MemberTransfer) -> bool:
    """Whether the transfer's member page opens for the user (no query: the member's organization is loaded)."""
    member = transfer.member
    if access.system or (member.user_id is not None and member.user_id == access.user_id):
        return True
    if access.covers(member.organization.path, access.view_roots):
        return True
    if not transfer.is_pending:
        return False
    # Only an internal transfer is ever pending, and an internal one always names its receiving organization.
    assert transfer.to_organization is not None
    return access.covers(transfer.to_organization.path, access.view_roots)


# ---------------------------------------------------------------------------------------------------------
# Members named in an uploaded list (hours from elsewhere, a class's roster): by ID number, or by name and organization

MSG_MEMBER_BY_ID = "找不到该公民身份号码的党员，或该党员不在您的管理范围内。"
MSG_MEMBER_BY_NAME = "在党组织“{org}”中找不到姓名为“{name}”的党员，或该党员不在您的管理范围内。"
MSG_MEMBER_NAME_SHARED = "党组织“{org}”中有{count}名党员姓名为“{name}”：请改填公民身份号码。"
MSG_MEMBER_UNNAMED = "请填写公民身份号码，或同时填写姓名和所在党组织。"


@dataclass(frozen=True)
class MemberReference:
    """One row's way of naming a member: an ID number (its blind index), or a name with an organization (a code, a
    name or 名称（编码）)."""

    digest: str = ""
    name: str = ""
    organization: str = ""


@dataclass(frozen=True)
class NamedMember:
    pk: int
    name: str
    status: str
    path: str  # the member's organization's path


def members_named(
    references: dict[int, MemberReference], *, within: QuerySet[Member], organizations: QuerySet[Organization]
) -> tuple[dict[int, NamedMember], dict[int, tuple[str, str]]]:
    """Resolve each row's reference among `within` (the uploader's scope): by the ID number's blind index when it has
    one, else by name inside the organization named (resolved in `organizations`, the uploader's scope of
    organizations: `orgs.selectors.organizations_named`). Returns the members found by row, and by row (the column, the
    message) of every reference that names nobody, or more than one — a member outside the scope reads exactly like
    one who does not exist. A fixed number of queries, whatever the number of rows."""
    from dangjian.core.bulk import values_table
    from dangjian.orgs.selectors import organizations_named

    found: dict[int, NamedMember] = {}
    errors: dict[int, tuple[str, str]] = {}
    fields = ("pk", "name", "status", "organization__path")
    digests = sorted({ref.digest for ref in references.values() if ref.digest})
    by_digest: dict[str, NamedMember] = {}
    if digests:
        rows = within.filter(id_number_digest__in=values_table(digests)).values_list("id_number_digest", *fields)
        by_digest = {digest: NamedMember(*values) for digest, *values in rows}
    by_name = {row: ref for row, ref in references.items() if not ref.digest}
    orgs, org_errors = organizations_named({ref.organization for ref in by_name.values()}, within=organizations)
    pairs = {(orgs[ref.organization].pk, ref.name) for ref in by_name.values() if ref.organization in orgs and ref.name}
    named: dict[tuple[int, str], list[NamedMember]] = {}
    if pairs:
        names = sorted({name for _, name in pairs})
        org_ids = sorted({org_id for org_id, _ in pairs})
        rows = within.filter(organization_id__in=org_ids, name__in=values_table(names)).values_list(
            "organization_id", *fields
        )
        for org_id, *values in rows:
            named.setdefault((org_id, values[1]), []).append(NamedMember(*values))
    for row, ref in references.items():
        if ref.digest:
            member = by_digest.get(ref.digest)
            if member is None:
                errors[row] = ("公民身份号码", MSG_MEMBER_BY_ID)
            else:
                found[row] = member
            continue
        if not ref.name or not ref.organization:
            errors[row] = ("公民身份号码", MSG_MEMBER_UNNAMED)
            continue
        org = orgs.get(ref.organization)
        if org is None:
            errors[row] = ("党组织", org_errors.get(ref.organization, ""))
            continue
        candidates = named.get((org.pk, ref.name), [])
        if len(candidates) == 1:
            found[row] = candidates[0]
        elif candidates:
            errors[row] = ("姓名", MSG_MEMBER_NAME_SHARED.format(org=org.name, count=len(candidates), name=ref.name))
        else:
            errors[row] = ("姓名", MSG_MEMBER_BY_NAME.format(org=org.name, name=ref.name[:20]))
    return found, errors
