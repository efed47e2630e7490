"""Menu-style booking (约课 → 选课点单 → 排课派单, Xiqing): a school's request for courses, its dispatch and its
events."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.core.models import TimeStampedModel
from dangjian.schools.models.catalog import Course, TargetGroup
from dangjian.schools.models.instructors import Instructor
from dangjian.schools.models.schools import PartySchool, SchoolVenue
from dangjian.schools.models.scope import school_scoped


class BookingStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    SCHEDULED = "scheduled", "已排课"
    COMPLETED = "completed", "已完成"
    RETURNED = "returned", "已退回"


class BookingRequest(TimeStampedModel):
    """A booking request (约课邀请函): a school names its needs and picks catalog courses; the district party
    school schedules it, assigning an instructor, a time and a venue (排课派单)."""

    school = models.ForeignKey(PartySchool, on_delete=models.PROTECT, related_name="bookings", verbose_name="约课党校")
    dispatcher = models.ForeignKey(
        PartySchool, on_delete=models.PROTECT, related_name="dispatched_bookings", verbose_name="派单党校"
    )
    topic = models.CharField("培训主题", max_length=100)
    target_group = models.CharField("培训对象", max_length=20, choices=TargetGroup.choices)
    headcount = models.PositiveIntegerField("人数", validators=[MinValueValidator(1), MaxValueValidator(10000)])
    wanted_from = models.DateField("期望开始日期")
    wanted_to = models.DateField("期望截止日期")
    venue_note = models.CharField("期望场地", max_length=200, blank=True)
    courses = models.ManyToManyField(Course, related_name="bookings", verbose_name="所选课程")
    status = models.CharField("状态", max_length=12, choices=BookingStatus.choices, default=BookingStatus.DRAFT)
    instructor = models.ForeignKey(
        Instructor, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings", verbose_name="授课讲师"
    )
    starts_at = models.DateTimeField("开始时间", null=True, blank=True)
    ends_at = models.DateTimeField("结束时间", null=True, blank=True)
    venue = models.ForeignKey(
        SchoolVenue, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings", verbose_name="场地"
    )
    returned_reason = models.CharField("退回原因", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[courses])

    objects = school_scoped("school__organization").as_manager()

    class Meta:
        verbose_name = "约课"
        verbose_name_plural = "约课"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["instructor", "starts_at"], name="booking_instructor_time_idx"),
            models.Index(fields=["venue", "starts_at"], name="booking_venue_time_idx"),
            models.Index(fields=["dispatcher", "status"], name="booking_dispatcher_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.school.name}：{self.topic}"

    def get_absolute_url(self) -> str:
        return reverse("schools:booking_detail", args=[self.pk])


class BookingEvent(models.Model):
    """One step of a booking's trail: who moved it from which state to which, when, and why."""

    booking = models.ForeignKey(BookingRequest, on_delete=models.CASCADE, related_name="events", verbose_name="约课")
    from_status = models.CharField("原状态", max_length=12, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=12, choices=BookingStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "约课办理记录"
        verbose_name_plural = "约课办理记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.booking} {self.get_to_status_display()}"
