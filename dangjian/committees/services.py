"""Writes of committee terms: the re-election (换届选举), the by-election of a vacant seat (补选) and the vacating of
a seat (离任); and the confirmation that a periodic setup report was filed (确认报送, `setup_report_file`).

Rules. Jianshi seed (004): "对因人事变化出现的支委委员在任期内空缺的，及时进行补选" — a by-election fills a vacant seat
of the current term, never an occupied one. The branch work regulation (支部工作条例, 2018) and the election
regulation (基层组织选举工作条例, 2020): a committee is elected by the organization's members from its full members
(a probationary member may not stand: 预备党员没有被选举权; a 党委's committee from the members of its
subtree), its term is set by the term policy (`TermPolicy`) at the
election, and a new election ends the term before it. Dates are not in the future and not before the organization
was established. Every seat keeps the member's party post (`members.PartyPost`, through `members.services`) in step.

Everything is checked before anything is written; each function is one transaction; the organization is locked
(select_for_update) so that two elections cannot both become the current term.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.committees.models import (
    REPORT_PERIOD_LETTER,
    SINGLE_POSITIONS,
    CommitteeSeat,
    CommitteeTerm,
    Position,
    ReportKind,
    SeatSource,
    SetupReportFiling,
    TermStatus,
    VacateReason,
)
from dangjian.committees.selectors.filings import (
    PERIOD_FORMAT_MESSAGE,
    DuePeriod,
    parse_period,
    snapshot_of,
)
from dangjian.committees.selectors.policies import schedule_rule_for, term_rule_for
from dangjian.committees.selectors.setup import setup_report
from dangjian.core.services import Errors, acting_user, require_editor, service
from dangjian.core.validators import add_years
from dangjian.members import services as member_services
from dangjian.members.models import Category, Member, PartyPost, Post, Status
from dangjian.orgs.models import Organization, OrgKind

NOT_EDITOR = "您无权办理该党组织的换届和补选。"
MAX_SEATS = 31
# The party post (members.PartyPost) a committee position is recorded as in the member's record.
POST_OF_POSITION: dict[str, Post] = {
    Position.SECRETARY: Post.SECRETARY,
    Position.DEPUTY_SECRETARY: Post.DEPUTY_SECRETARY,
}
# Kinds of organization whose leading body is appointed, not elected (a work committee is the party committee's
# dispatched body): no committee terms.
NOT_ELECTED_KINDS = frozenset({OrgKind.WORK_COMMITTEE})


def _member_id(value) -> int | None:
    if isinstance(value, Member):
        return value.pk
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _check_date(errors: Errors, field: str, value, organization: Organization, *, today: dt.date, label: str):
    if not isinstance(value, dt.date):
        errors.add(field, f"请填写{label}。")
        return None
    if value > today:
        errors.add(field, f"{label}不能晚于今天。")
    elif organization.established_on and value < organization.established_on:
        errors.add(field, f"{label}不能早于该党组织的成立日期（{organization.established_on:%Y-%m-%d}）。")
    return value


def eligible_members(organization: Organization):
    """The members who may be elected to `organization`'s committee: its active full members — for a 党委 or 党总支,
    those of its whole subtree (its committee is elected from the members below it)."""
    return Member.objects.dangerously_all().filter(
        organization__path__startswith=organization.path, status=Status.ACTIVE, category=Category.FULL
    )


def _eligible(organization: Organization, ids: Iterable[int]) -> dict[int, Member]:
    return eligible_members(organization).filter(pk__in=list(ids)).in_bulk()


def _member_problem(organization: Organization, member_id: int) -> str:
    member = Member.objects.dangerously_all().filter(pk=member_id).select_related("organization").first()
    if member is None or not member.organization.path.startswith(organization.path) or member.status != Status.ACTIVE:
        return "委员必须是本党组织（含下级党组织）的在册党员。"
    return f"{member.name}是预备党员，没有被选举权。"


def _add_post(by, seat: CommitteeSeat) -> None:
    """Record the seat as the member's party post (党内职务)."""
    post = member_services.party_post_add(
        by=by,
        member=seat.member,
        organization=seat.term.organization,
        post=POST_OF_POSITION.get(seat.position, Post.COMMITTEE_MEMBER),
        start_date=seat.start_date,
    )
    seat.party_post = post
    seat.save(update_fields=["party_post", "updated_at"])


def _end_post(by, seat: CommitteeSeat) -> None:
    if seat.party_post_id is None:
        return
    post = PartyPost.objects.filter(pk=seat.party_post_id).first()
    if post is not None and post.end_date is None:
        # Called once the seat is vacated: its end date is set.
        assert seat.end_date is not None
        member_services.party_post_end(by=by, party_post=post, end_date=seat.end_date)


@service
def term_elect(
    *,
    by,
    organization: Organization,
    elected_on: dt.date,
    members: Iterable[tuple[Member | int, str]],
    seats: int,
    notes: str = "",
    today: dt.date | None = None,
) -> CommitteeTerm:
    """Record a re-election (换届选举) of `organization`'s committee: the term's years from the term policy of the
    organization's kind valid in the election year; `members` the (member, position) pairs elected, one seat each,
    exactly one 书记, at most `seats`; the current term, if any, ends the day before."""
    require_editor(access_for(by), organization, NOT_EDITOR)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    today = today or timezone.localdate()
    errors = Errors()
    _check_date(errors, "elected_on", elected_on, organization, today=today, label="选举日期")
    if organization.kind in NOT_ELECTED_KINDS:
        errors.add("organization", f"{organization.get_kind_display()}不实行选举任期，无需登记换届。")

    pairs: list[tuple[int | None, str]] = [(_member_id(m), str(p)) for m, p in members]
    seats_valid = isinstance(seats, int) and not isinstance(seats, bool) and 1 <= seats <= MAX_SEATS
    if not seats_valid:
        errors.add("seats", f"委员职数应为1至{MAX_SEATS}之间的整数。")
    if not pairs:
        errors.add("members", "请至少登记一名当选委员。")
    elif seats_valid and len(pairs) > seats:
        errors.add("members", f"当选委员{len(pairs)}名，超过委员职数{seats}名。")
    unknown = sorted({p for _, p in pairs if p not in Position.values})
    if unknown:
        errors.add("members", f"未知的职务：{'、'.join(unknown)}。")
    ids = [pk for pk, _ in pairs]
    if None in ids:
        errors.add("members", "请选择当选委员。")
    elif len(set(ids)) != len(ids):
        errors.add("members", "同一名党员不能同时担任两个职务。")
    positions = [p for _, p in pairs]
    if pairs and positions.count(Position.SECRETARY) != 1:
        errors.add("members", "当选委员中应有且只有一名书记。")
    repeated = [
        Position(p).label
        for p in Position.values
        if p in SINGLE_POSITIONS and p != Position.SECRETARY and positions.count(p) > 1
    ]
    if repeated:
        errors.add("members", f"以下职务只能由一人担任：{'、'.join(repeated)}。")
    valid_ids = [pk for pk in ids if pk is not None]
    eligible = _eligible(organization, valid_ids)
    for pk in dict.fromkeys(valid_ids):
        if pk not in eligible:
            errors.add("members", _member_problem(organization, pk))

    previous = (
        CommitteeTerm.objects.select_for_update().filter(organization=organization, status=TermStatus.CURRENT).first()
    )
    if previous is not None and isinstance(elected_on, dt.date):
        latest = max(
            [previous.elected_on, *previous.holdings.open().values_list("start_date", flat=True)],
        )
        if elected_on <= latest:
            errors.add("elected_on", f"选举日期应晚于本届委员会的选举或补选日期（{latest:%Y-%m-%d}）。")

    rule = term_rule_for(organization, elected_on.year) if isinstance(elected_on, dt.date) else None
    if isinstance(elected_on, dt.date) and rule is None and organization.kind not in NOT_ELECTED_KINDS:
        errors.add("elected_on", f"没有适用于{organization.get_kind_display()}的任期规定，请先配置任期规定。")
    errors.raise_if_any()
    # Refused above: a kind that is not elected, a missing date, no term rule.
    assert rule is not None

    if previous is not None:
        _term_end(by, previous, last_day=elected_on - dt.timedelta(days=1))
    term = CommitteeTerm(
        organization=organization,
        elected_on=elected_on,
        term_years=rule.term_years,
        ends_on=add_years(elected_on, rule.term_years) - dt.timedelta(days=1),
        seats=seats,
        notes=(notes or "").strip(),
        created_by=acting_user(by),
    )
    term.full_clean()
    try:
        with transaction.atomic():
            term.save()
    except IntegrityError:  # another election of the same organization won the race
        raise ValidationError({"elected_on": "该党组织已有本届委员会，请刷新后重试。"}) from None
    for member_pk, position in pairs:
        assert member_pk is not None  # a pair without a member was refused above
        seat = CommitteeSeat.objects.create(
            term=term, member=eligible[member_pk], position=position, source=SeatSource.ELECTION, start_date=elected_on
        )
        _add_post(by, seat)
    return term


def _term_end(by, term: CommitteeTerm, *, last_day: dt.date) -> None:
    """End `term` on `last_day` (换届): its open seats end with it."""
    for seat in term.holdings.open().select_related("party_post"):
        seat.end_date = last_day
        seat.vacate_reason = VacateReason.TERM_ENDED
        seat.save(update_fields=["end_date", "vacate_reason", "updated_at"])
        _end_post(by, seat)
    term.status = TermStatus.ENDED
    term.ended_on = last_day
    term.save(update_fields=["status", "ended_on", "updated_at"])


def _locked_term(term: CommitteeTerm) -> CommitteeTerm:
    return CommitteeTerm.objects.select_for_update().select_related("organization").get(pk=term.pk)


@service
def seat_by_election(
    *,
    by,
    term: CommitteeTerm,
    member: Member | int,
    date: dt.date,
    position: str | None = None,
    seat: CommitteeSeat | None = None,
    today: dt.date | None = None,
) -> CommitteeSeat:
    """Fill a vacant seat of the current term by by-election (补选): `seat` names the vacated seat it fills (its
    position is taken unless `position` is given); the term must have a vacancy (fewer open seats than its seats)
    and the position, if one person holds it, must be free."""
    term = _locked_term(term)
    organization = term.organization
    require_editor(access_for(by), organization, NOT_EDITOR)
    today = today or timezone.localdate()
    errors = Errors()
    if term.status != TermStatus.CURRENT:
        errors.add("term", "只能为本届委员会补选。")
    _check_date(errors, "date", date, organization, today=today, label="补选日期")
    if isinstance(date, dt.date):
        if date < term.elected_on:
            errors.add("date", f"补选日期不能早于本届选举日期（{term.elected_on:%Y-%m-%d}）。")
        elif date > term.ends_on:
            errors.add("date", f"本届任期已于{term.ends_on:%Y-%m-%d}届满，请进行换届选举而不是补选。")
    if seat is not None:
        seat = CommitteeSeat.objects.select_for_update().filter(pk=seat.pk, term=term).first()
        if seat is None:
            errors.add("seat", "找不到本届委员会的该职位。")
        elif seat.end_date is None:
            errors.add("seat", "该职位没有空缺，不能补选。")
        elif hasattr(seat, "replaced_by"):
            errors.add("seat", "该职位已经补选。")
        elif isinstance(date, dt.date) and date < seat.end_date:
            errors.add("date", f"补选日期不能早于原委员离任日期（{seat.end_date:%Y-%m-%d}）。")
        position = position or (seat.position if seat is not None else None)
    if position not in Position.values:
        errors.add("position", "请选择补选职务。")
    open_seats = list(term.holdings.open())
    if len(open_seats) >= term.seats:
        errors.add("seat", f"本届委员会{term.seats}个职位均已有人担任，没有空缺可以补选。")
    elif position in SINGLE_POSITIONS and any(s.position == position for s in open_seats):
        errors.add("position", f"{Position(position).label}职务没有空缺。")
    member_id = _member_id(member)
    if member_id is None:
        errors.add("member", "请选择补选的党员。")
    else:
        eligible = _eligible(organization, [member_id])
        if member_id not in eligible:
            errors.add("member", _member_problem(organization, member_id))
        elif any(s.member_id == member_id for s in open_seats):
            errors.add("member", "该党员已在本届委员会任职。")
    errors.raise_if_any()
    # Refused above when missing.
    assert position is not None and member_id is not None

    new = CommitteeSeat(
        term=term,
        member=eligible[member_id],
        position=position,
        source=SeatSource.BY_ELECTION,
        start_date=date,
        replaces=seat,
    )
    new.full_clean()
    new.save()
    _add_post(by, new)
    return new


@service
def seat_vacate(
    *, by, seat: CommitteeSeat, date: dt.date, reason: str, note: str = "", today: dt.date | None = None
) -> CommitteeSeat:
    """A committee member leaves their seat within the term (离任: transfer, retirement …): the seat becomes vacant
    and is to be filled by by-election (Jianshi seed: 及时进行补选)."""
    seat = CommitteeSeat.objects.select_for_update().select_related("term__organization").get(pk=seat.pk)
    organization = seat.term.organization
    require_editor(access_for(by), organization, NOT_EDITOR)
    today = today or timezone.localdate()
    errors = Errors()
    if seat.end_date is not None:
        errors.add("seat", f"该委员已于{seat.end_date:%Y-%m-%d}离任。")
    if seat.term.status != TermStatus.CURRENT:
        errors.add("seat", "只能办理本届委员会的离任。")
    _check_date(errors, "date", date, organization, today=today, label="离任日期")
    if isinstance(date, dt.date) and date < seat.start_date:
        errors.add("date", f"离任日期不能早于任职日期（{seat.start_date:%Y-%m-%d}）。")
    if reason not in VacateReason.values or reason == VacateReason.TERM_ENDED:
        errors.add("reason", "请选择离任原因。")
    errors.raise_if_any()

    seat.end_date = date
    seat.vacate_reason = reason
    seat.vacate_note = (note or "").strip()[:200]
    seat.full_clean()
    seat.save()
    _end_post(by, seat)
    return seat


# ---------------------------------------------------------------------------------------------------------
# Periodic setup reports

NOT_FILER = "只有上级党组织（工委）工作人员可以确认报送组织设置排查和报告。"
NOTE_MAX = 500


@service
def setup_report_file(
    *, by, organization: Organization, kind: str, period: str, note: str = "", today: dt.date | None = None
) -> SetupReportFiling:
    """Confirm `organization`'s setup report of `period` ("2026-Q4": the quarterly review, kind setup_review;
    "2026-H2": the half-year report, kind setup_report) as filed (确认报送), with the report's headline figures as
    of today (Jianshi seed 004: 每季度清理一次，每半年上报一次).

    Rules: only committee staff over the organization (`Access.can_file_setup_for`; a secretary is not one); the
    organization's kind owes the report under the schedule valid in the period's year (`ReportSchedule`); the period
    may be filed (from the first day of its last month with early filing — the quarterly review by default — else
    once it has ended); the organization existed in the period; once per organization, kind and period. The
    organization is locked so that two confirmations cannot both pass the check."""
    if not access_for(by).can_file_setup_for(organization):
        raise PermissionDenied(NOT_FILER)
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    today = today or timezone.localdate()
    errors = Errors()
    if kind not in ReportKind.values:
        errors.add("kind", "请选择报送事项（组织设置排查或组织设置报告）。")
    parsed = parse_period(period)
    if parsed is None:
        errors.add("period", PERIOD_FORMAT_MESSAGE)
    elif kind in ReportKind.values and not parsed[1].startswith(REPORT_PERIOD_LETTER[ReportKind(kind)]):
        errors.add("period", f"{ReportKind(kind).label}按{'季度' if kind == ReportKind.SETUP_REVIEW else '半年'}报送。")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors.add("note", f"说明不能超过{NOTE_MAX}字。")
    errors.raise_if_any()
    assert parsed is not None  # refused above

    year, code = parsed
    rule = schedule_rule_for(organization, kind, year)
    if rule is None or not rule.owes(organization.kind):
        label = ReportKind(kind).label
        errors.add("organization", f"{organization.name}（{organization.get_kind_display()}）无需报送{label}。")
        errors.raise_if_any()
    assert rule is not None  # refused just above
    due = DuePeriod.of(rule, year, code)
    if today < due.file_from:
        when = "结束后" if due.file_from > due.end else "最后一个月起"
        errors.add("period", f"{due.title}尚未到报送时间，{due.file_from:%Y-%m-%d}（期间{when}）起可以报送。")
    if organization.established_on and organization.established_on > due.end:
        errors.add("period", f"该党组织成立于{organization.established_on:%Y-%m-%d}，晚于{due.title}的期末。")
    # The organization's lock above serializes confirmations: a plain read is enough here.
    existing = (
        SetupReportFiling.objects.filter(organization=organization, kind=kind, period=due.code)
        .select_related("filed_by")
        .first()
    )
    if existing is not None:
        who = _filer_name(existing)
        errors.add(
            "period",
            f"{due.title}已于{timezone.localtime(existing.filed_at):%Y-%m-%d %H:%M}由{who}确认报送，不能重复报送。",
        )
    errors.raise_if_any()

    report = setup_report(by=by, root=organization, start=due.start, end=due.end, title=due.title, today=today)
    filing = SetupReportFiling(
        organization=organization,
        kind=kind,
        period=due.code,
        filed_by=acting_user(by),
        filed_at=timezone.now(),
        note=note,
        snapshot=snapshot_of(report),
    )
    filing.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            filing.save()
    except IntegrityError:  # a confirmation of the same period won the race
        raise ValidationError({"period": f"{due.title}已经报送，请刷新后查看。"}) from None
    return filing


def _filer_name(filing: SetupReportFiling) -> str:
    user = filing.filed_by
    if user is None:
        return "系统"
    return user.get_full_name() or user.get_username()
