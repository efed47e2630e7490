"""Reads of the dues (党费): the policy in force, each member's months (due, reduced, paid), the branch's collection
sheet, the reports, arrears and the member's own page. `paid_through(member)` is what the transfer page shows."""

from dangjian.dues.selectors.member import paid_through

__all__ = ["paid_through"]
