"""The home page (工作台) shows each user their own work first: a panel per role they hold — the secretary's branch
(`secretary`), the party school's bookings, classes and plan (`school`), the instructor's visits due
(`instructor`), the committee's subtree compliance (`committee`), the 三员's own figures (`admins`) — and then, for a
user linked to a member, their own panel (`member`). A role with nothing in its scope gets a sentence, never a tile
reading 0.

Each panel costs a fixed number of queries whatever the size of its scope; the business panels together are kept a
short while (core.summaries: recomputed after any write to the business tables, never stale after the user's own)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from dangjian.core import summaries
from dangjian.workbench.home.admins import AdminPanel, AdminTile, admin_home
from dangjian.workbench.home.committee import CommitteePanel, committee_panels
from dangjian.workbench.home.instructor import InstructorPanel, instructor_panel
from dangjian.workbench.home.member import MemberHome, RecordLine, member_home
from dangjian.workbench.home.school import SchoolPanel, school_panel
from dangjian.workbench.home.secretary import SecretaryPanel, secretary_panels

__all__ = [
    "AdminPanel",
    "AdminTile",
    "CommitteePanel",
    "InstructorPanel",
    "MemberHome",
    "RecordLine",
    "RolePanels",
    "SchoolPanel",
    "SecretaryPanel",
    "admin_home",
    "kept_role_panels",
    "member_home",
    "role_panels",
]


@dataclass(frozen=True)
class RolePanels:
    """The business panels of one user, in the order the page shows them."""

    secretary: list[SecretaryPanel] = field(default_factory=list)
    school: SchoolPanel | None = None
    instructor: InstructorPanel | None = None
    committee: list[CommitteePanel] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.secretary or self.school or self.instructor or self.committee)

    def _keys(self) -> list[tuple[str, str | None]]:
        keys = [key for panel in self.secretary for key in panel.todo_keys]
        for panel in (self.school, self.instructor):
            keys += panel.todo_keys if panel is not None else []
        return keys

    def covers(self, item) -> bool:
        """Whether a panel already shows the to-do item (`core.todo.TodoItem`): its key is a panel's key or below
        it ("duty:17" covers "duty:17:theme_day"), for the panel's period when it names one. The home page lists
        the other items under 其他待办, so nothing is shown twice."""
        return any(
            (item.key == key or item.key.startswith(f"{key}:")) and (period is None or item.period == period)
            for key, period in self._keys()
        )


def role_panels(user, *, today: dt.date | None = None) -> RolePanels:
    """The panel of each business role the user holds (none for a role they do not hold): a fixed number of queries
    per panel (each module's function says how many)."""
    today = today or timezone.localdate()
    return RolePanels(
        secretary=secretary_panels(user, today=today),
        school=school_panel(user, today=today),
        instructor=instructor_panel(user, today=today),
        committee=committee_panels(user, today=today),
    )


def kept_role_panels(user, *, today: dt.date | None = None) -> RolePanels:
    """`role_panels`, kept a short while (core.summaries) per user, scope and day: a read of the shared cache while
    no business table was written to; recomputed after the user's own write, and at most GRACE seconds after
    another's."""
    today = today or timezone.localdate()
    return summaries.cached(
        ["business"],
        "workbench-panels",
        (getattr(user, "pk", None), summaries.scope_of(user), today),
        lambda: role_panels(user, today=today),
        user=user,
    )
