"""Who and where a piece of work runs for: request id, source IP and user, kept in a context variable.

The middleware sets it for each request; management commands set it for their run. The audit trail reads
it, so services record the same fields whether a page, an import or a command called them.
"""

from __future__ import annotations

import contextvars
import ipaddress
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    source_ip: str | None = None
    user: object | None = None
    path: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("dangjian_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


@contextmanager
def bind(context: RequestContext):
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the first X-Forwarded-For hop when the proxy is trusted."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and remote and _is_trusted_proxy(remote):
        remote = forwarded.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(remote)) if remote else None
    except ValueError:
        return None


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in settings.DANGJIAN_TRUSTED_PROXIES)


class RequestContextMiddleware:
    """Give each request an id (echoed in the X-Request-ID response header) and bind the context."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = new_request_id()
        request.source_ip = client_ip(request)
        context = RequestContext(
            request_id=request.request_id, source_ip=request.source_ip, user=request.user, path=request.path
        )
        with bind(context):
            response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
