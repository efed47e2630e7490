"""Template tags of the dues, for other apps' pages (docs/dues.md, "Payments"):

- `{% member_dues_panel member %}`: the member's dues on their home page (the base in force, paid up to, months
  unpaid this year, the latest receipt); nothing when the member has no dues data. A fixed number of queries.
- `{% dues_paid_through member %}`: on a transfer, the month the member has paid up to (the receiving branch
  continues from the next one); nothing when they have paid nothing.

The member is one the page already reached through the scope (the user themself, a transfer they see).
"""

from __future__ import annotations

from django import template

from dangjian.dues.rules import add_months
from dangjian.dues.selectors.member import member_dues, paid_through

register = template.Library()


@register.inclusion_tag("dues/_member_panel.html")
def member_dues_panel(member):
    if member is None:
        return {"panel": None}
    mine = member_dues(member)
    if mine.base is None and not mine.payments and mine.paid_through is None:
        return {"panel": None}
    return {"panel": mine, "latest": mine.payments[0] if mine.payments else None}


@register.inclusion_tag("dues/_paid_through.html")
def dues_paid_through(member):
    last = paid_through(member) if member is not None else None
    return {"paid_through": last, "next_month": add_months(last, 1) if last else None}
