"""What a branch secretary (支部书记) sees first on the home page: per branch they run, the organizational-life duties
of the current period not yet met (with 登记活动 for the branch), the members short of this year's hours and the
transfers waiting on either side (docs/rules.md, "Who uses it": a secretary runs one branch — members, meetings,
to-do list).

Each figure is read through the selectors of its own page, so the panel and the page agree: the duties through
`orglife.todo.duties_not_met` (the compliance rules the to-do list applies), the members through the hours
report's `compliance_members(behind_only=True)` (the 支部学时 page), the transfers through the members app's
pending-transfer selectors (the 组织关系接转 page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.core.todo import local_date, url_with_query
from dangjian.members.selectors import transfers_incoming_pending, transfers_outgoing_pending
from dangjian.orglife.models import Frequency
from dangjian.orglife.todo import duties_not_met, period_end
from dangjian.orgs.models import Organization
from dangjian.training.selectors.compliance import compliance_members, compliance_rows, hours_text

# How many names of each list the panel shows; the page behind the link lists them all.
NAMES_SHOWN = 3
# The current period of a duty, as the to-do list words it.
PERIOD_WORDS = {
    Frequency.MONTH: "本月",
    Frequency.QUARTER: "本季度",
    Frequency.HALF_YEAR: "本半年",
    Frequency.YEAR: "本年度",
}


@dataclass(frozen=True)
class DutyLine:
    """One duty of the branch not yet met in the current period."""

    label: str  # 主题党日
    period: str  # 本月
    done: int
    required: int
    due: dt.date
    attendance: str = ""  # “参会率须达95%” where the duty sets a minimum

    @property
    def text(self) -> str:
        held = f"已开展{self.done}次，要求{self.required}次" if self.done else f"未开展（要求{self.required}次）"
        return f"{self.period}{self.label}{held}" + (f"，{self.attendance}" if self.attendance else "")


@dataclass(frozen=True)
class BehindLine:
    """A member short of this year's hours, as the 支部学时 page shows them (the ID number masked)."""

    name: str
    masked_id: str
    counted: str
    required: str


@dataclass(frozen=True)
class TransferLine:
    name: str
    other_side: str
    started: dt.date


@dataclass(frozen=True)
class SecretaryPanel:
    """The home panel of one branch a secretary runs (plain values: it is kept in the shared cache)."""

    org_name: str
    org_code: str
    record_url: str
    records_url: str
    duties: list[DutyLine] = field(default_factory=list)
    behind_total: int = 0
    behind: list[BehindLine] = field(default_factory=list)
    hours_url: str = ""
    incoming_total: int = 0
    incoming: list[TransferLine] = field(default_factory=list)
    outgoing_total: int = 0
    outgoing: list[TransferLine] = field(default_factory=list)
    transfers_url: str = ""
    org_pk: int = 0

    @property
    def todo_keys(self) -> list[tuple[str, str | None]]:
        """The to-do items this panel shows (`RolePanels.covers`): the branch's duties and its members behind."""
        return [(f"duty:{self.org_pk}", None), (f"hours-behind:{self.org_pk}", None)]


def _duties(user, org: Organization, today: dt.date) -> list[DutyLine]:
    """The branch's own duties not met in the period holding `today` (the to-do list's rule, `duties_not_met`)."""
    lines = []
    for row, done in duties_not_met(by=user, org=org, today=today):
        if row.organization.pk != org.pk:
            continue
        rule = row.duty
        attendance = ""
        if rule.min_attendance is not None:
            attendance = f"参会率须达{rule.min_attendance.normalize():f}%"
        lines.append(
            DutyLine(
                label=getattr(rule, "label", None) or rule.kind_label,
                period=PERIOD_WORDS.get(rule.frequency, ""),
                done=done,
                required=rule.min_count,
                due=period_end(rule.frequency, today),
                attendance=attendance,
            )
        )
    return sorted(lines, key=lambda line: line.due)


def _transfers(queryset, related: str) -> tuple[int, list[TransferLine]]:
    shown = queryset.select_related("member", related)[:NAMES_SHOWN]
    return queryset.count(), [TransferLine(t.member.name, _side(t, related), local_date(t.started_at)) for t in shown]


def _side(transfer, related: str) -> str:
    """The other organization of a transfer, seen from the branch: where it comes from, or where it goes."""
    if related == "from_organization":
        return str(transfer.from_organization or transfer.external_organization)
    return transfer.other_side


def secretary_panel(user, org: Organization, *, today: dt.date) -> SecretaryPanel:
    """The panel of branch `org` (one the user runs as secretary). A fixed number of queries whatever the size of the
    branch: the compliance report's (`duties_not_met`), two for the members behind (the first names, their count),
    two for each side of the transfers."""
    behind = compliance_members(by=user, org=org, year=today.year, today=today, behind_only=True, kinds=False)
    first = compliance_rows(behind[:NAMES_SHOWN], today.year, today)
    incoming_total, incoming = _transfers(
        transfers_incoming_pending(user=user).filter(to_organization__path__startswith=org.path), "from_organization"
    )
    outgoing_total, outgoing = _transfers(
        transfers_outgoing_pending(user=user).filter(from_organization__path__startswith=org.path), "to_organization"
    )
    return SecretaryPanel(
        org_name=org.name,
        org_code=org.code,
        org_pk=org.pk,
        record_url=url_with_query("orglife:record_create", org=org.code),
        records_url=url_with_query("orglife:record_list", org=org.code),
        duties=_duties(user, org, today),
        behind_total=behind.count(),
        behind=[BehindLine(r.name, r.masked_id, hours_text(r.counted), hours_text(r.required)) for r in first],
        hours_url=url_with_query("training:branch", org=org.code, year=today.year),
        incoming_total=incoming_total,
        incoming=incoming,
        outgoing_total=outgoing_total,
        outgoing=outgoing,
        transfers_url=reverse("members:transfers"),
    )


def secretary_panels(user, *, today: dt.date) -> list[SecretaryPanel]:
    """One panel per branch the user holds the secretary role on (their grants' roots, in tree order)."""
    return [secretary_panel(user, org, today=today) for org in Organization.objects.grant_roots(user, {Role.SECRETARY})]
