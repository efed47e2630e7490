"""Read-side queries of the organization tree."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def organization_picks(
    *, user, q: str = "", parent_code: str = "", within: QuerySet[Organization] | None = None
) -> list[dict]:
    """What the organization picker offers (党组织选择): matches of `q` by name or code, else the visible children of
    `parent_code`, else the roots of the user's view — each with the names of its visible ancestors, so that two
    branches of one name read apart, and whether it has children to open. At most PICK_LIMIT rows plus one
    "more" flag; a fixed number of queries whatever the tree's size.

    `within` offers those organizations instead of the user's view, its shallowest ones as the roots (the security
    admin's grant form: every organization, though the three admins see none)."""
    visible = Organization.objects.visible_to(user) if within is None else within
    q = q.strip()
    if q:
        qs = visible.filter(Q(name__contains=q) | Q(code__istartswith=q)).order_by("depth", "path")
    elif parent_code:
        parent = visible.filter(code=parent_code.strip()).first()
        if parent is None:
            return []
        qs = visible.filter(path__startswith=parent.path, depth=parent.depth + 1).order_by("path")
    elif within is not None:
        top = within.order_by("depth").values_list("depth", flat=True).first()
        qs = within.filter(depth=top or 1).order_by("path")
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


# ---------------------------------------------------------------------------------------------------------
# Organizations named in an uploaded sheet

MSG_ORG_UNKNOWN = "找不到党组织“{text}”（按编码或名称），或该组织不在您的管理范围内。"
MSG_ORG_GUESS = "是否为{names}？"
MSG_ORG_AMBIGUOUS = "名称为“{text}”的党组织有{count}个（编码{codes}），请改填党组织编码。"
_NAME_WITH_CODE = re.compile(r"^(?P<name>.+?)\s*[（(]\s*(?P<code>[^（()）]+?)\s*[）)]$")


@dataclass(frozen=True)
class NamedOrganization:
    pk: int
    path: str
    name: str
    code: str

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"


def organizations_named(
    texts, *, within: QuerySet[Organization]
) -> tuple[dict[str, NamedOrganization], dict[str, str]]:
    """Resolve what people write for an organization in a sheet — its code, its name, or 名称（编码） as the picker
    shows it — among the organizations of `within` (the importer's scope, already filtered). Returns the
    organizations found by text, and for every other text the message why (unknown: with the closest names of the
    scope; a name several organizations share: their codes). Codes in one query; names (compared folded: spaces and
    full-width forms aside) only when some text is not a code, from one read of the scope."""
    from dangjian.core.bulk import values_table
    from dangjian.core.sheets import fold, suggest_name

    texts = sorted({text for text in texts if text})
    wanted = {text: _code_in(text) for text in texts}
    codes = sorted({code for candidates in wanted.values() for code in candidates})
    by_code: dict[str, NamedOrganization] = {}
    if codes:
        rows = within.filter(code__in=values_table(codes)).values_list("pk", "path", "name", "code")
        by_code = {code: NamedOrganization(pk, path, name, code) for pk, path, name, code in rows}
    found: dict[str, NamedOrganization] = {}
    missing: list[str] = []
    for text, candidates in wanted.items():
        hit = next((by_code[code] for code in candidates if code in by_code), None)
        if hit is not None:
            found[text] = hit
        else:
            missing.append(text)
    errors: dict[str, str] = {}
    if not missing:
        return found, errors
    by_name: dict[str, list[NamedOrganization]] = {}
    for pk, path, name, code in within.values_list("pk", "path", "name", "code"):
        by_name.setdefault(fold(name), []).append(NamedOrganization(pk, path, name, code))
    names = [orgs[0].name for orgs in by_name.values()]
    for text in missing:
        match = _NAME_WITH_CODE.match(text)
        matches = by_name.get(fold(match["name"] if match else text), [])
        if len(matches) == 1:
            found[text] = matches[0]
        elif matches:
            codes_listed = "、".join(org.code for org in matches[:5])
            errors[text] = MSG_ORG_AMBIGUOUS.format(text=text[:40], count=len(matches), codes=codes_listed)
        else:
            message = MSG_ORG_UNKNOWN.format(text=text[:40])
            guesses = suggest_name(text, names)
            if guesses:
                labels = "、".join(f"“{by_name[fold(name)][0].label}”" for name in guesses)
                message += MSG_ORG_GUESS.format(names=labels)
            errors[text] = message
    return found, errors


def _code_in(text: str) -> list[str]:
    """The codes a cell may give: the text itself, and the code of 名称（编码）."""
    match = _NAME_WITH_CODE.match(text)
    return [text, match["code"]] if match else [text]
