"""Helpers every area's views share: scoped lookups, capability checks, pagination and running a form through a
service (`submit`); docs/development.md, "Forms in views", shows how a view uses them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404

from dangjian.core.forms import add_service_errors
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


class _Failed:
    """The type of `FAILED`: a value no service returns."""

    def __repr__(self) -> str:
        return "FAILED"


FAILED = _Failed()


def submit(form, call: Callable):
    """Run a valid form's data through a service: `call(data)` with a copy of `form.cleaned_data`.

    Returns what the service returned; on the service's ValidationError the errors go onto the form (beside the
    field they name, see `core.forms.add_service_errors`) and the result is `FAILED`, so the view re-renders the
    form or reports its errors. A form that is not valid is not submitted: `FAILED` too. Anything else the service
    raises (PermissionDenied above all) propagates. Compare with `is FAILED`: a service may return None.

        if request.method == "POST" and form.is_valid():
            org = submit(form, lambda data: services.organization_create(by=request.user, **data))
            if org is not FAILED:
                return redirect(org)
        return render(request, "orgs/form.html", {"form": form})
    """
    if not form.is_valid():
        return FAILED
    try:
        return call(dict(form.cleaned_data))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return FAILED
