"""Sign-in (签到): by the QR code's signed token or the short code, by the member themself, inside the session's
window; every refusal has its message and writes nothing. The member user of the world is 赵甲一 (branch A)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.training.models import Attendance, AttendanceMethod, ClassStatus, TrainingClass
from dangjian.training.services.attendance import session_close
from dangjian.training.services.enrollment import enrollment_add, enrollment_withdraw
from dangjian.training.services.sessions import session_add
from dangjian.training.services.sign_in import SIGN_IN_SALT, session_sign_in, sign_in_token
from dangjian.training.tests.factories import TrainingClassFactory


def running_class(world, **extra) -> TrainingClass:
    today = timezone.localdate()
    return TrainingClassFactory(
        organizer=world.orgs["A"],
        status=ClassStatus.APPROVED,
        starts_on=today - dt.timedelta(days=2),
        ends_on=today + dt.timedelta(days=2),
        **extra,
    )


def session_in(world, *, starts_in: dt.timedelta, length=dt.timedelta(hours=2), enrolled=True):
    """A session of an approved class starting `starts_in` from now; the world's member enrolled in it."""
    training_class = running_class(world)
    starts_at = timezone.now().replace(microsecond=0) + starts_in
    session = session_add(
        by=world.user(Role.SCHOOL_ADMIN),
        training_class=training_class,
        title="学习党章",
        starts_at=starts_at,
        ends_at=starts_at + length,
        hours="2",
    )
    if enrolled:
        enrollment_add(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, members=[world.self_member])
    return session


def sign_in(world, **how):
    return session_sign_in(by=world.user(Role.MEMBER), **how)


def refused(world, field: str, **how) -> str:
    with pytest.raises(ValidationError) as caught:
        sign_in(world, **how)
    assert not Attendance.objects.exists()
    return " ".join(caught.value.message_dict[field])


def test_signing_in_by_qr_code_in_the_window(world):
    session = session_in(world, starts_in=dt.timedelta(minutes=20))  # opens 30 minutes before
    attendance = sign_in(world, token=sign_in_token(session))
    assert (attendance.session, attendance.member, attendance.method) == (
        session,
        world.self_member,
        AttendanceMethod.QR,
    )
    assert attendance.history.first().history_user == world.user(Role.MEMBER)


def test_signing_in_by_short_code_while_it_runs(world):
    session = session_in(world, starts_in=-dt.timedelta(hours=1))
    attendance = sign_in(world, code=f" {session.short_code.lower()} ")
    assert attendance.method == AttendanceMethod.CODE


def test_signing_in_just_after_the_end_within_the_grace(world):
    session = session_in(world, starts_in=-dt.timedelta(hours=2, minutes=20))  # ended 20 minutes ago
    assert sign_in(world, code=session.short_code).session == session


def test_too_early(world):
    session = session_in(world, starts_in=dt.timedelta(hours=2))
    assert "签到尚未开始" in refused(world, "token", token=sign_in_token(session))


def test_too_late(world):
    session = session_in(world, starts_in=-dt.timedelta(hours=3))  # ended an hour ago
    assert "签到已结束" in refused(world, "code", code=session.short_code)


@override_settings(DANGJIAN_SIGN_IN_EARLY_MINUTES=5, DANGJIAN_SIGN_IN_LATE_MINUTES=90)
def test_the_window_is_configurable(world):
    early = session_in(world, starts_in=dt.timedelta(minutes=20))
    assert "签到尚未开始" in refused(world, "code", code=early.short_code)
    late = session_in(world, starts_in=-dt.timedelta(hours=3))  # ended an hour ago: inside 90 minutes
    assert sign_in(world, code=late.short_code).session == late


@pytest.mark.parametrize(
    "make_token",
    [
        lambda s: sign_in_token(s)[:-3] + "abc",
        lambda s: signing.dumps({"s": s.pk}, salt="another-salt"),
        lambda s: signing.dumps({"s": str(s.pk)}, salt=SIGN_IN_SALT),
        lambda s: signing.dumps({"s": 10**9}, salt=SIGN_IN_SALT),
        lambda s: "not-a-token",
    ],
    ids=["tampered", "wrong-salt", "malformed-payload", "no-such-session", "garbage"],
)
def test_a_forged_or_malformed_token_is_refused(world, make_token):
    session = session_in(world, starts_in=dt.timedelta(minutes=5))
    assert "签到二维码无效" in refused(world, "token", token=make_token(session))


def test_an_unknown_code_is_refused(world):
    session_in(world, starts_in=dt.timedelta(minutes=5))
    assert "签到码不存在" in refused(world, "code", code="ZZZZZZ")
    assert "签到码不存在" in refused(world, "code", code="<script>")


def test_a_code_of_another_session_is_refused_when_the_session_is_given(world):
    one = session_in(world, starts_in=dt.timedelta(minutes=5))
    other = session_in(world, starts_in=dt.timedelta(minutes=5))
    assert "不符" in refused(world, "code", session=one, code=other.short_code)


def test_neither_token_nor_code(world):
    session = session_in(world, starts_in=dt.timedelta(minutes=5))
    assert "签到码" in refused(world, "code", session=session)


def test_not_enrolled(world):
    session = session_in(world, starts_in=dt.timedelta(minutes=5), enrolled=False)
    assert "您未报名该培训班" in refused(world, "code", code=session.short_code)


def test_withdrawn_is_not_enrolled(world):
    session = session_in(world, starts_in=dt.timedelta(minutes=5))
    enrollment_withdraw(
        by=world.user(Role.SCHOOL_ADMIN), training_class=session.training_class, member=world.self_member
    )
    assert "您未报名该培训班" in refused(world, "code", code=session.short_code)


def test_signing_in_twice_is_refused(world):
    session = session_in(world, starts_in=dt.timedelta(minutes=5))
    sign_in(world, code=session.short_code)
    with pytest.raises(ValidationError) as caught:
        sign_in(world, token=sign_in_token(session))
    assert "您已签到" in " ".join(caught.value.message_dict["token"])
    assert Attendance.objects.count() == 1


def test_a_closed_session_is_refused(world):
    session = session_in(world, starts_in=-dt.timedelta(minutes=30))
    session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    assert "该课次已结束" in refused(world, "code", code=session.short_code)


def test_a_class_not_running_is_refused(world):
    session = session_in(world, starts_in=dt.timedelta(minutes=5))
    TrainingClass.objects.filter(pk=session.training_class_id).update(status=ClassStatus.REJECTED)
    assert "不在开班期间" in refused(world, "code", code=session.short_code)


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.SCHOOL_ADMIN, Role.SYSTEM_ADMIN])
def test_only_a_member_signs_in_themself(world, role):
    session = session_in(world, starts_in=dt.timedelta(minutes=5))
    with pytest.raises(PermissionDenied):
        session_sign_in(by=world.user(role), code=session.short_code)
    assert not Attendance.objects.exists()
