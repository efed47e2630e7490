"""A person's path read from their dated step records (docs/development-of-members.md): the probation's end, the
next step due with its earliest date and deadline, and the stage at a given day. Pure functions of the dates, so
that the timeline page, the to-do list and the yearly report (as of a day in the past) answer alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from dangjian.development.steps import PROBATION_END, Step, add_months, step_list


def probation_end(dates: Mapping[int, dt.date], extension_months: int = 0) -> dt.date | None:
    """The end of probation (预备期满之日): a year from the admission vote (支部大会讨论接收预备党员), plus the one
    extension's months; None before the vote."""
    steps = step_list()
    vote = dates.get(steps.admission_vote_step)
    if vote is None:
        return None
    return add_months(vote, steps.probation_months + (extension_months or 0))


def ref_date(ref: int | str, dates: Mapping[int, dt.date], extension_months: int = 0) -> dt.date | None:
    if ref == PROBATION_END:
        return probation_end(dates, extension_months)
    assert isinstance(ref, int), "a ref is a step number or probation_end (checked when the file is loaded)"
    return dates.get(ref)


@dataclass(frozen=True)
class Due:
    """The next step of a path: no earlier than `earliest`, due by `deadline` (None: no time rule), and never later
    than `limit` even as an exception (None: no limit, or no exception allowed when `deadline` is set and
    `exception_allowed` is false)."""

    step: Step
    earliest: dt.date | None
    deadline: dt.date | None
    limit: dt.date | None
    exception_allowed: bool

    def overdue(self, today: dt.date) -> bool:
        return self.deadline is not None and today > self.deadline


def next_due(dates: Mapping[int, dt.date], extension_months: int = 0) -> Due | None:
    """The step after the last recorded one, with its dates; None once the path is complete."""
    steps = step_list()
    last = max(dates, default=0)
    if last >= len(steps.steps):
        return None
    step = steps.step(last + 1)
    earliest = dates.get(last)
    if step.earliest is not None:
        base = ref_date(step.earliest.ref, dates, extension_months)
        if base is not None:
            rule_day = add_months(base, step.earliest.months)
            earliest = max(earliest, rule_day) if earliest else rule_day
    deadline = limit = None
    allowed = False
    if step.deadline is not None:
        base = ref_date(step.deadline.ref, dates, extension_months)
        if base is not None:
            deadline = add_months(base, step.deadline.months)
            allowed = step.deadline.exception
            if allowed and step.deadline.limit_months is not None:
                limit = add_months(base, step.deadline.limit_months)
    return Due(step=step, earliest=earliest, deadline=deadline, limit=limit, exception_allowed=allowed)


def stage_on(dates: Mapping[int, dt.date], day: dt.date) -> str:
    """The stage ("applicant" … "full", "" before the application) of a path on `day`, from its dated steps."""
    done = [n for n, d in dates.items() if d <= day]
    return step_list().stage_after(max(done, default=0))


def dates_on(dates: Mapping[int, dt.date], day: dt.date) -> dict[int, dt.date]:
    """The steps recorded with a date on or before `day` (what the path looked like then)."""
    return {n: d for n, d in dates.items() if d <= day}
