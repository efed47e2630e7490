"""The hours ledger (学时台账): every credit, reversal and correction, and the yearly totals kept beside it.

Rules (docs/rules.md, "Rules and numbers from the seeds"; Huangpi: hours are registered per cadre): hours come in
steps of 0.5; an entry is never edited in place — a correction is a reversing entry plus a new one; manual (手工补录)
and external (外部认定) credits need a reason; a member's total for a year is the sum of their entries. Every function
here writes the entries AND updates `MemberHoursYear` in the same transaction, so reports read the totals and never
re-add the ledger (`verify_hours` proves the two agree).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Expression, F, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service
from dangjian.training.models import (
    HALF,
    KIND_FIELDS,
    KINDS_NEEDING_REASON,
    HoursEntry,
    HoursKind,
    MemberHoursYear,
)
from dangjian.training.services.year_close import check_open

MAX_ENTRY_HOURS = Decimal("200")


def check_hours(hours, *, field: str = "hours", limit: Decimal | None = None, allow_negative: bool = False) -> Decimal:
    """Hours as a Decimal in steps of 0.5, positive (unless `allow_negative`), at most `limit`."""
    try:
        value = Decimal(str(hours))
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError({field: "学时应为数字。"}) from None
    if not value.is_finite():
        raise ValidationError({field: "学时应为数字。"})
    if value <= 0 and not allow_negative:
        raise ValidationError({field: "学时必须大于0。"})
    if (value / HALF) != (value / HALF).to_integral_value():
        raise ValidationError({field: "学时应为0.5的整数倍（如1、1.5、2）。"})
    cap = limit if limit is not None else MAX_ENTRY_HOURS
    if abs(value) > cap:
        raise ValidationError({field: f"学时不能超过{cap}。"})
    return value


@dataclass(frozen=True)
class Credit:
    """One credit to write: what `hours_credit_many` takes."""

    member_id: int
    on: dt.date
    hours: Decimal
    kind: str
    session_id: int | None = None
    course_id: int | None = None
    document: str = ""
    reason: str = ""
    source: str = ""  # another platform's name (hours imported from elsewhere)
    title: str = ""  # the course's title there


def _apply_totals(deltas: dict[tuple[int, int], dict[str, Decimal]], last_on: dict[tuple[int, int], dt.date]) -> None:
    """Add each (member, year)'s hours by kind to its MemberHoursYear row (created when missing), with F()
    updates so that concurrent writers add up instead of overwriting each other."""
    keys = list(deltas)
    MemberHoursYear.objects.bulk_create(
        [MemberHoursYear(member_id=member_id, year=year) for member_id, year in keys], ignore_conflicts=True
    )
    for key in keys:
        member_id, year = key
        by_kind = deltas[key]
        changes: dict[str, Expression] = {
            KIND_FIELDS[kind]: F(KIND_FIELDS[kind]) + delta for kind, delta in by_kind.items()
        }
        changes["total"] = F("total") + sum(by_kind.values(), Decimal("0"))
        on = last_on.get(key)
        if on is not None:
            # Coalesce: SQLite's MAX() of a NULL is NULL, PostgreSQL's GREATEST ignores it.
            changes["last_entry_on"] = Greatest(Coalesce(F("last_entry_on"), Value(on)), Value(on))
        MemberHoursYear.objects.filter(member_id=member_id, year=year).update(**changes)


def _write(entries: list[HoursEntry]) -> list[HoursEntry]:
    # A year the committee has closed (学时年度关账) takes no more entries: its signed figures never change.
    check_open({(entry.member_id, entry.year) for entry in entries})
    created = HoursEntry.objects.bulk_create(entries)
    deltas: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    last_on: dict[tuple[int, int], dt.date] = {}
    for entry in created:
        key = (entry.member_id, entry.year)
        deltas[key][entry.kind] += entry.hours
        if entry.hours > 0:
            last_on[key] = max(last_on.get(key, entry.date), entry.date)
    _apply_totals(deltas, last_on)
    return created


def _check_credit(credit: Credit, *, today: dt.date) -> None:
    if credit.kind not in HoursKind.values:
        raise ValidationError({"kind": "学时类型无效。"})
    if credit.on > today:
        raise ValidationError({"date": "日期不能晚于今天。"})
    if credit.kind in KINDS_NEEDING_REASON and not credit.reason.strip():
        raise ValidationError({"reason": f"{HoursKind(credit.kind).label}须填写原因。"})


@service
def hours_credit_many(*, by, credits: list[Credit]) -> list[HoursEntry]:
    """Write many credits at once (closing a session credits every attendee): one INSERT for the entries, one
    statement per member-year for the totals. The caller has checked scope; hours are checked here."""
    today = timezone.localdate()
    user = acting_user(by)
    entries = []
    for credit in credits:
        hours = check_hours(credit.hours)
        _check_credit(credit, today=today)
        entries.append(
            HoursEntry(
                member_id=credit.member_id,
                year=credit.on.year,
                date=credit.on,
                hours=hours,
                kind=credit.kind,
                session_id=credit.session_id,
                course_id=credit.course_id,
                document=credit.document[:200],
                reason=credit.reason.strip()[:200],
                source=credit.source.strip()[:100],
                title=credit.title.strip()[:200],
                recorded_by=user,
            )
        )
    return _write(entries)


@service
def hours_credit(
    *,
    by,
    member,
    on: dt.date,
    hours,
    kind: str,
    session=None,
    course=None,
    document: str = "",
    reason: str = "",
) -> HoursEntry:
    """Credit one member (手工补录, 外部认定, 网络学习 …). `by` must be able to edit the member (a committee or branch
    role over the member's organization); manual and external credits need a reason."""
    access = access_for(by)
    if not access.can_edit_member_in(member.organization):
        raise PermissionDenied("您无权为该党员登记学时。")
    credit = Credit(
        member_id=member.pk,
        on=on,
        hours=hours,
        kind=kind,
        session_id=getattr(session, "pk", None),
        course_id=getattr(course, "pk", None),
        document=document or "",
        reason=reason or "",
    )
    return hours_credit_many(by=by, credits=[credit])[0]


@service
def hours_reverse(*, by, entry: HoursEntry, reason: str) -> HoursEntry:
    """Reverse an entry (冲销): a new entry with the negated hours pointing at it. An entry is reversed at most once,
    and a reversing entry is not reversed itself; a reason is required."""
    entry = HoursEntry.objects.select_for_update().select_related("member__organization").get(pk=entry.pk)
    if not access_for(by).can_edit_member_in(entry.member.organization):
        raise PermissionDenied("您无权更正该党员的学时。")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写更正原因。"})
    if entry.reverses_id is not None:
        raise ValidationError("冲销记录不能再次冲销。")
    if HoursEntry.objects.filter(reverses=entry).exists():
        raise ValidationError("该学时记录已冲销，不能重复冲销。")
    reversal = HoursEntry(
        member_id=entry.member_id,
        year=entry.year,
        date=entry.date,
        hours=-entry.hours,
        kind=entry.kind,
        session_id=entry.session_id,
        course_id=entry.course_id,
        document=entry.document,
        source=entry.source,
        title=entry.title,
        reason=reason[:200],
        reverses=entry,
        recorded_by=acting_user(by),
    )
    return _write([reversal])[0]


@service
def hours_correct(*, by, entry: HoursEntry, hours, reason: str) -> tuple[HoursEntry, HoursEntry]:
    """Correct an entry's hours (更正): reverse it and write a new entry with the right hours, same source."""
    new_hours = check_hours(hours)
    reversal = hours_reverse(by=by, entry=entry, reason=reason)
    corrected = HoursEntry(
        member_id=entry.member_id,
        year=entry.year,
        date=entry.date,
        hours=new_hours,
        kind=entry.kind,
        session_id=entry.session_id,
        course_id=entry.course_id,
        document=entry.document,
        source=entry.source,
        title=entry.title,
        reason=(reason or "").strip()[:200],
        recorded_by=acting_user(by),
    )
    return reversal, _write([corrected])[0]


@service
def hours_reverse_many(*, by, entries: list[HoursEntry], reason: str) -> list[HoursEntry]:
    """Reverse several entries at once (冲销), for a source that withdraws what it credited (an organizational-life
    record whose attendance or hours changed). The caller has checked scope over the source; each entry is
    reversed at most once, and reversing entries are not reversed themselves."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写更正原因。"})
    pks = [entry.pk for entry in entries]
    locked = list(HoursEntry.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    if any(entry.reverses_id is not None for entry in locked):
        raise ValidationError("冲销记录不能再次冲销。")
    if HoursEntry.objects.filter(reverses__in=pks).exists():
        raise ValidationError("该学时记录已冲销，不能重复冲销。")
    user = acting_user(by)
    return _write(
        [
            HoursEntry(
                member_id=entry.member_id,
                year=entry.year,
                date=entry.date,
                hours=-entry.hours,
                kind=entry.kind,
                session_id=entry.session_id,
                course_id=entry.course_id,
                document=entry.document,
                source=entry.source,
                title=entry.title,
                reason=reason[:200],
                reverses=entry,
                recorded_by=user,
            )
            for entry in locked
        ]
    )
