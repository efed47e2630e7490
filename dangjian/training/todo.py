"""Training's sources of the to-do list (待办; docs/development.md "To-do items").

- sessions to close (课次待确认考勤): the organizers — the roles that run classes (工委工作人员, 党校管理员) over the
  organizer;
- filings to approve (办班备案待审批): committee users (工委工作人员) whose subtree holds the organizer;
- members behind on hours (学时进度落后): the secretary one count for the branch, the committee one per child
  organization;
- the member's own: today's sessions to sign in to, their hours if behind.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, local_date, moment, month_period, url_with_query
from dangjian.members.models import Member, Status
from dangjian.orgs.models import BRANCH_KINDS, Organization, subtree_q
from dangjian.training.models import Attendance, ClassStatus, Enrollment, SessionStatus, TrainingClass, TrainingSession
from dangjian.training.selectors.classes import sign_in_late_minutes
from dangjian.training.selectors.compliance import RequirementPlan, compliance_members, hours_text, report_members

STEP = Organization.steplen
HOURS = DecimalField(max_digits=7, decimal_places=1)


# ---------------------------------------------------------------------------------------------------------
# Sessions to close, filings to approve


@todo.source(order=20)
def sessions_to_close(*, user, today: dt.date) -> list[TodoItem]:
    """Sessions of approved classes the user runs (`TrainingClass.managed_by`: the organizer lies in a school-managing
    role's subtree; `session_close` allows them) that have ended — past their sign-in grace
    (DANGJIAN_SIGN_IN_LATE_MINUTES), so that closing loses no late sign-in — and are not closed: attendance is not
    final and no hours are credited until they are. Overdue from the day after the session."""
    if not access_for(user).can_manage_schools:
        return []
    cutoff = moment(today) - dt.timedelta(minutes=sign_in_late_minutes())
    sessions = (
        TrainingSession.objects.dangerously_all()
        .filter(
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
            title=f"{session.training_class.title} · {session.title}（{local_date(session.ends_at):%m月%d日}）"
            "已结束，待确认考勤",
            url=session.get_absolute_url(),
            key=f"session-close:{session.pk}",
            since=session.ends_at,
            overdue=local_date(session.ends_at) < today,
        )
        for session in sessions
    ]


@todo.source(order=30)
def filings_to_approve(*, user, today: dt.date) -> list[TodoItem]:
    """Classes filed before they run (办班事前备案, Huangpi) and waiting for the committee that approves them: a
    committee user (工委工作人员) whose subtree holds the organizer (`Access.is_committee_over`). Overdue once the
    class's start date has come. The period is the day of filing, so a class filed again after a return is reminded
    again."""
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
            period=f"{local_date(c.filed_at):%Y-%m-%d}" if c.filed_at else "",
            since=c.filed_at or c.created_at,
            overdue=c.starts_on <= today,
            due=c.starts_on - dt.timedelta(days=1),
        )
        for c in classes
    ]


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


@todo.source(order=60)
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
    month = month_period(today)
    for org in Organization.objects.grant_roots(user, {Role.SECRETARY}):
        n = sum(behind_by_child(by=user, org=org, today=today).values())
        if n:
            items.append(
                TodoItem(
                    kind="学时",
                    title=f"{org.name}：{n}名党员学时进度落后（{_pace_text(today)}）",
                    url=url_with_query("training:branch", org=org.code, year=today.year),
                    key=f"hours-behind:{org.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    for root in Organization.objects.grant_roots(user, {Role.COMMITTEE}):
        counts = behind_by_child(by=user, org=root, today=today)
        if not counts:
            continue
        total = sum(counts.values())
        items.append(
            TodoItem(
                kind="学时",
                title=f"{root.name}：{len(counts)}个下级党组织共{total}名党员学时进度落后（{_pace_text(today)}）",
                url=url_with_query("training:dashboard", org=root.code, year=today.year),
                key=f"hours-behind-subtree:{root.pk}",
                period=month,
                since=today.replace(day=1),
            )
        )
        most = sorted(counts, key=lambda path: (-counts[path], path))[:COMMITTEE_CHILDREN_SHOWN]
        orgs = sorted(
            Organization.objects.dangerously_all().filter(path__in=most), key=lambda o: (-counts[o.path], o.path)
        )
        for org in orgs:
            name = "training:branch" if org.kind in BRANCH_KINDS or org.pk == root.pk else "training:dashboard"
            items.append(
                TodoItem(
                    kind="学时",
                    title=f"{org.name}：{counts[org.path]}名党员学时进度落后（{_pace_text(today)}）",
                    url=url_with_query(name, org=org.code, year=today.year),
                    key=f"hours-behind:{org.pk}",
                    period=month,
                    since=today.replace(day=1),
                )
            )
    return items[:SOURCE_LIMIT]


# ---------------------------------------------------------------------------------------------------------
# The member's own


@todo.source(order=80)
def own(*, user, today: dt.date) -> list[TodoItem]:
    """For a user linked to an active member record: today's sessions they can still sign in to (enrolled, class
    approved, session open, sign-in not yet closed, not signed in), and their own hours if behind (the rule of
    `hours_behind`)."""
    member = (
        Member.objects.dangerously_all()
        .filter(user_id=user.pk, status=Status.ACTIVE)
        .select_related("organization")
        .first()
    )
    if member is None:
        return []
    now = moment(today)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    signed = Attendance.objects.filter(member=member).values("session_id")
    sessions = (
        TrainingSession.objects.dangerously_all()
        .filter(
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
                    period=month_period(today),
                    since=today.replace(day=1),
                )
            )
    return items
