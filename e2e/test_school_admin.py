"""The district party school's admin schedules a booking (排课派单) a town school submitted: from the booking
list to the booking, the schedule form (instructor, times, venue), and the booking is scheduled."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from dangjian.schools.models import BookingRequest, BookingStatus
from dangjian.schools.tests.test_booking_services import at, build_place, submitted
from e2e.helpers import login_with_cookie
from tests.scope import build_world


def local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_school_admin_schedules_a_booking(page):
    place = build_place(build_world())
    booking = submitted(place, topic="学习贯彻全会精神专题党课")
    login_with_cookie(page, place.district_admin)

    page.goto("/")
    page.get_by_role("link", name="约课安排").click()
    page.get_by_role("link", name="学习贯彻全会精神专题党课").click()
    expect(page.locator("#schedule")).to_contain_text("尚未排课")
    form = page.locator("#schedule-form")
    form.get_by_label("授课讲师").select_option(label="王讲师")
    form.get_by_label("开始时间").fill(local(at(9)))
    form.get_by_label("结束时间").fill(local(at(11)))
    form.get_by_label("上课场地").select_option(label="滨江区委党校 · 区委党校报告厅")
    form.get_by_role("button", name="确认排课").click()

    expect(page.get_by_text("已排课派单。")).to_be_visible()
    expect(page.locator("#schedule")).to_contain_text("王讲师")
    booking = BookingRequest.objects.get(pk=booking.pk)
    assert (booking.status, booking.starts_at, booking.venue) == (BookingStatus.SCHEDULED, at(9), place.district_venue)
