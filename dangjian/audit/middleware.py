from django.core.exceptions import PermissionDenied

from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record


class AuditPermissionDeniedMiddleware:
    """Record every refused action (a view raising PermissionDenied) before Django answers 403."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            audit_record(
                action=AuditAction.PERMISSION_DENIED,
                result=AuditResult.DENIED,
                object_type="url",
                object_repr=request.path[:200],
                detail={"method": request.method, "reason": str(exception)[:200]},
            )
        return None
