"""Helpers shared by the scope tests: the fixture world, and a walk over the URL configuration.

The world:

    滨江区教育工委 R (work committee)
    └── 滨江一中党委 C1 (committee)           committee, school_admin
        ├── 高一年级党支部 A (branch)          secretary, member (linked to 赵甲一)
        └── 高二年级党支部 B (branch)          instructor
    临湖县教育工委 X (a separate root)         nobody's scope
    └── 临湖实验小学党支部 XB (branch)

The three admins hold their role without an organization. Names are distinctive so that a test can
look for them in a page and know which record leaked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.members.models import Category, Member
from dangjian.members.tests.factories import MemberFactory
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory

# Where each role user of the world is granted its role (None: the three admins).
WORLD_GRANTS: dict[str, str | None] = {
    Role.SYSTEM_ADMIN: None,
    Role.SECURITY_ADMIN: None,
    Role.AUDIT_ADMIN: None,
    Role.COMMITTEE: "C1",
    Role.SCHOOL_ADMIN: "C1",
    Role.SECRETARY: "A",
    Role.INSTRUCTOR: "B",
    Role.MEMBER: "A",
}
ROLES: tuple[str, ...] = tuple(WORLD_GRANTS)


@dataclass
class World:
    orgs: dict[str, Organization]  # "R", "C1", "A", "B", "X", "XB"
    units: dict[str, Unit]  # "A", "B", "X": the unit covered by that place's branch
    members: dict[str, list[Member]]  # "A", "B", "X": the members of that place's branch
    users: dict[str, object]  # role → User
    self_member: Member  # the member the member user is linked to (in A)

    def user(self, role: str):
        return self.users[role]

    def client(self, role: str | None) -> Client:
        """A test client logged in as the world's user of `role` (anonymous for None)."""
        client = Client()
        if role is not None:
            client.force_login(self.users[role])
        return client

    def member_names(self, *places: str) -> set[str]:
        places = places or tuple(self.members)
        return {m.name for place in places for m in self.members[place]}

    def reloaded(self) -> World:
        """The same world with every object read again from the database (a few queries), so that what
        one test changes on its Python objects never reaches the next test."""
        orgs = Organization.objects.in_bulk([o.pk for o in self.orgs.values()])
        units = Unit.objects.in_bulk([u.pk for u in self.units.values()])
        members = Member.objects.in_bulk([m.pk for ms in self.members.values() for m in ms])
        users = get_user_model().objects.in_bulk([u.pk for u in self.users.values()])
        return World(
            orgs={key: orgs[o.pk] for key, o in self.orgs.items()},
            units={key: units[u.pk] for key, u in self.units.items()},
            members={key: [members[m.pk] for m in ms] for key, ms in self.members.items()},
            users={role: users[u.pk] for role, u in self.users.items()},
            self_member=members[self.self_member.pk],
        )


def build_world() -> World:
    r = OrganizationFactory(code="BJ", name="滨江区教育工委", kind=OrgKind.WORK_COMMITTEE)
    c1 = OrganizationFactory(parent=r, code="BJ01", name="滨江一中党委", kind=OrgKind.COMMITTEE)
    a = OrganizationFactory(parent=c1, code="BJ01A", name="高一年级党支部", kind=OrgKind.BRANCH)
    b = OrganizationFactory(parent=c1, code="BJ01B", name="高二年级党支部", kind=OrgKind.BRANCH)
    x = OrganizationFactory(code="LH", name="临湖县教育工委", kind=OrgKind.WORK_COMMITTEE)
    xb = OrganizationFactory(parent=x, code="LH01", name="临湖实验小学党支部", kind=OrgKind.BRANCH)
    orgs = {"R": r, "C1": c1, "A": a, "B": b, "X": x, "XB": xb}

    units = {
        "A": UnitFactory(name="晨曦学校", organization=a, kind=UnitKind.SCHOOL),
        "B": UnitFactory(name="明德培训学校", organization=b, kind=UnitKind.TRAINING_INSTITUTION),
        "X": UnitFactory(name="临湖湖畔培训中心", organization=xb, kind=UnitKind.TRAINING_INSTITUTION),
    }

    users = {}
    for role, place in WORLD_GRANTS.items():
        user = UserFactory(username=f"world_{role}", full_name=f"{Role(role).label}用户")
        grant(user, role, orgs[place] if place else None)
        users[role] = user

    self_member = MemberFactory(name="赵甲一", organization=a, phone="13800000001", user=users[Role.MEMBER])
    members = {
        "A": [
            self_member,
            MemberFactory(
                name="钱甲二", organization=a, phone="13800000002", category=Category.PROBATIONARY, full_date=None
            ),
        ],
        "B": [MemberFactory(name="孙乙一", organization=b, phone="13800000003")],
        "X": [MemberFactory(name="李外一", organization=xb, phone="13800000004")],
    }
    return World(orgs=orgs, units=units, members=members, users=users, self_member=self_member)


# ---------------------------------------------------------------------------------------------------------
# The URL configuration.

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class UrlEntry:
    """One URL pattern of the project, with the route written out from the root."""

    route: str  # e.g. "members/<int:pk>/posts/<int:post_pk>/end/"
    name: str | None  # e.g. "members:post_end"
    callback: object
    kwargs: tuple[str, ...]  # the URL's keyword arguments, in route order
    is_admin: bool
    supported: bool  # False for a pattern the test cannot build (re_path): the test fails on it

    @property
    def id(self) -> str:
        return self.name or self.route or "/"

    @property
    def scope_model(self):
        return getattr(self.callback, "scope_model", None)

    def build(self, values: dict[str, object]) -> str:
        return "/" + _PARAM.sub(lambda m: str(values[m.group("name")]), self.route)


def _is_served_files(route: str) -> bool:
    prefixes = [settings.STATIC_URL, getattr(settings, "MEDIA_URL", "")]
    return any(p and route.startswith(p.lstrip("/")) for p in prefixes if p and p.lstrip("/"))


def _walk(patterns, prefix: str, namespace: str | None, supported: bool, in_admin: bool) -> Iterator[UrlEntry]:
    for pattern in patterns:
        route_part = str(pattern.pattern)
        is_route = isinstance(pattern.pattern, RoutePattern)
        route = prefix + (route_part if is_route else route_part.lstrip("^").rstrip("$"))
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(
                pattern.url_patterns, route, ns, supported and is_route, in_admin or pattern.app_name == "admin"
            )
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            if _is_served_files(route):
                continue
            if in_admin and name != "admin:index":
                continue
            yield UrlEntry(
                route=route,
                name=name,
                callback=pattern.callback,
                kwargs=tuple(m.group("name") for m in _PARAM.finditer(route)) if is_route else (),
                is_admin=in_admin,
                supported=supported and is_route,
            )


def project_urls() -> list[UrlEntry]:
    """Every URL pattern of the project, except the admin's own pages (its index is kept) and static files."""
    return list(_walk(get_resolver().url_patterns, "", None, True, False))
