"""Sign-in (签到): a member signs in themself by a session's QR code (a signed token) or its short code, within the
sign-in window (DANGJIAN_SIGN_IN_EARLY_MINUTES before the start to DANGJIAN_SIGN_IN_LATE_MINUTES after the end), once,
while the session is open and the class running."""

from __future__ import annotations

import datetime as dt
import re

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.core.services import service, set_history
from dangjian.training.models import (
    Attendance,
    AttendanceMethod,
    ClassStatus,
    Enrollment,
    SessionStatus,
    TrainingSession,
)
from dangjian.training.selectors.classes import member_for, sign_in_early_minutes, sign_in_late_minutes
from dangjian.training.services._common import local_time

SIGN_IN_SALT = "dangjian.training.sign-in"
_CODE_PATTERN = re.compile(r"^[0-9A-Z]{4,8}$")
ALREADY_SIGNED = "您已签到"


def sign_in_window(session: TrainingSession) -> tuple[dt.datetime, dt.datetime]:
    """When a session's sign-in opens and closes."""
    return (
        session.starts_at - dt.timedelta(minutes=sign_in_early_minutes()),
        session.ends_at + dt.timedelta(minutes=sign_in_late_minutes()),
    )


def sign_in_token(session: TrainingSession) -> str:
    """The signed token the session's QR code carries (django.core.signing with this seam's salt)."""
    return signing.dumps({"s": session.pk}, salt=SIGN_IN_SALT)


INVALID_TOKEN = "签到二维码无效（可能已被篡改或不完整），请重新扫码，或输入签到码。"


def session_for_token(token: str) -> TrainingSession:
    """The session a QR token names; ValidationError({"token": …}) for a forged or malformed token."""
    try:
        payload = signing.loads(str(token or "")[:500], salt=SIGN_IN_SALT)
    except signing.BadSignature:
        raise ValidationError({"token": INVALID_TOKEN}) from None
    session_id = payload.get("s") if isinstance(payload, dict) else None
    session = (
        TrainingSession.objects.dangerously_all().filter(pk=session_id).select_related("training_class").first()
        if isinstance(session_id, int)
        else None
    )
    if session is None:
        raise ValidationError({"token": INVALID_TOKEN})
    return session


def normalize_code(code: str) -> str:
    return "".join(str(code or "").split()).upper()


def session_for_code(code: str) -> TrainingSession:
    """The session a short code (签到码) names; ValidationError({"code": …}) for an unknown code."""
    value = normalize_code(code)
    if not value:
        raise ValidationError({"code": "请输入签到码。"})
    session = None
    if _CODE_PATTERN.match(value):
        session = (
            TrainingSession.objects.dangerously_all().filter(short_code=value).select_related("training_class").first()
        )
    if session is None:
        raise ValidationError({"code": "签到码不存在，请核对后重新输入。"})
    return session


@service
def session_sign_in(*, by, session: TrainingSession | None = None, token: str | None = None, code: str | None = None):
    """A member signs in to a session (签到), themself (the Member linked to `by`): by the QR code's signed token
    (扫码签到) or by the short code (签到码; with `session` given, the code must be that session's). Refused, with a
    Chinese message and nothing written: a forged or malformed token, an unknown code, a closed session, a class
    not running, a member not enrolled, a second sign-in ("您已签到"), or outside the window (from
    DANGJIAN_SIGN_IN_EARLY_MINUTES before the start to DANGJIAN_SIGN_IN_LATE_MINUTES after the end). The session
    row is locked meanwhile, so a sign-in never slips past a concurrent close uncredited."""
    member = member_for(by)
    if member is None:
        raise PermissionDenied("您的账号未关联党员信息，不能签到。")
    if token:
        field, method, target = "token", AttendanceMethod.QR, session_for_token(token)
    elif code:
        field, method, target = "code", AttendanceMethod.CODE, session_for_code(code)
        if session is not None and session.pk != target.pk:
            raise ValidationError({"code": "签到码与该课次不符，请核对后重新输入。"})
    else:
        raise ValidationError({"code": "请扫描课次的签到二维码，或输入签到码。"})
    current = TrainingSession.objects.select_for_update(of=("self",)).select_related("training_class").get(pk=target.pk)
    if current.status == SessionStatus.CLOSED:
        raise ValidationError({field: "该课次已结束（考勤已确认），不能再签到。"})
    if current.training_class.status != ClassStatus.APPROVED:
        raise ValidationError({field: "该培训班不在开班期间，不能签到。"})
    if not Enrollment.objects.active().filter(training_class_id=current.training_class_id, member=member).exists():
        raise ValidationError({field: "您未报名该培训班，不能签到。"})
    already = Attendance.objects.filter(session=current, member=member).first()
    if already is not None:
        raise ValidationError({field: f"{ALREADY_SIGNED}（{local_time(already.signed_at):%H:%M}），无需重复签到。"})
    opens, closes = sign_in_window(current)
    now = timezone.now()
    if now < opens:
        raise ValidationError(
            {field: f"签到尚未开始：签到时间为{local_time(opens):%m月%d日 %H:%M}至{local_time(closes):%H:%M}。"}
        )
    if now > closes:
        raise ValidationError({field: f"签到已结束：签到截止于{local_time(closes):%m月%d日 %H:%M}。"})
    attendance = Attendance(session=current, member=member, method=method)
    attendance.full_clean(validate_unique=False)
    set_history(attendance, by, AttendanceMethod(method).label)
    try:
        with transaction.atomic():
            attendance.save()
    except IntegrityError:
        raise ValidationError({field: f"{ALREADY_SIGNED}，无需重复签到。"}) from None
    return attendance
