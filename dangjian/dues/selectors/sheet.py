"""The branch's monthly collection sheet (党费收缴表; docs/dues.md, "Payments"): every active member of the branch
with their base, rate, what the month owes, the payment of the month (date, amount, way, reference) and what is
outstanding, in a fixed number of queries; and the organizations a user collects for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dangjian.accounts.access import access_for
from dangjian.dues.models import DUES_ROLES, DuesEntry, DuesMonthClose
from dangjian.dues.selectors.ledger import MonthDue, live_entries, schedules
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization

# A branch is a few dozen members; the bound keeps a mistaken huge organization off the page.
MAX_SHEET_MEMBERS = 500


@dataclass
class SheetRow:
    member: Member
    due: MonthDue
    entry: DuesEntry | None

    @property
    def outstanding(self) -> Decimal:
        if self.entry is not None or not self.due.owed:
            return Decimal("0.00")
        return self.due.amount or Decimal("0.00")


@dataclass
class Sheet:
    organization: Organization
    month: dt.date
    rows: list[SheetRow]
    close: DuesMonthClose | None

    @property
    def due_total(self) -> Decimal:
        return sum((r.due.amount or Decimal("0") for r in self.rows if r.due.owed), Decimal("0.00"))

    @property
    def paid_total(self) -> Decimal:
        return sum((r.entry.total for r in self.rows if r.entry is not None), Decimal("0.00"))

    @property
    def outstanding_total(self) -> Decimal:
        return sum((r.outstanding for r in self.rows), Decimal("0.00"))


def dues_organizations(by):
    """The organizations a user acts in dues for (their dues roles' subtrees): the pickers' choices."""
    return Organization.objects.granted_to(by, DUES_ROLES)


def default_organization(by) -> Organization | None:
    return Organization.objects.grant_roots(by, DUES_ROLES).order_by("path").first()


def can_collect(by, organization: Organization) -> bool:
    access = access_for(by)
    return access.system or access.covers(organization.path, access.roots_of(DUES_ROLES))


def collection_sheet(*, by, organization: Organization, month: dt.date) -> Sheet:
    """The sheet of a branch the user collects for (the caller checked `can_collect`)."""
    members = list(
        Member.objects.editable_by(by)
        .filter(organization=organization, status=Status.ACTIVE)
        .order_by("name", "pk")[:MAX_SHEET_MEMBERS]
    )
    ids = [m.pk for m in members]
    due = schedules(ids, month, month)
    paid = live_entries(ids, month, month)
    close = DuesMonthClose.objects.visible_to(by).filter(organization=organization, month=month).first()
    rows = [SheetRow(member=m, due=due[m.pk][month], entry=paid.get((m.pk, month))) for m in members]
    return Sheet(organization=organization, month=month, rows=rows, close=close)
