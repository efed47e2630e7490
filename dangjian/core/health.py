"""`/healthz` for the load balancer: the database and the cache answer, or 503. No login, no personal data, no
session; answered by the first middleware, before the host check, the HTTPS redirect and the sessions, so a probe by
IP address over plain HTTP inside the network gets its answer (docs/operator-guide.md, "Serving")."""

from __future__ import annotations

import json
import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse

PATH = "/healthz"
logger = logging.getLogger("dangjian.health")


def check() -> dict[str, str]:
    """Each dependency's state: "ok", or "error" (the reason goes to the log, never to the probe)."""
    states = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        states["database"] = "ok"
    except Exception:  # any failure of the database is the probe's answer, not a 500
        logger.exception("health check: database unreachable")
        states["database"] = "error"
    try:
        key = f"healthz:{uuid.uuid4().hex}"
        cache.set(key, "1", 10)
        states["cache"] = "ok" if cache.get(key) == "1" else "error"
        cache.delete(key)
    except Exception:
        logger.exception("health check: cache unreachable")
        states["cache"] = "error"
    return states


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != PATH:
            return self.get_response(request)
        states = check()
        healthy = all(state == "ok" for state in states.values())
        body = json.dumps({"status": "ok" if healthy else "error", **states})
        response = HttpResponse(body, status=200 if healthy else 503, content_type="application/json")
        response["Cache-Control"] = "no-store"
        return response
