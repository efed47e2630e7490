"""Forms of the supervision pages. Organizations are named by code inside the user's scope; institutions and clues
are chosen only among querysets scoped to the user (the visit form: the instructor's assigned institutions)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from dangjian.core.forms import BootstrapFormMixin, DateInput, MultipleFileField, MultipleFileInput, ScopedCodeField
from dangjian.members.models import Member
from dangjian.orgs.models import Organization, Unit, UnitKind
from dangjian.supervision.models import (
    CLUE_TRANSITIONS,
    AppointmentSource,
    ApprovalStatus,
    CheckKind,
    CheckResult,
    ClueStatus,
    GridCell,
    Institution,
    InstructorAppointment,
    PointEvent,
    PointRule,
    SubjectType,
    Visit,
)
from dangjian.supervision.selectors.coverage import (
    appointable_accounts,
    areas_of,
    committee_organizations,
    supervision_organizations,
)
from dangjian.supervision.selectors.points import YEAR_MAX, YEAR_MIN
from dangjian.supervision.services.institutions import INSTITUTION_FIELDS


def this_year() -> int:
    return timezone.localdate().year


def year_field(**kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        label="年度",
        min_value=YEAR_MIN,
        max_value=YEAR_MAX,
        error_messages={
            "invalid": "年度应为四位数字。",
            "min_value": f"年度不能早于{YEAR_MIN}年。",
            "max_value": f"年度不能晚于{YEAR_MAX}年。",
        },
        **kwargs,
    )


class MonthField(forms.CharField):
    """A month as YYYY-MM (the first day of it)."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            month = dt.datetime.strptime(value.strip(), "%Y-%m").date()
        except ValueError:
            raise ValidationError("月份格式应为“年-月”，如2024-05。") from None
        if not YEAR_MIN <= month.year <= YEAR_MAX:
            raise ValidationError(f"月份应在{YEAR_MIN}年到{YEAR_MAX}年之间。")
        return month


class ScopeForm(BootstrapFormMixin, forms.Form):
    """The organization (by code, inside the user's scope), the area and the year of a report; all optional."""

    org = ScopedCodeField(label="党组织", required=False)
    area = forms.ChoiceField(label="片区", required=False)
    year = year_field(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = supervision_organizations(user)
        self.fields["area"].choices = [("", "全部片区"), *[(a, a) for a in areas_of(user)]]


COVERAGE_FILTERS = [
    ("", "全部"),
    ("org", "未纳入党组织"),
    ("work", "未派驻指导员"),
    ("inspection", "年检逾期"),
    ("red", "本年度红名单"),
]


class InstitutionFilterForm(ScopeForm):
    q = forms.CharField(label="名称或许可证号", required=False, max_length=50)
    subject_type = forms.ChoiceField(label="培训类别", required=False, choices=[("", "全部"), *SubjectType.choices])
    approval_status = forms.ChoiceField(
        label="审批状态", required=False, choices=[("", "全部"), *ApprovalStatus.choices]
    )
    coverage = forms.ChoiceField(label="覆盖情况", required=False, choices=COVERAGE_FILTERS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["year"]


class MonthForm(BootstrapFormMixin, forms.Form):
    month = MonthField(label="月份（年-月）", required=False, max_length=7)


class VisitForm(BootstrapFormMixin, forms.Form):
    """The instructor's visit form, fast on a phone: the institution, the date, the four items as big checkboxes."""

    institution = forms.ModelChoiceField(
        label="走访机构", queryset=None, error_messages={"invalid_choice": "该机构未派驻给您，请从列表中选择。"}
    )
    date = forms.DateField(label="走访日期", widget=DateInput())
    party_lecture = forms.BooleanField(label="上党课", required=False)
    policy_talk = forms.BooleanField(label="讲政策", required=False)
    hazard_check = forms.BooleanField(label="排隐患", required=False)
    ledger_check = forms.BooleanField(label="核台账", required=False)
    is_case_law_session = forms.BooleanField(label="开展“以案说法”", required=False)
    is_supplement = forms.BooleanField(label="补充走访（本月已走访过）", required=False)
    findings = forms.CharField(label="指导情况", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    hazards = forms.CharField(label="发现隐患", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    clue_description = forms.CharField(
        label="违规线索（如有）", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    photos = MultipleFileField(
        label="现场照片",
        required=False,
        help_text="JPG或PNG，可多选，最多10张。",
        widget=MultipleFileInput(attrs={"multiple": True, "accept": "image/*"}),
    )

    FOUR_ITEMS = ("party_lecture", "policy_talk", "hazard_check", "ledger_check")

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


def clue_status_choices(status: str, allowed=None) -> list[tuple[str, str]]:
    """The next statuses of a clue (only the allowed transitions), narrowed to `allowed` for a user who may take
    only some of them (the reporting instructor: passing it on)."""
    allowed = CLUE_TRANSITIONS[status] if allowed is None else CLUE_TRANSITIONS[status] & set(allowed)
    return [(s, ClueStatus(s).label) for s in ClueStatus.values if s in allowed]


class ClueStatusForm(BootstrapFormMixin, forms.Form):
    status = forms.ChoiceField(label="办理状态")
    date = forms.DateField(label="办理日期", widget=DateInput())
    department = forms.CharField(label="移交执法部门（移交时必填）", required=False, max_length=100)
    took_part = forms.BooleanField(label="党建指导员参与查处", required=False)
    note = forms.CharField(label="说明", required=False, max_length=500)

    def __init__(self, *args, clue, allowed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = clue_status_choices(clue.status, allowed)
        self.fields["status"].error_messages["invalid_choice"] = "线索当前状态不能改为该状态，请从列表中选择。"
        self.fields["took_part"].initial = clue.took_part
        if allowed is not None and set(allowed) == {ClueStatus.PASSED}:
            del self.fields["took_part"]  # the enforcement follow-up is the committee's


# ---------------------------------------------------------------------------------------------------------
# The committee's forms. Choices come from querysets scoped to the user; organizations by code inside the
# committee's subtrees; the services check everything again.


def _date_field(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label, widget=DateInput(), error_messages={"invalid": "请填写有效的日期，如2024-05-01。"}, **kwargs
    )


def _count_field(label: str, *, max_value: int, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=max_value,
        error_messages={
            "invalid": "请填写整数。",
            "min_value": "不能小于0。",
            "max_value": f"不能大于{max_value}。",
        },
        **kwargs,
    )


class InstitutionForm(BootstrapFormMixin, forms.Form):
    """机构登记 / 编辑: the unit (name, credit code, address, covering and managing organizations by code inside the
    committee's subtrees) and the registration (licence, subject type, approval, staff, area, grid cell)."""

    name = forms.CharField(label="机构名称", max_length=100)
    credit_code = forms.CharField(label="统一社会信用代码", max_length=18, required=False)
    address = forms.CharField(label="地址", max_length=200, required=False)
    organization = ScopedCodeField(
        label="所属党组织", required=False, help_text="机构的单独党支部或联合党支部；尚未纳入党组织的留空。"
    )
    managing_organization = ScopedCodeField(label="主管党组织", help_text="负责该机构党建工作的党委。")
    licence_no = forms.CharField(label="办学许可证号", max_length=30, help_text="如：教民143090270000013号")
    subject_type = forms.ChoiceField(label="培训类别", choices=SubjectType.choices)
    approval_status = forms.ChoiceField(label="审批状态", choices=ApprovalStatus.choices)
    approved_on = _date_field("审批日期", required=False)
    closed_on = _date_field("停办/注销日期", required=False)
    last_inspection_on = _date_field(
        "最近年检日期", required=False, help_text="已审批机构最近一次年检的日期；此后按年检周期（默认每年）提醒。"
    )
    staff_count = _count_field("从业人员数", max_value=100_000, initial=0)
    area = forms.CharField(label="所属片区", max_length=50, required=False)
    grid_cell = forms.ModelChoiceField(
        label="网格",
        queryset=GridCell.objects.none(),
        required=False,
        empty_label="（未划入网格）",
        error_messages={"invalid_choice": "找不到该网格，或该网格不在您的管理范围内。"},
    )

    def __init__(self, *args, user, institution: Institution | None = None, **kwargs):
        if institution is not None and not kwargs.get("initial"):
            unit = institution.unit
            kwargs["initial"] = {
                "name": unit.name,
                "credit_code": unit.credit_code,
                "address": unit.address,
                "organization": unit.organization,
                "managing_organization": unit.managing_organization,
                **{name: getattr(institution, name) for name in INSTITUTION_FIELDS},
            }
        super().__init__(*args, **kwargs)
        orgs = committee_organizations(user)
        self.fields["organization"].queryset = orgs
        self.fields["managing_organization"].queryset = orgs
        self.fields["grid_cell"].queryset = GridCell.objects.visible_to(user).select_related("school")
        self.fields["staff_count"].required = False

    def clean_staff_count(self):
        return self.cleaned_data.get("staff_count") or 0

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class AssignForm(BootstrapFormMixin, forms.Form):
    """派驻 / 更换党建指导员: an instructor in office whom the user sees, from a date."""

    appointment = forms.ModelChoiceField(
        label="党建指导员",
        queryset=InstructorAppointment.objects.none(),
        error_messages={
            "required": "请选择党建指导员。",
            "invalid_choice": "找不到该党建指导员，或其不在您的管理范围内。",
        },
    )
    start_on = _date_field("派驻日期")

    def __init__(self, *args, user, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appointment"].queryset = (
            InstructorAppointment.objects.visible_to(user)
            .filter(Q(end_on__isnull=True) | Q(end_on__gte=today))
            .select_related("appointing_organization")
            .order_by("name", "pk")
        )
        self.fields["appointment"].label_from_instance = lambda a: f"{a.name}（{a.get_source_display()}）"


PRECONDITION_CHOICES = [("", "（年检、等级评估不填）"), ("yes", "已满足"), ("no", "未满足")]


class CheckForm(BootstrapFormMixin, forms.Form):
    """三同步检查: the step (审批 for an institution in preparation; 年检, 等级评估 for an approved one), the date, the
    result and, at approval, whether the party-building precondition was met."""

    kind = forms.ChoiceField(label="检查环节")
    date = _date_field("检查日期")
    result = forms.ChoiceField(label="检查结果", choices=CheckResult.choices)
    precondition_met = forms.ChoiceField(label="党建前置条件", choices=PRECONDITION_CHOICES, required=False)
    notes = forms.CharField(label="检查情况", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, institution: Institution, **kwargs):
        super().__init__(*args, **kwargs)
        if institution.approval_status == ApprovalStatus.PREPARING:
            kinds = [CheckKind.APPROVAL]
        else:
            kinds = [CheckKind.ANNUAL, CheckKind.GRADING]
            del self.fields["precondition_met"]
        self.fields["kind"].choices = [(k.value, k.label) for k in kinds]

    def clean_precondition_met(self):
        return {"yes": True, "no": False}.get(self.cleaned_data.get("precondition_met"))


class PointRuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.get_category_display()} · {obj.name}（{obj.points:+d}分）"


class PointEventForm(BootstrapFormMixin, forms.Form):
    """记分: a rule that applies to the institution (the points are the rule's), the date and a note."""

    rule = PointRuleChoiceField(
        label="积分细则",
        queryset=PointRule.objects.none(),
        error_messages={
            "required": "请选择积分细则：没有细则依据的积分不能登记。",
            "invalid_choice": "找不到该积分细则，或该细则不适用于本机构。",
        },
    )
    date = _date_field("记分日期")
    note = forms.CharField(label="说明", required=False, max_length=200)

    def __init__(self, *args, user, institution: Institution, **kwargs):
        super().__init__(*args, **kwargs)
        path = institution.scope_path
        above = [path[:i] for i in range(Organization.steplen, len(path) + 1, Organization.steplen)]
        self.fields["rule"].queryset = (
            PointRule.objects.visible_to(user)
            .filter(active=True)
            .filter(Q(owner__isnull=True) | Q(owner__path__in=above))
            .order_by("category", "-points", "code", "pk")
        )


class PointReverseForm(BootstrapFormMixin, forms.Form):
    """冲销: an entry of the institution's ledger not reversed yet, and why."""

    event = forms.ModelChoiceField(
        label="积分记录",
        queryset=PointEvent.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "请选择要冲销的积分记录。",
            "invalid_choice": "找不到该积分记录，或该记录已冲销。",
        },
    )
    reason = forms.CharField(label="冲销原因", max_length=150, error_messages={"required": "请填写冲销原因。"})

    def __init__(self, *args, institution: Institution, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = institution.point_events.filter(reverses__isnull=True, reversed_by__isnull=True)


class VisitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.date:%Y-%m-%d} {obj.appointment.name}{'（补充）' if obj.is_supplement else ''}"


VISITS_OFFERED = 20


class ClueForm(BootstrapFormMixin, forms.Form):
    """登记线索: what was found, when, and the visit it was found on (one of the institution's latest)."""

    description = forms.CharField(
        label="线索内容",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写线索内容。"},
    )
    found_on = _date_field("发现日期")
    visit = VisitChoiceField(
        label="发现于走访",
        queryset=Visit.objects.none(),
        required=False,
        empty_label="（非走访中发现）",
        error_messages={"invalid_choice": "走访记录不属于该机构。"},
    )

    def __init__(self, *args, institution: Institution, **kwargs):
        super().__init__(*args, **kwargs)
        latest = institution.visits.order_by("-date", "-pk").values("pk")[:VISITS_OFFERED]
        self.fields["visit"].queryset = (
            Visit.objects.dangerously_all()
            .filter(pk__in=list(latest.values_list("pk", flat=True)))
            .select_related("appointment")
            .order_by("-date", "-pk")
        )


# ---------------------------------------------------------------------------------------------------------
# Instructors


class InstructorFilterForm(BootstrapFormMixin, forms.Form):
    STATUS_CHOICES = [("active", "在任"), ("ended", "已离任"), ("all", "全部")]
    q = forms.CharField(label="姓名", required=False, max_length=50)
    status = forms.ChoiceField(label="任职状态", choices=STATUS_CHOICES, required=False)


class AppointForm(BootstrapFormMixin, forms.Form):
    """选派党建指导员: the login account (linked to its member record when the user sees one), the name shown,
    the source, the appointing organization (by code inside the committee's subtrees) and the start date."""

    username = forms.CharField(label="登录账号", max_length=150, help_text="指导员登录本系统的账号。")
    name = forms.CharField(label="姓名", max_length=50, required=False, help_text="留空则取党员或账号的姓名。")
    source = forms.ChoiceField(label="选派来源", choices=AppointmentSource.choices)
    appointing_organization = ScopedCodeField(label="选派党组织", help_text="教育行政部门或辖区学校的党组织。")
    start_on = _date_field("任职日期")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["appointing_organization"].queryset = committee_organizations(user)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        account = appointable_accounts(self.user).filter(username=username).first()
        if account is None:
            raise ValidationError(
                "找不到登录账号“%(username)s”（须为您管理范围内的在用账号）。", params={"username": username}
            )
        return account

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        account = data.pop("username")
        # The member record is linked only when the appointing user sees it (never a member out of scope).
        member = Member.objects.visible_to(self.user).filter(user=account).first()
        return {**data, "user": account, "member": member}


class DismissForm(BootstrapFormMixin, forms.Form):
    end_on = _date_field("离任日期")


class YearSummaryForm(BootstrapFormMixin, forms.Form):
    """年度汇总: the year, and one instructor (among those the user sees) or a name filter."""

    year = year_field(required=False)
    q = forms.CharField(label="姓名", required=False, max_length=50)
    instructor = forms.ModelChoiceField(
        label="党建指导员",
        queryset=InstructorAppointment.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "找不到该党建指导员，或其不在您的查看范围内。"},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instructor"].queryset = InstructorAppointment.objects.visible_to(user)


# ---------------------------------------------------------------------------------------------------------
# The grid and pairings


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.organization.name}）" if obj.organization_id else obj.name


class GridCellForm(BootstrapFormMixin, forms.Form):
    """新建网格: a name, the public school it is anchored on (a school with a party organization in the committee's
    subtrees) and the area."""

    name = forms.CharField(label="网格名称", max_length=100, error_messages={"required": "请填写网格名称。"})
    school = SchoolChoiceField(
        label="依托学校",
        queryset=Unit.objects.none(),
        error_messages={
            "required": "请选择依托的公办学校。",
            "invalid_choice": "找不到该学校，或该学校不在您的管理范围内。",
        },
    )
    area = forms.CharField(label="所属片区", max_length=50, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        roots = committee_organizations(user)
        self.fields["school"].queryset = (
            Unit.objects.visible_to(user)
            .filter(kind=UnitKind.SCHOOL, organization__isnull=False)
            .filter(Q(organization__in=roots) | Q(managing_organization__in=roots))
            .select_related("organization")
            .order_by("name", "pk")
        )


class PairingForm(BootstrapFormMixin, forms.Form):
    """结对: a public school's branch and an institution branch, by code inside the user's scope, from a date."""

    school_branch = ScopedCodeField(label="学校党支部")
    institution_branch = ScopedCodeField(label="机构党支部", help_text="单独或联合党支部。")
    start_on = _date_field("结对日期")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_branch"].queryset = supervision_organizations(user)
        self.fields["institution_branch"].queryset = supervision_organizations(user)


class PairingActivityForm(BootstrapFormMixin, forms.Form):
    date = _date_field("活动日期")
    title = forms.CharField(label="活动主题", max_length=200, error_messages={"required": "请填写活动主题。"})
    participants = _count_field("参加人数", max_value=10_000, required=False)
    note = forms.CharField(label="活动情况", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_participants(self):
        return self.cleaned_data.get("participants") or 0
