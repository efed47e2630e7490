"""Online-course pages: the member's courses, the player and its heartbeats, the material's file (served in byte
ranges after the scope check), and a course's online page for the staff (material, offers, completions)."""

from __future__ import annotations

import mimetypes
import os
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dangjian.accounts.access import access_for
from dangjian.core.views_helpers import FAILED, get_visible_or_404, paginate, scoped, submit
from dangjian.learning.forms import MaterialForm, OfferForm
from dangjian.learning.models import OnlineMaterial
from dangjian.learning.selectors import courses as selectors
from dangjian.learning.services import material as material_services
from dangjian.learning.services.progress import BEAT_SECONDS, offered_to, own_member, progress_beat
from dangjian.schools.models import Course

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


@login_required
def course_list(request):
    """网络课程: a member's assigned and optional courses with their progress; for the staff, the catalog courses
    with online material in their scope."""
    member = own_member(request.user)
    context: dict = {"member": member}
    if member is not None:
        rows, min_share = selectors.member_courses(member, year=timezone.localdate().year)
        context.update(required=[r for r in rows if r.required], optional=[r for r in rows if not r.required])
        context["min_share"] = min_share
    access = access_for(request.user)
    if access.can_view_schools:
        context["page"] = paginate(request, selectors.staff_courses(request.user))
    return render(request, "learning/course_list.html", context)


@scoped(Course)
def course_manage(request, pk: int):
    """A catalog course's online page (staff): its material (upload, link), its offers, the members who completed it."""
    course = get_visible_or_404(Course, request.user, pk, request=request)
    can_manage = access_for(request.user).can_manage_schools_in(course.owner)
    material_form = MaterialForm(prefix="m")
    offer_form = OfferForm(prefix="o", user=request.user)
    if request.method == "POST" and request.POST.get("action") in ("material", "offer"):
        if not can_manage:
            raise PermissionDenied("只有课程所属党组织范围内的工委工作人员或党校管理员才能维护网络课程。")
        if request.POST["action"] == "material":
            material_form = MaterialForm(request.POST, request.FILES, prefix="m")
            done = submit(
                material_form,
                lambda data: material_services.material_add(by=request.user, course=course, **data),
            )
            if done is not FAILED:
                messages.success(request, f"已添加网络课程资料“{done.title}”。")
                return redirect("learning:course_manage", course.pk)
        else:
            offer_form = OfferForm(request.POST, prefix="o", user=request.user)
            done = submit(
                offer_form, lambda data: material_services.offer_create(by=request.user, course=course, **data)
            )
            if done is not FAILED:
                messages.success(request, "已指派课程。")
                return redirect("learning:course_manage", course.pk)
    context = {
        "course": course,
        "can_manage": can_manage,
        "material_form": material_form,
        "offer_form": offer_form,
        **selectors.course_detail(request.user, course),
    }
    return render(request, "learning/course_manage.html", context)


@scoped(OnlineMaterial)
def material_detail(request, pk: int):
    """The player (学习页面): a video or replay played here with heartbeats, a PDF read here for its reading time, or
    the link to the organization's own platform. Staff in scope preview without tracking."""
    material = get_visible_or_404(OnlineMaterial, request.user, pk, request=request)
    member = own_member(request.user)
    tracking = bool(member and material.tracked and material.active and offered_to(member, material.course_id))
    progress = None
    if tracking:
        progress = material.progress.filter(member=member).first()
    return render(
        request,
        "learning/material.html",
        {
            "material": material,
            "tracking": tracking,
            "resume": progress.position if progress else 0,
            "share": min(100, (progress.watched_seconds * 100 // material.duration_seconds)) if progress else 0,
            "beat_seconds": BEAT_SECONDS,
        },
    )


@scoped(OnlineMaterial)
@require_POST
def material_beat(request, pk: int):
    """A heartbeat of the player page (JSON): the position, the page's id, the event (open, beat, stop)."""
    material = get_visible_or_404(OnlineMaterial, request.user, pk, request=request)
    try:
        result = progress_beat(
            by=request.user,
            material=material,
            tab=request.POST.get("tab", ""),
            position=request.POST.get("position"),
            event=request.POST.get("event", "beat"),
        )
    except PermissionDenied as exc:
        return JsonResponse({"ok": False, "message": str(exc) or "无权记录学习进度。"}, status=403)
    except ValidationError as exc:
        return JsonResponse({"ok": False, "message": "；".join(exc.messages)}, status=400)
    return JsonResponse(
        {
            "ok": result.accepted,
            "credited": result.credited_seconds,
            "share": result.share,
            "position": result.position,
            "completed": result.completed,
            "hours": str(result.hours) if result.hours is not None else None,
            "message": result.message,
        },
        status=200 if result.accepted else 409,
    )


@never_cache
@scoped(OnlineMaterial)
def material_file(request, pk: int):
    """The material's file, for whoever sees the material (never a static file), in byte ranges for the player."""
    material = get_visible_or_404(OnlineMaterial, request.user, pk, request=request)
    if not material.file:
        raise Http404("该资料没有文件。")
    try:
        handle = material.file.open("rb")
        size = material.file.size
    except (FileNotFoundError, OSError):
        raise Http404("文件已不存在。") from None
    content_type = mimetypes.guess_type(material.file.name)[0] or "application/octet-stream"
    match = RANGE_RE.match(request.headers.get("Range", "").strip())
    if not match or not (match.group(1) or match.group(2)):
        response = FileResponse(handle, content_type=content_type, filename=os.path.basename(material.file.name))
        response["Accept-Ranges"] = "bytes"
        response["Content-Disposition"] = "inline"
        return response
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    else:  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    if start >= size or start > end:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    handle.seek(start)
    length = end - start + 1
    data = handle.read(length)
    handle.close()
    response = HttpResponse(data, status=206, content_type=content_type)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Content-Length"] = str(length)
    response["Content-Disposition"] = "inline"
    return response
