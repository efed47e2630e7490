"""The demo county's committee terms (演示数据 · 换届): a current term for every organization whose committee the
builder staffed (its current party posts: a branch's secretary and 委员, a 党委's or 党总支's committee), elected on a
date drawn from the seed so that most terms run well inside their term, a few end within six months (换届提醒), a few
are overdue (逾期未换届), a few have a seat vacated within the term and not yet filled (待补选), and a few branches of
seven or more members have no term recorded (应设支委会未设, on the setup page). Where the builder
gave a branch a previous secretary, that secretary's term is there too, ended by the current election.

The work committee (工委) is not elected and gets no term. Term lengths come from the system's term policies (the
data migration's defaults). Each seat is linked to the member's party post, whose dates are set to the seat's, so
the member's record and the term agree. Written in bulk (`create_with_history`, each row with its "created"
history row; one prepared UPDATE of the posts' dates): a few seconds at city scale (about 9,400 organizations).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection
from django.utils import timezone

from dangjian.committees.models import (
    CommitteeSeat,
    CommitteeTerm,
    Position,
    SeatSource,
    TermStatus,
    VacateReason,
)
from dangjian.committees.selectors.policies import choose_term_rule, term_rules
from dangjian.core.validators import add_years
from dangjian.members.models import PartyPost, Post
from dangjian.orgs.models import BRANCH_KINDS, OrgKind

OVERDUE_SHARE = 0.05
ENDING_SHARE = 0.08
VACANCY_SHARE = 0.06
MISSING_SHARE = 0.03  # branches of 7 or more members left without a term record: 应设支委会未设
VACATE_REASONS = (VacateReason.TRANSFER, VacateReason.RETIRED, VacateReason.TRANSFER, VacateReason.RESIGNED)
ONE_DAY = dt.timedelta(days=1)


def _positions(posts) -> list[str]:
    """Committee positions for the organization's current posts (secretary first, as the builder orders them): the
    branch committee's 组织委员 and 宣传委员 after the 书记 and 副书记, then 委员."""
    out, extra = [], [Position.ORGANIZATION, Position.PUBLICITY, Position.DISCIPLINE]
    for post in posts:
        if post.post == Post.SECRETARY:
            out.append(Position.SECRETARY)
        elif post.post == Post.DEPUTY_SECRETARY:
            out.append(Position.DEPUTY_SECRETARY)
        else:
            out.append(extra.pop(0) if extra else Position.MEMBER)
    return out


def write_demo_committees(plan, *, seed: int = 1, today: dt.date | None = None) -> dict[str, int]:
    """Write the terms and seats for the planned organizations; counts by what the demo shows."""
    today = today or timezone.localdate()
    rng = random.Random(f"committees-{seed}")
    rules = term_rules(today.year)
    post_ids = {
        (member_id, org_id, post, start): pk
        for pk, member_id, org_id, post, start in PartyPost.objects.values_list(
            "pk", "member_id", "organization_id", "post", "start_date"
        )
    }
    current: dict[object, list] = {}
    previous: dict[object, object] = {}
    for post in plan.posts:
        if post.organization.kind == OrgKind.WORK_COMMITTEE:
            continue
        if post.end_date is None:
            current.setdefault(post.organization, []).append(post)
        elif post.post == Post.SECRETARY:
            previous[post.organization] = post

    terms: list[CommitteeTerm] = []
    seats: list[tuple[CommitteeTerm, object, str, dt.date, dt.date | None, str]] = []
    post_dates: dict[int, tuple[dt.date, dt.date | None]] = {}
    counts = {"terms": 0, "ending": 0, "overdue": 0, "vacancies": 0, "ended_terms": 0, "missing": 0}
    for org, posts in current.items():
        obj = org.obj
        rule = choose_term_rule(rules, path=obj.path, kind=obj.kind)
        if rule is None:
            continue
        years = rule.term_years
        if any(not p.member.organization.path.startswith(obj.path) for p in posts):
            # A committee staffed from outside its subtree (a secretary sent by the bureau): not an elected term.
            continue
        if obj.kind in BRANCH_KINDS and len(org.members) >= 7 and rng.random() < MISSING_SHARE:
            counts["missing"] += 1
            continue
        roll = rng.random()
        if roll < OVERDUE_SHARE:
            ends = today - dt.timedelta(days=rng.randint(20, 300))
        elif roll < OVERDUE_SHARE + ENDING_SHARE:
            ends = today + dt.timedelta(days=rng.randint(5, 175))
        else:
            ends = today + dt.timedelta(days=rng.randint(200, years * 365 - 90))
        elected = add_years(ends + ONE_DAY, -years)
        # Not before the organization existed nor before a seat holder was a full member (预备党员无被选举权).
        earliest = max(
            [obj.established_on or elected, *((p.member.full_date or p.member.join_date) + ONE_DAY for p in posts)]
        )
        elected = min(max(elected, earliest), today - ONE_DAY)
        ends = add_years(elected, years) - ONE_DAY
        term = CommitteeTerm(
            organization=obj, elected_on=elected, term_years=years, ends_on=ends, seats=len(posts), notes=""
        )
        terms.append(term)
        counts["terms"] += 1
        counts["ending"] += today <= ends <= today + dt.timedelta(days=182)
        counts["overdue"] += ends < today
        positions = _positions(posts)
        vacate_at = None
        if len(posts) >= 3 and rng.random() < VACANCY_SHARE and (today - elected).days > 60:
            vacate_at = rng.randrange(1, len(posts))  # never the secretary
            counts["vacancies"] += 1
        for i, (post, position) in enumerate(zip(posts, positions, strict=True)):
            end = reason = None
            if i == vacate_at:
                end = elected + dt.timedelta(days=rng.randint(30, (today - elected).days - 1))
                reason = rng.choice(VACATE_REASONS)
            seats.append((term, post, position, elected, end, reason or ""))
            pk = post_ids.get((post.member.pk, obj.pk, post.post, post.start_date))
            if pk is not None:
                post_dates[pk] = (elected, end)
        before = previous.get(org)
        if before is not None:
            last = elected - ONE_DAY
            first = max(add_years(elected, -years), (before.member.full_date or before.member.join_date) + ONE_DAY)
            if first < last:
                old = CommitteeTerm(
                    organization=obj,
                    elected_on=first,
                    term_years=years,
                    ends_on=add_years(first, years) - ONE_DAY,
                    status=TermStatus.ENDED,
                    ended_on=last,
                    seats=1,
                )
                terms.append(old)
                counts["ended_terms"] += 1
                seats.append((old, before, Position.SECRETARY, first, last, VacateReason.TERM_ENDED))
                pk = post_ids.get((before.member.pk, obj.pk, before.post, before.start_date))
                if pk is not None:
                    post_dates[pk] = (first, last)
    if not terms:
        return counts

    from dangjian.demo.builder import create_with_history  # the builder imports this module

    create_with_history(CommitteeTerm, terms)
    seat_objs = [
        CommitteeSeat(
            term=term,
            member=post.member,
            position=position,
            source=SeatSource.ELECTION,
            start_date=start,
            end_date=end,
            vacate_reason=reason,
            party_post_id=post_ids.get((post.member.pk, term.organization_id, post.post, post.start_date)),
        )
        for term, post, position, start, end, reason in seats
    ]
    create_with_history(CommitteeSeat, seat_objs)
    # The member's party posts take the seat's dates: one prepared UPDATE run for every row (bulk_update's CASE
    # expressions cost seconds at city scale).
    ops = connection.ops
    table = ops.quote_name(PartyPost._meta.db_table)
    adapt = ops.adapt_datefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET start_date = %s, end_date = %s WHERE id = %s",
            [(adapt(start), adapt(end), pk) for pk, (start, end) in sorted(post_dates.items())],
        )
    counts["filings"] = write_demo_filings(today=today)
    return counts


def write_demo_filings(*, today: dt.date) -> int:
    """The setup reviews and reports the demo committees have already filed: every period owed except the latest
    of each kind, which stays on the committee user's to-do list (as in a real year: the last quarter is due)."""
    from django.contrib.auth import get_user_model

    from dangjian.accounts.access import Access
    from dangjian.accounts.roles import Role
    from dangjian.committees.selectors.filings import reports_due
    from dangjian.committees.services import setup_report_file

    filed = 0
    system = Access.system_access()
    for user in get_user_model().objects.filter(role_assignments__role=Role.COMMITTEE).distinct():
        latest: dict[tuple[int, str], object] = {}
        due = reports_due(by=user, today=today)
        for item in due:
            key = (item.organization.pk, item.due_period.kind)
            if key not in latest or item.due_period.end > latest[key].end:
                latest[key] = item.due_period
        for item in due:
            if item.due_period is latest[(item.organization.pk, item.due_period.kind)]:
                continue
            setup_report_file(
                by=system,
                organization=item.organization,
                kind=item.due_period.kind,
                period=item.due_period.code,
                note="演示数据：已按期报送",
                today=today,
            )
            filed += 1
    return filed
