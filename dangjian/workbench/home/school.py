"""What a party-school admin (党校管理员) sees first on the home page: the bookings waiting to be scheduled (约课 →
排课派单), the classes waiting for them (to be filed before they run, 办班事前备案; ended and not yet finished, 结班),
and the year's plan against what was delivered (年初认领培训指标，年终对账 — Xiqing, docs/rules.md, "Party schools").

Counted over the subtrees the user holds the school-admin role on (a committee user, who also manages schools, has
their own panel). Each figure comes from the page behind its link: the bookings as the to-do list counts them, the
classes through `TrainingClass.managed_by`, the plan and delivery through the year-end reconciliation's selector
(`school_reconciliation`, whose definitions are `schools.selectors.delivery`'s)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse

from dangjian.accounts.access import access_for
from dangjian.accounts.roles import Role
from dangjian.core.todo import url_with_query
from dangjian.orgs.models import Organization, subtree_q
from dangjian.schools.models import BookingRequest, BookingStatus
from dangjian.training.models import ClassStatus, TrainingClass
from dangjian.training.selectors.compliance import school_reconciliation

# How many bookings and classes of each list the panel names; the page behind the link lists them all.
NAMES_SHOWN = 3
# How many schools' plans the panel shows (a school admin runs one school, a district's admin a few).
SCHOOLS_SHOWN = 5


@dataclass(frozen=True)
class ItemLine:
    text: str
    url: str
    note: str = ""  # a date, a state
    key: str = ""  # the to-do item's key of the same thing


@dataclass(frozen=True)
class PlanLine:
    """One school's plan of the year against what it delivered (年终对账's figures, to date)."""

    school: str
    has_plan: bool
    planned_classes: int
    actual_classes: int
    planned_trainees: int
    actual_trainees: int
    url: str

    @staticmethod
    def _percent(actual: int, planned: int) -> int:
        return min(100, round(100 * actual / planned)) if planned else 0

    @property
    def classes_percent(self) -> int:
        return self._percent(self.actual_classes, self.planned_classes)

    @property
    def trainees_percent(self) -> int:
        return self._percent(self.actual_trainees, self.planned_trainees)


@dataclass(frozen=True)
class SchoolPanel:
    """The school admin's home panel (plain values: it is kept in the shared cache)."""

    year: int
    to_schedule_total: int = 0
    to_schedule: list[ItemLine] = field(default_factory=list)
    schedule_url: str = ""
    awaiting_dispatch: int = 0  # the own schools' bookings submitted and waiting for the district school
    to_finish_total: int = 0
    to_finish: list[ItemLine] = field(default_factory=list)
    to_file_total: int = 0
    to_file: list[ItemLine] = field(default_factory=list)
    finish_url: str = ""
    file_url: str = ""
    plans: list[PlanLine] = field(default_factory=list)
    more_schools: bool = False
    reconciliation_url: str = ""

    @property
    def has_schools(self) -> bool:
        return bool(self.plans)

    @property
    def todo_keys(self) -> list[tuple[str, str | None]]:
        """The to-do items this panel shows (`RolePanels.covers`): the bookings to schedule it names."""
        return [(line.key, None) for line in self.to_schedule]


def school_panel(user, *, today: dt.date) -> SchoolPanel | None:
    """The panel over the user's school-admin subtrees (None without that role). Nine queries whatever the number of
    schools, bookings and classes: per list its first lines and its count, and the schools' plans with their
    delivery (one query, `school_reconciliation`) — and one for the organization the reconciliation link opens."""
    roots = access_for(user).roots_of({Role.SCHOOL_ADMIN})
    if not roots:
        return None
    bookings = BookingRequest.objects.visible_to(user)
    to_schedule = bookings.filter(
        subtree_q(roots, "dispatcher__organization__path"), status=BookingStatus.SUBMITTED
    ).order_by("wanted_from", "pk")
    awaiting = bookings.filter(subtree_q(roots, "school__organization__path"), status=BookingStatus.SUBMITTED).exclude(
        subtree_q(roots, "dispatcher__organization__path")
    )
    classes = TrainingClass.objects.managed_by(user).filter(subtree_q(roots, "organizer__path"))
    to_finish = classes.filter(status=ClassStatus.APPROVED, ends_on__lt=today).order_by("ends_on", "pk")
    to_file = classes.filter(status__in=(ClassStatus.DRAFT, ClassStatus.REJECTED)).order_by("starts_on", "pk")
    plans = list(
        school_reconciliation(by=user, year=today.year).filter(subtree_q(roots, "organization__path"))[
            : SCHOOLS_SHOWN + 1
        ]
    )
    first_root = Organization.objects.grant_roots(user, {Role.SCHOOL_ADMIN}).first()
    reconciliation_url = (
        url_with_query("training:reconciliation", org=first_root.code, year=today.year) if first_root else ""
    )
    return SchoolPanel(
        year=today.year,
        to_schedule_total=to_schedule.count(),
        to_schedule=[
            ItemLine(
                f"{b.school.name}：{b.topic}",
                b.get_absolute_url(),
                f"期望{b.wanted_from:%m月%d日}起",
                key=f"booking-schedule:{b.pk}",
            )
            for b in to_schedule.select_related("school")[:NAMES_SHOWN]
        ],
        schedule_url=url_with_query("schools:booking_list", status=BookingStatus.SUBMITTED.value),
        awaiting_dispatch=awaiting.count(),
        to_finish_total=to_finish.count(),
        to_finish=[
            ItemLine(c.title, c.get_absolute_url(), f"{c.ends_on:%m月%d日}已结束") for c in to_finish[:NAMES_SHOWN]
        ],
        to_file_total=to_file.count(),
        to_file=[
            ItemLine(
                c.title,
                c.get_absolute_url(),
                "已退回" if c.status == ClassStatus.REJECTED else f"{c.starts_on:%m月%d日}开班",
            )
            for c in to_file[:NAMES_SHOWN]
        ],
        finish_url=url_with_query("training:class_list", status=ClassStatus.APPROVED.value),
        file_url=url_with_query("training:class_list", status=ClassStatus.DRAFT.value),
        plans=[
            PlanLine(
                school=s.name,
                has_plan=s.has_plan,
                planned_classes=s.planned_classes,
                actual_classes=s.actual_classes,
                planned_trainees=s.planned_trainees,
                actual_trainees=s.actual_trainees,
                url=reverse("schools:detail", args=[s.pk]),
            )
            for s in plans[:SCHOOLS_SHOWN]
        ],
        more_schools=len(plans) > SCHOOLS_SHOWN,
        reconciliation_url=reconciliation_url,
    )
