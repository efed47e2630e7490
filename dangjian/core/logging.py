"""Logs an operator can ship and search: one JSON line per request (request id, user id, method, path, status,
duration) and per error (with its stack), and never personal data — every line, whoever logs it, has ID numbers and
phone numbers masked by `PersonalDataFilter` (docs/security.md, "Logs")."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time

request_logger = logging.getLogger("dangjian.request")

# An 18-character ID number (or 15 digits) and a mainland mobile number, wherever they stand in a line.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_personal_data(text: str) -> str:
    """`text` with every ID number and mobile number masked (110101********1234, 138****5678)."""
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}********{m[2]}" if m[1] else "*" * 15, text)
    return _PHONE.sub(lambda m: f"{m[1]}****{m[2]}", text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record's message, arguments and exception text before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_personal_data(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
            record.exc_info = None  # the masked text is what gets written
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the request fields a request line
    carries, and the stack of an error."""

    FIELDS = ("request_id", "user_id", "method", "path", "status", "duration_ms", "source_ip")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if "request_id" not in line:
            from dangjian.core.request_context import current

            context = current()
            if context is not None:
                line["request_id"] = context.request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["stack"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """Logs each request once it is answered: the path without its query string (a search may carry a name or a
    number), the status, the duration and who asked."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": getattr(request, "request_id", None),
                "user_id": getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None,
                "method": request.method,
                "path": mask_personal_data(request.path),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
