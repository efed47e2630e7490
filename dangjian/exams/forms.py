"""Forms of the exams: a bank, a question, a paper, its assignment and make-up, and the report filter. Organizations
are picked by code inside the user's scope (`core.forms.ScopedCodeField`); members of a list by name, resolved inside
the scope."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.commands import YEAR_MAX, YEAR_MIN
from dangjian.core.forms import BootstrapFormMixin, ScopedCodeField
from dangjian.core.sheets.text import clean_name, clean_text
from dangjian.exams.models import (
    MAX_OPTIONS,
    Counting,
    PaperKind,
    PaperMode,
    Question,
    QuestionKind,
    manager_roots,
)
from dangjian.members.models import Member, Post, Status
from dangjian.orgs.models import Organization

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def managed_organizations(user):
    """The organizations where `user` may run exams (their member-editing and school-managing subtrees)."""
    access = access_for(user)
    if access.system:
        return Organization.objects.dangerously_all()
    return Organization.objects.granted_to(user).within(manager_roots(access))


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, widget=DateTimeInput(), input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    )


class BankForm(BootstrapFormMixin, forms.Form):
    organization = ScopedCodeField(label="所属党组织")
    name = forms.CharField(label="题库名称", max_length=100)
    description = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = managed_organizations(user)


class QuestionForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label="题型", choices=QuestionKind.choices)
    text = forms.CharField(label="题干", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    options = forms.CharField(
        label="选项",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"选择题每行一个选项，依次为A、B、C……（最多{MAX_OPTIONS}个）；判断题和填空题不填。",
    )
    answer = forms.CharField(
        label="答案",
        max_length=500,
        help_text="选择题填选项字母（如A或ABD）；判断题填“正确”或“错误”；填空题填答案，多个可接受的答案用“|”分隔。",
    )
    tags = forms.CharField(label="知识点", max_length=200, required=False, help_text="多个用顿号或逗号分隔。")
    explanation = forms.CharField(label="解析", max_length=500, required=False)

    def clean_options(self) -> list[str]:
        return [line for line in (clean_text(x) for x in self.cleaned_data["options"].splitlines()) if line]


class ImportForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label="题库文件（.xlsx、.xls 或 .csv）", widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"})
    )


_RULE = re.compile(r"^(?P<tag>.*?)[\s:：×xX*]*(?P<count>\d+)\s*道?题?$")


def read_draw_rules(text: str) -> list[dict]:
    """Lines of "知识点：题数" (a line of a number only draws from the whole bank); ValidationError for a bad line."""
    rules: list[dict] = []
    for number, line in enumerate((clean_text(x) for x in (text or "").splitlines()), start=1):
        if not line:
            continue
        match = _RULE.match(line)
        if match is None or int(match["count"]) < 1:
            raise forms.ValidationError(f"第{number}行“{line}”应写成“知识点：题数”，如“党章：5”。")
        rules.append({"tag": match["tag"].strip(), "count": int(match["count"])})
    return rules


class PaperForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="试卷名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=PaperKind.choices)
    organization = ScopedCodeField(label="组织党组织")
    mode = forms.ChoiceField(label="组卷方式", choices=PaperMode.choices)
    questions = forms.ModelMultipleChoiceField(
        label="试题",
        queryset=Question.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="固定试题时勾选；不勾选则使用题库中全部启用的试题。",
    )
    draw_rules = forms.CharField(
        label="抽题规则",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="随机抽题时每行一条“知识点：题数”，如“党章：5”；只写题数则从整个题库抽取。",
    )
    time_limit = forms.IntegerField(label="答题时限（分钟）", min_value=1, max_value=600, initial=30)
    shuffle_questions = forms.BooleanField(label="试题乱序", required=False, initial=True)
    shuffle_options = forms.BooleanField(label="选项乱序", required=False, initial=True)
    max_attempts = forms.IntegerField(label="可答题次数", min_value=1, max_value=20, initial=1)
    counting = forms.ChoiceField(label="计分方式", choices=Counting.choices)
    pass_mark = forms.DecimalField(
        label="及格分数（满分100）", min_value=0, max_value=100, decimal_places=1, initial=60
    )
    opens_at = datetime_field("开始时间")
    closes_at = datetime_field("截止时间")

    def __init__(self, *args, user, bank, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = managed_organizations(user)
        self.fields["questions"].queryset = Question.objects.visible_to(user).filter(bank=bank, active=True)
        self.fields["questions"].label_from_instance = lambda q: f"[{q.get_kind_display()}] {q.text[:60]}"

    def clean_draw_rules(self) -> list[dict]:
        return read_draw_rules(self.cleaned_data.get("draw_rules", ""))


class AssignForm(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织（含下级）", required=False, preset_own=False)
    posts = forms.MultipleChoiceField(
        label="党内职务", choices=Post.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    leadership = forms.BooleanField(label="班子成员", required=False)
    names = forms.CharField(
        label="名单",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个姓名（在本试卷党组织范围内）。",
    )
    competence = forms.BooleanField(label="按履职能力测试要求指定（履职能力测试）", required=False)

    def __init__(self, *args, user, paper, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.paper = user, paper
        self.fields["org"].queryset = Organization.objects.visible_to(user).in_subtree(paper.organization)

    def clean_names(self):
        names = [clean_name(x) for x in self.cleaned_data.get("names", "").splitlines()]
        names = [n for n in names if n]
        if not names:
            return None
        members = (
            Member.objects.visible_to(self.user)
            .filter(status=Status.ACTIVE, name__in=names)
            .in_subtree(self.paper.organization)
        )
        found: dict[str, list[int]] = {}
        for pk, name in members.values_list("pk", "name"):
            found.setdefault(name, []).append(pk)
        unknown = [n for n in names if n not in found]
        if unknown:
            raise forms.ValidationError(f"找不到党员：{'、'.join(unknown)}（或不在本试卷党组织的管理范围内）。")
        twice = [n for n in names if len(found[n]) > 1]
        if twice:
            raise forms.ValidationError(f"同名党员有多人：{'、'.join(twice)}，请改按党组织指定。")
        return [found[n][0] for n in names]


class MakeupForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label="补考名称", max_length=100, required=False)
    opens_at = datetime_field("开始时间")
    closes_at = datetime_field("截止时间")


class ReportFilter(BootstrapFormMixin, forms.Form):
    org = ScopedCodeField(label="党组织", required=False)
    year = forms.IntegerField(label="年度", required=False, min_value=YEAR_MIN, max_value=YEAR_MAX)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = Organization.objects.granted_to(user)


def this_year() -> int:
    return timezone.localdate().year
