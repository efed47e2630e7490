"""Signals lower layers send for the audit trail to record, so they never import it.

- out_of_scope_lookup: a user asked for an object that exists outside their scope (answered 404).
  Arguments: model, pk, user.
- security_event: an account or session event. Arguments: action (an audit action value), user, detail.
- operation_event: an operator's command on the server (a restore, a restore drill; core.backup). Arguments: action
  (an audit action value), actor (the --as user, or None), object_repr (what it acted on), detail, result.
"""

from django.dispatch import Signal

out_of_scope_lookup = Signal()
security_event = Signal()
operation_event = Signal()
