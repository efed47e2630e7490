"""Receivers that record authentication events and out-of-scope lookups in the audit trail."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from dangjian.accounts.models import RoleAssignment
from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record
from dangjian.core.signals import operation_event, out_of_scope_lookup, security_event


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    # A login that still owes its second factor is complete only after it (accounts.views.otp_verify/otp_setup
    # record the success then).
    from dangjian.accounts.otp import second_factor_due

    action = AuditAction.LOGIN_FIRST_FACTOR if second_factor_due(user) else AuditAction.LOGIN_SUCCESS
    audit_record(action=action, actor=user, obj=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The username typed is kept (it may not exist); the password never is.
    audit_record(
        action=AuditAction.LOGIN_FAILURE,
        result=AuditResult.FAILURE,
        object_type="accounts.user",
        object_repr=str(credentials.get("username", ""))[:150],
    )


@receiver(out_of_scope_lookup)
def _out_of_scope(sender, model, pk, user=None, **kwargs):
    audit_record(
        action=AuditAction.OUT_OF_SCOPE,
        result=AuditResult.DENIED,
        actor=user,
        object_type=model._meta.label_lower,
        object_id=str(pk),
    )


@receiver(post_save, sender=RoleAssignment)
def _granted(sender, instance, created, **kwargs):
    audit_record(
        action=AuditAction.GRANT if created else AuditAction.UPDATE,
        obj=instance,
        detail={"user": instance.user.get_username(), "role": instance.role, "organization": instance.organization_id},
    )


@receiver(post_delete, sender=RoleAssignment)
def _revoked(sender, instance, **kwargs):
    audit_record(
        action=AuditAction.REVOKE,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        detail={"user": instance.user.get_username(), "role": instance.role, "organization": instance.organization_id},
    )


@receiver(security_event)
def _security_event(sender, action, user, detail=None, result=AuditResult.SUCCESS, **kwargs):
    # `actor` names who acted on `user` (a password set by the system admin; None for the operator's command on
    # the server); without it the user acted.
    actor = kwargs.get("actor", user)
    audit_record(action=AuditAction(action), result=result, actor=actor, obj=user, detail=detail or {})


@receiver(operation_event)
def _operation_event(sender, action, actor=None, object_repr="", detail=None, result=AuditResult.SUCCESS, **kwargs):
    # An operator's command on the server (core.backup): the --as user if given; the server account in the detail.
    audit_record(
        action=AuditAction(action),
        result=result,
        actor=actor,
        object_type="core.backup",
        object_repr=str(object_repr)[:200],
        detail=detail or {},
    )


@receiver(user_locked_out)
def _locked_out(sender, request=None, username=None, **kwargs):
    audit_record(
        action=AuditAction.LOCKOUT,
        result=AuditResult.DENIED,
        object_type="accounts.user",
        object_repr=str(username or "")[:150],
    )


# Models whose services write their own, more specific records (member status changes and transfers, grants,
# organizational-life records with their attendance and attachments); the generic record would repeat them.
EXPLICITLY_AUDITED = frozenset({"members.member", "accounts.roleassignment", "orglife.activityrecord"})
_HISTORY_ACTIONS = {"+": AuditAction.CREATE, "~": AuditAction.UPDATE, "-": AuditAction.DELETE}


@receiver(post_create_historical_record)
def _history_written(sender, instance, history_instance, history_user=None, **kwargs):
    """Every write of a model that keeps history is on the audit trail too (等保 8.1.4.3: who, when, what,
    from where): the history holds the values, the trail the act, with the source IP and request id. Changed
    fields are named, never their values."""
    label = instance._meta.label_lower
    if label in EXPLICITLY_AUDITED:
        return
    detail = {}
    if history_instance.history_type == "~":
        previous = history_instance.prev_record
        if previous is not None:
            detail["fields"] = sorted(history_instance.diff_against(previous).changed_fields)
    audit_record(
        action=_HISTORY_ACTIONS[history_instance.history_type],
        actor=history_user,
        object_type=label,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        detail=detail,
    )
