"""The 上讲台 report (领导干部上讲台情况): for a year, who owes a lecture under each active duty and who has not yet
taught as often as required — after the year has ended, the list of who did not; with an audited .xlsx export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.exports import ExportAudit, xlsx_response
from dangjian.core.views_helpers import paginate, require
from dangjian.members.models import Member
from dangjian.orgs.models import Organization
from dangjian.schools.forms.lecture_duty import LectureDutyReportForm
from dangjian.schools.selectors.lecture_duty import DutyLine, lecture_duty_report

VIEW_DENIED = "您的角色无权查看领导干部上讲台情况。"
HEADERS = [
    "上讲台任务",
    "姓名",
    "所在党组织",
    "授课党校层级",
    "每年至少次数",
    "已授课次数",
    "尚差次数",
    "状态",
    "应邀请党校",
]
WIDTHS = [24, 12, 28, 20, 12, 12, 10, 10, 40]


def _status(line: DutyLine, year_over: bool) -> str:
    if line.done:
        return "已完成"
    return "未完成" if year_over else "尚未完成"


def _inviting_text(line: DutyLine) -> str:
    return (
        "、".join(s.name for s in line.inviting)
        if line.inviting
        else ("—" if line.done else "本级及上级均无该层级党校")
    )


def _xlsx(lines: list[DutyLine], *, year: int, year_over: bool, org, duty, show: str):
    title = f"{year}年度领导干部上讲台情况"
    rows = (
        (
            line.duty.name,
            line.member.name,
            line.member.organization.name,
            line.duty.get_where_display(),
            line.required,
            line.taught,
            line.missing,
            _status(line, year_over),
            _inviting_text(line),
        )
        for line in lines
    )
    return xlsx_response(
        filename=f"{title}.xlsx",
        title=title,
        headers=HEADERS,
        lines=rows,
        widths=WIDTHS,
        audit=ExportAudit(
            what=title,
            params={
                "year": year,
                "org": org.code if org else "",
                "duty": duty.pk if duty else "",
                "show": show,
                "report": "lecture-duty",
            },
            object_type=Member._meta.label_lower,
        ),
    )


@login_required
def lecture_duty_report_view(request):
    """上讲台情况: the report page; `?format=xlsx` downloads the same lines."""
    require(access_for(request.user).can_view_schools, VIEW_DENIED)
    today = timezone.localdate()
    form = LectureDutyReportForm(request.GET or None, org_queryset=Organization.objects.visible_to(request.user))
    year, org, duty, show = today.year, None, None, "pending"
    valid = True
    if form.is_bound:
        valid = form.is_valid()
        if valid:
            year = form.cleaned_data["year"] or today.year
            org = form.cleaned_data["org"]
            duty = form.cleaned_data["duty"]
            show = form.cleaned_data["show"] or "pending"
    year_over = year < today.year
    lines: list[DutyLine] = []
    if valid:
        lines = lecture_duty_report(
            user=request.user, year=year, organization=org, duty=duty, pending_only=show == "pending"
        )
        if request.GET.get("format") == "xlsx":
            return _xlsx(lines, year=year, year_over=year_over, org=org, duty=duty, show=show)
    page = paginate(request, lines)
    rows = [{"line": line, "status": _status(line, year_over), "inviting": _inviting_text(line)} for line in page]
    return render(
        request,
        "schools/lecture_duty/report.html",
        {
            "form": form,
            "valid": valid,
            "page": page,
            "rows": rows,
            "year": year,
            "year_over": year_over,
            "show": show,
        },
    )
