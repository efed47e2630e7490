"""Scope, for every URL pattern of the project.

The URL configuration is walked at collection time, so a new URL is tested without a new test. A URL
whose keyword arguments or model this file does not know makes the test fail: register how to build an
object of each place (A: the in-scope branch, B: its sibling branch, X: a tree outside everybody's scope)
in SCOPED_MODELS, and how to build any extra argument in EXTRA_KWARGS.

Rules checked, for every URL and every role of the world (described in tests/scope.py):
- anonymous: a redirect to the login page, for every object (public pages excepted);
- an object the role may not see: 404 on POST, and 404 on GET (405 only when GET is refused whatever
  the object, like for a nonexistent pk);
- an object the role sees: never 404 (200 or 403 by capability on GET, 405 for POST-only views);
- no page ever shows the name of a member the role may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from dangjian.accounts.access import Access
from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.development.models import Candidate
from dangjian.development.tests.factories import candidate_at as development_candidate
from dangjian.exams import models as exams
from dangjian.exams.tests import factories as exam_factories
from dangjian.jobs.models import Job
from dangjian.learning.models import Certificate, OnlineMaterial
from dangjian.learning.tests import factories as learning_factories
from dangjian.members.models import Member
from dangjian.members.services import member_transfer_start
from dangjian.members.tests.factories import PartyPostFactory
from dangjian.notices.models import Notification
from dangjian.orglife.models import ActivityRecord
from dangjian.orglife.tests import factories as orglife_factories
from dangjian.orgs.models import Organization, OrgKind, Unit
from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.schools import models as schools
from dangjian.schools.tests import factories as school_factories
from dangjian.supervision import models as supervision
from dangjian.supervision.tests import factories as supervision_factories
from dangjian.training import models as training
from dangjian.training.tests import factories as training_factories
from tests.scope import ROLES, UrlEntry, World, project_urls

URLS = project_urls()
# Pages that answer anonymous users themselves.
PUBLIC_URLS = {"login", "certificate_verify"}
# Public pages whose URL carries something other than a pk: how to build their arguments in the world.
PUBLIC_ARGUMENTS: dict[str, Callable[[World], dict[str, object]]] = {
    "certificate_verify": lambda w: {"number": learning_factories.certificate(w.self_member).number},
}

NOBODY: frozenset[str] = frozenset()
# Which places' organizations and units each role sees. The system admin manages the structure everywhere.
STRUCTURE_VISIBILITY: dict[str, frozenset[str]] = {
    Role.SYSTEM_ADMIN: frozenset({"A", "B", "X"}),
    Role.SECURITY_ADMIN: NOBODY,
    Role.AUDIT_ADMIN: NOBODY,
    Role.COMMITTEE: frozenset({"A", "B"}),
    Role.SCHOOL_ADMIN: frozenset({"A", "B"}),
    Role.SECRETARY: frozenset({"A"}),
    Role.INSTRUCTOR: frozenset({"B"}),
    Role.MEMBER: frozenset({"A"}),  # their own branch
}
# Which places' members each role sees. The three admins see no member data (三员分立); the member
# user sees only themself, who is the registry's member of place A.
MEMBER_VISIBILITY: dict[str, frozenset[str]] = {
    Role.SYSTEM_ADMIN: NOBODY,
    Role.SECURITY_ADMIN: NOBODY,
    Role.AUDIT_ADMIN: NOBODY,
    Role.COMMITTEE: frozenset({"A", "B"}),
    Role.SCHOOL_ADMIN: frozenset({"A", "B"}),
    Role.SECRETARY: frozenset({"A"}),
    Role.INSTRUCTOR: frozenset({"B"}),
    Role.MEMBER: frozenset({"A"}),
}


# Which places' party-school data each role sees (schools, catalog, instructor pool, bookings, evaluations):
# the school roles and the branch roles in their subtrees; neither the three admins nor plain members.
SCHOOL_VISIBILITY: dict[str, frozenset[str]] = {
    Role.SYSTEM_ADMIN: NOBODY,
    Role.SECURITY_ADMIN: NOBODY,
    Role.AUDIT_ADMIN: NOBODY,
    Role.COMMITTEE: frozenset({"A", "B"}),
    Role.SCHOOL_ADMIN: frozenset({"A", "B"}),
    Role.SECRETARY: frozenset({"A"}),
    Role.INSTRUCTOR: frozenset({"B"}),
    Role.MEMBER: NOBODY,
}
_PLACE_ORG = {"A": "A", "B": "B", "X": "XB"}


def _per_place(build: Callable[[Organization], object]) -> Callable[[World], dict[str, object]]:
    """An object of each place, built on that place's branch."""
    return lambda w: {place: build(w.orgs[org]) for place, org in _PLACE_ORG.items()}


def _school_of(org: Organization):
    return school_factories.PartySchoolFactory(organization=org, name=f"{org.name}业余党校")


# A notification is its user's own: place A holds the member user's, B the secretary's, X a user's outside the world.
NOTIFICATION_VISIBILITY: dict[str, frozenset[str]] = {role: NOBODY for role in ROLES} | {
    Role.MEMBER: frozenset({"A"}),
    Role.SECRETARY: frozenset({"B"}),
}


def _notifications(w: World) -> dict[str, object]:
    owners = {
        "A": w.user(Role.MEMBER),
        "B": w.user(Role.SECRETARY),
        "X": get_user_model().objects.create(username="x_owner"),
    }
    return {
        place: Notification.objects.create(user=user, kind="测试", title="测试提醒", url="/", key=f"scope:{place}")
        for place, user in owners.items()
    }


def _jobs(w: World) -> dict[str, object]:
    """A background job is its requester's own, like a notification (the same owners)."""
    owners = {
        "A": w.user(Role.MEMBER),
        "B": w.user(Role.SECRETARY),
        "X": get_user_model().objects.create(username="x_job_owner"),
    }
    return {place: Job.objects.create(kind="test", title="测试任务", created_by=user) for place, user in owners.items()}


# Training institutions (校外培训机构党建) and what is recorded about them: the roles that see a subtree holding the
# institution's organization (instructors also by assignment); neither the three admins nor plain members.
SUPERVISION_VISIBILITY: dict[str, frozenset[str]] = {**SCHOOL_VISIBILITY}


def _institution_of(org: Organization):
    return supervision_factories.institution(org, name=f"{org.name}培训学校")


# Accounts and role grants (用户管理, 角色授权) lie in no organization's scope: every role reaches the same account or
# grant, and the page answers by role (403 but to the system admin for accounts, the security admin for grants).
EVERY_PLACE = frozenset({"A", "B", "X"})
ACCOUNT_VISIBILITY: dict[str, frozenset[str]] = {role: EVERY_PLACE for role in ROLES}


def _grants(w: World) -> dict[str, object]:
    """A business grant on each place's branch, to an account of its own."""
    return {
        place: grant(UserFactory(username=f"scope_grant_{place}"), Role.SECRETARY, w.orgs[org])
        for place, org in _PLACE_ORG.items()
    }


DEVELOPMENT_VISIBILITY: dict[str, frozenset[str]] = {role: NOBODY for role in ROLES} | {
    Role.COMMITTEE: frozenset({"A", "B"}),
    Role.SECRETARY: frozenset({"A"}),
}


@dataclass(frozen=True)
class ScopedModel:
    objects: Callable[[World], dict[str, object]]  # place ("A", "B", "X") → an object of that place
    visibility: dict[str, frozenset[str]]  # role → the places whose objects it sees


SCOPED_MODELS: dict[type, ScopedModel] = {
    Organization: ScopedModel(
        objects=lambda w: {"A": w.orgs["A"], "B": w.orgs["B"], "X": w.orgs["XB"]},
        visibility=STRUCTURE_VISIBILITY,
    ),
    Unit: ScopedModel(
        objects=lambda w: {"A": w.units["A"], "B": w.units["B"], "X": w.units["X"]},
        visibility=STRUCTURE_VISIBILITY,
    ),
    Member: ScopedModel(
        objects=lambda w: {"A": w.self_member, "B": w.members["B"][0], "X": w.members["X"][0]},
        visibility=MEMBER_VISIBILITY,
    ),
    schools.PartySchool: ScopedModel(objects=_per_place(_school_of), visibility=SCHOOL_VISIBILITY),
    schools.SchoolVenue: ScopedModel(
        objects=_per_place(lambda org: school_factories.SchoolVenueFactory(school=_school_of(org))),
        visibility=SCHOOL_VISIBILITY,
    ),
    schools.StandardCheck: ScopedModel(
        objects=_per_place(lambda org: school_factories.StandardCheckFactory(school=_school_of(org))),
        visibility=SCHOOL_VISIBILITY,
    ),
    schools.Instructor: ScopedModel(
        objects=_per_place(lambda org: school_factories.InstructorFactory(owner=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    schools.Course: ScopedModel(
        objects=_per_place(lambda org: school_factories.CourseFactory(owner=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    schools.CourseModule: ScopedModel(
        objects=_per_place(lambda org: school_factories.CourseModuleFactory(owner=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    schools.PremiumRound: ScopedModel(
        objects=_per_place(lambda org: school_factories.PremiumRoundFactory(owner=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    schools.BookingRequest: ScopedModel(
        objects=_per_place(lambda org: school_factories.BookingRequestFactory(school=_school_of(org))),
        visibility=SCHOOL_VISIBILITY,
    ),
    training.TrainingClass: ScopedModel(
        objects=_per_place(lambda org: training_factories.TrainingClassFactory(organizer=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    training.TrainingSession: ScopedModel(
        objects=_per_place(
            lambda org: training_factories.TrainingSessionFactory(
                training_class=training_factories.TrainingClassFactory(organizer=org)
            )
        ),
        visibility=SCHOOL_VISIBILITY,
    ),
    training.HoursPolicy: ScopedModel(
        objects=_per_place(lambda org: training_factories.HoursPolicyFactory(owner=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    training.HoursEntry: ScopedModel(
        objects=lambda w: {
            "A": training_factories.credit(w.self_member),
            "B": training_factories.credit(w.members["B"][0]),
            "X": training_factories.credit(w.members["X"][0]),
        },
        visibility=MEMBER_VISIBILITY,
    ),
    ActivityRecord: ScopedModel(
        objects=_per_place(lambda org: orglife_factories.ActivityRecordFactory(organization=org)),
        visibility=MEMBER_VISIBILITY,
    ),
    schools.SchoolEvaluation: ScopedModel(
        objects=_per_place(lambda org: school_factories.SchoolEvaluationFactory(school=_school_of(org))),
        visibility=SCHOOL_VISIBILITY,
    ),
    supervision.Institution: ScopedModel(
        objects=_per_place(lambda org: _institution_of(org)),
        visibility=SUPERVISION_VISIBILITY,
    ),
    supervision.Clue: ScopedModel(
        objects=_per_place(lambda org: supervision_factories.clue(_institution_of(org))),
        visibility=SUPERVISION_VISIBILITY,
    ),
    # A visit's photo is seen with its institution.
    supervision.VisitPhoto: ScopedModel(
        objects=_per_place(
            lambda org: supervision_factories.visit_photo(
                supervision_factories.visit_row(_institution_of(org), supervision_factories.instructor(org))
            )
        ),
        visibility=SUPERVISION_VISIBILITY,
    ),
    # Appointments are seen over the appointing organization; pairings over either branch.
    supervision.InstructorAppointment: ScopedModel(
        objects=_per_place(lambda org: supervision_factories.instructor(org)),
        visibility=SUPERVISION_VISIBILITY,
    ),
    supervision.Pairing: ScopedModel(
        objects=_per_place(lambda org: supervision_factories.PairingFactory(school_branch=org)),
        visibility=SUPERVISION_VISIBILITY,
    ),
    # People on the development path: seen by the roles that act in it (committee staff, secretaries) only.
    Candidate: ScopedModel(objects=_per_place(development_candidate), visibility=DEVELOPMENT_VISIBILITY),
    # Exams: banks and papers are seen over their organization (a member sees only the papers they are assigned to,
    # none here); an attempt like its member.
    exams.QuestionBank: ScopedModel(
        objects=_per_place(lambda org: exam_factories.QuestionBankFactory(organization=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    exams.Paper: ScopedModel(
        objects=_per_place(lambda org: exam_factories.PaperFactory(organization=org)),
        visibility=SCHOOL_VISIBILITY,
    ),
    exams.Attempt: ScopedModel(
        objects=lambda w: {
            "A": exam_factories.attempt_of(w.self_member),
            "B": exam_factories.attempt_of(w.members["B"][0]),
            "X": exam_factories.attempt_of(w.members["X"][0]),
        },
        visibility=MEMBER_VISIBILITY,
    ),
    # Online material follows its catalog course (the member user sees none: nothing is offered in the world).
    OnlineMaterial: ScopedModel(
        objects=_per_place(lambda org: learning_factories.online_course(org)[1]),
        visibility=SCHOOL_VISIBILITY,
    ),
    Certificate: ScopedModel(
        objects=lambda w: {
            "A": learning_factories.certificate(w.self_member),
            "B": learning_factories.certificate(w.members["B"][0]),
            "X": learning_factories.certificate(w.members["X"][0]),
        },
        visibility=MEMBER_VISIBILITY,
    ),
    Notification: ScopedModel(objects=_notifications, visibility=NOTIFICATION_VISIBILITY),
    Job: ScopedModel(objects=_jobs, visibility=NOTIFICATION_VISIBILITY),
    User: ScopedModel(
        objects=lambda w: {place: g.user for place, g in _grants(w).items()},
        visibility=ACCOUNT_VISIBILITY,
    ),
    RoleAssignment: ScopedModel(objects=_grants, visibility=ACCOUNT_VISIBILITY),
}


def _post_of(world: World, member) -> int:
    assert isinstance(member, Member), "post_pk belongs to a member URL"
    return PartyPostFactory(member=member, organization=member.organization).pk


# Keyword arguments other than `pk`: how to build one for the URL's primary object.
def _attachment_of(world: World, record) -> int:
    assert isinstance(record, ActivityRecord), "attachment_pk belongs to a record URL"
    return orglife_factories.RecordAttachmentFactory(record=record).pk


EXTRA_KWARGS: dict[str, Callable[[World, object], object]] = {
    "post_pk": _post_of,
    "attachment_pk": _attachment_of,
}


def _check_known(entry: UrlEntry) -> None:
    """Fail (never skip) on a URL this test cannot build, so that adding one forces updating the test."""
    if not entry.supported:
        pytest.fail(f"{entry.route}: only path() routes are supported by the scope test; teach tests/scope.py")
    if entry.name in PUBLIC_ARGUMENTS:
        return
    unknown = [k for k in entry.kwargs if k != "pk" and k not in EXTRA_KWARGS]
    if unknown:
        pytest.fail(f"{entry.route}: unknown URL argument(s) {unknown}; register them in EXTRA_KWARGS")
    if entry.kwargs and "pk" not in entry.kwargs:
        pytest.fail(f"{entry.route}: takes {list(entry.kwargs)} but no pk; teach the scope test this URL")
    if "pk" in entry.kwargs:
        if entry.scope_model is None:
            pytest.fail(f"{entry.route}: a view taking pk must be decorated with @scoped(Model)")
        if entry.scope_model not in SCOPED_MODELS:
            pytest.fail(f"{entry.route}: model {entry.scope_model.__name__} is not registered in SCOPED_MODELS")


def _urls_by_place(entry: UrlEntry, world: World) -> dict[str, str]:
    """The URL built for an object of each place; {"": url} for a URL without arguments."""
    _check_known(entry)
    if entry.name in PUBLIC_ARGUMENTS:
        return {"": entry.build(PUBLIC_ARGUMENTS[entry.name](world))}
    if not entry.kwargs:
        return {"": entry.build({})}
    spec = SCOPED_MODELS[entry.scope_model]
    urls = {}
    for place, obj in spec.objects(world).items():
        values = {"pk": obj.pk}
        values.update({k: EXTRA_KWARGS[k](world, obj) for k in entry.kwargs if k != "pk"})
        urls[place] = entry.build(values)
    return urls


def _missing_url(entry: UrlEntry, world: World) -> str:
    """The URL for an object that does not exist (every argument a pk no row has)."""
    return entry.build(dict.fromkeys(entry.kwargs, 10**9))


def _visible_member_names(world: World, role: str) -> set[str]:
    if role == Role.MEMBER:
        return {world.self_member.name}
    return world.member_names(*MEMBER_VISIBILITY[role]) if MEMBER_VISIBILITY[role] else set()


def _hidden_member_names(world: World, role: str) -> set[str]:
    return world.member_names() - _visible_member_names(world, role)


def _body(response) -> str:
    if response.streaming:
        content = b"".join(response.streaming_content)
        response.streaming_content = [content]  # readable again
        return content.decode(errors="replace")
    return response.content.decode(errors="replace")


def _assert_no_leak(response, names: set[str], what: str) -> None:
    body = _body(response)
    leaked = sorted(name for name in names if name in body)
    assert not leaked, f"{what} shows {leaked}"


def _login_path(entry: UrlEntry) -> str:
    return reverse("admin:login") if entry.is_admin else reverse("login")


@pytest.mark.parametrize("entry", URLS, ids=[e.id for e in URLS])
def test_url_is_known_to_the_scope_test(entry):
    _check_known(entry)


@pytest.mark.parametrize("entry", URLS, ids=[e.id for e in URLS])
def test_anonymous_is_sent_to_login(entry, world):
    client = world.client(None)
    for place, url in _urls_by_place(entry, world).items():
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            what = f"anonymous {method.upper()} {url} (place {place or '-'})"
            if entry.name in PUBLIC_URLS:
                assert response.status_code in {200, 302}, what
                continue
            assert response.status_code == 302, f"{what}: {response.status_code}"
            assert response["Location"].startswith(_login_path(entry)), f"{what} → {response['Location']}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", URLS, ids=[e.id for e in URLS])
def test_scope_for_role(entry, role, world):
    urls = _urls_by_place(entry, world)
    client = world.client(role)
    hidden_names = _hidden_member_names(world, role)

    if not entry.kwargs or entry.name in PUBLIC_ARGUMENTS:
        url = urls[""]
        get = client.get(url)
        assert get.status_code in {200, 302, 403}, f"{role} GET {url}: {get.status_code}"
        _assert_no_leak(get, hidden_names, f"{role} GET {url}")
        post = client.post(url)
        assert post.status_code in {200, 302, 403, 405}, f"{role} POST {url}: {post.status_code}"
        _assert_no_leak(post, hidden_names, f"{role} POST {url}")
        return

    visible = SCOPED_MODELS[entry.scope_model].visibility[role]
    missing = _missing_url(entry, world)
    missing_get = client.get(missing).status_code
    assert missing_get in {404, 405}, f"{role} GET {missing} (no such object): {missing_get}"
    assert client.post(missing).status_code == 404, f"{role} POST {missing} (no such object)"

    for place, url in urls.items():
        get = client.get(url)
        post = client.post(url)
        what = f"{role} on {url} (object of place {place})"
        if place in visible:
            assert get.status_code in {200, 403, 405}, f"{what}: GET {get.status_code}"
            assert post.status_code in {200, 302, 403}, f"{what}: POST {post.status_code}"
        else:
            # Out of scope answers exactly like a nonexistent object.
            assert get.status_code == missing_get, f"{what}: GET {get.status_code}, expected {missing_get}"
            assert post.status_code == 404, f"{what}: POST {post.status_code}, expected 404"
        _assert_no_leak(get, hidden_names, f"{what} GET")
        _assert_no_leak(post, hidden_names, f"{what} POST")

    # A secondary object (post_pk …) of another scope under a visible primary object is not found either.
    secondary = [k for k in entry.kwargs if k != "pk"]
    if secondary and "A" in visible:
        objects = SCOPED_MODELS[entry.scope_model].objects(world)
        values = {"pk": objects["A"].pk}
        values.update({k: EXTRA_KWARGS[k](world, objects["X"]) for k in secondary})
        url = entry.build(values)
        assert client.post(url).status_code == 404, f"{role} POST {url}: a foreign {secondary} must be 404"


# ---------------------------------------------------------------------------------------------------------
# List pages: what each role's lists show.


def _org_names(world: World, places) -> set[str]:
    by_place = {"A": ["A"], "B": ["B"], "X": ["X", "XB"]}
    return {world.orgs[key].name for place in places for key in by_place[place]}


def _unit_names(world: World, places) -> set[str]:
    return {world.units[place].name for place in places}


@pytest.mark.parametrize("role", ROLES)
def test_member_list_shows_only_members_in_scope(world, role):
    response = world.client(role).get("/members/", {"per_page": 200})
    if not MEMBER_VISIBILITY[role]:
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        body = response.content.decode()
        for name in _visible_member_names(world, role):
            assert name in body
    _assert_no_leak(response, _hidden_member_names(world, role), f"/members/ for {role}")


@pytest.mark.parametrize("role", ROLES)
def test_unit_list_shows_only_units_in_scope(world, role):
    response = world.client(role).get("/orgs/units/", {"per_page": 200})
    visible = STRUCTURE_VISIBILITY[role]
    if not visible:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    body = response.content.decode()
    for name in _unit_names(world, visible):
        assert name in body
    _assert_no_leak(response, _unit_names(world, {"A", "B", "X"} - visible), f"/orgs/units/ for {role}")
    _assert_no_leak(response, _hidden_member_names(world, role), f"/orgs/units/ for {role}")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("query", [None, "党支部", "临湖", "高二", "BJ", "LH"], ids=lambda q: f"q={q}")
def test_org_tree_and_search_show_only_orgs_in_scope(world, role, query):
    response = world.client(role).get("/orgs/", {"q": query} if query else {})
    visible = STRUCTURE_VISIBILITY[role]
    if not visible:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    hidden = _org_names(world, {"A", "B", "X"} - visible)
    _assert_no_leak(response, hidden, f"/orgs/?q={query} for {role}")
    if query == "党支部":
        for name in _org_names(world, visible - {"X"}):
            assert name in response.content.decode()


# Transfers (组织关系接转): a pending transfer A → B, and one inside the other tree (XB → LH02). Each side sees
# its own; the receiving side sees the member in transfer, read-only, and nobody sees the other tree's.
TRANSFER_VISIBILITY: dict[str, bool] = {
    Role.SYSTEM_ADMIN: False,
    Role.SECURITY_ADMIN: False,
    Role.AUDIT_ADMIN: False,
    Role.COMMITTEE: True,
    Role.SCHOOL_ADMIN: True,
    Role.SECRETARY: True,  # the sending side
    Role.INSTRUCTOR: True,  # the receiving side (a viewer of B)
    Role.MEMBER: False,  # not their own transfer
}


@pytest.fixture
def transfers(world):
    moving = world.members["A"][1]
    member_transfer_start(by=world.user(Role.SECRETARY), member=moving, to_organization=world.orgs["B"])
    other = OrganizationFactory(parent=world.orgs["X"], code="LH02", name="临湖二小党支部", kind=OrgKind.BRANCH)
    member_transfer_start(by=Access.system_access(), member=world.members["X"][0], to_organization=other)
    return moving


@pytest.mark.parametrize("role", ROLES)
def test_transfer_list_shows_only_transfers_in_scope(world, transfers, role):
    response = world.client(role).get("/members/transfers/")
    if not MEMBER_VISIBILITY[role]:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert (transfers.name in response.content.decode()) is TRANSFER_VISIBILITY[role]
    _assert_no_leak(response, world.member_names("X"), f"/members/transfers/ for {role}")
    if not TRANSFER_VISIBILITY[role]:
        _assert_no_leak(response, _hidden_member_names(world, role), f"/members/transfers/ for {role}")


@pytest.mark.parametrize("role", ROLES)
def test_a_member_in_transfer_is_seen_by_both_sides_only(world, transfers, role):
    """The member list and the member page: the receiving side (B) sees the member in transfer, and
    nobody else than the two sides does; the other tree's member in transfer stays hidden from everybody."""
    client = world.client(role)
    sees = bool({"A", "B"} & MEMBER_VISIBILITY[role]) and role != Role.MEMBER
    assert (client.get(f"/members/{transfers.pk}/").status_code == 200) is sees
    response = client.get("/members/", {"per_page": 200})
    if response.status_code == 200:
        names = {m.name for m in response.context["page"].object_list}
        assert (transfers.name in names) is sees
        assert world.members["X"][0].name not in names
        if role == Role.INSTRUCTOR:
            assert names == {transfers.name, *world.member_names("B")}


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_the_three_admins_get_403_on_the_member_list(world, role):
    assert world.client(role).get("/members/").status_code == 403


# ---------------------------------------------------------------------------------------------------------
# The Django admin: the system admin (accounts, structure) and the security admin (role grants) only, and
# no member data in it.


@pytest.mark.parametrize("role", ROLES)
def test_admin_index_is_for_the_system_and_security_admins_only(world, role):
    response = world.client(role).get("/admin/")
    if role in (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
        assert response.status_code == 200
    else:
        assert response.status_code in {302, 403}
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("admin:login"))


def test_admin_member_changelist_shows_no_member_to_the_system_admin(world):
    response = world.client(Role.SYSTEM_ADMIN).get("/admin/members/member/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    _assert_no_leak(response, world.member_names(), "admin member changelist")


def test_admin_member_changelist_is_closed_to_business_roles(world):
    for role in ROLES:
        if role == Role.SYSTEM_ADMIN:
            continue
        response = world.client(role).get("/admin/members/member/")
        assert response.status_code in {302, 403}, role
        _assert_no_leak(response, world.member_names(), f"admin member changelist for {role}")


def test_admin_user_changelist_works_for_the_system_admin(world):
    response = world.client(Role.SYSTEM_ADMIN).get("/admin/accounts/user/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == get_user_model().objects.count()
