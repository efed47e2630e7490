"""Forms of the catalog seam. Organizations are picked by code inside the user's school-managing scope; every
choice field's queryset is scoped to what the user sees. The rules themselves live in the services."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from dangjian.accounts.roles import SCHOOL_MANAGE_ROLES
from dangjian.core.forms import BootstrapFormMixin, DateInput, ScopedCodeField
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization
from dangjian.schools.models import (
    DEFAULT_PREMIUM_REWARD_HOURS,
    ContentType,
    Course,
    CourseCategory,
    CourseFormat,
    Instructor,
    InstructorTeam,
    PointEntry,
    PointEvent,
    PremiumEntry,
    TargetGroup,
    format_hours,
)
from dangjian.schools.selectors.catalog import course_choices, instructor_choices

TARGET_FLAGS = {
    TargetGroup.SECRETARIES: "for_secretaries",
    TargetGroup.PARTY_WORKERS: "for_party_workers",
    TargetGroup.MEMBERS: "for_members",
}


def manageable_orgs(user):
    """The organizations in which the user may change party-school data (the owner of a new catalog row)."""
    return Organization.objects.granted_to(user, SCHOOL_MANAGE_ROLES)


class OwnerFormMixin:
    """An `owner` picked by organization code within the user's school-managing scope."""

    def _set_owner_queryset(self, user) -> None:
        self.fields["owner"].queryset = manageable_orgs(user)


class InstructorForm(OwnerFormMixin, BootstrapFormMixin, forms.Form):
    owner = ScopedCodeField(label="所属党组织")
    name = forms.CharField(label="姓名", max_length=50)
    team = forms.ModelChoiceField(label="讲师团", queryset=InstructorTeam.objects.none(), empty_label="请选择讲师团")
    employer = forms.CharField(label="工作单位", max_length=100, required=False)
    title = forms.CharField(label="职务职称", max_length=100, required=False)
    topics = forms.CharField(label="擅长专题", max_length=300, required=False)
    member = forms.ModelChoiceField(
        label="对应党员", queryset=Member.objects.none(), required=False, empty_label="（非党员或不关联）"
    )
    appointed_on = forms.DateField(label="聘任日期", required=False, widget=DateInput())
    appointment_ends_on = forms.DateField(label="聘期截止", required=False, widget=DateInput())
    active = forms.BooleanField(label="在库", required=False, initial=True)

    def __init__(self, *args, user, instructor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_owner_queryset(user)
        teams = Q(active=True)
        members = Q(status=Status.ACTIVE)
        if instructor is not None:
            # The current team and member stay choosable (the service only refuses a newly chosen inactive team).
            teams |= Q(pk=instructor.team_id)
            members |= Q(pk=instructor.member_id)
        self.fields["team"].queryset = InstructorTeam.objects.filter(teams)
        self.fields["member"].queryset = (
            Member.objects.visible_to(user).filter(members).select_related("organization").order_by("name", "pk")
        )
        self.fields["member"].label_from_instance = lambda m: f"{m.name}（{m.organization.name}）"


class CourseForm(OwnerFormMixin, BootstrapFormMixin, forms.Form):
    owner = ScopedCodeField(label="所属党组织")
    title = forms.CharField(label="课程名称", max_length=100)
    category = forms.ChoiceField(label="课程类别", choices=[("", "请选择"), *CourseCategory.choices])
    format = forms.ChoiceField(label="课程形式", choices=[("", "请选择"), *CourseFormat.choices])
    hours = forms.DecimalField(
        label="学时",
        required=False,
        max_digits=6,
        help_text="留空按课程形式的默认学时："
        + "，".join(f"{label}{format_hours(value)}" for value, label in CourseFormat.choices)
        + "；须为0.5的整数倍。",
    )
    content_type = forms.ChoiceField(label="内容类型", choices=[("", "请选择"), *ContentType.choices])
    target_groups = forms.MultipleChoiceField(
        label="培训对象", choices=TargetGroup.choices, required=False, widget=forms.SelectMultiple(attrs={"size": 3})
    )
    instructors = forms.ModelMultipleChoiceField(
        label="授课讲师",
        queryset=Instructor.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    summary = forms.CharField(label="课程简介", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    materials = forms.CharField(label="课程资料", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    active = forms.BooleanField(label="在用", required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_owner_queryset(user)
        self.fields["instructors"].queryset = instructor_choices(user=user)
        self.fields["instructors"].label_from_instance = lambda i: f"{i.name}（{i.team.name}）"

    def flags(self) -> dict[str, bool]:
        groups = set(self.cleaned_data.get("target_groups") or [])
        return {flag: group in groups for group, flag in TARGET_FLAGS.items()}


def course_initial(course: Course) -> dict:
    groups = [group for group, flag in TARGET_FLAGS.items() if getattr(course, flag)]
    return {
        "owner": course.owner.code,
        "title": course.title,
        "category": course.category,
        "format": course.format,
        "hours": course.hours,
        "content_type": course.content_type,
        "target_groups": groups,
        "instructors": [i.pk for i in course.instructors.all()],
        "summary": course.summary,
        "materials": course.materials,
        "active": course.active,
    }


class ModuleForm(OwnerFormMixin, BootstrapFormMixin, forms.Form):
    owner = ScopedCodeField(label="所属党组织")
    name = forms.CharField(label="模块名称", max_length=50)
    description = forms.CharField(label="说明", max_length=200, required=False)
    courses = forms.ModelMultipleChoiceField(
        label="课程", queryset=Course.objects.none(), required=False, widget=forms.SelectMultiple(attrs={"size": 8})
    )
    target_political = forms.DecimalField(label="政治理论目标占比（%）", max_digits=5, decimal_places=1, initial=40)
    target_practice = forms.DecimalField(label="基层实务目标占比（%）", max_digits=5, decimal_places=1, initial=40)
    target_model = forms.DecimalField(label="先进模范目标占比（%）", max_digits=5, decimal_places=1, initial=20)
    tolerance = forms.DecimalField(label="允许偏差（百分点）", max_digits=4, decimal_places=1, initial=5)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_owner_queryset(user)
        self.fields["courses"].queryset = course_choices(user=user)
        self.fields["courses"].label_from_instance = lambda c: (
            f"{c.title}（{c.get_content_type_display()}，{c.hours}学时）"
        )


class PointRuleForm(OwnerFormMixin, BootstrapFormMixin, forms.Form):
    owner = ScopedCodeField(label="适用党组织", help_text="规则适用于该组织及其下级；下级组织的规则优先。")
    event = forms.ChoiceField(label="积分事项", choices=[("", "请选择"), *PointEvent.choices])
    points = forms.DecimalField(label="积分", max_digits=6, decimal_places=1)
    valid_from = forms.IntegerField(label="起始年度")
    valid_to = forms.IntegerField(label="截止年度", required=False, help_text="留空表示长期有效。")
    description = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_owner_queryset(user)


class PointReverseForm(BootstrapFormMixin, forms.Form):
    entry = forms.ModelChoiceField(label="积分记录", queryset=PointEntry.objects.none(), empty_label="请选择记录")
    reason = forms.CharField(label="冲销原因", max_length=150)

    def __init__(self, *args, instructor, **kwargs):
        super().__init__(*args, **kwargs)
        # Any entry of this instructor is accepted here, so that the service says why one cannot be reversed;
        # the list offers those not reversed yet.
        field = self.fields["entry"]
        field.queryset = instructor.point_entries.all()
        offered = field.queryset.filter(reverses__isnull=True, reversed_by__isnull=True).order_by("-date", "-pk")
        field.widget.choices = [("", "请选择记录")] + [
            (e.pk, f"#{e.pk} {e.date:%Y-%m-%d} {e.get_event_display()} {e.points}分") for e in offered
        ]


class PremiumRoundForm(OwnerFormMixin, BootstrapFormMixin, forms.Form):
    owner = ScopedCodeField(label="组织单位")
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    category = forms.ChoiceField(label="课程类别", choices=[("", "请选择"), *CourseCategory.choices])
    quota = forms.IntegerField(label="入选名额", min_value=1, max_value=1000, initial=3)
    reward_hours = forms.DecimalField(
        label="区内讲师奖励学时",
        min_value=0,
        max_value=200,
        max_digits=4,
        decimal_places=1,
        initial=DEFAULT_PREMIUM_REWARD_HOURS,
        required=False,
        help_text="入选课程中关联了党员的区内讲师各计一次（精品课程奖励）；0为不计学时，留空为默认4学时"
        "（黄陂办法未给数字，4学时是本系统的默认值）。",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_owner_queryset(user)


class PremiumEntryForm(BootstrapFormMixin, forms.Form):
    course = forms.ModelChoiceField(label="参评课程", queryset=Course.objects.none(), empty_label="请选择课程")

    def __init__(self, *args, user, round, **kwargs):
        super().__init__(*args, **kwargs)
        # Any visible course is accepted here, so that the service can say why one is refused (another
        # category, inactive, already entered); the list offers only the active ones of the round's category.
        field = self.fields["course"]
        field.queryset = Course.objects.visible_to(user)
        offered = field.queryset.filter(category=round.category, active=True).exclude(premium_entries__round=round)
        field.widget.choices = [("", "请选择课程")] + [(c.pk, c.title) for c in offered.order_by("title", "pk")]


class PremiumScoreForm(BootstrapFormMixin, forms.Form):
    entry = forms.ModelChoiceField(label="参评课程", queryset=PremiumEntry.objects.none(), empty_label="请选择课程")
    score = forms.DecimalField(label="评分（0—100）", max_digits=6, decimal_places=2)

    def __init__(self, *args, round, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry"].queryset = round.entries.select_related("course").order_by("pk")
        self.fields["entry"].label_from_instance = lambda e: (
            f"{e.course.title}（{'已评' + str(e.score) + '分' if e.score is not None else '未评分'}）"
        )
