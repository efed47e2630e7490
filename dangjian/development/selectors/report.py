"""The yearly development report and the plan's delivery (docs/development-of-members.md "Plan, to-do and
report"): counted from the dated step records as of the year's end (today for the current year), never from the
current stage, so that a closed year's report does not change."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from dangjian.development.models import Candidate, PlanQuota, ProbationExtension, StepRecord
from dangjian.development.selectors.path import next_due
from dangjian.development.steps import step_list
from dangjian.orgs.models import Organization

COUNTED_STAGES = ("applicant", "activist", "development", "probationary")


@dataclass
class ReportRow:
    organization: Organization
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_STAGES, 0))
    admitted: int = 0
    quota: int | None = None
    overdue: int = 0

    @property
    def line(self) -> tuple:
        c = self.counts
        quota = "" if self.quota is None else self.quota
        return (
            self.organization.code,
            self.organization.name,
            c["applicant"],
            c["activist"],
            c["development"],
            c["probationary"],
            self.admitted,
            quota,
            self.overdue,
        )


def as_of_day(year: int, today: dt.date) -> dt.date:
    """The year's last day, or today for the current year."""
    return today if year == today.year else dt.date(year, 12, 31)


def development_report(*, by, org: Organization, year: int, today: dt.date) -> list[ReportRow]:
    """One row per organization of `org`'s subtree (in tree order), each counting its whole subtree: the people at
    each stage on the report's day, the year's admissions (the admission's approval dated in the year), the plan's
    quota of the subtree (the sum of the quotas set in it; None when none is set) and the people whose next step
    was overdue on the report's day. `org` is already resolved inside `by`'s scope; four queries."""
    day = as_of_day(year, today)
    steps = step_list()
    admitted_step = steps.number_of(becomes="probationary")
    # `org` was resolved inside the scope by the caller: its subtree is the user's to see.
    orgs = list(Organization.objects.dangerously_all().in_subtree(org).order_by("path"))
    rows = {o.path: ReportRow(o) for o in orgs}
    people = dict(
        Candidate.objects.visible_to(by)
        .filter(organization__path__startswith=org.path)
        .filter(Q(stopped_on__isnull=True) | Q(stopped_on__gt=day))
        .values_list("pk", "organization__path")
    )
    dates: dict[int, dict[int, dt.date]] = defaultdict(dict)
    for cid, number, date in (
        StepRecord.objects.visible_to(by)
        .filter(candidate_id__in=list(people), date__lte=day)
        .values_list("candidate_id", "number", "date")
    ):
        dates[cid][number] = date
    extensions = dict(
        ProbationExtension.objects.visible_to(by)
        .filter(candidate_id__in=list(people), decided_on__lte=day)
        .values_list("candidate_id", "months")
    )

    def ancestors(path: str):
        step = Organization.steplen
        for i in range(len(org.path), len(path) + 1, step):
            row = rows.get(path[:i])
            if row is not None:
                yield row

    for cid, path in people.items():
        path_dates = dates.get(cid)
        if not path_dates:
            continue
        stage = steps.stage_after(max(path_dates))
        due = next_due(path_dates, extensions.get(cid, 0))
        admitted = admitted_step in path_dates and path_dates[admitted_step].year == year
        late = due is not None and due.overdue(day)
        for row in ancestors(path):
            if stage in row.counts:
                row.counts[stage] += 1
            row.admitted += admitted
            row.overdue += late
    quotas = PlanQuota.objects.visible_to(by).filter(organization__path__startswith=org.path, year=year)
    for path, quota in quotas.values_list("organization__path", "quota"):
        for row in ancestors(path):
            row.quota = (row.quota or 0) + quota
    return [rows[o.path] for o in orgs]
