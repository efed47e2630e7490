"""The party schools' sources of the to-do list (待办; docs/development.md "To-do items"): bookings to schedule and to
confirm (约课 → 排课派单), and the members a school should invite under the 上讲台 duty
(`selectors.lecture_duty.lecture_duty_todo_items`)."""

from __future__ import annotations

import datetime as dt

from dangjian.accounts.access import access_for
from dangjian.core import todo
from dangjian.core.todo import SOURCE_LIMIT, TodoItem, local_date, moment
from dangjian.orgs.models import subtree_q
from dangjian.schools.models import BookingRequest, BookingStatus
from dangjian.schools.selectors.lecture_duty import lecture_duty_todo_items


@todo.source(order=40)
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
            due=b.wanted_from - dt.timedelta(days=1),
        )
        for b in waiting.order_by("wanted_from", "pk")[:SOURCE_LIMIT]
    ]
    items += [
        TodoItem(
            kind="约课",
            title=f"{b.school.name}：{b.topic}已于{local_date(b.ends_at):%m月%d日}结束，待确认完成",
            url=b.get_absolute_url(),
            key=f"booking-complete:{b.pk}",
            since=b.ends_at,
            overdue=local_date(b.ends_at) < today,
            due=local_date(b.ends_at),
        )
        for b in ended.order_by("ends_at", "pk")[:SOURCE_LIMIT]
    ]
    # A booking the district school returned lands back on its own school's list, to be corrected and sent again
    # before the wanted period begins.
    returned = visible.filter(subtree_q(roots, "school__organization__path"), status=BookingStatus.RETURNED)
    items += [
        TodoItem(
            kind="约课",
            title=f"{b.topic}被退回：{b.returned_reason or '请查看退回原因'}，待修改后重新提交",
            url=b.get_absolute_url(),
            key=f"booking-returned:{b.pk}",
            period=f"{local_date(b.updated_at):%Y-%m-%d}",
            since=b.updated_at,
            overdue=b.wanted_from <= today,
            due=b.wanted_from - dt.timedelta(days=1),
        )
        for b in returned.order_by("wanted_from", "pk")[:SOURCE_LIMIT]
    ]
    return items


todo.register(lecture_duty_todo_items, order=110)
