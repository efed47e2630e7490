"""Which committee policy applies to an organization.

Policies are rules that apply downwards (like orglife duties and hours policies): of the active rows valid in the
year whose owner is the system (None) or the organization or one of its ancestors, the most specific owner wins
(the longest owner path), then the newer row. All rows of a year are read in one query, without scope (they are
rules, not member data), and chosen in memory for any number of organizations.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from dangjian.committees.models import ReportSchedule, SetupPolicy, TermPolicy


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (or earlier, for a negative number), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class TermRule:
    pk: int
    org_kind: str
    term_years: int
    warn_months: int
    owner_path: str | None


@dataclass(frozen=True)
class SetupRule:
    pk: int
    min_full_members: int
    committee_required_at: int
    max_members: int
    max_joint_units: int
    owner_path: str | None


@dataclass(frozen=True)
class ScheduleRule:
    pk: int
    kind: str
    org_kinds: tuple[str, ...]
    due_days: int
    early_filing: bool
    owner_path: str | None

    def owes(self, org_kind: str) -> bool:
        return org_kind in self.org_kinds


def _specific_first(rule) -> tuple:
    return (-len(rule.owner_path or ""), -rule.pk)


def term_rules(year: int) -> list[TermRule]:
    """Every active term policy valid in `year`, most specific first (one query)."""
    rows = (
        TermPolicy.objects.dangerously_all()
        .valid_in(year)
        .values_list("pk", "org_kind", "term_years", "warn_months", "owner__path")
        .order_by()
    )
    return sorted((TermRule(*row) for row in rows), key=_specific_first)


def setup_rules(year: int) -> list[SetupRule]:
    """Every active setup policy valid in `year`, most specific first (one query)."""
    rows = (
        SetupPolicy.objects.dangerously_all()
        .valid_in(year)
        .values_list("pk", "min_full_members", "committee_required_at", "max_members", "max_joint_units", "owner__path")
        .order_by()
    )
    return sorted((SetupRule(*row) for row in rows), key=_specific_first)


def schedule_rules(year: int) -> list[ScheduleRule]:
    """Every active report schedule valid in `year`, most specific first (one query)."""
    rows = (
        ReportSchedule.objects.dangerously_all()
        .valid_in(year)
        .values_list("pk", "kind", "org_kinds", "due_days", "early_filing", "owner__path")
        .order_by()
    )
    return sorted(
        (
            ScheduleRule(pk, kind, tuple(kinds or ()), due_days, early, owner)
            for pk, kind, kinds, due_days, early, owner in rows
        ),
        key=_specific_first,
    )


def _applies(rule, path: str) -> bool:
    return rule.owner_path is None or path.startswith(rule.owner_path)


def choose_term_rule(rules: list[TermRule], *, path: str, kind: str) -> TermRule | None:
    """Of `rules` (most specific first), the first for the organization's kind that applies at `path`."""
    return next((r for r in rules if r.org_kind == kind and _applies(r, path)), None)


def choose_setup_rule(rules: list[SetupRule], *, path: str) -> SetupRule | None:
    return next((r for r in rules if _applies(r, path)), None)


def term_rule_for(org, year: int) -> TermRule | None:
    """The term policy of `org` in `year` (None: no policy for its kind)."""
    return choose_term_rule(term_rules(year), path=org.path, kind=org.kind)


def setup_rule_for(org, year: int) -> SetupRule | None:
    return choose_setup_rule(setup_rules(year), path=org.path)


def choose_schedule_rule(rules: list[ScheduleRule], *, path: str, kind: str) -> ScheduleRule | None:
    """Of `rules` (most specific first), the first schedule of report `kind` that applies at `path`: a scope's row
    replaces the system's whole (its kinds of organization too)."""
    return next((r for r in rules if r.kind == kind and _applies(r, path)), None)


def schedule_rule_for(org, kind: str, year: int) -> ScheduleRule | None:
    """The schedule of report `kind` for `org` in `year` (None: no schedule; whether `org` owes it: `.owes()`)."""
    return choose_schedule_rule(schedule_rules(year), path=org.path, kind=kind)
