"""Pages of the booking seam (约课 → 选课点单 → 排课派单): the list, a new booking, a booking's page with its trail
and actions, and the district party school's board (a month calendar with the bookings waiting)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.schools.forms.booking import BoardForm, BookingFilterForm, BookingForm, BusyForm, ReturnForm, ScheduleForm
from dangjian.schools.models import BookingRequest
from dangjian.schools.selectors import booking as selectors
from dangjian.schools.services import booking as services


def _require_viewer(request) -> None:
    require(access_for(request.user).can_view_schools, "您的角色无权查看约课信息。")


@login_required
def booking_list_view(request):
    """约课: the bookings of the schools the user sees, filtered by status, school and month."""
    _require_viewer(request)
    form = BookingFilterForm(request.GET or None, user=request.user)
    if form.is_bound and not form.is_valid():
        rows = BookingRequest.objects.none()  # a rejected filter shows its error, not everything
    else:
        data = form.cleaned_data if form.is_bound else {}
        rows = selectors.booking_list(
            user=request.user, status=data.get("status") or None, school=data.get("school"), month=data.get("month")
        )
    return render(
        request,
        "schools/booking/list.html",
        {
            "filter_form": form,
            "page": paginate(request, rows),
            "can_create": access_for(request.user).can_manage_schools,
        },
    )


@login_required
def booking_create_view(request):
    """新建约课 (约课邀请函 + 选课点单), for a school the user manages."""
    require(access_for(request.user).can_manage_schools, "您的角色无权约课。")
    form = BookingForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        booking = submit(form, lambda data: services.booking_create(by=request.user, **data))
        if booking is not FAILED:
            messages.success(request, "约课已保存为草稿，确认无误后请提交区委党校排课。")
            return redirect(booking)
    return render(request, "schools/booking/form.html", {"form": form, "title": "新建约课"})


@scoped(BookingRequest)
def booking_edit_view(request, pk):
    booking = get_visible_or_404(BookingRequest, request.user, pk)
    require(
        access_for(request.user).can_manage_schools_in(booking.school.organization),
        "只有约课党校的管理人员才能修改约课。",
    )
    if booking.status not in selectors.EDITABLE_STATUSES:
        messages.error(request, f"{booking.get_status_display()}的约课不能修改。")
        return redirect(booking)
    form = BookingForm(request.POST or None, user=request.user, booking=booking)
    if request.method == "POST" and form.is_valid():
        updated = submit(
            form,
            lambda data: services.booking_update(
                by=request.user, booking=booking, expected_version=data.pop("version", None), **data
            ),
        )
        if updated is not FAILED:
            messages.success(request, "约课已保存。")
            return redirect(booking)
    return render(
        request, "schools/booking/form.html", {"form": form, "booking": booking, "title": f"修改约课：{booking.topic}"}
    )


def _busy(request, booking, actions, schedule_form) -> dict:
    """The free/busy of an instructor for a day, beside the schedule form: the one asked for (?busy_instructor=
    &busy_day=), else the one just posted, else the booking's own."""
    if not actions.schedule:
        return {}
    busy_form = BusyForm(request.GET or None, user=request.user)
    if not busy_form.is_bound and schedule_form.is_bound:
        # The posted instructor and day (read through the same scoped form, as the posted values are raw).
        posted_day = str(schedule_form["starts_at"].value() or "")[:10]
        data = {"busy_instructor": schedule_form["instructor"].value(), "busy_day": posted_day}
        busy_form = BusyForm(data, user=request.user)
    instructor = day = None
    if busy_form.is_bound and busy_form.is_valid():
        instructor, day = busy_form.cleaned_data["busy_instructor"], busy_form.cleaned_data["busy_day"]
    elif booking.instructor_id and booking.starts_at:
        instructor, day = booking.instructor, timezone.localtime(booking.starts_at).date()
    if not request.GET:
        busy_form = BusyForm(initial={"busy_instructor": instructor, "busy_day": day}, user=request.user)
    slots = None
    if instructor is not None and day is not None:
        slots = selectors.instructor_busy(user=request.user, instructor=instructor, day=day)
    return {"busy_form": busy_form, "busy_instructor": instructor, "busy_day": day, "busy_slots": slots}


def _render_detail(request, booking, *, schedule_form=None, return_form=None):
    actions = selectors.booking_actions(user=request.user, booking=booking)
    schedule_form = schedule_form or ScheduleForm(user=request.user, booking=booking)
    context = {
        "booking": booking,
        "actions": actions,
        "schedule_form": schedule_form if actions.schedule else None,
        "return_form": (return_form or ReturnForm()) if actions.return_ else None,
        **selectors.booking_detail(booking=booking),
        **_busy(request, booking, actions, schedule_form),
    }
    return render(request, "schools/booking/detail.html", context)


@scoped(BookingRequest)
def booking_detail_view(request, pk):
    """约课详情: the request, its courses, its schedule, the trail, and the actions the user may take."""
    booking = get_visible_or_404(BookingRequest, request.user, pk)
    _require_viewer(request)
    return _render_detail(request, booking)


@scoped(BookingRequest)
@require_POST
def booking_submit_view(request, pk):
    booking = get_visible_or_404(BookingRequest, request.user, pk)
    require(
        access_for(request.user).can_manage_schools_in(booking.school.organization),
        "只有约课党校的管理人员才能提交约课。",
    )
    try:
        services.booking_submit(by=request.user, booking=booking)
    except ValidationError as exc:
        messages.error(request, "约课未提交：" + "；".join(exc.messages))
    else:
        messages.success(request, "约课已提交区委党校排课。")
    return redirect(booking)


@scoped(BookingRequest)
@require_POST
def booking_schedule_view(request, pk):
    booking = get_visible_or_404(BookingRequest, request.user, pk)
    require(
        access_for(request.user).can_manage_schools_in(booking.dispatcher.organization), services.NOT_DISPATCHER_MESSAGE
    )
    form = ScheduleForm(request.POST, user=request.user, booking=booking)
    if submit(form, lambda data: services.booking_schedule(by=request.user, booking=booking, **data)) is not FAILED:
        messages.success(request, "已排课派单。")
        return redirect(booking)
    return _render_detail(request, booking, schedule_form=form)


@scoped(BookingRequest)
@require_POST
def booking_return_view(request, pk):
    booking = get_visible_or_404(BookingRequest, request.user, pk)
    require(
        access_for(request.user).can_manage_schools_in(booking.dispatcher.organization), services.NOT_DISPATCHER_MESSAGE
    )
    form = ReturnForm(request.POST)
    returned = submit(
        form, lambda data: services.booking_return(by=request.user, booking=booking, reason=data["reason"])
    )
    if returned is not FAILED:
        messages.success(request, "约课已退回约课党校。")
        return redirect(booking)
    return _render_detail(request, booking, return_form=form)


@scoped(BookingRequest)
@require_POST
def booking_complete_view(request, pk):
    booking = get_visible_or_404(BookingRequest, request.user, pk)
    sides = (booking.school.organization, booking.dispatcher.organization)
    require(any(access_for(request.user).can_manage_schools_in(org) for org in sides), services.NOT_EITHER_SIDE_MESSAGE)
    try:
        services.booking_complete(by=request.user, booking=booking)
    except ValidationError as exc:
        messages.error(request, "未能确认完成：" + "；".join(exc.messages))
    else:
        messages.success(request, "约课已确认完成。")
    return redirect(booking)


@login_required
def booking_board_view(request):
    """排课看板: a district school's month calendar of sessions and the submitted bookings waiting to be
    scheduled (`?month=YYYY-MM&school=<district school>`)."""
    _require_viewer(request)
    dispatchers = selectors.board_dispatchers(user=request.user)
    form = BoardForm(request.GET or None, dispatchers=dispatchers)
    form.is_valid()  # a bad month shows its error; the valid parts still apply
    data = getattr(form, "cleaned_data", {})
    month = data.get("month") or timezone.localdate().replace(day=1)
    dispatcher = data.get("school") or selectors.default_dispatcher(user=request.user, schools=dispatchers)
    context = {"form": form, "dispatchers": dispatchers, "dispatcher": dispatcher}
    if dispatcher is not None:
        waiting = selectors.booking_waiting(user=request.user, dispatcher=dispatcher)
        # The waiting list's pages keep the month and school shown, even when they came by default.
        params = QueryDict(mutable=True)
        params.update({"month": f"{month:%Y-%m}", "school": dispatcher.pk})
        context.update(
            board=selectors.booking_board(user=request.user, dispatcher=dispatcher, month=month),
            page=paginate(request, waiting),
            params=params,
            can_dispatch=access_for(request.user).can_manage_schools_in(dispatcher.organization),
        )
    return render(request, "schools/booking/board.html", context)
