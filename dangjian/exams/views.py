"""Pages of the exams (考试测评): banks and their questions (with the spreadsheet import), papers with their
assignment, make-up exams and results (Excel export), the competence test's standing per organization, and the
member's own pages (my exams, sitting a paper on a phone, the answer sheet afterwards).

Managing needs a member-editing or school-managing role over the organization; seeing results, a role that sees the
organization's subtree; a member sees the papers they are assigned to and their own attempts."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.exports import ExportAudit, Percent, request_params, xlsx_response
from dangjian.core.import_store import UploadStore, max_upload_bytes
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.exams import forms
from dangjian.exams.models import Attempt, AttemptStatus, Paper, PaperKind, QuestionBank, grace_seconds, may_manage
from dangjian.exams.selectors.competence import competence_not_passed
from dangjian.exams.selectors.results import exam_summary, member_papers, paper_results
from dangjian.exams.services import attempts as attempt_services
from dangjian.exams.services import banks as bank_services
from dangjian.exams.services import papers as paper_services
from dangjian.exams.services.bank_import import import_bank
from dangjian.orgs.models import Organization

NO_VIEW = "您的角色无权查看考试管理页面。"
RESULT_HEADERS = ("党员姓名", "所在党组织", "答题次数", "成绩", "结果")
SUMMARY_HEADERS = ("党组织编码", "党组织名称", "应考人数", "已考人数", "通过人数", "通过率")


def _require_viewer(request) -> None:
    require(bool(access_for(request.user).view_roots) or access_for(request.user).system, NO_VIEW)


# ---------------------------------------------------------------------------------------------------------
# Banks


@login_required
def bank_list(request):
    """The banks of the user's subtrees, and a new bank."""
    _require_viewer(request)
    banks = QuestionBank.objects.visible_to(request.user).select_related("organization")
    form = forms.BankForm(request.POST or None, user=request.user)
    if request.method == "POST":
        bank = submit(form, lambda data: bank_services.bank_create(by=request.user, **data))
        if bank is not FAILED:
            messages.success(request, f"已新建题库“{bank.name}”。")
            return redirect(bank)
    can_create = forms.managed_organizations(request.user).exists()
    return render(
        request, "exams/bank_list.html", {"page": paginate(request, banks), "form": form, "can_create": can_create}
    )


@scoped(QuestionBank)
def bank_detail(request, pk):
    """A bank's questions, and a new question."""
    bank = get_visible_or_404(QuestionBank, request.user, pk, request=request)
    can_manage = may_manage(access_for(request.user), bank.organization)
    form = forms.QuestionForm(request.POST or None)
    if request.method == "POST":
        require(can_manage, bank_services.NOT_MANAGER)
        question = submit(form, lambda data: bank_services.question_create(by=request.user, bank=bank, **data))
        if question is not FAILED:
            messages.success(request, "已添加试题。")
            return redirect(bank)
    questions = bank.questions.order_by("pk")
    return render(
        request,
        "exams/bank_detail.html",
        {"bank": bank, "page": paginate(request, questions), "form": form, "can_manage": can_manage},
    )


@scoped(QuestionBank)
def bank_import(request, pk):
    """Import questions into a bank: upload → every error at once, or a preview → confirm → added."""
    bank = get_visible_or_404(QuestionBank, request.user, pk, request=request)
    require(may_manage(access_for(request.user), bank.organization), bank_services.NOT_MANAGER)
    store = UploadStore(request.user)
    context = {"bank": bank, "result": None, "token": "", "name": "", "errors": []}

    def run(data: bytes, meta: dict, *, dry_run: bool):
        return import_bank(
            io.BytesIO(data), bank=bank, name=meta["name"], by=request.user, sheet=meta.get("sheet"), dry_run=dry_run
        )

    if request.method == "POST" and request.POST.get("token"):
        token = request.POST["token"]
        if "cancel" in request.POST:
            store.delete(token)
            return redirect("exams:bank_import", pk=bank.pk)
        data, meta = store.load(token)
        if "confirm" not in request.POST:
            meta["sheet"] = request.POST.get("sheet", "")[:100] or None
            result = run(data, meta, dry_run=True)
        else:
            result = run(data, meta, dry_run=False)
            if result.written:
                store.delete(token)
                messages.success(request, f"已导入 {result.created} 道试题。")
                return redirect(bank)
        context.update(result=result, token=token, name=meta["name"], errors=result.errors[:500])
        return render(request, "exams/bank_import.html", context | {"form": forms.ImportForm()})
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            form.add_error("file", f"题库文件过大：不能超过 {max_upload_bytes() / (1024 * 1024):.0f} MB。")
        else:
            data = b"".join(upload.chunks())
            token = store.save(data, name=upload.name)
            result = run(data, {"name": upload.name}, dry_run=True)
            if result.errors and not result.sheet_names:
                store.delete(token)
                token = ""
            context.update(result=result, token=token, name=upload.name, errors=result.errors[:500])
    return render(request, "exams/bank_import.html", context | {"form": form})


# ---------------------------------------------------------------------------------------------------------
# Papers


@login_required
def paper_list(request):
    """The papers of the user's subtrees (a member goes to their own exams)."""
    access = access_for(request.user)
    if not (access.view_roots or access.system):
        return redirect("exams:my_exams")
    papers = (
        Paper.objects.visible_to(request.user)
        .filter(organization__in=Organization.objects.granted_to(request.user))
        .select_related("organization", "bank", "makeup_of")
    )
    return render(request, "exams/paper_list.html", {"page": paginate(request, papers)})


@scoped(QuestionBank)
def paper_create(request, pk):
    """A new paper drawing on this bank."""
    bank = get_visible_or_404(QuestionBank, request.user, pk, request=request)
    require(forms.managed_organizations(request.user).exists(), bank_services.NOT_MANAGER)
    initial = {"organization": bank.organization.code}
    form = forms.PaperForm(request.POST or None, user=request.user, bank=bank, initial=initial)
    if request.method == "POST":
        paper = submit(form, lambda data: paper_services.paper_create(by=request.user, bank=bank, **data))
        if paper is not FAILED:
            messages.success(request, f"已新建试卷“{paper.title}”，请指定应考人员。")
            return redirect(paper)
    return render(request, "exams/paper_form.html", {"bank": bank, "form": form})


@scoped(Paper)
def paper_detail(request, pk):
    """A paper: its settings, the assignment and make-up forms, and the results per person (?format=xlsx: Excel)."""
    paper = get_visible_or_404(Paper, request.user, pk, request=request)
    access = access_for(request.user)
    if not (access.view_roots or access.system):
        return redirect("exams:paper_take", pk=paper.pk)
    rows = paper_results(by=request.user, paper=paper)
    if request.GET.get("format") == "xlsx":
        lines = (
            (
                row.member.name,
                row.assignment.organization.name,
                len(row.outcome.attempts),
                row.outcome.score,
                row.outcome.standing,
            )
            for row in rows
        )
        return xlsx_response(
            filename=f"考试成绩-{paper.pk}.xlsx",
            title="考试成绩",
            headers=RESULT_HEADERS,
            lines=lines,
            audit=ExportAudit(
                what="考试成绩",
                params={"paper": paper.pk, **request_params(request)},
                object_type=Paper._meta.label_lower,
            ),
        )
    can_manage = may_manage(access, paper.organization)
    context = {
        "paper": paper,
        "rows": rows,
        "can_manage": can_manage,
        "assign_form": forms.AssignForm(user=request.user, paper=paper),
        "makeup_form": forms.MakeupForm(),
        "makeups": paper.root.makeups.order_by("opens_at"),
        "passed": sum(r.outcome.passed for r in rows),
        "taken": sum(r.outcome.taken for r in rows),
        "is_competence": paper.kind == PaperKind.COMPETENCE,
        "closed": paper.closes_at <= timezone.now(),
    }
    return render(request, "exams/paper_detail.html", context)


@scoped(Paper)
@require_POST
def paper_assign(request, pk):
    paper = get_visible_or_404(Paper, request.user, pk, request=request)
    require(may_manage(access_for(request.user), paper.organization), bank_services.NOT_MANAGER)
    form = forms.AssignForm(request.POST, user=request.user, paper=paper)
    if form.is_valid():
        data = form.cleaned_data
        try:
            added = paper_services.paper_assign(
                by=request.user,
                paper=paper,
                org=data.get("org"),
                posts=data.get("posts") or (),
                leadership=data.get("leadership") or False,
                member_ids=data.get("names"),
                competence=data.get("competence") or False,
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已指定 {added} 名应考人员。")
    else:
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(paper)


@scoped(Paper)
@require_POST
def paper_makeup(request, pk):
    paper = get_visible_or_404(Paper, request.user, pk, request=request)
    require(may_manage(access_for(request.user), paper.organization), bank_services.NOT_MANAGER)
    form = forms.MakeupForm(request.POST)
    makeup = submit(form, lambda data: paper_services.paper_makeup_create(by=request.user, paper=paper, **data))
    if makeup is FAILED:
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(paper)
    messages.success(request, f"已安排补考“{makeup.title}”。")
    return redirect(makeup)


# ---------------------------------------------------------------------------------------------------------
# The competence test and the report per organization


@login_required
def competence(request):
    """The year's competence test (or `?paper=` one paper) per organization: 应考, 已考, 通过 and the rate, and the
    members of the organization's subtree who must sit it and have not passed (?format=xlsx: the rows as Excel)."""
    _require_viewer(request)
    form = forms.ReportFilter(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    org = data.get("org") or Organization.objects.granted_to(request.user).order_by("depth", "path").first()
    year = data.get("year") or forms.this_year()
    if org is None:
        raise PermissionDenied(NO_VIEW)
    rows = exam_summary(by=request.user, org=org, year=year)
    if request.GET.get("format") == "xlsx":
        lines = (
            (r.organization.code, r.organization.name, r.required, r.taken, r.passed, Percent(r.rate)) for r in rows
        )
        return xlsx_response(
            filename=f"履职能力测试-{org.code}-{year}.xlsx",
            title="履职能力测试",
            headers=SUMMARY_HEADERS,
            lines=lines,
            audit=ExportAudit(what="履职能力测试情况", params={"org": org.code, "year": year}),
        )
    pending = competence_not_passed(by=request.user, org=org, year=year)
    return render(
        request,
        "exams/competence.html",
        {"form": form, "org": org, "year": year, "rows": rows, "pending": pending[:500], "pending_count": len(pending)},
    )


# ---------------------------------------------------------------------------------------------------------
# The member's pages


@login_required
def my_exams(request):
    """The papers the user is assigned to sit, with where they stand."""
    return render(request, "exams/my_exams.html", {"items": member_papers(by=request.user), "now": timezone.now()})


@scoped(Paper)
def paper_take(request, pk):
    """GET: the paper's rules and the start button; POST: start (or resume) an attempt."""
    paper = get_visible_or_404(Paper, request.user, pk, request=request)
    if request.method == "POST":
        try:
            attempt = attempt_services.attempt_start(by=request.user, paper=paper)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect("exams:paper_take", pk=paper.pk)
        return redirect(attempt)
    mine = [item for item in member_papers(by=request.user) if item[0].pk == paper.pk]
    outcome = mine[0][2] if mine else None
    return render(
        request,
        "exams/paper_take.html",
        {"paper": paper, "assigned": bool(mine), "outcome": outcome, "now": timezone.now()},
    )


def _answers_of(request, attempt: Attempt) -> dict:
    return {str(i): request.POST.getlist(f"q{i}") for i in range(len(attempt.sheet))}


@scoped(Attempt)
def attempt_view(request, pk):
    """The attempt: its questions and the countdown while it runs (its member's), the answer sheet once finished.
    POST: submit the answers."""
    attempt = get_visible_or_404(Attempt, request.user, pk, request=request)
    paper = attempt.assignment.paper
    mine = attempt.assignment.member.user_id == request.user.pk
    if request.method == "POST":
        require(mine, attempt_services.NOT_YOURS)
        try:
            attempt = attempt_services.attempt_submit(
                by=request.user, attempt=attempt, answers=_answers_of(request, attempt)
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect(attempt)
        verdict = "通过" if attempt.passed else "未通过"
        messages.success(request, f"已交卷：得分 {attempt.score}，{verdict}（及格分数 {paper.pass_mark}）。")
        return redirect(attempt)
    now = timezone.now()
    running = attempt.status == AttemptStatus.IN_PROGRESS and not attempt.is_finished(now)
    if running and mine:
        left = max(0, int((attempt.deadline - now).total_seconds()))
        return render(
            request,
            "exams/attempt_take.html",
            {"attempt": attempt, "paper": paper, "seconds_left": left, "grace": grace_seconds()},
        )
    sheet = []
    for index, entry in enumerate(attempt.sheet):
        given = attempt.answers.get(str(index))
        sheet.append(
            {"index": index + 1, "entry": entry, "given": given, "right": attempt_services.is_right(entry, given)}
        )
    # The right answers are shown to the member once no attempt is left to use them in (or the paper has closed).
    used = Attempt.objects.visible_to(request.user).filter(assignment=attempt.assignment).count()
    reveal = not mine or now > paper.closes_at or used >= paper.max_attempts
    return render(
        request,
        "exams/attempt_sheet.html",
        {"attempt": attempt, "paper": paper, "sheet": sheet, "running": running, "mine": mine, "reveal": reveal},
    )
