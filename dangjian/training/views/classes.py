"""Pages of training and hours: classes (培训班), filing (办班事前备案), enrollment, sessions, QR sign-in, and the
member's own classes (我的培训).

Organizer pages need a role that sees party-school data (`can_view_schools`, else 403); changes need a
school-managing role over the class's organizer (else 403), approval a committee role over it. A URL with `pk`
looks its object up with `get_visible_or_404` (404 out of scope). Changes are POST; a bad form re-renders its page
with the message beside the field (status 200); a refused state change comes back as a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.forms import add_service_errors
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, require, scoped, submit
from dangjian.training.forms.classes import (
    AttendanceMarkForm,
    BookingSessionForm,
    ClassFilterForm,
    ClassForm,
    EnrollByOrganizationForm,
    EnrollImportForm,
    MemberPickForm,
    RejectForm,
    SessionForm,
    SignInCodeForm,
    WithdrawForm,
)
from dangjian.training.models import ClassStatus, SessionStatus, TrainingClass, TrainingSession
from dangjian.training.selectors import classes as selectors
from dangjian.training.services import attendance as attendance_services
from dangjian.training.services import classes as services
from dangjian.training.services import enrollment as enrollment_services
from dangjian.training.services import sessions as session_services
from dangjian.training.services import sign_in as sign_in_services

NOT_VIEWER = "您的角色无权查看培训班。"
PICK_RESULTS = 30
MAX_IMPORT_ERRORS = 500


def _error_text(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _require_viewer(request) -> None:
    require(access_for(request.user).can_view_schools, NOT_VIEWER)


def _visible_class(request, pk) -> TrainingClass:
    training_class = get_visible_or_404(TrainingClass, request.user, pk, request=request)
    _require_viewer(request)
    return training_class


def _run_class(request, pk) -> TrainingClass:
    """The class, 404 out of scope, 403 for a viewer who may not run it."""
    training_class = _visible_class(request, pk)
    require(access_for(request.user).can_manage_schools_in(training_class.organizer), services.NOT_RUNNER)
    return training_class


def _visible_session(request, pk) -> TrainingSession:
    session = get_visible_or_404(TrainingSession, request.user, pk, request=request)
    _require_viewer(request)
    return session


def _run_session(request, pk) -> TrainingSession:
    session = _visible_session(request, pk)
    require(access_for(request.user).can_manage_schools_in(session.training_class.organizer), services.NOT_RUNNER)
    return session


# ---------------------------------------------------------------------------------------------------------
# Classes


@login_required
def class_list(request):
    """培训班: the classes the user sees, filtered by status, organizer code (its subtree) and year."""
    _require_viewer(request)
    form = ClassFilterForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.class_list(
        user=request.user,
        status=filters.get("status") or None,
        organizer=filters.get("organizer"),
        year=filters.get("year"),
    )
    if form.is_bound and not form.is_valid():
        rows = rows.none()  # a rejected filter shows its error, not the unfiltered scope
    return render(
        request,
        "training/classes/list.html",
        {
            "form": form,
            "page": paginate(request, rows),
            "can_create": access_for(request.user).can_manage_schools,
        },
    )


@login_required
def class_create(request):
    """新建培训班 (a draft), for a school-managing role."""
    _require_viewer(request)
    require(access_for(request.user).can_manage_schools, "您的角色无权新建培训班。")
    form = ClassForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        training_class = submit(form, lambda data: services.class_create(by=request.user, **data))
        if training_class is not FAILED:
            messages.success(request, f"已新建培训班“{training_class.title}”（草稿）。请安排课次后办理备案。")
            return redirect(training_class)
    return render(request, "training/classes/form.html", {"form": form, "title": "新建培训班"})


@scoped(TrainingClass)
def class_edit(request, pk):
    training_class = _run_class(request, pk)
    data = request.POST if request.method == "POST" else None
    form = ClassForm(data, user=request.user, initial=ClassForm.initial_for(training_class))
    if request.method == "POST" and form.is_valid():
        done = submit(form, lambda data: services.class_update(by=request.user, training_class=training_class, **data))
        if done is not FAILED:
            messages.success(request, "培训班信息已保存。")
            return redirect(training_class)
    return render(
        request,
        "training/classes/form.html",
        {"form": form, "training_class": training_class, "title": f"编辑培训班：{training_class.title}"},
    )


def _class_flags(user, training_class: TrainingClass) -> dict:
    can_run = access_for(user).can_manage_schools_in(training_class.organizer)
    status = training_class.status
    return {
        "can_run": can_run,
        "can_edit": can_run and status != ClassStatus.FINISHED,
        "can_file": can_run and status in (ClassStatus.DRAFT, ClassStatus.REJECTED),
        "can_decide": status == ClassStatus.FILED and access_for(user).is_committee_over(training_class.organizer),
        "can_finish": can_run and status == ClassStatus.APPROVED,
        "can_enroll": status == ClassStatus.APPROVED and (can_run or access_for(user).can_edit_members),
    }


@scoped(TrainingClass)
def class_detail(request, pk):
    """培训班详情: the class, its sessions (with sign-in counts), enrollment counts and the next steps."""
    training_class = _visible_class(request, pk)
    return render(
        request,
        "training/classes/detail.html",
        {
            "training_class": training_class,
            "detail": selectors.class_detail(training_class=training_class),
            "page": paginate(request, selectors.class_sessions(training_class=training_class)),
            "findings": selectors.visible_findings(user=request.user, warnings=training_class.filing_warnings),
            **_class_flags(request.user, training_class),
        },
    )


# ---------------------------------------------------------------------------------------------------------
# Filing (办班事前备案): the warnings page, file, approve, reject, finish


def _render_filing(request, training_class: TrainingClass, *, reject_form=None, status: int = 200):
    flags = _class_flags(request.user, training_class)
    live = None
    if request.GET.get("recheck") and (flags["can_run"] or flags["can_decide"]):
        live = selectors.visible_findings(user=request.user, warnings=selectors.filing_warnings(training_class))
    return render(
        request,
        "training/classes/filing.html",
        {
            "training_class": training_class,
            "findings": selectors.visible_findings(user=request.user, warnings=training_class.filing_warnings),
            "live": live,
            "reject_form": reject_form or (RejectForm() if flags["can_decide"] else None),
            **flags,
        },
        status=status,
    )


@scoped(TrainingClass)
def class_filing(request, pk):
    """备案: the warnings found at filing (重复调训, 多头调训, 长期漏训 candidates), those the viewer may see;
    `?recheck=1` checks again now (for the organizer and the approver)."""
    return _render_filing(request, _visible_class(request, pk))


def _transition(request, training_class: TrainingClass, run, success: str, target: str):
    try:
        run()
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return redirect(target)


@scoped(TrainingClass)
@require_POST
def class_file(request, pk):
    training_class = _run_class(request, pk)
    return _transition(
        request,
        training_class,
        lambda: services.class_file(by=request.user, training_class=training_class),
        "已办理办班事前备案，等待审批。请查看备案提示。",
        reverse("training:class_filing", args=[training_class.pk]),
    )


@scoped(TrainingClass)
@require_POST
def class_approve(request, pk):
    training_class = _visible_class(request, pk)
    require(access_for(request.user).is_committee_over(training_class.organizer), services.NOT_APPROVER)
    return _transition(
        request,
        training_class,
        lambda: services.class_approve(by=request.user, training_class=training_class),
        "备案已审批通过，培训班开始报名。",
        training_class.get_absolute_url(),
    )


@scoped(TrainingClass)
@require_POST
def class_reject(request, pk):
    training_class = _visible_class(request, pk)
    require(access_for(request.user).is_committee_over(training_class.organizer), services.NOT_APPROVER)
    form = RejectForm(request.POST)
    done = submit(
        form, lambda data: services.class_reject(by=request.user, training_class=training_class, reason=data["reason"])
    )
    if done is not FAILED:
        messages.success(request, "备案已退回。")
        return redirect(training_class)
    return _render_filing(request, training_class, reject_form=form)


@scoped(TrainingClass)
@require_POST
def class_finish(request, pk):
    training_class = _run_class(request, pk)
    return _transition(
        request,
        training_class,
        lambda: services.class_finish(by=request.user, training_class=training_class),
        "培训班已结班。",
        training_class.get_absolute_url(),
    )


# ---------------------------------------------------------------------------------------------------------
# Enrollment (报名): by name, by organization, by import; withdrawal


def _require_enroller(request, training_class: TrainingClass) -> None:
    access = access_for(request.user)
    allowed = access.can_manage_schools_in(training_class.organizer) or access.can_edit_members
    require(allowed, enrollment_services.NOT_ENROLLER)


def _render_enrollment(request, training_class: TrainingClass, *, forms: dict | None = None, import_errors=None):
    forms = forms or {}
    flags = _class_flags(request.user, training_class)
    q = (request.GET.get("q") or "").strip()[:50]
    results = None
    if flags["can_enroll"] and q:
        results = list(
            selectors.enrollable_members(user=request.user, training_class=training_class, q=q)[:PICK_RESULTS]
        )
    roster = paginate(request, selectors.class_roster(user=request.user, training_class=training_class))
    context = {
        "training_class": training_class,
        "page": roster,
        "q": q,
        "results": results,
        "results_limit": PICK_RESULTS,
        "counts": selectors.enrollment_counts(training_class=training_class),
        "pick_form": forms.get("pick_form"),
        "org_form": forms.get("org_form") or EnrollByOrganizationForm(user=request.user),
        "import_form": forms.get("import_form") or EnrollImportForm(),
        "import_errors": import_errors,
        # A refusal of a closed class has no form on the page to sit in: shown on top.
        "refusals": [] if flags["can_enroll"] else [e for form in forms.values() for e in form.non_field_errors()],
        "max_import_errors": MAX_IMPORT_ERRORS,
        **flags,
    }
    return render(request, "training/classes/enrollment.html", context)


@scoped(TrainingClass)
def enrollment(request, pk):
    """报名: the roster (the members the viewer sees), and for those who may enroll: pick by name (`?q=`), by
    organization, or import a list."""
    return _render_enrollment(request, _visible_class(request, pk))


def _enrolled(request, training_class: TrainingClass, count: int):
    if count:
        messages.success(request, f"已报名 {count} 人。")
    else:
        messages.info(request, "所选党员均已报名，未新增。")
    return redirect(reverse("training:enrollment", args=[training_class.pk]))


@scoped(TrainingClass)
@require_POST
def enrollment_add(request, pk):
    training_class = _visible_class(request, pk)
    _require_enroller(request, training_class)
    form = MemberPickForm(request.POST, user=request.user)
    count = submit(
        form,
        lambda data: enrollment_services.enrollment_add(
            by=request.user, training_class=training_class, members=data["members"]
        ),
    )
    if count is not FAILED:
        return _enrolled(request, training_class, count)
    return _render_enrollment(request, training_class, forms={"pick_form": form})


@scoped(TrainingClass)
@require_POST
def enrollment_by_organization(request, pk):
    training_class = _visible_class(request, pk)
    _require_enroller(request, training_class)
    form = EnrollByOrganizationForm(request.POST, user=request.user)
    count = submit(
        form,
        lambda data: enrollment_services.enrollment_add_by_organization(
            by=request.user,
            training_class=training_class,
            organization=data["organization"],
            category=data["category"] or None,
            leadership=data["leadership"],
        ),
    )
    if count is not FAILED:
        return _enrolled(request, training_class, count)
    return _render_enrollment(request, training_class, forms={"org_form": form})


def _row_errors(exc: ValidationError) -> list[dict] | None:
    """The per-row errors of an import (code "row"), for the error table; None when the file as a whole failed."""
    errors = getattr(exc, "error_dict", {}).get("file", [])
    rows = [e.params for e in errors if getattr(e, "code", None) == "row" and e.params]
    return rows or None


def _sheet_names(exc: ValidationError) -> list[str] | None:
    """The sheets to choose from when the import refused a workbook with several sheets with data (code "sheet")."""
    for error in getattr(exc, "error_dict", {}).get("file", []):
        if getattr(error, "code", None) == "sheet" and error.params:
            return list(error.params["names"])
    return None


@scoped(TrainingClass)
@require_POST
def enrollment_import(request, pk):
    training_class = _visible_class(request, pk)
    _require_enroller(request, training_class)
    form = EnrollImportForm(request.POST, request.FILES)
    import_errors = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        # Not `submit`: an import's row errors go to the table below the form, not onto the form.
        try:
            count = enrollment_services.enrollment_import(
                by=request.user,
                training_class=training_class,
                fileobj=upload,
                name=upload.name,
                sheet=form.cleaned_data["sheet"] or None,
            )
        except ValidationError as exc:
            import_errors = _row_errors(exc)
            sheets = _sheet_names(exc)
            if sheets:  # several sheets with data: ask which one (the file must be chosen again)
                form = EnrollImportForm(request.POST, request.FILES, sheets=sheets)
                form.is_valid()
                add_service_errors(form, exc)
            elif import_errors is None:
                add_service_errors(form, exc)
            else:
                form.add_error("file", f"校验未通过，未报名任何人：共 {len(import_errors)} 处错误，见下表。")
        else:
            return _enrolled(request, training_class, count)
    return _render_enrollment(
        request,
        training_class,
        forms={"import_form": form},
        import_errors=import_errors[:MAX_IMPORT_ERRORS] if import_errors else None,
    )


@scoped(TrainingClass)
@require_POST
def enrollment_withdraw(request, pk):
    training_class = _visible_class(request, pk)
    _require_enroller(request, training_class)
    form = WithdrawForm(request.POST, user=request.user, training_class=training_class)
    if form.is_valid():
        member = form.cleaned_data["member"]
        try:
            enrollment_services.enrollment_withdraw(by=request.user, training_class=training_class, member=member)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"{member.name}已退出培训班。")
    else:
        messages.error(request, "该党员未报名该培训班（或已退出）。")
    return redirect(reverse("training:enrollment", args=[training_class.pk]))


# ---------------------------------------------------------------------------------------------------------
# Sessions (课次)


def _render_session_form(request, training_class, *, form, booking_form=None, session=None):
    return render(
        request,
        "training/classes/session_form.html",
        {
            "training_class": training_class,
            "session": session,
            "form": form,
            "booking_form": booking_form,
            "title": f"编辑课次：{session.title}" if session else f"安排课次：{training_class.title}",
        },
    )


@scoped(TrainingClass)
def session_add(request, pk):
    """安排课次: by hand, or (POST to session_from_booking) from a scheduled booking."""
    training_class = _run_class(request, pk)
    form = SessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        session = submit(
            form, lambda data: session_services.session_add(by=request.user, training_class=training_class, **data)
        )
        if session is not FAILED:
            messages.success(request, f"已安排课次“{session.title}”，签到码 {session.short_code}。")
            return redirect(training_class)
    booking_form = BookingSessionForm(user=request.user, training_class=training_class)
    return _render_session_form(request, training_class, form=form, booking_form=booking_form)


@scoped(TrainingClass)
@require_POST
def session_from_booking(request, pk):
    training_class = _run_class(request, pk)
    booking_form = BookingSessionForm(request.POST, user=request.user, training_class=training_class)
    session = submit(
        booking_form,
        lambda data: session_services.session_from_booking(
            by=request.user, booking=data["booking"], training_class=training_class
        ),
    )
    if session is not FAILED:
        messages.success(request, f"已由约课生成课次“{session.title}”（{session.hours}学时）。")
        return redirect(training_class)
    form = SessionForm(user=request.user)
    return _render_session_form(request, training_class, form=form, booking_form=booking_form)


@scoped(TrainingSession)
def session_edit(request, pk):
    session = _run_session(request, pk)
    training_class = session.training_class
    data = request.POST if request.method == "POST" else None
    form = SessionForm(data, user=request.user, initial=SessionForm.initial_for(session))
    if request.method == "POST" and form.is_valid():
        done = submit(form, lambda data: session_services.session_update(by=request.user, session=session, **data))
        if done is not FAILED:
            messages.success(request, "课次已保存。")
            return redirect(session)
    return _render_session_form(request, training_class, form=form, session=session)


def _render_session(request, session: TrainingSession, *, mark_form=None):
    training_class = session.training_class
    can_run = access_for(request.user).can_manage_schools_in(training_class.organizer)
    is_open = session.status == SessionStatus.OPEN
    signed, enrolled = selectors.attendance_counts(session=session)
    opens, closes = sign_in_services.sign_in_window(session)
    return render(
        request,
        "training/classes/session_detail.html",
        {
            "session": session,
            "training_class": training_class,
            "page": paginate(request, selectors.session_attendance(user=request.user, session=session)),
            "signed": signed,
            "enrolled": enrolled,
            "opens": opens,
            "closes": closes,
            "can_run": can_run,
            "can_edit": can_run and is_open and training_class.status != ClassStatus.FINISHED,
            "can_mark": can_run and is_open and training_class.status == ClassStatus.APPROVED,
            "can_close": can_run and is_open and training_class.status == ClassStatus.APPROVED,
            "started": session.starts_at <= timezone.now(),
            "mark_form": mark_form,
        },
    )


@scoped(TrainingSession)
def session_detail(request, pk):
    """课次详情: time, venue, instructor, hours, the sign-in window and code, and the attendance list (the members
    the viewer sees), with manual marking and closing for the organizer."""
    return _render_session(request, _visible_session(request, pk))


@scoped(TrainingSession)
@require_POST
def attendance_mark(request, pk):
    session = _run_session(request, pk)
    form = AttendanceMarkForm(request.POST, user=request.user, session=session)
    count = submit(
        form,
        lambda data: attendance_services.attendance_mark(
            by=request.user, session=session, members=data["members"], present=data["present"]
        ),
    )
    if count is not FAILED:
        present = form.cleaned_data["present"]
        messages.success(request, f"已为 {count} 人{'标记签到' if present else '取消签到'}。")
        return redirect(session)
    return _render_session(request, session, mark_form=form)


@scoped(TrainingSession)
@require_POST
def session_close(request, pk):
    session = _run_session(request, pk)
    try:
        closed = attendance_services.session_close(by=request.user, session=session)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        text = f"课次已结束，考勤已确认：为 {closed.credited} 名签到党员登记 {session.hours} 学时（集中培训）。"
        if closed.instructor_member is not None:
            text += f"授课讲师登记授课奖励 {closed.reward} 学时。"
        messages.success(request, text)
    return redirect(session)


def _qr_svg(url: str) -> str:
    import segno

    return segno.make(url, error="m").svg_inline(scale=10, omitsize=True, svgclass="w-100 h-auto", title="签到二维码")


@scoped(TrainingSession)
def session_qr(request, pk):
    """投影签到: the session's QR code (an inline SVG: a link to the sign-in page with the signed token), its
    short code and the sign-in window, large, for a projector. For the organizer only."""
    session = _run_session(request, pk)
    token = sign_in_services.sign_in_token(session)
    url = request.build_absolute_uri(f"{reverse('training:sign_in')}?t={token}")
    opens, closes = sign_in_services.sign_in_window(session)
    return render(
        request,
        "training/classes/session_qr.html",
        {
            "session": session,
            "training_class": session.training_class,
            "qr_svg": mark_safe(_qr_svg(url)),
            "opens": opens,
            "closes": closes,
            "signed": selectors.attendance_counts(session=session)[0],
        },
    )


# ---------------------------------------------------------------------------------------------------------
# The member's pages: sign-in and my classes


@login_required
def sign_in(request):
    """签到 (on a phone): `?t=<token>` from the QR code asks to confirm; otherwise a form for the short code.
    Login is required; after logging in the member comes back to this very URL, token included."""
    member = selectors.member_for(request.user)
    token = (request.POST.get("t") or request.GET.get("t") or "").strip()[:500]
    form = SignInCodeForm(request.POST if request.method == "POST" and not token else None)
    token_session = token_error = None
    if token:
        try:
            token_session = sign_in_services.session_for_token(token)
        except ValidationError as exc:
            token_error = _error_text(exc)
    if member is not None and request.method == "POST" and (token_session or form.is_valid()):
        # Not `submit`: a sign-in by QR token has no form, its refusal is shown as the token's error.
        try:
            if token_session is not None:
                attendance = sign_in_services.session_sign_in(by=request.user, token=token)
            else:
                attendance = sign_in_services.session_sign_in(by=request.user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            if token_session is not None:
                token_error = _error_text(exc)
            else:
                add_service_errors(form, exc)
        else:
            when = timezone.localtime(attendance.signed_at)
            messages.success(request, f"签到成功：{attendance.session.title}（{when:%H:%M}）。")
            return redirect("training:my_classes")
    window = sign_in_services.sign_in_window(token_session) if token_session is not None else None
    return render(
        request,
        "training/classes/sign_in.html",
        {
            "member": member,
            "form": form,
            "token": token if token_session is not None else "",
            "token_session": token_session,
            "token_error": token_error,
            "window": window,
        },
    )


@login_required
def my_classes(request):
    """我的培训: the member's classes (sessions, how many attended, hours credited) and upcoming sessions, with
    the sign-in form."""
    member = selectors.member_for(request.user)
    context = {"member": member}
    if member is not None:
        context.update(
            page=paginate(request, selectors.my_classes(member=member)),
            upcoming=selectors.my_upcoming_sessions(member=member),
            form=SignInCodeForm(),
        )
    return render(request, "training/classes/my_classes.html", context)
