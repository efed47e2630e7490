"""The demo county's hours ledger (学时台账): three years of credits for every active member, written in bulk.

Each active member gets, per year, a few concentrated-training credits (集中培训, whole or half days of 2–8
hours), some online learning (网络学习), and now and then an external credit with its document (外部认定) or a
teaching reward for leaders (授课奖励). Most members meet the 32-hour rule, a realistic share falls short. The
yearly totals (MemberHoursYear) are computed from the very same rows as they are written, so they equal the
ledger's sums exactly as if every credit had gone through `training.services.ledger` (verify_hours proves it).

Written in chunks of members with the demo loader's fast insert (COPY on PostgreSQL), so the city scale's
3,000,000+ entries stay within memory and within minutes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from dangjian.core.bulk import insert_rows
from dangjian.training.models import KIND_FIELDS, HoursEntry, HoursKind, MemberHoursYear

CHUNK_MEMBERS = 20_000
EXTERNAL_DOCUMENTS = ("市委党校培训结业证书", "省委教育工委网络培训证明", "县委组织部调训通知", "高校研修班结业证书")
HALF_HOURS = tuple(Decimal(n) / 2 for n in range(2, 17))  # 1.0 … 8.0


def _hours(rng: random.Random, low: int, high: int) -> Decimal:
    """A whole or half number of hours between low and high."""
    return Decimal(rng.randint(low * 2, high * 2)) / 2


def _credits_for(rng: random.Random, *, leader: bool, year: int, since: dt.date) -> list[tuple[dt.date, Decimal, str]]:
    """One member's credits for a year: (date, hours, kind)."""
    start = max(dt.date(year, 1, 1), since)
    end = dt.date(year, 12, 31)
    if start > end:
        return []
    span = (end - start).days

    def day() -> dt.date:
        return start + dt.timedelta(days=rng.randint(0, span))

    profile = rng.random()
    if profile < 0.12:  # behind: a few hours only
        sessions, online = rng.randint(0, 3), rng.randint(0, 2)
    elif profile < 0.25:  # close to the line
        sessions, online = rng.randint(3, 5), rng.randint(1, 3)
    else:
        sessions, online = rng.randint(5, 7), rng.randint(1, 3)
    credits = [(day(), _hours(rng, 4, 8), HoursKind.CONCENTRATED) for _ in range(sessions)]
    credits += [(day(), _hours(rng, 1, 3), HoursKind.ONLINE) for _ in range(online)]
    if leader and rng.random() < 0.6:
        credits.append((day(), Decimal(2), HoursKind.TEACHING))
    if rng.random() < 0.05:
        credits.append((day(), _hours(rng, 4, 16), HoursKind.EXTERNAL))
    return credits


def write_demo_hours(members: Iterable, *, seed: int, years: Iterable[int], today: dt.date | None = None) -> int:
    """Write the ledger and the yearly totals of `members` (saved Member instances) for `years`; the number of
    entries written. Deterministic for a seed; no entry is dated after `today`."""
    rng = random.Random(seed * 7919 + 17)
    today = today or timezone.localdate()
    years = sorted(years)
    now = timezone.now()
    entry_fields = [f for f in HoursEntry._meta.concrete_fields if not f.primary_key]
    total_fields = [f for f in MemberHoursYear._meta.concrete_fields if not f.primary_key]
    written = 0
    batch: list = []

    def flush(entries: list, totals: list) -> None:
        insert_rows(HoursEntry, entry_fields, entries, returning=False)
        insert_rows(MemberHoursYear, total_fields, totals, returning=False)

    entries: list[SimpleNamespace] = []
    totals: list[SimpleNamespace] = []
    for member in members:
        batch.append(member)
        if member.status != "active":
            continue
        for year in years:
            credits = [c for c in _credits_for(rng, leader=member.is_leadership, year=year, since=member.join_date)]
            credits = [c for c in credits if c[0] <= today]
            if not credits:
                continue
            sums = dict.fromkeys(KIND_FIELDS.values(), Decimal(0))
            for on, hours, kind in credits:
                external = kind == HoursKind.EXTERNAL
                entries.append(
                    SimpleNamespace(
                        member_id=member.pk,
                        year=year,
                        date=on,
                        hours=hours,
                        kind=kind,
                        session_id=None,
                        course_id=None,
                        document=rng.choice(EXTERNAL_DOCUMENTS) if external else "",
                        reason="外单位培训学时认定" if external else "",
                        # Online study is done on the provincial platform (学时导入 credits it from there).
                        source="省干部网络学院" if kind == HoursKind.ONLINE else "",
                        title="",
                        reverses_id=None,
                        recorded_by_id=None,
                        recorded_at=now,
                    )
                )
                sums[KIND_FIELDS[kind]] += hours
            totals.append(
                SimpleNamespace(
                    member_id=member.pk,
                    year=year,
                    total=sum(sums.values(), Decimal(0)),
                    last_entry_on=max(on for on, _, _ in credits),
                    **sums,
                )
            )
        if len(batch) >= CHUNK_MEMBERS:
            written += len(entries)
            flush(entries, totals)
            entries, totals, batch = [], [], []
    written += len(entries)
    flush(entries, totals)
    return written
