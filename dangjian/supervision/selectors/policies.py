"""The policy rows of supervision that apply to an institution by where it sits in the tree (the “四个一” visit rule,
the annual-inspection interval): of the rows valid in a year, the one of the most specific owner at or above the
institution's place (its covering organization, else its managing committee), then the newest; the system's row
(owner None) applies everywhere. One query loads the rows of a year; the choice per institution is made in memory,
so a report over many institutions costs one query for its policies."""

from __future__ import annotations


def valid_policies(model, year: int) -> list:
    """The active rows of `model` (a `RuleQuerySet` model) valid in `year`, with their owners. One query."""
    return list(model.objects.dangerously_all().valid_in(year).select_related("owner").order_by("pk"))


def most_specific(policies, path: str):
    """Of `policies`, the one of the deepest owner at or above `path` (an organization's materialized path; "" for
    an institution nowhere in the tree: only the system's rows apply), the newest on a tie; None when none applies."""
    best = None
    for policy in policies:
        owner_path = policy.owner.path if policy.owner_id else ""
        if owner_path and not (path or "").startswith(owner_path):
            continue
        if best is None or (len(owner_path), policy.pk) > (len(best.owner.path if best.owner_id else ""), best.pk):
            best = policy
    return best
