"""The supervision items of the to-do list (待办), registered by `supervision.todo`.

- Committee staff (the committee role), over the institutions they see in their committee subtrees: an approved
  institution with party members on its staff but no party organization (Yiyang: 将有新进党员的培训机构纳入党组织),
  an approved institution without organization and without members (newly approved, 新审批机构), both until
  covered; an approved institution without a current instructor (work coverage); and, once a month has ended, the
  number of its institutions that missed that month's visit (one aggregated item).
- An instructor, over their current assignments: each institution whose month is not yet a “四个一” visit — no
  regular visit, or visits that left out an item the `VisitPolicy` requires (partial, naming what is missing; Yiyang
  seed docs/rules.md: 每月上门开展“四个一”工作) — this month (key "visit:<institution pk>", period "YYYY-MM"),
  and last month's (overdue).
- Whoever supervises an institution — the instructor currently assigned to it, the secretary (支部书记) of the
  branch or joint branch covering it — each approved institution whose annual inspection (年检) is overdue (key
  "inspection:<institution pk>", period: the due date's month, overdue; `selectors.inspection`: the
  `InspectionPolicy` interval, default yearly; Qinhuai seed docs/rules.md: 培训机构年检时，党建工作同步检查).
A fixed number of queries whatever the scope's size; at most `ITEMS_SHOWN` items of each kind.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.todo import TodoItem
from dangjian.members.models import Status
from dangjian.orgs.models import subtree_q
from dangjian.supervision.models import Assignment, Institution, first_of_month
from dangjian.supervision.selectors.coverage import current_assignment_ids
from dangjian.supervision.selectors.inspection import overdue_inspections
from dangjian.supervision.selectors.visits import current_appointment, visits_missing

ITEMS_SHOWN = 20
KIND_COVERAGE = "培训机构党组织覆盖"
KIND_WORK = "党建指导员派驻"
KIND_VISIT = "党建指导员走访"
KIND_INSPECTION = "培训机构年检"


def _item(kind, title, url, key, period="", since=None, overdue=False) -> TodoItem:
    return TodoItem(kind=kind, title=title, url=url, key=key, period=period, since=since, overdue=overdue)


def _previous_month(month: dt.date) -> dt.date:
    return first_of_month(month - dt.timedelta(days=1))


def _committee_items(user, roots, today: dt.date) -> list[TodoItem]:
    scope = subtree_q(roots, "unit__organization__path") | subtree_q(roots, "unit__managing_organization__path")
    operating = Institution.objects.visible_to(user).operating().filter(scope)
    items: list[TodoItem] = []
    uncovered = (
        operating.filter(unit__organization__isnull=True)
        .annotate(members=Count("unit__members", filter=Q(unit__members__status=Status.ACTIVE)))
        .select_related("unit")
        .order_by("approved_on", "pk")[: ITEMS_SHOWN * 2]
    )
    for inst in uncovered:
        url = inst.get_absolute_url()
        if inst.members:
            title = f"{inst.name} 有{inst.members}名党员，尚未纳入党组织（单独或联合党支部）"
        else:
            title = f"{inst.name} 已审批（{inst.approved_on:%Y-%m-%d}），尚未纳入党组织覆盖"
        items.append(_item(KIND_COVERAGE, title, url, f"institution-org:{inst.pk}", since=inst.approved_on))
    items = items[:ITEMS_SHOWN]
    candidates = list(operating.values_list("pk", flat=True))
    assigned = current_assignment_ids(candidates, today)
    missing = [pk for pk in candidates if pk not in assigned][:ITEMS_SHOWN]
    for unassigned in (
        Institution.objects.dangerously_all().filter(pk__in=missing).select_related("unit").order_by("unit__name")
    ):
        items.append(
            _item(
                KIND_WORK,
                f"{unassigned.name} 尚未派驻党建指导员",
                unassigned.get_absolute_url(),
                f"institution-instructor:{unassigned.pk}",
                since=unassigned.approved_on,
            )
        )
    last = _previous_month(first_of_month(today))
    count = len(visits_missing(by=user, month=last, today=today))
    if count:
        items.append(
            _item(
                KIND_VISIT,
                f"{last:%Y年%m月}有{count}家培训机构未完成党建指导员月度“四个一”走访",
                reverse("supervision:visits_missing") + f"?month={last:%Y-%m}",
                "visits-missing",
                period=f"{last:%Y-%m}",
                since=last,
                overdue=True,
            )
        )
    return items


def _instructor_items(user, today: dt.date) -> list[TodoItem]:
    appointment = current_appointment(user, today)
    if appointment is None:
        return []
    items: list[TodoItem] = []
    this_month = first_of_month(today)
    url = reverse("supervision:visit_create")
    for month in (_previous_month(this_month), this_month):
        for missing in visits_missing(by=user, month=month, today=today, appointment=appointment)[:ITEMS_SHOWN]:
            if missing.partial:
                title = (
                    f"{missing.institution_name} {month:%Y年%m月}“四个一”未完成"
                    f"（缺：{'、'.join(missing.missing_items)}），请补充走访"
                )
            else:
                title = f"{missing.institution_name} {month:%Y年%m月}尚未走访（“四个一”）"
            items.append(
                _item(
                    KIND_VISIT,
                    title,
                    f"{url}?institution={missing.institution_id}",
                    f"visit:{missing.institution_id}",
                    period=f"{month:%Y-%m}",
                    since=month,
                    overdue=missing.overdue,
                )
            )
    return items


def _inspection_items(user, access, today: dt.date) -> list[TodoItem]:
    """年检逾期 for whoever supervises the institution: its current instructor and the secretary of the branch (or
    joint branch) covering it (module docstring). Three queries at most."""
    appointment = current_appointment(user, today)
    secretary_roots = access.roots_of({Role.SECRETARY})
    if appointment is None and not secretary_roots:
        return []
    q = subtree_q(secretary_roots, "unit__organization__path")
    if appointment is not None:
        assigned = (
            Assignment.objects.dangerously_all()
            .filter(appointment=appointment, start_on__lte=today)
            .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
            .values("institution_id")
        )
        q |= Q(pk__in=assigned)
    items = []
    for due in overdue_inspections(Institution.objects.visible_to(user).filter(q), today)[:ITEMS_SHOWN]:
        last = f"{due.last_inspection_on:%Y-%m-%d}" if due.last_inspection_on else "无"
        items.append(
            _item(
                KIND_INSPECTION,
                f"{due.name} 年检已逾期{due.days_overdue}天（应于{due.due_on:%Y-%m-%d}前年检，上次年检：{last}）",
                reverse("supervision:institution_detail", args=[due.pk]),
                f"inspection:{due.pk}",
                period=f"{due.due_on:%Y-%m}",
                since=due.due_on,
                overdue=True,
            )
        )
    return items


def supervision_todo_items(*, user, today: dt.date | None = None) -> list[TodoItem]:
    """The user's supervision to-do items, overdue first."""
    access = access_for(user)
    if access.system or not access.is_authenticated:
        return []
    today = today or timezone.localdate()
    items: list[TodoItem] = []
    roots = access.roots_of({Role.COMMITTEE})
    if roots:
        items += _committee_items(user, roots, today)
    items += _instructor_items(user, today)
    items += _inspection_items(user, access, today)
    items.sort(key=lambda item: not item.overdue)
    return items
