"""Forms of the classes seam. Every choice is scoped: organizations are picked by code inside the user's scope,
schools, courses, instructors, bookings and members come from querysets restricted to what the user sees or
manages. The services check everything again."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from dangjian.accounts.roles import SCHOOL_MANAGE_ROLES
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.members.models import Category, Member
from dangjian.orgs.models import Organization
from dangjian.schools.models import BookingRequest, BookingStatus, Course, Instructor, PartySchool
from dangjian.training.models import ClassStatus, Enrollment, TrainingClass, TrainingSession

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


def managed_organizations(user):
    """Organizations the user may organize classes for (school-managing roles' subtrees)."""
    return Organization.objects.granted_to(user, SCHOOL_MANAGE_ROLES)


class ClassForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="培训班名称", max_length=100)
    organizer = ScopedCodeField(label="主办党组织", help_text="输入名称或编码搜索，须在您的管理范围内。")
    school = forms.ModelChoiceField(label="承办党校", queryset=PartySchool.objects.none(), required=False)
    target_group = forms.CharField(label="培训对象", max_length=100, required=False)
    planned_headcount = forms.IntegerField(label="计划人数", min_value=0, max_value=100000, initial=0)
    starts_on = forms.DateField(label="开班日期", widget=DateInput())
    ends_on = forms.DateField(label="结班日期", widget=DateInput())
    description = forms.CharField(label="培训内容", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizer"].queryset = managed_organizations(user)
        self.fields["school"].queryset = PartySchool.objects.manageable_by(user).filter(active=True).order_by("code")

    @classmethod
    def initial_for(cls, training_class: TrainingClass) -> dict:
        return {
            "title": training_class.title,
            "organizer": training_class.organizer.code,
            "school": training_class.school_id,
            "target_group": training_class.target_group,
            "planned_headcount": training_class.planned_headcount,
            "starts_on": training_class.starts_on,
            "ends_on": training_class.ends_on,
            "description": training_class.description,
        }


class ClassFilterForm(forms.Form):
    """The class list's filters (GET): status, organizer code (inside the user's scope), year."""

    status = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *ClassStatus.choices], required=False)
    organizer = ScopedCodeField(label="主办党组织", required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organizer"].queryset = Organization.objects.visible_to(user)
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css
        self.fields["organizer"].widget.attrs["placeholder"] = "主办党组织编码"
        self.fields["year"].widget.attrs["placeholder"] = "年度"


class RejectForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label="退回原因", max_length=200)


class SessionForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="课程名称", max_length=100)
    starts_at = _datetime_field("开始时间")
    ends_at = _datetime_field("结束时间")
    hours = forms.DecimalField(label="学时", max_digits=6, decimal_places=2, help_text="0.5的整数倍，不超过课次时长。")
    venue = forms.CharField(label="地点", max_length=200, required=False)
    course = forms.ModelChoiceField(label="目录课程", queryset=Course.objects.none(), required=False)
    instructor = forms.ModelChoiceField(label="授课讲师", queryset=Instructor.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = Course.objects.visible_to(user).filter(active=True).order_by("title", "pk")
        self.fields["instructor"].queryset = (
            Instructor.objects.visible_to(user).filter(active=True).order_by("name", "pk")
        )

    @classmethod
    def initial_for(cls, session: TrainingSession) -> dict:
        return {
            "title": session.title,
            "starts_at": timezone.localtime(session.starts_at).strftime(DATETIME_FORMAT),
            "ends_at": timezone.localtime(session.ends_at).strftime(DATETIME_FORMAT),
            "hours": session.hours,
            "venue": session.venue,
            "course": session.course_id,
            "instructor": session.instructor_id,
        }


class BookingSessionForm(BootstrapFormMixin, forms.Form):
    booking = forms.ModelChoiceField(label="已排课的约课", queryset=BookingRequest.objects.none())

    def __init__(self, *args, user, training_class: TrainingClass, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["booking"].queryset = (
            BookingRequest.objects.visible_to(user)
            .filter(
                status=BookingStatus.SCHEDULED,
                training_session__isnull=True,
                school__organization__path__startswith=training_class.organizer.path,
            )
            .select_related("school")
            .order_by("starts_at", "pk")
        )
        self.fields["booking"].label_from_instance = lambda b: (
            f"{b.school.name}：{b.topic}（{timezone.localtime(b.starts_at):%Y-%m-%d %H:%M}）"
            if b.starts_at
            else f"{b.school.name}：{b.topic}"
        )


class MemberPickForm(forms.Form):
    """Members picked from the search results (逐个报名); the page renders the checkboxes itself, the queryset
    (everybody active the user sees) decides what is accepted."""

    members = forms.ModelMultipleChoiceField(
        label="党员", queryset=Member.objects.none(), error_messages={"required": "请选择要报名的党员。"}
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = Member.objects.visible_to(user).active()
        self.fields["members"].error_messages["invalid_choice"] = "所选党员不存在，或不在您的管理范围内。"
        self.fields["members"].error_messages["invalid_pk_value"] = "所选党员不存在，或不在您的管理范围内。"


class EnrollByOrganizationForm(BootstrapFormMixin, forms.Form):
    organization = ScopedCodeField(label="党组织", help_text="该组织及其下级组织的全部正常党员。")
    category = forms.ChoiceField(label="人员类别", choices=[("", "不限"), *Category.choices], required=False)
    leadership = forms.BooleanField(label="仅班子成员", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.visible_to(user)


class EnrollImportForm(BootstrapFormMixin, forms.Form):
    """The class roster upload (导入调训名单, docs/imports.md): a spreadsheet, and — once the service has said the
    workbook holds several sheets with data (`sheets`, their names) — a choice of 工作表; otherwise the chosen name
    rides along hidden."""

    file = forms.FileField(
        label="名单文件（.xlsx、.xls 或 .csv）",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
        help_text="可用身份证号码，或姓名+所在党支部；表头上方可有标题行，其他列忽略。",
    )
    sheet = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, sheets: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if sheets:
            self.fields["sheet"] = forms.ChoiceField(
                label="工作表",
                required=False,
                choices=[(name, name) for name in sheets],
                widget=forms.Select(attrs={"class": "form-select"}),  # added after the mixin styled the fields
                help_text="工作簿中有多个有数据的工作表：请选择要导入的一个，并重新选择文件上传。",
            )


class WithdrawForm(forms.Form):
    member = forms.ModelChoiceField(queryset=Member.objects.none())

    def __init__(self, *args, user, training_class: TrainingClass, **kwargs):
        super().__init__(*args, **kwargs)
        enrolled = Enrollment.objects.active().filter(training_class=training_class).values("member_id")
        self.fields["member"].queryset = Member.objects.visible_to(user).filter(pk__in=enrolled)
        self.fields["member"].error_messages["invalid_choice"] = "该党员未报名该培训班（或已退出）。"


class AttendanceMarkForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        queryset=Member.objects.none(), error_messages={"required": "请选择党员。"}
    )
    present = forms.TypedChoiceField(choices=[("1", "签到"), ("0", "取消签到")], coerce=lambda v: v == "1")

    def __init__(self, *args, user, session: TrainingSession, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = Member.objects.visible_to(user)
        self.fields["members"].error_messages["invalid_choice"] = "所选党员不存在，或不在您的管理范围内。"
        self.fields["members"].error_messages["invalid_pk_value"] = "所选党员不存在，或不在您的管理范围内。"


class SignInCodeForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(
        label="签到码",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "inputmode": "text", "spellcheck": "false"}
        ),
        help_text="投影屏幕上显示的6位签到码。",
    )
