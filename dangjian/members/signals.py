"""Signals the member roster sends for the layers above it, so that it never imports them.

- foreign_lookup_alert: a user checked more ID numbers registered outside their scope than
  DANGJIAN_FOREIGN_LOOKUP_ALERT allows, in one import or in one day (members.lookups); the audit record is
  written already. Arguments: user (who looked up), detail (counts only, never a number). The notices app
  notifies every active security admin.
"""

from django.dispatch import Signal

foreign_lookup_alert = Signal()
