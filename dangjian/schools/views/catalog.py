"""Pages of the party-school area: the catalog seam — the instructor pool (师资库) and its points, the course
catalog (课程), modules (教学模块) and premium-course rounds (精品课程评选)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.schools.filters_catalog import CourseFilter, InstructorFilter
from dangjian.schools.forms.catalog import (
    CourseForm,
    InstructorForm,
    ModuleForm,
    PointReverseForm,
    PointRuleForm,
    PremiumEntryForm,
    PremiumRoundForm,
    PremiumScoreForm,
    course_initial,
)
from dangjian.schools.models import (
    Course,
    CourseModule,
    Instructor,
    PremiumRound,
    PremiumRoundStatus,
)
from dangjian.schools.selectors import catalog as selectors
from dangjian.schools.services import catalog as services

VIEW_DENIED = "您的角色无权查看党校信息。"
MANAGE_DENIED = "您的角色无权管理师资库和课程。"


def _require_viewer(request) -> None:
    require(access_for(request.user).can_view_schools, VIEW_DENIED)


def _require_manager_role(request) -> None:
    require(access_for(request.user).can_manage_schools, MANAGE_DENIED)


def _require_manager_of(request, obj) -> None:
    require(access_for(request.user).can_manage_schools_in(obj.owner), "您无权修改该组织的师资库、课程或评选。")


def _filtered(filterset):
    """The filtered rows; a rejected filter shows its error, not the unfiltered scope."""
    return filterset.qs if not filterset.is_bound or filterset.is_valid() else filterset.queryset.none()


def _form_page(request, form, title: str, cancel: str, active: str):
    return render(
        request, "schools/catalog/form.html", {"form": form, "title": title, "cancel": cancel, "active": active}
    )


# ---------------------------------------------------------------------------------------------------------
# Instructors and points


@login_required
def instructor_list(request):
    """师资库: the pool in the user's scope, filtered, ranked by the points of `?year=` (ties by name)."""
    _require_viewer(request)
    filterset = InstructorFilter(request.GET or None, queryset=Instructor.objects.none())
    year = filterset.ranking_year()
    filterset.queryset = selectors.instructor_list(user=request.user, year=year)
    page = paginate(request, _filtered(filterset))
    return render(
        request,
        "schools/catalog/instructor_list.html",
        {
            "filter": filterset,
            "page": page,
            "year": year,
            "can_manage": access_for(request.user).can_manage_schools,
        },
    )


@login_required
def instructor_create(request):
    _require_manager_role(request)
    form = InstructorForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        instructor = submit(form, lambda data: services.instructor_create(by=request.user, **data))
        if instructor is not FAILED:
            messages.success(request, f"已将“{instructor.name}”加入师资库。")
            return redirect(instructor)
    return _form_page(request, form, "新增讲师", reverse("schools:instructor_list"), "instructors")


@scoped(Instructor)
def instructor_edit(request, pk):
    instructor = get_visible_or_404(Instructor, request.user, pk)
    _require_manager_of(request, instructor)
    initial = {
        "owner": instructor.owner.code,
        "name": instructor.name,
        "team": instructor.team_id,
        "employer": instructor.employer,
        "title": instructor.title,
        "topics": instructor.topics,
        "member": instructor.member_id,
        "appointed_on": instructor.appointed_on,
        "appointment_ends_on": instructor.appointment_ends_on,
        "active": instructor.active,
    }
    form = InstructorForm(request.POST or None, initial=initial, user=request.user, instructor=instructor)
    if request.method == "POST" and form.is_valid():
        done = submit(form, lambda data: services.instructor_update(by=request.user, instructor=instructor, **data))
        if done is not FAILED:
            messages.success(request, "讲师信息已保存。")
            return redirect(instructor)
    return _form_page(request, form, f"编辑讲师：{instructor.name}", instructor.get_absolute_url(), "instructors")


def _instructor_page(request, instructor, reverse_form=None, status: int = 200):
    can_manage = access_for(request.user).can_manage_schools_in(instructor.owner)
    if can_manage and reverse_form is None:
        reverse_form = PointReverseForm(instructor=instructor)
    return render(
        request,
        "schools/catalog/instructor_detail.html",
        {
            "instructor": instructor,
            "member": selectors.instructor_member_for(user=request.user, instructor=instructor),
            "ledger": selectors.instructor_ledger(instructor=instructor),
            "by_year": selectors.instructor_points_by_year(instructor=instructor),
            "courses": selectors.course_list(user=request.user).filter(instructors=instructor),
            "can_manage": can_manage,
            "reverse_form": reverse_form if can_manage else None,
        },
        status=status,
    )


@scoped(Instructor)
def instructor_detail(request, pk):
    """A pool instructor: details, courses, points per year and the points ledger (积分台账)."""
    instructor = get_visible_or_404(Instructor, request.user, pk)
    _require_viewer(request)
    return _instructor_page(request, instructor)


@scoped(Instructor)
@require_POST
def point_entry_reverse(request, pk):
    """Reverse a ledger entry (积分冲销) with a reason: a manager of the instructor's owner."""
    instructor = get_visible_or_404(Instructor, request.user, pk)
    _require_manager_of(request, instructor)
    form = PointReverseForm(request.POST, instructor=instructor)
    done = submit(
        form, lambda data: services.point_entry_reverse(by=request.user, entry=data["entry"], reason=data["reason"])
    )
    if done is not FAILED:
        messages.success(request, "已冲销该积分记录。")
        return redirect(instructor)
    return _instructor_page(request, instructor, reverse_form=form)


@login_required
def point_rules(request):
    """积分规则: the rules the user sees (their subtrees' and their ancestors'); managers add rules."""
    _require_viewer(request)
    can_manage = access_for(request.user).can_manage_schools
    form = PointRuleForm(request.POST or None, user=request.user) if can_manage else None
    if request.method == "POST":
        _require_manager_role(request)
        done = submit(form, lambda data: services.point_rule_save(by=request.user, **data))
        if done is not FAILED:
            messages.success(request, "积分规则已保存。")
            return redirect("schools:point_rules")
    page = paginate(request, selectors.point_rule_list(user=request.user))
    return render(request, "schools/catalog/point_rules.html", {"page": page, "form": form})


# ---------------------------------------------------------------------------------------------------------
# Courses


@login_required
def course_list(request):
    """课程: the catalog in the user's scope (their own and their ancestors'), filtered."""
    _require_viewer(request)
    filterset = CourseFilter(request.GET or None, queryset=selectors.course_list(user=request.user))
    page = paginate(request, _filtered(filterset))
    return render(
        request,
        "schools/catalog/course_list.html",
        {
            "filter": filterset,
            "page": page,
            "can_manage": access_for(request.user).can_manage_schools,
        },
    )


def _course_data(form) -> services.CourseData:
    data = form.cleaned_data
    return services.CourseData(
        title=data["title"],
        category=data["category"],
        format=data["format"],
        content_type=data["content_type"],
        hours=data.get("hours"),
        instructors=list(data.get("instructors") or []),
        summary=data.get("summary", ""),
        materials=data.get("materials", ""),
        active=data.get("active", False),
        **form.flags(),
    )


@login_required
def course_create(request):
    _require_manager_role(request)
    form = CourseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        course = submit(
            form, lambda data: services.course_create(by=request.user, owner=data["owner"], data=_course_data(form))
        )
        if course is not FAILED:
            messages.success(request, f"已添加课程“{course.title}”。")
            return redirect(course)
    return _form_page(request, form, "新增课程", reverse("schools:course_list"), "courses")


@scoped(Course)
def course_edit(request, pk):
    course = get_visible_or_404(Course, request.user, pk)
    _require_manager_of(request, course)
    form = CourseForm(request.POST or None, initial=course_initial(course), user=request.user)
    if request.method == "POST" and form.is_valid():
        done = submit(
            form,
            lambda data: services.course_update(
                by=request.user, course=course, owner=data["owner"], data=_course_data(form)
            ),
        )
        if done is not FAILED:
            messages.success(request, "课程已保存。")
            return redirect(course)
    return _form_page(request, form, f"编辑课程：{course.title}", course.get_absolute_url(), "courses")


@scoped(Course)
def course_detail(request, pk):
    """A catalog course: category, format, hours, content type, target groups, instructors, materials."""
    course = get_visible_or_404(Course, request.user, pk)
    _require_viewer(request)
    return render(
        request,
        "schools/catalog/course_detail.html",
        {
            "course": course,
            "instructors": selectors.course_instructors(user=request.user, course=course),
            "modules": CourseModule.objects.visible_to(request.user).filter(courses=course).order_by("name"),
            "can_manage": access_for(request.user).can_manage_schools_in(course.owner),
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Modules


@login_required
def module_list(request):
    """教学模块: the modules in the user's scope, each with its course count and whether it is off its target mix."""
    _require_viewer(request)
    page = paginate(request, selectors.module_list(user=request.user))
    mixes = selectors.module_mixes(page.object_list)
    rows = [(module, mixes[module.pk]) for module in page.object_list]
    return render(
        request,
        "schools/catalog/module_list.html",
        {
            "page": page,
            "rows": rows,
            "can_manage": access_for(request.user).can_manage_schools,
        },
    )


@login_required
def module_create(request):
    _require_manager_role(request)
    form = ModuleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        module = submit(form, lambda data: services.module_save(by=request.user, module=None, **data))
        if module is not FAILED:
            messages.success(request, f"已创建教学模块“{module.name}”。")
            return redirect(module)
    return _form_page(request, form, "新建教学模块", reverse("schools:module_list"), "modules")


@scoped(CourseModule)
def module_edit(request, pk):
    module = get_visible_or_404(CourseModule, request.user, pk)
    _require_manager_of(request, module)
    initial = {
        "owner": module.owner.code,
        "name": module.name,
        "description": module.description,
        "courses": list(module.courses.values_list("pk", flat=True)),
        "target_political": module.target_political,
        "target_practice": module.target_practice,
        "target_model": module.target_model,
        "tolerance": module.tolerance,
    }
    form = ModuleForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = submit(form, lambda data: services.module_save(by=request.user, module=module, **data))
        if saved is not FAILED:
            messages.success(request, "教学模块已保存。")
            return redirect(module)
    return _form_page(request, form, f"编辑教学模块：{module.name}", module.get_absolute_url(), "modules")


@scoped(CourseModule)
def module_detail(request, pk):
    """A module: its courses and its mix by content type by hours, with a warning when off its target mix."""
    module = get_visible_or_404(CourseModule, request.user, pk)
    _require_viewer(request)
    courses, hidden = selectors.module_courses(user=request.user, module=module)
    return render(
        request,
        "schools/catalog/module_detail.html",
        {
            "module": module,
            "mix": selectors.module_mix(module),
            "courses": courses,
            "hidden_courses": hidden,
            "can_manage": access_for(request.user).can_manage_schools_in(module.owner),
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Premium rounds


@login_required
def premium_list(request):
    """精品课程评选: the rounds in the user's scope, latest year first."""
    _require_viewer(request)
    page = paginate(request, selectors.premium_round_list(user=request.user))
    return render(
        request,
        "schools/catalog/premium_list.html",
        {"page": page, "can_manage": access_for(request.user).can_manage_schools},
    )


@login_required
def premium_create(request):
    _require_manager_role(request)
    form = PremiumRoundForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        round = submit(form, lambda data: services.premium_round_create(by=request.user, **data))
        if round is not FAILED:
            messages.success(request, f"已创建“{round}”。")
            return redirect(round)
    return _form_page(request, form, "新建精品课程评选", reverse("schools:premium_list"), "premium")


def _premium_page(request, round, *, entry_form=None, score_form=None, close_errors=(), status: int = 200):
    """The round's page; a refused action re-renders it (200) with the bound form and its messages."""
    can_manage = access_for(request.user).can_manage_schools_in(round.owner) and round.status == PremiumRoundStatus.OPEN
    errors = list(close_errors)
    if not can_manage:  # the forms are not shown (a closed round): their messages go on top
        errors += [e for form in (entry_form, score_form) if form is not None for e in form.non_field_errors()]
    else:
        entry_form = entry_form or PremiumEntryForm(user=request.user, round=round)
        score_form = score_form or PremiumScoreForm(round=round)
    return render(
        request,
        "schools/catalog/premium_detail.html",
        {
            "round": round,
            "view": selectors.premium_round_view(user=request.user, round=round),
            "tie_break": selectors.PREMIUM_TIE_BREAK,
            "visible_courses": set(
                Course.objects.visible_to(request.user)
                .filter(premium_entries__round=round)
                .values_list("pk", flat=True)
            ),
            "can_manage": can_manage,
            "entry_form": entry_form if can_manage else None,
            "score_form": score_form if can_manage else None,
            "errors": errors,
        },
        status=status,
    )


@scoped(PremiumRound)
def premium_detail(request, pk):
    """A premium round: entries ranked by score, the tie-break, the selection and the points it awarded."""
    round = get_visible_or_404(PremiumRound, request.user, pk)
    _require_viewer(request)
    return _premium_page(request, round)


@scoped(PremiumRound)
@require_POST
def premium_entry_add(request, pk):
    round = get_visible_or_404(PremiumRound, request.user, pk)
    _require_manager_of(request, round)
    form = PremiumEntryForm(request.POST, user=request.user, round=round)
    done = submit(form, lambda data: services.premium_entry_add(by=request.user, round=round, course=data["course"]))
    if done is not FAILED:
        messages.success(request, "已登记参评课程。")
        return redirect(round)
    return _premium_page(request, round, entry_form=form)


@scoped(PremiumRound)
@require_POST
def premium_score(request, pk):
    round = get_visible_or_404(PremiumRound, request.user, pk)
    _require_manager_of(request, round)
    form = PremiumScoreForm(request.POST, round=round)
    done = submit(form, lambda data: services.premium_score(by=request.user, entry=data["entry"], score=data["score"]))
    if done is not FAILED:
        messages.success(request, "评分已保存。")
        return redirect(round)
    return _premium_page(request, round, score_form=form)


@scoped(PremiumRound)
@require_POST
def premium_close(request, pk):
    """Publish the round's result: the selection, the courses marked, the instructors' points."""
    round = get_visible_or_404(PremiumRound, request.user, pk)
    _require_manager_of(request, round)
    try:
        result = services.premium_round_close(by=request.user, round=round)
    except ValidationError as exc:
        return _premium_page(request, round, close_errors=exc.messages)
    messages.success(request, f"评选结果已公布：{len(result.selected)}门课程入选，{len(result.awarded)}人次获得积分。")
    if result.not_awarded:
        messages.warning(
            request,
            f"{len(result.not_awarded)}人次未记积分："
            + "；".join(f"{instructor.name}（{why}）" for _course, instructor, why in result.not_awarded),
        )
    if result.hours_credited:
        messages.success(
            request,
            f"{len(result.hours_credited)}名区内讲师各计精品课程奖励学时{format_decimal(round.reward_hours)}学时。",
        )
    if result.hours_not_credited:
        messages.warning(
            request,
            f"{len(result.hours_not_credited)}人次未计学时："
            + "；".join(f"{instructor.name}（{why}）" for _course, instructor, why in result.hours_not_credited),
        )
    return redirect(round)


def format_decimal(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
