from django.core.exceptions import PermissionDenied

from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record


class AuditMiddleware:
    """Record every refused action (a view raising PermissionDenied) before Django answers 403, and every
    request of the emergency superuser account (its every use is audited)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_superuser:
            audit_record(
                action=AuditAction.EMERGENCY_USE,
                actor=user,
                object_type="url",
                object_repr=request.path[:200],
                detail={"method": request.method, "status": response.status_code},
            )
        return response

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
