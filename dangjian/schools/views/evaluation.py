"""Pages of the evaluation seam (考评): the schools' evaluation status, score entry, an evaluation's page, the
annual ranking (grades, subsidies, tie notes, chart, publication) and the rectification tasks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.exports import ExportAudit, xlsx_response
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.orgs.models import Organization
from dangjian.schools.forms.evaluation import (
    EvaluationEntryForm,
    RankingPublishForm,
    RankingQueryForm,
    RectificationCloseForm,
    RectificationFilterForm,
    TieDecisionForm,
)
from dangjian.schools.models import (
    Grade,
    PartySchool,
    RectificationStatus,
    RectificationTask,
    SchoolEvaluation,
)
from dangjian.schools.selectors import evaluation as selectors
from dangjian.schools.services import evaluation as services

VIEW_DENIED = "您的角色无权查看党校考评。"
MANAGE_DENIED = "您的角色无权管理该党校的考评。"
RANKING_PAGE_SIZE = 100
RANKING_HEADERS = (
    "名次", "学校编码", "学校名称", "党校类型", "综合得分",
    "实地检查", "台账检查（系统计算）", "等次", "补助（元）", "并列说明",
)  # fmt: skip


def _ranking_xlsx(ranking, *, year: int, org: Organization):
    """The whole ranking (every row, not a page) as .xlsx, recorded in the audit trail."""
    lines = (
        (
            r.rank,
            r.school.code,
            r.school.name,
            r.school.get_level_display(),
            r.composite,
            r.field_score,
            r.records_score,
            r.grade_label,
            None if r.pending else r.subsidy,
            r.tie_note,
        )
        for r in ranking.rows
    )
    return xlsx_response(
        filename=f"党校考评排名-{org.code}-{year}.xlsx",
        title=f"{year}年度党校考评排名",
        headers=RANKING_HEADERS,
        lines=lines,
        audit=ExportAudit(
            what="党校考评排名", params={"org": org.code, "year": year}, object_type=PartySchool._meta.label_lower
        ),
    )


PUBLISHED_HEADERS = (
    "名次", "学校编码", "学校名称", "党校类型", "综合得分", "等次", "补助（元）", "并列说明", "发布时间",
)  # fmt: skip


def _published_xlsx(rows, *, year: int, org: Organization):
    """The published ranking (the kept rows, as published: `selectors.published_ranking`) as .xlsx, audited."""
    lines = (
        (
            r.rank,
            r.school.code,
            r.school.name,
            r.school.get_level_display(),
            r.composite,
            r.get_grade_display(),
            r.subsidy,
            r.tie_note,
            timezone.localtime(r.updated_at).strftime("%Y-%m-%d %H:%M"),
        )
        for r in rows
    )
    return xlsx_response(
        filename=f"党校考评排名-{org.code}-{year}-已发布.xlsx",
        title=f"{year}年度党校考评排名（已发布）",
        headers=PUBLISHED_HEADERS,
        lines=lines,
        audit=ExportAudit(
            what="党校考评排名",
            params={"org": org.code, "year": year},
            object_type=PartySchool._meta.label_lower,
            extra={"published": True},
        ),
    )


def _require_viewer(request) -> None:
    require(access_for(request.user).can_view_schools, VIEW_DENIED)


def _year_param(request) -> int:
    """The `?year=` of the page, else the latest year with an evaluation in the user's scope."""
    raw = request.GET.get("year", "").strip()
    if raw.isdigit() and 2000 <= int(raw) <= 2100:
        return int(raw)
    return selectors.default_year(request.user)


@login_required
def evaluation_list(request):
    """考评录入: the schools in scope with their evaluation status and composite for a year."""
    _require_viewer(request)
    year = _year_param(request)
    page = paginate(request, selectors.evaluation_list(user=request.user, year=year))
    indicator_count = len(selectors.active_indicators())
    rows = []
    for school in page:
        evaluation = school.year_evaluations[0] if school.year_evaluations else None
        rows.append(
            {
                "school": school,
                "evaluation": evaluation,
                "complete": evaluation is not None and evaluation.composite is not None,
                "can_manage": access_for(request.user).can_manage_schools_in(school.organization),
            }
        )
    return render(
        request,
        "schools/evaluation/list.html",
        {
            "page": page,
            "rows": rows,
            "year": year,
            "indicator_count": indicator_count,
        },
    )


def _school_param(request) -> PartySchool | None:
    raw = request.GET.get("school", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("党校不存在或不在您的管理范围内。")
    return get_visible_or_404(PartySchool, request.user, int(raw), request=request)


def _entry_initial(evaluation: SchoolEvaluation | None, year: int) -> dict:
    if evaluation is None:
        return {"year": year}
    scores = {s.indicator.code: s.score for s in evaluation.scores.select_related("indicator")}
    return {"year": year, "note": evaluation.note, **scores}


@login_required
def evaluation_entry(request):
    """录入考评得分: one school and year (`?school=<pk>&year=`), a row per active indicator with its maximum."""
    _require_viewer(request)
    school = _school_param(request)
    if school is None:
        messages.info(request, "请从列表中选择要录入考评的党校。")
        return redirect("schools:evaluation_list")
    require(access_for(request.user).can_manage_schools_in(school.organization), MANAGE_DENIED)
    year = _year_param(request)
    evaluation = SchoolEvaluation.objects.dangerously_all().filter(school=school, year=year).first()
    form = EvaluationEntryForm(
        request.POST or None, initial=_entry_initial(evaluation, year), indicators=selectors.active_indicators()
    )
    if request.method == "POST" and form.is_valid():
        saved = submit(
            form,
            lambda data: services.evaluation_save(
                by=request.user, school=school, year=data["year"], scores=form.scores(), note=data["note"]
            ),
        )
        if saved is not FAILED:
            if saved.composite is None:
                messages.warning(
                    request, f"已保存“{school.name}”{saved.year}年度考评得分；尚有指标未录入，暂不计算综合得分。"
                )
            else:
                messages.success(request, f"已保存“{school.name}”{saved.year}年度考评，综合得分{saved.composite}。")
            return redirect(saved)
    return render(
        request,
        "schools/evaluation/entry.html",
        {"form": form, "school": school, "year": year, "evaluation": evaluation},
    )


@scoped(SchoolEvaluation)
def evaluation_detail(request, pk):
    """年度考评: a school's scores for a year, what each adds to the composite, and its published rankings."""
    evaluation = get_visible_or_404(SchoolEvaluation, request.user, pk, request=request)
    _require_viewer(request)
    school = evaluation.school
    records_basis, records_rows = selectors.evaluation_records(evaluation=evaluation)
    return render(
        request,
        "schools/evaluation/detail.html",
        {
            "evaluation": evaluation,
            "school": school,
            "records_basis": records_basis,
            "records_rows": records_rows,
            "score_rows": selectors.evaluation_score_rows(evaluation=evaluation),
            "rankings": school.rankings.filter(year=evaluation.year).select_related("scope"),
            "can_manage": access_for(request.user).can_manage_schools_in(school.organization),
        },
    )


def _single_root_org(request) -> Organization | None:
    roots = access_for(request.user).school_view_roots
    return Organization.objects.dangerously_all().filter(path=roots[0]).first() if len(roots) == 1 else None


def _render_ranking(request, *, year: int, org: Organization | None, query_form, publish_form=None, tie_form=None):
    """The ranking page for (year, org); `publish_form` / `tie_form` are bound forms whose errors to show. Its
    download is the published ranking once the scope and year are published (a published ranking never changes),
    else the ranking as computed now."""
    if request.GET.get("format") == "xlsx" and org is not None and query_form.is_valid():
        published = selectors.published_ranking(user=request.user, org=org, year=year)
        if published:
            return _published_xlsx(published, year=year, org=org)
    ranking = selectors.school_ranking(request.user, year, org=org) if query_form.is_valid() else None
    if request.GET.get("format") == "xlsx" and ranking is not None and org is not None and not ranking.empty:
        return _ranking_xlsx(ranking, year=year, org=org)
    page = paginate(request, ranking.rows if ranking else [], default_size=RANKING_PAGE_SIZE)
    unqualified = [r.school.pk for r in page if r.grade == Grade.UNQUALIFIED and not r.pending]
    tasks = selectors.rectifications_by_school(user=request.user, year=year, school_ids=unqualified)
    can_manage = (
        ranking is not None
        and org is not None
        and not ranking.empty
        and access_for(request.user).can_manage_schools_in(org)
    )
    can_publish = can_manage
    if publish_form is None and can_publish:
        publish_form = RankingPublishForm(initial={"year": year, "org": org.code}, org_queryset=query_form.orgs)
    return render(
        request,
        "schools/evaluation/ranking.html",
        {
            "ranking": ranking,
            "page": page,
            "rows": [{"row": r, "task": tasks.get(r.school.pk)} for r in page],
            "can_decide_ties": can_manage,
            "tie_form": tie_form,
            "year": year,
            "org": org,
            "query_form": query_form,
            "publish_form": publish_form if can_publish or (publish_form and publish_form.is_bound) else None,
            "publication": selectors.ranking_publication(org=org, year=year),
        },
    )


@login_required
def ranking(request):
    """考评排名: the annual ranking of the schools in scope (`?year=&org=CODE`; without org, the user's single
    subtree): grades, subsidies, tie notes, totals and a chart of the composites; managers may publish it."""
    _require_viewer(request)
    data = request.GET.copy()
    if not data.get("year"):
        data["year"] = str(selectors.default_year(request.user))
    form = RankingQueryForm(data, org_queryset=selectors.school_view_orgs(request.user))
    year, org = timezone.localdate().year, None
    if form.is_valid():
        year = form.cleaned_data["year"]
        org = form.cleaned_data["org"] or _single_root_org(request)
    return _render_ranking(request, year=year, org=org, query_form=form)


@login_required
def ranking_publish(request):
    """发布排名 (POST year and org code): writes the ranking of the scope and year and the rectification tasks."""
    _require_viewer(request)
    if request.method != "POST":
        return redirect("schools:ranking")
    orgs = selectors.school_view_orgs(request.user)
    form = RankingPublishForm(request.POST, org_queryset=orgs)
    valid = form.is_valid()
    year = form.cleaned_data.get("year") or selectors.default_year(request.user)
    org = form.cleaned_data.get("org")
    if valid:
        published = submit(form, lambda data: services.ranking_publish(by=request.user, org=org, year=year))
        if published is not FAILED:
            messages.success(request, f"已发布{year}年度“{org.name}”考评排名，共{len(published)}所党校。")
            return redirect(f"{reverse('schools:ranking')}?year={year}&org={org.code}")
    query_form = RankingQueryForm({"year": year, "org": org.code if org else ""}, org_queryset=orgs)
    return _render_ranking(request, year=year, org=org, query_form=query_form, publish_form=form)


@login_required
def tie_decide(request):
    """并列等次决定 (POST year, org code, school, grade, reason): the committee decides the grade of a school in a
    tie at a grade boundary of the scope's ranking; the page shows what is missing or wrong, beside the form."""
    _require_viewer(request)
    if request.method != "POST":
        return redirect("schools:ranking")
    orgs = selectors.school_view_orgs(request.user)
    form = TieDecisionForm(request.POST, org_queryset=orgs)
    valid = form.is_valid()
    year = form.cleaned_data.get("year") or selectors.default_year(request.user)
    org = form.cleaned_data.get("org")
    if org is not None:
        require(access_for(request.user).can_manage_schools_in(org), MANAGE_DENIED)
    if valid:
        school = PartySchool.objects.visible_to(request.user).filter(pk=form.cleaned_data["school"]).first()
        if school is None:
            form.add_error("school", "党校不存在或不在您的管理范围内。")
        else:
            decision = submit(
                form,
                lambda data: services.tie_decide(
                    by=request.user, org=org, year=year, school=school, grade=data["grade"], reason=data["reason"]
                ),
            )
            if decision is not FAILED:
                messages.success(
                    request, f"已记录“{school.name}”{year}年度并列等次决定：{decision.get_grade_display()}。"
                )
                return redirect(f"{reverse('schools:ranking')}?year={year}&org={org.code}")
    query_form = RankingQueryForm({"year": year, "org": org.code if org else ""}, org_queryset=orgs)
    return _render_ranking(request, year=year, org=org, query_form=query_form, tie_form=form)


@login_required
def rectification_list(request):
    """整改任务: the rectification tasks of 不合格 schools in scope, open ones first; managers close them."""
    _require_viewer(request)
    form = RectificationFilterForm(request.GET or None)
    year = status = None
    if form.is_bound and form.is_valid():
        year, status = form.cleaned_data["year"], form.cleaned_data["status"] or None
    tasks = selectors.rectification_list(user=request.user, year=year, status=status)
    if form.is_bound and not form.is_valid():
        tasks = tasks.none()
    page = paginate(request, tasks)
    open_ = RectificationStatus.OPEN
    rows = [
        {
            "task": t,
            "can_close": t.status == open_ and access_for(request.user).can_manage_schools_in(t.school.organization),
        }
        for t in page
    ]
    return render(
        request,
        "schools/evaluation/rectification_list.html",
        {"form": form, "page": page, "rows": rows},
    )


@login_required
def rectification_close(request):
    """办结整改任务 (POST, the task's id as a form field): a note saying what was fixed is required."""
    _require_viewer(request)
    if request.method != "POST":
        return redirect("schools:rectification_list")
    form = RectificationCloseForm(request.POST)
    if not form.is_valid() and "task" in form.errors:
        messages.error(request, "请指定要办结的整改任务。")
        return redirect("schools:rectification_list")
    task = get_visible_or_404(RectificationTask, request.user, form.cleaned_data["task"], request=request)
    require(access_for(request.user).can_manage_schools_in(task.school.organization), MANAGE_DENIED)
    done = submit(form, lambda data: services.rectification_close(by=request.user, task=task, note=data["note"]))
    if done is not FAILED:
        messages.success(request, f"已办结“{task.school.name}”{task.year}年度考评整改任务。")
        return redirect("schools:rectification_list")
    return render(request, "schools/evaluation/rectification_close.html", {"form": form, "task": task})
