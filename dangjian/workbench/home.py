"""What a member sees first on the home page (我的): their hours of the year against their requirement (and what
counted), their next class session and how to sign in to it, and the latest organizational life of their branch
with their own attendance — their own work, not the statistics of a subtree (docs/rules.md, "Who uses it": a party
member sees themself).

Read through the same selectors as the member's own pages (我的学时, 我的培训), so the figures agree with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.lockout import locked_accounts
from dangjian.accounts.models import RoleAssignment
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.members.models import Member
from dangjian.orglife.models import ActivityAttendance, ActivityRecord
from dangjian.training.models import SessionStatus, TrainingSession
from dangjian.training.selectors.classes import member_for
from dangjian.training.selectors.compliance import YearSummary, member_year

RECORDS_SHOWN = 3


@dataclass(frozen=True)
class RecordLine:
    record: ActivityRecord
    attended: bool | None  # None: not on the record's attendance

    @property
    def attendance_label(self) -> str:
        return {True: "出席", False: "缺席", None: "未登记"}[self.attended]


@dataclass(frozen=True)
class MemberHome:
    member: Member
    hours: YearSummary
    next_session: TrainingSession | None
    signs_in_today: bool
    records: list[RecordLine] = field(default_factory=list)


def _next_session(user, member: Member, now: dt.datetime) -> TrainingSession | None:
    """The member's next (or running) session of a class they are enrolled in and not withdrawn from."""
    return (
        TrainingSession.objects.visible_to(user)
        .filter(
            training_class__enrollments__member=member,
            training_class__enrollments__withdrawn_at__isnull=True,
            ends_at__gte=now,
        )
        .exclude(status=SessionStatus.CLOSED)
        .select_related("training_class")
        .order_by("starts_at", "pk")
        .first()
    )


def _records(user, member: Member) -> list[RecordLine]:
    records = list(
        ActivityRecord.objects.visible_to(user)
        .filter(organization_id=member.organization_id)
        .prefetch_related("kinds")
        .order_by("-date", "-pk")[:RECORDS_SHOWN]
    )
    attended = dict(
        ActivityAttendance.objects.filter(record__in=records, member=member).values_list("record_id", "present")
    )
    return [RecordLine(record, attended.get(record.pk)) for record in records]


def member_home(user, *, today: dt.date | None = None) -> MemberHome | None:
    """The home panel of the member linked to `user` (None for an account that is not a member's). Five queries."""
    member = member_for(user)
    if member is None:
        return None
    now = timezone.localtime()
    today = today or now.date()
    session = _next_session(user, member, now)
    return MemberHome(
        member=member,
        hours=member_year(member, today.year, today=today),
        next_session=session,
        signs_in_today=session is not None and timezone.localtime(session.starts_at).date() == today,
        records=_records(user, member),
    )


# ---------------------------------------------------------------------------------------------------------
# 三员: the system, security and audit admins see their own work, never the (for them empty) business figures.


@dataclass(frozen=True)
class AdminTile:
    label: str
    value: int
    url: str
    warn: bool = False  # a number that asks for action (locked accounts, failed logins)


@dataclass(frozen=True)
class AdminPanel:
    title: str
    tiles: list[AdminTile]
    links: list[tuple[str, str]]


def admin_home(user, *, now: dt.datetime | None = None) -> list[AdminPanel]:
    """One panel per admin role the user holds (三员分立, docs/security.md): the system admin's accounts, the
    security admin's grants and locked accounts, the audit admin's day of audit records and the week's failed logins.
    A few counts each, a fixed number of queries."""
    access = access_for(user)
    now = now or timezone.now()
    panels: list[AdminPanel] = []
    if Role.SYSTEM_ADMIN in access.roles:
        accounts = get_user_model().objects.all()
        users_url = reverse("account_list")
        panels.append(
            AdminPanel(
                "系统管理员",
                [
                    AdminTile("启用的账号", accounts.filter(is_active=True).count(), f"{users_url}?active=1"),
                    AdminTile("已停用的账号", accounts.filter(is_active=False).count(), f"{users_url}?active=0"),
                    AdminTile(
                        "待本人修改密码",
                        accounts.filter(is_active=True, must_change_password=True).count(),
                        users_url,
                    ),
                ],
                [("用户管理", users_url), ("党组织树", reverse("orgs:tree")), ("单位", reverse("orgs:unit_list"))],
            )
        )
    if Role.SECURITY_ADMIN in access.roles:
        locked = locked_accounts(now)
        panels.append(
            AdminPanel(
                "安全管理员",
                [
                    AdminTile("角色授权", RoleAssignment.objects.count(), reverse("grant_list")),
                    AdminTile("锁定中的账号", len(locked), reverse("security_settings"), warn=bool(locked)),
                ],
                [("角色授权", reverse("grant_list")), ("安全设置", reverse("security_settings"))],
            )
        )
    if Role.AUDIT_ADMIN in access.roles:
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        failures = AuditEvent.objects.filter(
            action=AuditAction.LOGIN_FAILURE, at__gte=now - dt.timedelta(days=7)
        ).count()
        audit_url = reverse("audit:list")
        panels.append(
            AdminPanel(
                "审计管理员",
                [
                    AdminTile("今日审计记录", AuditEvent.objects.filter(at__gte=midnight).count(), audit_url),
                    AdminTile(
                        "近7日登录失败",
                        failures,
                        f"{audit_url}?action={AuditAction.LOGIN_FAILURE.value}",
                        warn=bool(failures),
                    ),
                ],
                [("审计日志", audit_url)],
            )
        )
    return panels
