"""Signals lower layers send for the audit trail to record, so they never import it.

- out_of_scope_lookup: a user asked for an object that exists outside their scope (answered 404).
  Arguments: model, pk, user.
- security_event: an account or session event. Arguments: action (an audit action value), user, detail.
"""

from django.dispatch import Signal

out_of_scope_lookup = Signal()
security_event = Signal()
