"""What a work committee (教育工委 staff) sees first on the home page: the compliance of their subtree, per direct
child organization — the share of organizational-life duties met this year (三会一课 and the rest, by the compliance
rules) and the share of members meeting this year's hours requirement — each row opening the compliance page of
that child's subtree (docs/rules.md, "Who uses it": the committee oversees a whole subtree with dashboards).

Both figures are read from kept summaries (core.summaries) shared with the pages they drill into: the compliance
report of the year (`orglife.selectors.compliance.kept_compliance_for`, the 组织生活落实情况 page's) and the hours
roll-up by child (`training.selectors.compliance.compliance_children`, kept under the 学时统计 page's name and key),
so that opening the page after the home page costs nothing more, and neither is stale after the user's own write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from dangjian.accounts.roles import Role
from dangjian.core import summaries
from dangjian.core.todo import url_with_query
from dangjian.orglife.selectors.compliance import ComplianceStatus, kept_compliance_for, percent
from dangjian.orgs.models import BRANCH_KINDS, Organization
from dangjian.training.selectors.compliance import ChildrenReport, compliance_children

STEP = Organization.steplen
# How many child organizations the panel lists, the furthest behind first; the compliance page shows them all.
CHILDREN_SHOWN = 10


@dataclass(frozen=True)
class Standing:
    """Duties of organizational life over a subtree for the year: how many rows (organization × duty) there are,
    how many are done and how many missed a period that has ended."""

    duties: int = 0
    done: int = 0
    missed: int = 0

    @property
    def in_progress(self) -> int:
        return self.duties - self.done - self.missed

    @property
    def rate(self) -> Decimal | None:
        return percent(self.done, self.duties)


@dataclass(frozen=True)
class ChildLine:
    name: str
    code: str
    orglife: Standing
    members: int
    met: int
    compliance_url: str
    hours_url: str

    @property
    def hours_rate(self) -> Decimal | None:
        return percent(self.met, self.members)

    @property
    def hours_percent(self) -> int:
        return round(self.hours_rate or 0)


@dataclass(frozen=True)
class CommitteePanel:
    """One committee root's home panel (plain values: it is kept in the shared cache)."""

    org_name: str
    org_code: str
    year: int
    orglife: Standing
    members: int
    met: int
    children: list[ChildLine] = field(default_factory=list)
    children_total: int = 0
    compliance_url: str = ""
    hours_url: str = ""

    @property
    def hours_rate(self) -> Decimal | None:
        return percent(self.met, self.members)

    @property
    def hours_percent(self) -> int:
        return round(self.hours_rate or 0)

    @property
    def more_children(self) -> int:
        return self.children_total - len(self.children)


def kept_hours_children(*, by, org: Organization, year: int, today: dt.date) -> ChildrenReport:
    """`compliance_children`, kept under the 学时统计 page's name and key (training.views.hours.dashboard): the home
    page and that page share the figure."""
    return summaries.cached(
        ["hours"],
        "hours-children",
        (summaries.scope_of(by), org.pk, org.path, year, today),
        lambda: compliance_children(by=by, org=org, year=year),
        user=by,
    )


def _standings(report, org: Organization) -> tuple[dict[str, Standing], Standing]:
    """Per child path of `org` (its own rows under its own path): the duty rows done, missed, in all; and the whole."""
    depth = len(org.path) + STEP
    counts: dict[str, list[int]] = {}
    for row in report.rows:
        tally = counts.setdefault(row.organization.path[:depth], [0, 0, 0])
        tally[0] += 1
        tally[1] += row.status == ComplianceStatus.DONE
        tally[2] += row.status == ComplianceStatus.MISSED
    by_path = {path: Standing(*tally) for path, tally in counts.items()}
    whole = Standing(*(sum(t[i] for t in counts.values()) for i in range(3)))
    return by_path, whole


def _hours_url(org: Organization, year: int) -> str:
    name = "training:branch" if org.kind in BRANCH_KINDS else "training:dashboard"
    return url_with_query(name, org=org.code, year=year)


def _behind_first(line: ChildLine) -> tuple:
    """The furthest behind first: the largest share of duties missed, then the lowest hours rate, then the least
    done."""
    missed = line.orglife.missed / line.orglife.duties if line.orglife.duties else 0
    return (-missed, line.hours_rate if line.hours_rate is not None else 101, line.orglife.rate or 0, line.code)


def committee_panel(user, org: Organization, *, today: dt.date) -> CommitteePanel:
    """The compliance of `org`'s subtree (a root of the user's committee grants) for the year of `today`, per direct
    child: from the kept compliance report and the kept hours roll-up (a cache read each once kept; the report's
    five to seven queries and the roll-up's three when not). Children with neither duties nor members are left out
    (no zero rows)."""
    year = today.year
    report = kept_compliance_for(by=user, org=org, year=year, today=today)
    hours = kept_hours_children(by=user, org=org, year=year, today=today)
    standings, whole = _standings(report, org)
    lines = []
    for row in hours.children:
        child = row.organization
        standing = standings.get(child.path, Standing())
        if not standing.duties and not row.members:
            continue
        lines.append(
            ChildLine(
                name=child.name,
                code=child.code,
                orglife=standing,
                members=row.members,
                met=row.met,
                compliance_url=url_with_query("orglife:compliance", org=child.code, year=year),
                hours_url=_hours_url(child, year),
            )
        )
    return CommitteePanel(
        org_name=org.name,
        org_code=org.code,
        year=year,
        orglife=whole,
        members=hours.members,
        met=hours.met,
        children=sorted(lines, key=_behind_first)[:CHILDREN_SHOWN],
        children_total=len(lines),
        compliance_url=url_with_query("orglife:compliance", org=org.code, year=year),
        hours_url=url_with_query("training:dashboard", org=org.code, year=year),
    )


def committee_panels(user, *, today: dt.date) -> list[CommitteePanel]:
    """One panel per root of the user's committee grants, in tree order."""
    return [committee_panel(user, org, today=today) for org in Organization.objects.grant_roots(user, {Role.COMMITTEE})]
