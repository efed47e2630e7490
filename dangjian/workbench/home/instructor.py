"""What a party-building instructor (党建指导员) sees first on the home page: the institutions assigned to them
whose monthly “四个一” visit of this month is not done yet, each with 登记走访 (Yiyang: 党建指导员……每月上门开展
上党课、讲政策、排隐患、核台账“四个一”工作 — docs/rules.md, "Off-campus training institutions (Yiyang, Qinhuai)").

Read through `supervision.selectors.visits.visits_missing`, the rule of the 本月未走访 page and of the instructor's
to-do items, for the user's current appointment (聘任): an instructor works once appointed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.todo import url_with_query
from dangjian.supervision.models import first_of_month
from dangjian.supervision.selectors.visits import current_appointment, visits_missing

# How many institutions the panel lists (an instructor covers a handful; the page lists them all).
VISITS_SHOWN = 10


@dataclass(frozen=True)
class VisitLine:
    institution_id: int
    institution: str
    status: str  # 本月未走访, “四个一”未完成（缺：讲政策）
    partial: bool
    visit_url: str


@dataclass(frozen=True)
class InstructorPanel:
    """The instructor's home panel (plain values: it is kept in the shared cache)."""

    month: dt.date
    appointed: bool
    missing_total: int = 0
    missing: list[VisitLine] = field(default_factory=list)
    missing_url: str = ""
    visit_url: str = ""

    @property
    def todo_keys(self) -> list[tuple[str, str | None]]:
        """The to-do items this panel shows (`RolePanels.covers`): this month's visits of the institutions listed."""
        return [(f"visit:{line.institution_id}", f"{self.month:%Y-%m}") for line in self.missing]


def instructor_panel(user, *, today: dt.date) -> InstructorPanel | None:
    """This month's visits due of the user's current appointment (None without the instructor role). Four queries
    whatever the number of institutions: the appointment, and `visits_missing`'s three."""
    if Role.INSTRUCTOR not in access_for(user).roles:
        return None
    month = first_of_month(today)
    appointment = current_appointment(user, today)
    if appointment is None:
        return InstructorPanel(month=month, appointed=False)
    missing = visits_missing(by=user, month=month, today=today, appointment=appointment)
    create = reverse("supervision:visit_create")
    return InstructorPanel(
        month=month,
        appointed=True,
        missing_total=len(missing),
        missing=[
            VisitLine(
                m.institution_id, m.institution_name, m.status, m.partial, f"{create}?institution={m.institution_id}"
            )
            for m in missing[:VISITS_SHOWN]
        ],
        missing_url=url_with_query("supervision:visits_missing", month=f"{month:%Y-%m}"),
        visit_url=create,
    )
