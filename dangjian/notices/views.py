"""Pages of the notifications (站内通知): the user's list, unread first, with marking one or all as read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dangjian.core.views_helpers import get_visible_or_404, paginate, scoped
from dangjian.notices import services
from dangjian.notices.models import Notification
from dangjian.notices.selectors import notification_list


@login_required
@require_GET
def notice_list(request):
    """通知: the user's own notifications, unread first, paginated."""
    page = paginate(request, notification_list(user=request.user))
    return render(request, "notices/list.html", {"page": page})


@scoped(Notification)
@require_POST
def notice_read(request, pk):
    """Mark one notification read; with `open`, go on to where the item is done (a path of this site only)."""
    notification = get_visible_or_404(Notification, request.user, pk, request=request)
    services.notification_mark_read(by=request.user, notification=notification)
    target = notification.url
    if request.POST.get("open") and target and url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return redirect(target)
    return redirect("notices:list")


@login_required
def notice_read_all(request):
    """Mark all of the user's notifications read (POST); a GET only goes back to the list."""
    if request.method != "POST":
        return redirect("notices:list")
    count = services.notifications_mark_all_read(by=request.user)
    messages.success(request, f"已将{count}条通知标记为已读。" if count else "没有未读通知。")
    return redirect("notices:list")
