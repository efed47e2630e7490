"""The workbench's own sources of to-do items (待办, issue 7 "One to-do list"). Each is a function
`f(*, user, today) -> list[TodoItem]` named in `selectors.ITEM_SOURCES`; each returns only what lies in the user's
scope and costs a fixed number of queries whatever the size of that scope (one or two per granted subtree).

Who gets what:
- transfers (组织关系接转): both sides of a pending transfer, as before (issue 4);
- sessions to close (课次待确认考勤): the organizers — the roles that run classes (工委工作人员, 党校管理员)
  over the organizer;
- filings to approve (办班备案待审批): committee users (工委工作人员) whose subtree holds the organizer;
- bookings (约课): the district school's managers schedule submitted ones; either side confirms one that has ended;
- duties of the current period (组织生活): the secretary per duty of their branch, the committee one count per duty;
- members behind on hours (学时进度落后): the secretary one count for the branch, the committee one per child
  organization;
- members absent from organizational life (连续未参加组织生活): the secretary one item per member, the committee
  a count;
- the member's own: today's sessions to sign in to, their hours if behind.
The three admins hold none of these roles and get nothing. Half-year and annual reports are not modelled yet: a source
for them goes into the registry when they are.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.members.models import Member, Status, overdue_days
from dangjian.members.selectors import transfers_incoming_pending, transfers_overdue_for
from dangjian.orglife.models import ActivityRecordKind, Frequency
from dangjian.orglife.selectors.absence import absence_months, absent_members
from dangjian.orglife.selectors.compliance import ComplianceStatus, compliance_for
from dangjian.orgs.models import BRANCH_KINDS, Organization, subtree_q
from dangjian.schools.models import BookingRequest, BookingStatus
from dangjian.training.models import Attendance, ClassStatus, Enrollment, SessionStatus, TrainingClass, TrainingSession
from dangjian.training.selectors.classes import sign_in_late_minutes
from dangjian.training.selectors.compliance import RequirementPlan, compliance_members, hours_text, report_members
from dangjian.workbench.selectors import TodoItem

# At most this many items come from one source (the full list is paginated; no unbounded query reaches a page).
SOURCE_LIMIT = 200
STEP = Organization.steplen
HOURS = DecimalField(max_digits=7, decimal_places=1)


def moment(today: dt.date) -> dt.datetime:
    """The point in time a to-do list for `today` is computed at: now, or the same time of day on `today` (for
    `send_reminders --as-of`)."""
    now = timezone.now()
    if today == timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(today, timezone.localtime(now).time()))


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def _roots(user, role: str) -> list[Organization]:
    """The organizations at the roots of the user's grants of `role` (one query), in tree order."""
    paths = access_for(user).roots_of({role})
    if not paths:
        return []
    return list(Organization.objects.filter(path__in=paths).order_by("path"))


def _month(today: dt.date) -> str:
    return f"{today:%Y-%m}"


def _with_query(name: str, **params) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


# ---------------------------------------------------------------------------------------------------------
# Transfers (issue 4)


def transfers(*, user, today: dt.date) -> list[TodoItem]:
    """A transfer open for more than DANGJIAN_TRANSFER_OVERDUE_DAYS, on both sides' lists (overdue); a transfer into
    the scope, waiting for the receiving side to accept or return it."""
    if not access_for(user).can_view_members:
        return []
    now = moment(today)
    url = reverse("members:transfers")
    items: list[TodoItem] = []
    late = list(transfers_overdue_for(user=user, now=now).select_related("member", "to_organization")[:SOURCE_LIMIT])
    for transfer in late:
        items.append(
            TodoItem(
                kind="组织关系接转",
                title=f"{transfer.member.name} 转往{transfer.other_side}，已超过{overdue_days()}天未办结",
                url=url,
                key=f"transfer-overdue:{transfer.pk}",
                since=transfer.started_at,
                overdue=True,
            )
        )
    seen = {transfer.pk for transfer in late}
    incoming = transfers_incoming_pending(user=user).select_related("member", "from_organization")[:SOURCE_LIMIT]
    for transfer in incoming:
        if transfer.pk in seen:
            continue
        items.append(
            TodoItem(
                kind="组织关系接转",
                title=f"{transfer.member.name} 从{transfer.from_organization}转入，待接收或退回",
                url=url,
                key=f"transfer-incoming:{transfer.pk}",
                since=transfer.started_at,
            )
        )
    return items


# ---------------------------------------------------------------------------------------------------------
# Training: sessions to close, filings to approve


def sessions_to_close(*, user, today: dt.date) -> list[TodoItem]:
    """Sessions of approved classes the user runs (`TrainingClass.managed_by`: the organizer lies in a school-managing
    role's subtree; `session_close` allows them) that have ended — past their sign-in grace
    (DANGJIAN_SIGN_IN_LATE_MINUTES), so that closing loses no late sign-in — and are not closed: attendance is not
    final and no hours are credited until they are. Overdue from the day after the session."""
    if not access_for(user).can_manage_schools:
        return []
    cutoff = moment(today) - dt.timedelta(minutes=sign_in_late_minutes())
    sessions = (
        TrainingSession.objects.filter(
            training_class__in=TrainingClass.objects.managed_by(user).filter(status=ClassStatus.APPROVED).values("pk"),
            status=SessionStatus.OPEN,
            ends_at__lt=cutoff,
        )
        .select_related("training_class")
        .order_by("ends_at", "pk")[:SOURCE_LIMIT]
    )
    return [
        TodoItem(
            kind="培训课次",
            title=f"{session.training_class.title} · {session.title}（{_local_date(session.ends_at):%m月%d日}）"
            "已结束，待确认考勤",
            url=session.get_absolute_url(),
            key=f"session-close:{session.pk}",
            since=session.ends_at,
            overdue=_local_date(session.ends_at) < today,
        )
        for session in sessions
    ]


def filings_to_approve(*, user, today: dt.date) -> list[TodoItem]:
    """Classes filed before they run (办班事前备案, Huangpi) and waiting for the committee that approves them: a
    committee user (工委工作人员) whose subtree holds the organizer (`can_approve_filing`). Overdue once the class's
    start date has come. The period is the day of filing, so a class filed again after a return is reminded again."""
    roots = access_for(user).roots_of({Role.COMMITTEE})
    if not roots:
        return []
    classes = (
        TrainingClass.objects.visible_to(user)
        .filter(subtree_q(roots, "organizer__path"), status=ClassStatus.FILED)
        .select_related("organizer")
        .order_by("starts_on", "pk")[:SOURCE_LIMIT]
    )
    return [
        TodoItem(
            kind="办班备案",
            title=f"{c.title}（{c.organizer.name}，{c.starts_on:%m月%d日}开班）待审批",
            url=reverse("training:class_filing", args=[c.pk]),
            key=f"class-filing:{c.pk}",
            period=f"{_local_date(c.filed_at):%Y-%m-%d}" if c.filed_at else "",
            since=c.filed_at or c.created_at,
            overdue=c.starts_on <= today,
        )
        for c in classes
    ]


# ---------------------------------------------------------------------------------------------------------
# Bookings (约课 → 排课派单)


def bookings(*, user, today: dt.date) -> list[TodoItem]:
    """For the managers of party schools (工委工作人员, 党校管理员): submitted bookings waiting for their district
    school to schedule them (排课派单; overdue once the wanted period has begun), and scheduled bookings of either
    side that have ended and wait to be confirmed as completed (overdue from the next day)."""
    access = access_for(user)
    roots = access.school_manage_roots
    if not roots:
        return []
    now = moment(today)
    visible = BookingRequest.objects.visible_to(user).select_related("school")
    waiting = visible.filter(subtree_q(roots, "dispatcher__organization__path"), status=BookingStatus.SUBMITTED)
    ended = visible.filter(
        subtree_q(roots, "dispatcher__organization__path") | subtree_q(roots, "school__organization__path"),
        status=BookingStatus.SCHEDULED,
        ends_at__lte=now,
    )
    items = [
        TodoItem(
            kind="约课",
            title=f"{b.school.name}：{b.topic}（期望{b.wanted_from:%m月%d日}至{b.wanted_to:%m月%d日}）待排课",
            url=b.get_absolute_url(),
            key=f"booking-schedule:{b.pk}",
            period=f"{b.wanted_from:%Y-%m-%d}",
            since=b.created_at,
            overdue=b.wanted_from <= today,
        )
        for b in waiting.order_by("wanted_from", "pk")[:SOURCE_LIMIT]
    ]
    items += [
        TodoItem(
            kind="约课",
            title=f"{b.school.name}：{b.topic}已于{_local_date(b.ends_at):%m月%d日}结束，待确认完成",
            url=b.get_absolute_url(),
            key=f"booking-complete:{b.pk}",
            since=b.ends_at,
            overdue=_local_date(b.ends_at) < today,
        )
        for b in ended.order_by("ends_at", "pk")[:SOURCE_LIMIT]
    ]
    return items


# ---------------------------------------------------------------------------------------------------------
# Organizational-life duties of the current period


_PERIOD_WORDS = {
    Frequency.MONTH: "本月",
    Frequency.QUARTER: "本季度",
    Frequency.HALF_YEAR: "本半年",
    Frequency.YEAR: "本年度",
}


def period_of(frequency: str, today: dt.date) -> tuple[str, dt.date]:
    """The key and first day of the period of `frequency` that holds `today`: 2026-05, 2026-Q2, 2026-H1, 2026."""
    year, month = today.year, today.month
    if frequency == Frequency.MONTH:
        return f"{year}-{month:02d}", dt.date(year, month, 1)
    if frequency == Frequency.QUARTER:
        quarter = (month - 1) // 3 + 1
        return f"{year}-Q{quarter}", dt.date(year, 3 * quarter - 2, 1)
    if frequency == Frequency.HALF_YEAR:
        half = 1 if month <= 6 else 2
        return f"{year}-H{half}", dt.date(year, 6 * half - 5, 1)
    return f"{year}", dt.date(year, 1, 1)


def _month_counts(org: Organization, today: dt.date) -> dict[tuple[int, str], tuple[int]]:
    """(organization id, kind) → (records,) of the subtree's records this month: one grouped query, for the month
    duties' "本月已开展N次" (a quarter report counts the quarter's three months together)."""
    rows = (
        ActivityRecordKind.objects.filter(
            record__organization__path__startswith=org.path,
            record__date__gte=today.replace(day=1),
            record__date__lte=today,
        )
        .values("record__organization_id", "kind")
        .annotate(n=Count("record", distinct=True))
        .order_by()
    )
    return {(r["record__organization_id"], r["kind"]): (r["n"],) for r in rows}


def _month_standing(row, counts, today: dt.date) -> tuple[bool, int]:
    """Whether the current month of a month duty is met, by the compliance rules themselves (the attendance is
    measured against who should have attended: `DutyCompliance.open_in`), and the records held this month."""
    records = counts.get((row.organization.pk, row.duty.kind), (0,))[0]
    return not row.open_in(today), records


def duties_not_met(*, by, org: Organization, today: dt.date) -> list[tuple]:
    """(row, records held) for the rows (`orglife.selectors.compliance.DutyCompliance`) of `org`'s subtree whose duty
    is not yet met in the period that holds `today`, by the compliance rules (`compliance_for` over the current
    quarter: a quarter, half-year or year duty has one period there, the current one). A month duty's three months
    are counted together in a quarter report, so its current month is read apart (one more grouped query); a
    per-member month duty, which the defaults do not have, counts as met while no ended month of the quarter is
    short."""
    quarter = (today.month - 1) // 3 + 1
    report = compliance_for(by=by, org=org, year=today.year, quarter=quarter, today=today)
    month_rows = [r for r in report.rows if r.duty.frequency == Frequency.MONTH]
    counts = _month_counts(org, today) if month_rows else {}
    out = []
    for row in report.rows:
        per_member = getattr(row.duty, "per_member", False)
        if row.duty.frequency != Frequency.MONTH:
            met, done = row.periods_met >= row.periods, row.done
        elif per_member:
            met, done = row.status != ComplianceStatus.MISSED, row.done
        else:
            met, done = _month_standing(row, counts, today)
        if not met:
            out.append((row, done))
    return out


def _duty_key(rule) -> str:
    return f"{rule.kind}:member" if getattr(rule, "per_member", False) else rule.kind


def _duty_label(rule) -> str:
    return getattr(rule, "label", None) or rule.kind_label


def _duty_text(rule, done: int) -> str:
    """本月主题党日未开展（要求1次）; 本年度专题研究党建工作已开展1次，要求2次; with the attendance minimum if any."""
    word, label = _PERIOD_WORDS[rule.frequency], _duty_label(rule)
    if done and done >= rule.min_count and rule.min_attendance is not None:
        return f"{word}{label}参会率未达{rule.min_attendance.normalize():f}%"
    text = (
        f"{word}{label}已开展{done}次，要求{rule.min_count}次"
        if done
        else f"{word}{label}未开展（要求{rule.min_count}次）"
    )
    if rule.min_attendance is not None:
        text += f"，参会率须达{rule.min_attendance.normalize():f}%"
    return text


def duties(*, user, today: dt.date) -> list[TodoItem]:
    """Organizational-life duties (组织生活要求) of the current period that are not yet met: for a secretary one item
    per duty of the branch they run, linking to the record form; for a committee user one item per duty with the
    number of organizations of their subtree that have not met it, linking to the compliance page. Due (not overdue)
    until the period ends; the period is the duty's (2026-05, 2026-Q2, 2026-H1, 2026)."""
    items: list[TodoItem] = []
    for org in _roots(user, Role.SECRETARY):
        for row, done in duties_not_met(by=user, org=org, today=today):
            if row.organization.pk != org.pk:
                continue
            rule = row.duty
            period, start = period_of(rule.frequency, today)
            items.append(
                TodoItem(
                    kind="组织生活",
                    title=_duty_text(rule, done),
                    url=_with_query("orglife:record_create", org=org.code),
                    key=f"duty:{org.pk}:{_duty_key(rule)}",
                    period=period,
                    since=start,
                )
            )
    for root in _roots(user, Role.COMMITTEE):
        grouped: dict[str, list] = {}
        for row, _done in duties_not_met(by=user, org=root, today=today):
            grouped.setdefault(_duty_key(row.duty), []).append(row)
        quarter = (today.month - 1) // 3 + 1
        url = _with_query("orglife:compliance", org=root.code, year=today.year, quarter=quarter)
        for key, rows in grouped.items():
            rule = rows[0].duty
            period, start = period_of(rule.frequency, today)
            noun = "支部" if all(r.organization.kind in BRANCH_KINDS for r in rows) else "党组织"
            items.append(
                TodoItem(
                    kind="组织生活",
                    title=f"{root.name}：{len(rows)}个{noun}{_PERIOD_WORDS[rule.frequency]}{_duty_label(rule)}未开展",
                    url=url,
                    key=f"duty-rollup:{root.pk}:{key}",
                    period=period,
                    since=start,
                )
            )
    return items[:SOURCE_LIMIT]


# ---------------------------------------------------------------------------------------------------------
# Members behind on hours


def hours_pace(today: dt.date) -> Decimal:
    """The share of the year's requirement a member should have by `today`: the full months elapsed over 12, times
    DANGJIAN_HOURS_BEHIND_PACE_PERCENT (default 100; capped at 100)."""
    percent_of_pace = min(Decimal(str(getattr(settings, "DANGJIAN_HOURS_BEHIND_PACE_PERCENT", 100))), Decimal(100))
    return Decimal(today.month - 1) / Decimal(12) * percent_of_pace / Decimal(100)


def _behind_q(pace: Decimal) -> Q:
    expected = ExpressionWrapper(F("_hours_required") * Value(pace, output_field=HOURS), output_field=HOURS)
    return Q(_hours_counted__lt=expected)


def behind_by_child(*, by, org: Organization, today: dt.date) -> dict[str, int]:
    """Per child of `org` (by its path; `org`'s own members under `org.path`): how many members the hours report for
    this year covers (`report_members`) are behind — counted hours below `hours_pace(today)` of their requirement
    (`RequirementPlan`, the hours report's own rules). Two queries (the policies, the grouped count)."""
    pace = hours_pace(today)
    if pace <= 0:
        return {}
    plan = RequirementPlan(org=org, year=today.year, today=today)
    rows = (
        plan.alias(report_members(by=by, org=org, year=today.year))
        .annotate(child_path=Substr("organization__path", 1, len(org.path) + STEP))
        .values("child_path")
        .annotate(n=Count("pk", filter=_behind_q(pace)))
        .values_list("child_path", "n")
        .order_by()
    )
    return {path: n for path, n in rows if n}


def _pace_text(today: dt.date) -> str:
    share = (hours_pace(today) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"按进度应完成全年要求的{share}%"


# The child organizations most behind that a committee's list names besides the subtree's summary.
COMMITTEE_CHILDREN_SHOWN = 5


def hours_behind(*, user, today: dt.date) -> list[TodoItem]:
    """Members behind on training hours (学时进度落后). The rule: a member is behind when their counted hours this year
    are below their requirement's pro-rata share of the full months elapsed (required × (month − 1) / 12 ×
    DANGJIAN_HOURS_BEHIND_PACE_PERCENT / 100) — nobody in January, and, for a past year, the report's 未达标 instead.
    A secretary gets one count for the branch they run (linking to the branch's list of members behind); a committee
    user one summary of their subtree (linking to the dashboard) and the COMMITTEE_CHILDREN_SHOWN child
    organizations most behind (not per member: a county has hundreds of children). Monthly period."""
    if today.month == 1:
        return []
    items: list[TodoItem] = []
    month = _month(today)
    for org in _roots(user, Role.SECRETARY):
        n = sum(behind_by_child(by=user, org=org, today=today).values())
        if n:
            items.append(
                TodoItem(
                    kind="学时",
                    title=f"{org.name}：{n}名党员学时进度落后（{_pace_text(today)}）",
                    url=_with_query("training:branch", org=org.code, year=today.year),
                    key=f"hours-behind:{org.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    for root in _roots(user, Role.COMMITTEE):
        counts = behind_by_child(by=user, org=root, today=today)
        if not counts:
            continue
        total = sum(counts.values())
        items.append(
            TodoItem(
                kind="学时",
                title=f"{root.name}：{len(counts)}个下级党组织共{total}名党员学时进度落后（{_pace_text(today)}）",
                url=_with_query("training:dashboard", org=root.code, year=today.year),
                key=f"hours-behind-subtree:{root.pk}",
                period=month,
                since=today.replace(day=1),
            )
        )
        most = sorted(counts, key=lambda path: (-counts[path], path))[:COMMITTEE_CHILDREN_SHOWN]
        orgs = sorted(Organization.objects.filter(path__in=most), key=lambda o: (-counts[o.path], o.path))
        for org in orgs:
            name = "training:branch" if org.kind in BRANCH_KINDS or org.pk == root.pk else "training:dashboard"
            items.append(
                TodoItem(
                    kind="学时",
                    title=f"{org.name}：{counts[org.path]}名党员学时进度落后（{_pace_text(today)}）",
                    url=_with_query(name, org=org.code, year=today.year),
                    key=f"hours-behind:{org.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    return items[:SOURCE_LIMIT]


# ---------------------------------------------------------------------------------------------------------
# Members absent from organizational life


def absences(*, user, today: dt.date) -> list[TodoItem]:
    """Members absent from every organizational-life activity for N consecutive months (`orglife.selectors.absence`;
    the system flags, a person decides): the secretary one item per member of the branch they run, linking to the
    member; the committee user one count per subtree, linking to the list. Monthly period."""
    months = absence_months()
    items: list[TodoItem] = []
    month = _month(today)
    for org in _roots(user, Role.SECRETARY):
        for member in absent_members(by=user, org=org, today=today, months=months)[:SOURCE_LIMIT]:
            items.append(
                TodoItem(
                    kind="连续未参加组织生活",
                    title=f"{member.name}连续{months}个月未参加组织生活，请支部研究处理",
                    url=member.get_absolute_url(),
                    key=f"absent:{member.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    for root in _roots(user, Role.COMMITTEE):
        n = absent_members(by=user, org=root, today=today, months=months).count()
        if n:
            items.append(
                TodoItem(
                    kind="连续未参加组织生活",
                    title=f"{root.name}：{n}名党员连续{months}个月未参加组织生活",
                    url=_with_query("workbench:absent", org=root.code),
                    key=f"absent-rollup:{root.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    return items[:SOURCE_LIMIT]


# ---------------------------------------------------------------------------------------------------------
# The member's own


def own(*, user, today: dt.date) -> list[TodoItem]:
    """For a user linked to an active member record: today's sessions they can still sign in to (enrolled, class
    approved, session open, sign-in not yet closed, not signed in), and their own hours if behind (the rule of
    `hours_behind`)."""
    member = Member.objects.filter(user_id=user.pk, status=Status.ACTIVE).select_related("organization").first()
    if member is None:
        return []
    now = moment(today)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    signed = Attendance.objects.filter(member=member).values("session_id")
    sessions = (
        TrainingSession.objects.filter(
            training_class__in=Enrollment.objects.active().filter(member=member).values("training_class_id"),
            training_class__status=ClassStatus.APPROVED,
            status=SessionStatus.OPEN,
            starts_at__gte=start,
            starts_at__lt=start + dt.timedelta(days=1),
            ends_at__gte=now - dt.timedelta(minutes=sign_in_late_minutes()),
        )
        .exclude(pk__in=signed)
        .select_related("training_class")
        .order_by("starts_at", "pk")[:SOURCE_LIMIT]
    )
    items = [
        TodoItem(
            kind="培训签到",
            title=f"今天{timezone.localtime(s.starts_at):%H:%M} {s.training_class.title} · {s.title}，请按时签到",
            url=reverse("training:sign_in"),
            key=f"sign-in:{s.pk}",
            period=f"{today:%Y-%m-%d}",
            since=s.starts_at,
        )
        for s in sessions
    ]
    pace = hours_pace(today)
    if pace > 0:
        row = (
            compliance_members(by=user, org=member.organization, year=today.year, today=today, kinds=False)
            .filter(pk=member.pk)
            .first()
        )
        if row is not None and row["counted"] < row["required"] * pace:
            expected = (row["required"] * pace).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            items.append(
                TodoItem(
                    kind="学时",
                    title=f"本年度学时进度落后：已完成{hours_text(row['counted'])}学时，按进度应完成"
                    f"{hours_text(expected)}学时（全年要求{hours_text(row['required'])}学时）",
                    url=reverse("training:my_hours"),
                    key=f"my-hours:{member.pk}",
                    period=_month(today),
                    since=today.replace(day=1),
                )
            )
    return items
