"""Read-side queries of the organization tree."""

from __future__ import annotations

from django.apps import apps
from django.db.models import F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from dangjian.accounts.access import access_for
from dangjian.orgs.models import Organization, subtree_q


def organization_roots_for(*, user) -> QuerySet[Organization]:
    """The top organizations of the user's view: the roots of their granted subtrees (or the true roots
    for the system admin), each with its direct member count."""
    access = access_for(user)
    if access.system or access.all_structure:
        qs = Organization.objects.dangerously_all().filter(depth=1)
    else:
        # An own branch already inside a granted subtree is shown there, not again as a root.
        own = (
            Organization.objects.dangerously_all()
            .filter(pk__in=access.own_org_ids)
            .exclude(subtree_q(access.view_roots))
        )
        qs = Organization.objects.dangerously_all().filter(Q(path__in=access.view_roots) | Q(pk__in=own.values("pk")))
    return _with_member_counts(qs, access).order_by("path")


def organization_children(*, user, org: Organization) -> QuerySet[Organization]:
    """The visible direct children of `org`, in tree order, with member counts."""
    qs = Organization.objects.visible_to(user).filter(path__startswith=org.path, depth=org.depth + 1)
    return _with_member_counts(qs, access_for(user)).order_by("path")


def organization_ancestors(*, user, org: Organization) -> list[Organization]:
    """The visible ancestors of `org` from the top down (for the breadcrumb)."""
    paths = [org.path[: i * org.steplen] for i in range(1, org.depth)]
    return list(Organization.objects.visible_to(user).filter(path__in=paths).order_by("depth"))


def organization_search(*, user, q: str) -> QuerySet[Organization]:
    qs = Organization.objects.visible_to(user)
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(code__istartswith=q))
    return qs.order_by("path")


# The members app builds on orgs, so orgs reaches members through the model registry and the reverse
# relation, never by import. "active" is members.Status.ACTIVE.
_ACTIVE = "active"


def subtree_member_count(*, org: Organization) -> int:
    """Active members in the organization and everything under it."""
    member_model = apps.get_model("members", "Member")
    return member_model.objects.in_subtree(org).filter(status=_ACTIVE).count()


def _with_member_counts(qs, access):
    """Each organization's active members including its whole subtree, for roles that see members at all
    (三员分立). One correlated count per listed node; lists show one level of the tree at a time."""
    if not access.can_view_members:
        return qs
    member_model = apps.get_model("members", "Member")
    in_subtree = (
        member_model.objects.filter(status=_ACTIVE, organization__path__startswith=OuterRef("path"))
        .order_by()
        .values(n=Func(F("pk"), function="COUNT"))
    )
    return qs.annotate(member_count=Coalesce(Subquery(in_subtree), 0))


PICK_LIMIT = 30


def organization_picks(*, user, q: str = "", parent_code: str = "") -> list[dict]:
    """What the organization picker offers (党组织选择): matches of `q` by name or code, else the visible children of
    `parent_code`, else the roots of the user's view — each with the names of its visible ancestors, so that two
    branches of one name read apart, and whether it has children to open. At most PICK_LIMIT rows plus one
    "more" flag; a fixed number of queries whatever the tree's size."""
    visible = Organization.objects.visible_to(user)
    q = q.strip()
    if q:
        qs = visible.filter(Q(name__contains=q) | Q(code__istartswith=q)).order_by("depth", "path")
    elif parent_code:
        parent = visible.filter(code=parent_code.strip()).first()
        if parent is None:
            return []
        qs = visible.filter(path__startswith=parent.path, depth=parent.depth + 1).order_by("path")
    else:
        qs = organization_roots_for(user=user)
    rows = list(qs.values("code", "name", "path", "depth", "numchild")[: PICK_LIMIT + 1])
    step = Organization.steplen
    ancestor_paths = {row["path"][: i * step] for row in rows for i in range(1, row["depth"])}
    names = dict(visible.filter(path__in=ancestor_paths).values_list("path", "name")) if ancestor_paths else {}
    return [
        {
            "code": row["code"],
            "name": row["name"],
            "trail": " › ".join(
                names[p] for p in (row["path"][: i * step] for i in range(1, row["depth"])) if p in names
            ),
            "children": row["numchild"] > 0,
        }
        for row in rows
    ]
