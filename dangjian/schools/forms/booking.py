"""Forms of the booking seam. Every choice is scoped to what the user sees or manages; the rules themselves are
the services' (a rejected value comes back from the service and is shown beside its field)."""

from __future__ import annotations

from django import forms

from dangjian.core.forms import BootstrapFormMixin, DateInput
from dangjian.core.versioning import VersionedFormMixin
from dangjian.schools.models import (
    BookingRequest,
    BookingStatus,
    Course,
    Instructor,
    PartySchool,
    SchoolVenue,
    TargetGroup,
)
from dangjian.schools.selectors.booking import parse_month


class DateTimeLocalInput(forms.DateTimeInput):
    """`<input type="datetime-local">`, read in the project's time zone (Asia/Shanghai)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class CourseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Course) -> str:
        return f"{obj.title}（{obj.get_category_display()}，{obj.hours}学时）"


class BookingForm(VersionedFormMixin, BootstrapFormMixin, forms.Form):
    """约课邀请函 and 选课点单: the school (on creation only, among the schools the user manages), the needs, and
    the courses (the active catalog rows the user sees, shared downwards)."""

    school = forms.ModelChoiceField(label="约课党校", queryset=PartySchool.objects.none(), empty_label="请选择党校")
    topic = forms.CharField(label="培训主题", max_length=100)
    target_group = forms.ChoiceField(label="培训对象", choices=TargetGroup.choices)
    headcount = forms.IntegerField(label="培训人数", widget=forms.NumberInput(attrs={"min": 1, "max": 10000}))
    wanted_from = forms.DateField(label="期望开始日期", widget=DateInput())
    wanted_to = forms.DateField(label="期望截止日期", widget=DateInput())
    venue_note = forms.CharField(label="期望场地", max_length=200, required=False)
    courses = CourseChoiceField(
        label="所选课程",
        queryset=Course.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="可多选（按住 Ctrl 或 ⌘ 点选）。",
        error_messages={"required": "请至少选择一门课程。"},
    )

    def __init__(self, *args, user, booking: BookingRequest | None = None, **kwargs):
        if booking is not None:
            kwargs.setdefault(
                "initial",
                {
                    "topic": booking.topic,
                    "target_group": booking.target_group,
                    "headcount": booking.headcount,
                    "wanted_from": booking.wanted_from,
                    "wanted_to": booking.wanted_to,
                    "venue_note": booking.venue_note,
                    "courses": list(booking.courses.values_list("pk", flat=True)),
                },
            )
        super().__init__(*args, versioned=booking, **kwargs)
        if booking is not None:
            del self.fields["school"]
        else:
            self.fields["school"].queryset = (
                PartySchool.objects.manageable_by(user).filter(active=True).select_related("organization")
            )
        # A course retired since it was chosen is no longer offered (the detail page still lists it).
        self.fields["courses"].queryset = (
            Course.objects.visible_to(user).filter(active=True).order_by("category", "title", "pk")
        )


class ScheduleForm(BootstrapFormMixin, forms.Form):
    """排课派单: an instructor of the pool the user sees, a time, and a venue of the requesting or the dispatcher
    school."""

    instructor = forms.ModelChoiceField(label="授课讲师", queryset=Instructor.objects.none(), empty_label="请选择讲师")
    starts_at = forms.DateTimeField(label="开始时间", widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(label="结束时间", widget=DateTimeLocalInput())
    venue = forms.ModelChoiceField(label="上课场地", queryset=SchoolVenue.objects.none(), empty_label="请选择场地")

    def __init__(self, *args, user, booking: BookingRequest, **kwargs):
        if booking.status == BookingStatus.SCHEDULED:
            kwargs.setdefault(
                "initial",
                {
                    "instructor": booking.instructor_id,
                    "starts_at": booking.starts_at,
                    "ends_at": booking.ends_at,
                    "venue": booking.venue_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["instructor"].queryset = (
            Instructor.objects.visible_to(user).filter(active=True).select_related("team").order_by("name", "pk")
        )
        self.fields["venue"].queryset = (
            SchoolVenue.objects.visible_to(user)
            .filter(school_id__in=[booking.school_id, booking.dispatcher_id], active=True)
            .select_related("school")
            .order_by("school__code", "name")
        )


class ReturnForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label="退回原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 200}),
        error_messages={"required": "请填写退回原因。"},
    )


class BusyForm(forms.Form):
    """Which instructor's day to show beside the schedule form (query parameters)."""

    busy_instructor = forms.ModelChoiceField(
        label="讲师", queryset=Instructor.objects.none(), required=False, empty_label="请选择讲师"
    )
    busy_day = forms.DateField(label="日期", required=False, widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["busy_instructor"].queryset = Instructor.objects.visible_to(user).filter(active=True)
        self.fields["busy_instructor"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["busy_day"].widget.attrs["class"] = "form-control form-control-sm"


class MonthField(forms.CharField):
    """A month as `YYYY-MM` → its first day."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        first = parse_month(value)
        if first is None:
            raise forms.ValidationError("月份格式应为“年-月”，例如2025-03。")
        return first


class BookingFilterForm(forms.Form):
    """The list's filters: status, school (among the schools the user sees), month."""

    status = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *BookingStatus.choices], required=False)
    school = forms.ModelChoiceField(
        label="约课党校", queryset=PartySchool.objects.none(), required=False, empty_label="全部党校"
    )
    month = MonthField(label="月份", required=False, widget=forms.TextInput(attrs={"placeholder": "如 2025-03"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = PartySchool.objects.visible_to(user).order_by("code")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select" if isinstance(field.widget, forms.Select) else "form-control"


class BoardForm(forms.Form):
    """The board's month and district school (among the district schools the user sees)."""

    month = MonthField(label="月份", required=False)
    school = forms.ModelChoiceField(label="区委党校", queryset=PartySchool.objects.none(), required=False)

    def __init__(self, *args, dispatchers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = dispatchers
