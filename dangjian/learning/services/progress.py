"""Progress and the online credit (网络学习计时与学时认定), by effective time (docs/learning.md, "Effective time").

The player page sends a heartbeat every 15 seconds with the playing position (a document's page sends its reading
time). The server credits only real watching between two heartbeats of the page that is earning:
- an interval earns at most the wall-clock time between its heartbeats and at most the position's advance;
- a position that advanced faster than real time (a seek ahead, a faster playback, forged beats) earns nothing;
- an interval longer than `MAX_GAP` earns nothing (the page was hidden, asleep or closed: the page stops its beats
  when hidden, and opens again when shown);
- one page earns at a time: opening the material on another page or device takes over, and the beats of the page
  it took over from are refused;
- the day's counted watching stops at the rule's daily cap.
The parts watched are kept as merged ranges, so watching a part twice counts once towards the course's share. When
the share of the course's tracked material reaches the rule's minimum (default 90%), the course is completed once:
its hours are credited at once to the ledger (kind 网络学习, through `training.services.ledger`) up to the rule's
yearly cap, and a course certificate is issued.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from dangjian.core.services import service
from dangjian.learning.models import (
    CertificateKind,
    CourseCompletion,
    CourseOffer,
    DailyLearning,
    MaterialProgress,
    OnlineMaterial,
    offers_for_member_q,
)
from dangjian.learning.services.certificates import issue_certificate
from dangjian.learning.services.policies import rule_for
from dangjian.orgs.models import ancestor_paths

BEAT_SECONDS = 15
MAX_GAP = 45  # seconds: a longer interval between two heartbeats earns nothing
SPEED_TOLERANCE = 1.1  # the position may run this much ahead of the wall clock (timer jitter) …
SLACK_SECONDS = 2.0  # … plus this
EVENTS = ("open", "beat", "stop")
TAB_RE = re.compile(r"^[A-Za-z0-9-]{8,40}$")
HALF = Decimal("0.5")

NOT_A_MEMBER = "只有党员本人可以记录学习进度。"
NOT_OFFERED = "该课程未向您指派或开放选学，学习进度不予记录。"


@dataclass(frozen=True)
class BeatResult:
    """What a heartbeat answers: whether this page is earning, the seconds credited now, the share watched."""

    accepted: bool
    credited_seconds: int = 0
    share: int = 0
    position: float = 0
    completed: bool = False
    hours: Decimal | None = None
    message: str = ""


def own_member(user):
    """The member record of the account `user` (None for staff without one)."""
    from dangjian.members.models import Member

    user_id = getattr(user, "pk", None)
    if user_id is None:
        return None
    return Member.objects.visible_to(user).filter(user_id=user_id).select_related("organization").first()


def offered_to(member, course_id: int) -> bool:
    paths = [*ancestor_paths([member.organization.path]), member.organization.path]
    return (
        CourseOffer.objects.dangerously_all()  # narrowed to the offers that reach this member
        .filter(offers_for_member_q(member.pk, paths), course_id=course_id)
        .exists()
    )


def merge(ranges: list[list[float]], start: float, end: float) -> list[list[float]]:
    """`ranges` (sorted, disjoint) with [start, end] added and overlapping or touching ranges merged."""
    out: list[list[float]] = []
    for a, b in sorted([*ranges, [start, end]]):
        if out and a <= out[-1][1] + 0.5:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [[round(a, 1), round(b, 1)] for a, b in out]


def covered(ranges: list[list[float]], duration: int) -> int:
    return int(sum(max(0.0, min(b, duration) - max(a, 0.0)) for a, b in ranges))


def course_share(member, course_id: int) -> int:
    """The watched share of the course's tracked material, in whole percent (rounded down)."""
    materials = list(
        OnlineMaterial.objects.dangerously_all()  # the course's material, for a member it is offered to
        .filter(course_id=course_id, active=True, kind__in=("video", "replay", "pdf"))
        .values_list("pk", "duration_seconds")
    )
    total = sum(duration for _, duration in materials)
    if not total:
        return 0
    watched = dict(
        MaterialProgress.objects.dangerously_all()
        .filter(member=member, material_id__in=[pk for pk, _ in materials])
        .values_list("material_id", "watched_seconds")
    )
    seen = sum(min(watched.get(pk, 0), duration) for pk, duration in materials)
    return int(seen * 100 // total)


def _check_input(material: OnlineMaterial, *, tab: str, position, event: str) -> float:
    if event not in EVENTS:
        raise ValidationError({"event": "学习事件无效。"})
    if not isinstance(tab, str) or not TAB_RE.match(tab):
        raise ValidationError({"tab": "学习页面标识无效，请刷新页面。"})
    try:
        value = float(position)
    except (TypeError, ValueError):
        raise ValidationError({"position": "播放位置应为数字（秒）。"}) from None
    if value != value or value < 0 or value > material.duration_seconds + SLACK_SECONDS:  # NaN, negative, past end
        raise ValidationError({"position": f"播放位置应在0到{material.duration_seconds}秒之间。"})
    return min(value, float(material.duration_seconds))


def _daily_allowance(member, day: dt.date, daily_seconds: int | None, wanted: int) -> int:
    if daily_seconds is None:
        return wanted
    used = DailyLearning.objects.filter(member=member, day=day).values_list("seconds", flat=True).first() or 0
    return max(0, min(wanted, daily_seconds - used))


def _count_day(member, day: dt.date, seconds: int) -> None:
    DailyLearning.objects.bulk_create([DailyLearning(member=member, day=day)], ignore_conflicts=True)
    DailyLearning.objects.filter(member=member, day=day).update(seconds=F("seconds") + seconds)


@service
def progress_beat(*, by, material: OnlineMaterial, tab: str, position, event: str = "beat", now=None) -> BeatResult:
    """Record a heartbeat of `by`'s own player page (see the module's rules). `material` has been looked up in `by`'s
    scope; it must belong to a course offered to `by` as a member. Bad input raises ValidationError (nothing
    changed); a page that is not the earning one gets `accepted=False` (nothing credited)."""
    member = own_member(by)
    if member is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if not material.active or not material.tracked:
        raise ValidationError({"material": "该资料不记录学习进度。"})
    if not offered_to(member, material.course_id):
        raise PermissionDenied(NOT_OFFERED)
    value = _check_input(material, tab=tab, position=position, event=event)
    now = now or timezone.now()
    MaterialProgress.objects.get_or_create(member=member, material=material)
    progress = MaterialProgress.objects.select_for_update().get(member=member, material=material)

    if event == "open":
        # This page takes over: the earning page from now on, anchored where it starts playing.
        progress.tab, progress.position, progress.last_beat_at = tab, value, now
        progress.save(update_fields=["tab", "position", "last_beat_at", "updated_at"])
        return BeatResult(True, share=course_share(member, material.course_id), position=value)

    if progress.tab != tab:
        return BeatResult(
            False,
            share=course_share(member, material.course_id),
            position=progress.position,
            message="该课程已在另一个页面或设备上学习，本页面不再计时。",
        )
    if progress.last_beat_at is None:
        return BeatResult(False, position=progress.position, message="请重新开始播放后再计时。")

    elapsed = (now - progress.last_beat_at).total_seconds()
    advance = value - progress.position
    credited, message = 0, ""
    if elapsed <= 0 or elapsed > MAX_GAP:
        message = "两次记录间隔过长（页面隐藏、休眠或网络中断），本段不计时。" if elapsed > 0 else ""
    elif advance > elapsed * SPEED_TOLERANCE + SLACK_SECONDS:
        message = "播放位置快于实际时间（快进、倍速或拖动），本段不计时。"
    elif advance > 0:
        wanted = int(min(advance, elapsed))
        rule = rule_for(member, timezone.localdate(now).year)
        credited = _daily_allowance(member, timezone.localdate(now), rule.daily_seconds, wanted)
        if credited < wanted:
            message = "今日网络学习计时已达上限，超出部分不计时。"
        if credited:
            start = progress.position
            progress.watched = merge(progress.watched or [], start, start + credited)
            progress.watched_seconds = covered(progress.watched, material.duration_seconds)
            progress.effective_seconds += credited
            _count_day(member, timezone.localdate(now), credited)

    progress.position = value
    progress.last_beat_at = None if event == "stop" else now
    progress.save()
    share = course_share(member, material.course_id)
    completion = None
    if credited:
        completion = _complete_if_due(by=by, member=member, course=material.course, share=share, now=now)
    return BeatResult(
        True,
        credited_seconds=credited,
        share=share,
        position=value,
        completed=completion is not None,
        hours=completion.hours if completion is not None else None,
        message=message or (completion.note if completion is not None else ""),
    )


def _floor_half(value: Decimal) -> Decimal:
    return (value / HALF).to_integral_value(rounding=ROUND_FLOOR) * HALF


def _complete_if_due(*, by, member, course, share: int, now) -> CourseCompletion | None:
    """Complete the course once the share reaches the rule's minimum: credit its hours to the ledger at once (up to
    the yearly cap) and issue the course certificate. Returns the completion written now (None otherwise)."""
    from dangjian.training.models import HoursKind
    from dangjian.training.services.ledger import Credit, hours_credit_many

    today = timezone.localdate(now)
    rule = rule_for(member, today.year)
    if share < rule.min_share or CourseCompletion.objects.filter(member=member, course=course).exists():
        return None
    hours, note = course.hours, ""
    if rule.yearly_hours is not None:
        used = CourseCompletion.objects.filter(member=member, completed_on__year=today.year).aggregate(s=Sum("hours"))[
            "s"
        ] or Decimal("0")
        room = _floor_half(max(Decimal("0"), rule.yearly_hours - used))
        if room < hours:
            hours = room
            note = f"已达年度网络学习学时上限（{rule.yearly_hours}学时），本课程计入{hours}学时。"
    try:
        with transaction.atomic():
            completion = CourseCompletion.objects.create(
                member=member, course=course, completed_on=today, share=share, hours=hours, note=note[:200]
            )
    except IntegrityError:
        return None  # completed by a concurrent heartbeat
    if hours > 0:
        try:
            with transaction.atomic():
                entry = hours_credit_many(
                    by=by,
                    credits=[
                        Credit(
                            member_id=member.pk,
                            on=today,
                            hours=hours,
                            kind=HoursKind.ONLINE,
                            course_id=course.pk,
                            title=course.title,
                            document="网络课程学习完成",
                        )
                    ],
                )[0]
        except ValidationError as exc:  # a closed year (学时年度关账) takes no entries
            completion.hours = Decimal("0")
            completion.note = f"学时未计入：{'；'.join(exc.messages)}"[:200]
            completion.save(update_fields=["hours", "note"])
        else:
            completion.entry = entry
            completion.save(update_fields=["entry"])
    if not completion.note:
        completion.note = f"课程已完成，计入网络学习{hours}学时。"
        completion.save(update_fields=["note"])
    issue_certificate(
        member=member,
        title=course.title,
        kind=CertificateKind.COURSE,
        source=course,
        issuer=course.owner,
        on=today,
    )
    return completion
