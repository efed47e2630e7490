"""Read-side computations of the workbench (工作台)."""

from __future__ import annotations

from django.db.models import Count

from dangjian.members.models import Category, Member, Status
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind


def _counts(queryset, field: str, choices) -> list[tuple[str, int]]:
    found = dict(queryset.order_by().values(field).annotate(n=Count("pk")).values_list(field, "n"))
    return [(label, found.get(value, 0)) for value, label in choices]


def workbench_counts(*, user) -> dict:
    """Counts over the user's scope: organizations by kind, members by category and status, units by type.

    Each breakdown is one GROUP BY over the scoped queryset, so the page costs a fixed number of queries
    whatever the size of the scope.
    """
    members = Member.objects.visible_to(user)
    orgs_by_kind = _counts(Organization.objects.visible_to(user), "kind", OrgKind.choices)
    by_category = _counts(members.filter(status=Status.ACTIVE), "category", Category.choices)
    return {
        "orgs_by_kind": orgs_by_kind,
        "orgs_total": sum(n for _, n in orgs_by_kind),
        "members_by_category": by_category,
        "members_active": sum(n for _, n in by_category),
        "members_by_status": _counts(members, "status", Status.choices),
        "units_by_kind": _counts(Unit.objects.visible_to(user), "kind", UnitKind.choices),
    }
