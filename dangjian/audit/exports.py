"""The receiver that writes the one audit record of every export (`core.exports.record_export` sends `export_done`:
core sits below the audit app and never imports it)."""

from django.dispatch import receiver

from dangjian.audit.models import AuditAction
from dangjian.audit.services import audit_record
from dangjian.core.exports import export_done


@receiver(export_done, dispatch_uid="dangjian.audit.exports")
def _exported(sender, what, object_type="", params=None, rows=None, via="page", actor=None, extra=None, **kwargs):
    """detail: {"filter": the masked parameters, "rows": the row count (when there is one), "via": "page" or
    "command", then the extras (the command's name, the format, whether ID numbers were masked)}."""
    detail = {"filter": params or {}}
    if rows is not None:
        detail["rows"] = rows
    detail["via"] = via
    detail.update(extra or {})
    return audit_record(
        action=AuditAction.EXPORT, actor=actor, object_type=object_type, object_repr=what, detail=detail
    )
