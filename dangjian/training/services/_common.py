"""What the class seams share (`classes`, `enrollment`, `sessions`, `sign_in`, `attendance`): who may run a class
(`NOT_RUNNER`, checked with `schools.services._common.require_manager`), locking a class or a session, saving with
model validation and the history's author and reason, and the small formats of their messages."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.core.services import set_history
from dangjian.training.models import TrainingClass, TrainingSession

NOT_RUNNER = "您的角色无权管理该培训班：须为主办党组织范围内的工委工作人员或党校管理员。"
NAMES_SHOWN = 10


def names_text(members) -> str:
    names = sorted({m.name for m in members})
    shown = "、".join(names[:NAMES_SHOWN])
    return f"{shown}等{len(names)}人" if len(names) > NAMES_SHOWN else shown


def local_time(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


def save_with_history(obj, by, reason: str) -> None:
    """Model validation, who and why on the history row, then save."""
    obj.full_clean()
    set_history(obj, by, reason)
    obj.save()


def lock_class(training_class: TrainingClass) -> TrainingClass:
    """The class's current row, locked until the transaction ends (its organizer read along, not locked)."""
    return (
        TrainingClass.objects.select_for_update(of=("self",))
        .select_related("organizer", "school")
        .get(pk=training_class.pk)
    )


def lock_session(session: TrainingSession) -> TrainingSession:
    return (
        TrainingSession.objects.select_for_update(of=("self",))
        .select_related("training_class__organizer", "course", "instructor__member")
        .get(pk=session.pk)
    )


def status_error(message: str) -> ValidationError:
    return ValidationError({"status": message})
