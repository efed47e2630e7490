"""Writing, purging and exporting the audit trail."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from django.conf import settings
from django.db import DataError, connection, transaction
from django.utils import timezone

from dangjian.audit.models import AuditAction, AuditEvent, AuditResult
from dangjian.core import request_context


def _actor_fields(actor) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return actor.pk, actor.get_username()


def audit_record(
    *,
    action: str,
    result: str = AuditResult.SUCCESS,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    """Append one record (等保 2.0 安全审计: time, actor, source, action, object, result, request id).

    Actor, source IP and request id come from the bound request context unless given. Callers must never
    put a full ID number into `detail` or `object_repr`.
    """
    context = request_context.current()
    if actor is None and context is not None:
        actor = context.user
    actor_id, username = _actor_fields(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    return AuditEvent.objects.create(
        actor_id=actor_id,
        actor_username=username,
        source_ip=context.source_ip if context else None,
        request_id=context.request_id if context else "",
        action=action,
        result=result,
        object_type=object_type,
        object_id=str(object_id)[:64],
        object_repr=object_repr[:200],
        detail=detail or {},
    )


class RetentionError(Exception):
    pass


@transaction.atomic
def audit_purge(*, before: dt.datetime, by=None) -> int:
    """Delete records older than `before`, which must itself be older than the retention period, and record the
    purge (清理过期审计记录) with the count.

    The retention (default 180 days, never less: 网络安全法第二十一条 requires logs kept at least six
    months) is checked here. On PostgreSQL the purge is the database's own function `dangjian_audit_purge`
    (audit migration 0004), which checks the retention again, deletes and writes the purge record itself, in this
    transaction: the table's trigger lets a row be deleted nowhere else. On SQLite it is done here.
    """
    days = max(settings.DANGJIAN_AUDIT_RETENTION_DAYS, 180)
    limit = timezone.now() - dt.timedelta(days=days)
    if before > limit:
        raise RetentionError(f"审计记录至少保留 {days} 天：只能清理 {limit:%Y-%m-%d} 之前的记录。")
    if connection.vendor == "postgresql":
        return _purge_in_the_database(before=before, days=days, by=by)
    count, _ = AuditEvent.objects.filter(at__lt=before)._purge()
    audit_record(action=AuditAction.AUDIT_PURGE, actor=by, detail={"before": before.isoformat(), "deleted": count})
    return count


def _purge_in_the_database(*, before: dt.datetime, days: int, by) -> int:
    context = request_context.current()
    if by is None and context is not None:
        by = context.user
    actor_id, username = _actor_fields(by)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT dangjian_audit_purge(%s, %s, %s, %s, %s, %s)",
                [
                    before,
                    days,
                    actor_id,
                    username,
                    context.source_ip if context else None,
                    context.request_id if context else "",
                ],
            )
            return cursor.fetchone()[0]
    except DataError as exc:  # the function's own retention check, by the database's clock
        raise RetentionError(str(exc).splitlines()[0]) from None


EXPORT_COLUMNS = [
    ("at", "时间（UTC）"),
    ("actor_username", "操作人"),
    ("source_ip", "来源IP"),
    ("action", "操作"),
    ("result", "结果"),
    ("object_type", "对象类型"),
    ("object_id", "对象ID"),
    ("object_repr", "对象"),
    ("request_id", "请求ID"),
    ("detail", "详情"),
]


def audit_rows(queryset) -> Iterator[list]:
    """Rows of the archive (`audit_export`): the values exactly as recorded (UTC, action codes), oldest first,
    streamed in chunks. The page's export is `selectors.export_lines` (local time, Chinese names, sentences)."""
    for event in queryset.order_by("at", "id").iterator(chunk_size=2000):
        yield [
            event.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            event.actor_username,
            event.source_ip or "",
            event.action,
            event.result,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.request_id,
            event.detail,
        ]


def audit_csv_rows(queryset) -> Iterator[list]:
    """The archive's rows with the detail (the last column) as JSON text."""
    for row in audit_rows(queryset):
        row[-1] = json.dumps(row[-1], ensure_ascii=False)
        yield row
