"""A user's access, built once per request and read by every `visible_to(user)`.

Access is the set of subtree roots (organization paths) per capability, derived from the user's role
assignments. A role granted on an organization covers its whole subtree, so overlapping roots collapse
to the shallowest one. Jobs and commands that must see everything use `Access.system()`, named so that
a reviewer sees the bypass.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from dangjian.accounts.roles import (
    MEMBER_EDIT_ROLES,
    ORG_EDIT_ROLES,
    SCHOOL_MANAGE_ROLES,
    SCHOOL_VIEW_ROLES,
    SUBTREE_VIEW_ROLES,
    Role,
)

_CACHE_ATTR = "_dangjian_access"


def _collapse(paths: set[str]) -> tuple[str, ...]:
    """Drop every path that lies inside another one: its subtree is already covered."""
    kept: list[str] = []
    for path in sorted(paths):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


@dataclass(frozen=True)
class Access:
    user_id: int | None = None
    roles: frozenset[str] = frozenset()
    # Organizations (and the members in them) under these paths are visible.
    view_roots: tuple[str, ...] = ()
    # Single organizations visible without their subtree (a member sees their own branch).
    own_org_ids: tuple[int, ...] = ()
    member_edit_roots: tuple[str, ...] = ()
    org_edit_roots: tuple[str, ...] = ()
    # The system admin manages the structure (organizations, units) everywhere, but no member data.
    all_structure: bool = False
    # Only for jobs and commands: sees and may change everything.
    system: bool = False
    role_orgs: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False)
    # Subtree roots per business role, for rules that depend on one role (who may reveal a full ID number).
    role_roots: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @classmethod
    def anonymous(cls) -> Access:
        return cls()

    @classmethod
    def system_access(cls) -> Access:
        return cls(system=True, all_structure=True)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.system

    def has_role(self, *roles: str) -> bool:
        return self.system or any(role in self.roles for role in roles)

    @property
    def can_view_members(self) -> bool:
        return self.system or bool(self.view_roots) or Role.MEMBER in self.roles

    @property
    def can_edit_members(self) -> bool:
        return self.system or bool(self.member_edit_roots)

    @property
    def can_edit_orgs(self) -> bool:
        return self.system or self.all_structure or bool(self.org_edit_roots)

    def roots_of(self, roles) -> tuple[str, ...]:
        """The subtree roots granted by any of `roles`, overlapping ones collapsed."""
        return _collapse({path for role in roles for path in self.role_roots.get(role, ())})

    @property
    def school_view_roots(self) -> tuple[str, ...]:
        return self.roots_of(SCHOOL_VIEW_ROLES)

    @property
    def school_manage_roots(self) -> tuple[str, ...]:
        return self.roots_of(SCHOOL_MANAGE_ROLES)

    @property
    def can_view_schools(self) -> bool:
        return self.system or bool(self.school_view_roots)

    @property
    def can_manage_schools(self) -> bool:
        return self.system or bool(self.school_manage_roots)

    def covers(self, path: str, roots: tuple[str, ...]) -> bool:
        return self.system or any(path.startswith(root) for root in roots)

    def can_edit_member_in(self, org) -> bool:
        return self.covers(org.path, self.member_edit_roots)

    def can_edit_org(self, org) -> bool:
        """May change this organization: system admin anywhere, committee staff strictly below their root."""
        if self.system or self.all_structure:
            return True
        return any(org.path.startswith(root) and org.path != root for root in self.org_edit_roots)

    def can_add_child_to(self, org) -> bool:
        return self.system or self.all_structure or self.covers(org.path, self.org_edit_roots)

    # "May this user act here": one method per kind of act, read by the apps' services, selectors and views.

    def can_view_org(self, org) -> bool:
        """Sees `org`'s subtree (a granted subtree role over it)."""
        return self.covers(org.path, self.view_roots)

    def is_committee_over(self, org) -> bool:
        """Work-committee staff (工委工作人员) whose subtree holds `org`: approves filings, sets policies, closes a
        year's hours, supervises institutions there. No organization (a system-wide rule): the system only."""
        if org is None:
            return self.system
        return self.covers(org.path, self.roots_of({Role.COMMITTEE}))

    def is_committee_over_any(self, *orgs) -> bool:
        """Work-committee staff over any of `orgs` (an institution's covering or managing organization): None entries
        are skipped; the system access is over everything, also where no organization is given."""
        return self.system or any(self.is_committee_over(org) for org in orgs if org is not None)

    def can_switch_policy_of(self, owner) -> bool:
        """May switch an hours policy owned by `owner` on or off: whoever may set it, and — for a system-wide rule (the
        seed rules ship switched on) — the system admin (系统管理员, who keeps the configuration): an operator switches
        off, on the policy page, what does not apply to the region (docs/rules.md, "How the rules combine")."""
        if self.is_committee_over(owner):
            return True
        return owner is None and Role.SYSTEM_ADMIN in self.roles

    def can_manage_schools_in(self, org) -> bool:
        """May change party-school data owned by `org` (工委工作人员 / 党校管理员 over it): schools, catalogs,
        bookings, classes."""
        return self.covers(org.path, self.school_manage_roots)

    def can_file_setup_for(self, org) -> bool:
        """May confirm a setup report of `org` as filed: edits both its members and its structure (committee staff),
        not a secretary (who edits members only)."""
        return self.covers(org.path, self.member_edit_roots) and self.covers(org.path, self.org_edit_roots)


def build_access(user) -> Access:
    """Read the user's role assignments (one query) and turn them into subtree roots."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Access.anonymous()
    grants = list(user.role_assignments.values_list("role", "organization_id", "organization__path"))
    roles = frozenset(role for role, _, _ in grants)
    view, member_edit, org_edit, own = set(), set(), set(), set()
    role_orgs: dict[str, list[int]] = {}
    role_roots: dict[str, set[str]] = {}
    for role, org_id, path in grants:
        if org_id is None:
            continue
        role_orgs.setdefault(role, []).append(org_id)
        role_roots.setdefault(role, set()).add(path)
        if role in SUBTREE_VIEW_ROLES:
            view.add(path)
        if role in MEMBER_EDIT_ROLES:
            member_edit.add(path)
        if role in ORG_EDIT_ROLES:
            org_edit.add(path)
        if role == Role.MEMBER:
            own.add(org_id)
    return Access(
        user_id=user.pk,
        roles=roles,
        view_roots=_collapse(view),
        own_org_ids=tuple(sorted(own)),
        member_edit_roots=_collapse(member_edit),
        org_edit_roots=_collapse(org_edit),
        all_structure=Role.SYSTEM_ADMIN in roles,
        role_orgs={role: tuple(ids) for role, ids in role_orgs.items()},
        role_roots={role: _collapse(paths) for role, paths in role_roots.items()},
    )


def access_for(user) -> Access:
    """The user's access, cached on the user object (which lives as long as the request)."""
    if isinstance(user, Access):
        return user
    if user is None:
        return Access.anonymous()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = build_access(user)
        with contextlib.suppress(AttributeError):  # objects without a __dict__
            setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_access(user) -> None:
    """Drop the cached access after the user's grants changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
