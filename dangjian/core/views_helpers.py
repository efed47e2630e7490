"""Helpers every area's views share: scoped lookups, capability checks and pagination."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404

from dangjian.core.signals import out_of_scope_lookup


def scoped(model) -> Callable:
    """Mark a view as showing objects of `model`, looked up through `model.objects.visible_to(user)`.

    The login check is applied here too. The project-wide scope test reads `scope_model` to prove, for
    every URL pattern, that objects out of the user's scope answer 404.
    """

    def decorate(view):
        wrapped = login_required(view)
        wrapped.scope_model = model
        return wrapped

    return decorate


def get_visible_or_404(model, user, pk, *, request=None):
    """The object if the user may see it; 404 otherwise, whether it exists or not.

    A lookup of an object that exists outside the user's scope is signalled, for the audit trail.
    """
    try:
        return model.objects.visible_to(user).get(pk=pk)
    except model.DoesNotExist:
        if model.objects.dangerously_all().filter(pk=pk).exists():
            out_of_scope_lookup.send(sender=model, request=request, user=user, model=model, pk=pk)
        raise Http404(f"{model._meta.verbose_name}不存在或不在您的管理范围内。") from None


def require(condition: bool, message: str = "您的角色无权进行此操作。") -> None:
    if not condition:
        raise PermissionDenied(message)


def paginate(request, queryset, *, default_size: int | None = None):
    """One page of `queryset`; `?per_page=` is honoured up to DANGJIAN_MAX_PAGE_SIZE."""
    size = default_size or settings.DANGJIAN_PAGE_SIZE
    with contextlib.suppress(TypeError, ValueError):
        size = max(1, min(int(request.GET.get("per_page", size)), settings.DANGJIAN_MAX_PAGE_SIZE))
    paginator = Paginator(queryset, size)
    return paginator.get_page(request.GET.get("page"))
