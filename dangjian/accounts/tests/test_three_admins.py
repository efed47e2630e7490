"""三员分立: the system, security and audit admins are exclusive roles, enforced by the service and the database;
only the security admin grants; none of the three sees member data; grants and revocations are audited."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dangjian.accounts import services
from dangjian.accounts.models import RoleAssignment, RoleKind
from dangjian.accounts.roles import ADMIN_ROLES, Role
from dangjian.accounts.tests.factories import UserFactory
from dangjian.audit.models import AuditAction, AuditEvent

ADMINS = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)


def snapshot():
    """What a refused grant must leave untouched: the grants, their history, and the audit trail."""
    return (
        list(RoleAssignment.objects.order_by("pk").values_list("pk", "user_id", "role", "organization_id")),
        RoleAssignment.history.count(),
        AuditEvent.objects.count(),
    )


def grant(world, user, role, org_key=None):
    organization = world.orgs[org_key] if org_key else None
    return services.role_grant(by=world.user(Role.SECURITY_ADMIN), user=user, role=role, organization=organization)


def assert_three_admins_refusal(caught) -> None:
    assert any("三员分立" in message for message in caught.value.messages), caught.value.messages


# ---------------------------------------------------------------------------------------------------------
# The service refuses every mix, and writes nothing.


@pytest.mark.parametrize("first", ADMINS)
@pytest.mark.parametrize("second", ADMINS)
def test_a_second_admin_role_is_refused(world, first, second):
    user = UserFactory()
    grant(world, user, first)
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        grant(world, user, second)
    assert_three_admins_refusal(caught)
    assert snapshot() == before


@pytest.mark.parametrize("admin_role", ADMINS)
def test_an_admin_role_beside_a_business_role_is_refused(world, admin_role):
    user = UserFactory()
    grant(world, user, Role.SECRETARY, "A")
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        grant(world, user, admin_role)
    assert_three_admins_refusal(caught)
    assert snapshot() == before


@pytest.mark.parametrize("admin_role", ADMINS)
@pytest.mark.parametrize("business_role", [Role.COMMITTEE, Role.SECRETARY, Role.MEMBER])
def test_a_business_role_beside_an_admin_role_is_refused(world, admin_role, business_role):
    user = UserFactory()
    grant(world, user, admin_role)
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        grant(world, user, business_role, "A")
    assert_three_admins_refusal(caught)
    assert snapshot() == before


def test_the_world_admins_cannot_take_a_business_role(world):
    for role in ADMINS:
        before = snapshot()
        with pytest.raises(ValidationError):
            grant(world, world.user(role), Role.COMMITTEE, "C1")
        assert snapshot() == before


def test_several_business_roles_are_allowed(world):
    user = UserFactory()
    grant(world, user, Role.SECRETARY, "A")
    grant(world, user, Role.INSTRUCTOR, "B")
    assert set(user.role_assignments.values_list("role", flat=True)) == {Role.SECRETARY, Role.INSTRUCTOR}
    assert set(user.role_assignments.values_list("kind", flat=True)) == {RoleKind.BUSINESS}


def test_an_admin_role_is_granted_without_an_organization(world):
    user = UserFactory()
    assignment = grant(world, user, Role.AUDIT_ADMIN)
    assert assignment.kind == RoleKind.ADMIN
    before = snapshot()
    with pytest.raises(ValidationError):
        grant(world, UserFactory(), Role.AUDIT_ADMIN, "A")
    with pytest.raises(ValidationError):
        grant(world, UserFactory(), Role.SECRETARY)
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# Bypassing the service: the database refuses (partial unique index and the 0003 trigger).


def refused_by_database(write) -> None:
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        write()
    assert snapshot() == before


@pytest.mark.parametrize("admin_role", ADMINS)
def test_create_of_a_second_admin_role_is_refused_by_the_database(world, admin_role):
    other = next(r for r in ADMINS if r != admin_role)
    user = world.user(admin_role)
    refused_by_database(lambda: RoleAssignment.objects.create(user=user, role=other))


@pytest.mark.parametrize("admin_role", ADMINS)
def test_create_of_a_business_role_beside_an_admin_role_is_refused_by_the_database(world, admin_role):
    user = world.user(admin_role)
    refused_by_database(
        lambda: RoleAssignment.objects.create(user=user, role=Role.COMMITTEE, organization=world.orgs["C1"])
    )


@pytest.mark.parametrize("admin_role", ADMINS)
def test_create_of_an_admin_role_beside_a_business_role_is_refused_by_the_database(world, admin_role):
    user = world.user(Role.SECRETARY)
    refused_by_database(lambda: RoleAssignment.objects.create(user=user, role=admin_role))


def test_bulk_create_of_mixed_roles_is_refused_by_the_database(world):
    user = UserFactory()
    rows = [
        RoleAssignment(user=user, role=Role.SYSTEM_ADMIN, kind=RoleKind.ADMIN),
        RoleAssignment(user=user, role=Role.SECRETARY, organization=world.orgs["A"], kind=RoleKind.BUSINESS),
    ]
    refused_by_database(lambda: RoleAssignment.objects.bulk_create(rows))


def test_bulk_create_of_two_admin_roles_is_refused_by_the_database(world):
    user = UserFactory()
    rows = [
        RoleAssignment(user=user, role=Role.SYSTEM_ADMIN, kind=RoleKind.ADMIN),
        RoleAssignment(user=user, role=Role.AUDIT_ADMIN, kind=RoleKind.ADMIN),
    ]
    refused_by_database(lambda: RoleAssignment.objects.bulk_create(rows))


def test_bulk_create_beside_an_existing_admin_role_is_refused_by_the_database(world):
    user = world.user(Role.AUDIT_ADMIN)
    rows = [RoleAssignment(user=user, role=Role.MEMBER, organization=world.orgs["A"], kind=RoleKind.BUSINESS)]
    refused_by_database(lambda: RoleAssignment.objects.bulk_create(rows))


def test_bulk_create_with_a_kind_that_does_not_match_the_role_is_refused(world):
    user = world.user(Role.AUDIT_ADMIN)
    # A business role disguised as an admin grant: the check constraint ties kind to role.
    rows = [RoleAssignment(user=user, role=Role.COMMITTEE, kind=RoleKind.ADMIN)]
    refused_by_database(lambda: RoleAssignment.objects.bulk_create(rows))


def test_turning_a_business_grant_into_an_admin_grant_by_update_is_refused(world):
    user = UserFactory()
    grant(world, user, Role.SECRETARY, "A")
    second = grant(world, user, Role.INSTRUCTOR, "B")
    refused_by_database(
        lambda: RoleAssignment.objects.filter(pk=second.pk).update(
            role=Role.SYSTEM_ADMIN, organization=None, kind=RoleKind.ADMIN
        )
    )


# ---------------------------------------------------------------------------------------------------------
# Only the security admin grants and revokes.


@pytest.mark.parametrize("by_role", [Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN, Role.COMMITTEE, Role.SECRETARY])
def test_only_the_security_admin_may_grant(world, by_role):
    user = UserFactory()
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.role_grant(by=world.user(by_role), user=user, role=Role.SECRETARY, organization=world.orgs["A"])
    assert snapshot() == before


@pytest.mark.parametrize("by_role", [Role.SYSTEM_ADMIN, Role.COMMITTEE])
def test_only_the_security_admin_may_revoke(world, by_role):
    assignment = RoleAssignment.objects.get(user=world.user(Role.SECRETARY))
    with pytest.raises(PermissionDenied):
        services.role_revoke(by=world.user(by_role), assignment=assignment)
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_the_security_admin_cannot_grant_themself_a_second_role(world):
    security_admin = world.user(Role.SECURITY_ADMIN)
    with pytest.raises(ValidationError):
        services.role_grant(by=security_admin, user=security_admin, role=Role.AUDIT_ADMIN)
    with pytest.raises(ValidationError):
        services.role_grant(by=security_admin, user=security_admin, role=Role.COMMITTEE, organization=world.orgs["R"])


def test_the_role_admin_pages_are_the_security_admins(world):
    assert world.client(Role.SECURITY_ADMIN).get("/admin/accounts/roleassignment/").status_code == 200
    assert world.client(Role.SYSTEM_ADMIN).get("/admin/accounts/roleassignment/").status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Grants and revocations are audited.


def test_a_grant_is_audited(world):
    user = UserFactory(username="grant_target")
    assignment = grant(world, user, Role.SECRETARY, "A")
    event = AuditEvent.objects.get(action=AuditAction.GRANT, object_id=str(assignment.pk))
    assert event.object_type == "accounts.roleassignment"
    assert event.detail == {"user": "grant_target", "role": "secretary", "organization": world.orgs["A"].pk}


def test_a_revocation_is_audited(world):
    user = UserFactory(username="revoke_target")
    assignment = grant(world, user, Role.SECRETARY, "A")
    pk = assignment.pk
    services.role_revoke(by=world.user(Role.SECURITY_ADMIN), assignment=assignment)
    assert not RoleAssignment.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.REVOKE, object_id=str(pk))
    assert event.detail["user"] == "revoke_target"
    assert event.detail["role"] == "secretary"


def test_a_grant_through_the_admin_is_audited_with_the_request(world):
    user = UserFactory(username="admin_grant_target")
    client = world.client(Role.SECURITY_ADMIN)
    response = client.post(
        "/admin/accounts/roleassignment/add/",
        {"user": user.pk, "role": Role.SECRETARY, "organization": world.orgs["A"].pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assignment = RoleAssignment.objects.get(user=user)
    event = AuditEvent.objects.get(action=AuditAction.GRANT, object_id=str(assignment.pk))
    assert event.actor_id == world.user(Role.SECURITY_ADMIN).pk
    assert event.source_ip == "127.0.0.1"
    assert event.request_id == response["X-Request-ID"]


def test_the_admins_own_log_names_the_new_grant(world):
    """Django's admin log (最近动作) links each addition to its object; the grant saved by the service is it."""
    user = UserFactory()
    world.client(Role.SECURITY_ADMIN).post(
        "/admin/accounts/roleassignment/add/",
        {"user": user.pk, "role": Role.SECRETARY, "organization": world.orgs["A"].pk},
    )
    assignment = RoleAssignment.objects.get(user=user)
    entry = LogEntry.objects.get(action_flag=ADDITION, content_type__model="roleassignment")
    assert entry.object_id == str(assignment.pk)


def test_a_refused_grant_through_the_admin_shows_the_message_and_writes_nothing(world):
    client = world.client(Role.SECURITY_ADMIN)
    before = snapshot()
    response = client.post(
        "/admin/accounts/roleassignment/add/", {"user": world.user(Role.AUDIT_ADMIN).pk, "role": Role.SYSTEM_ADMIN}
    )
    assert response.status_code == 200
    assert "三员分立" in response.content.decode()
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------
# None of the three sees member data.


def member_markers(world) -> list[str]:
    members = [m for ms in world.members.values() for m in ms]
    return [m.name for m in members] + [m.masked_id_number for m in members] + [m.id_number for m in members]


@pytest.mark.parametrize("role", ADMINS)
def test_the_three_admins_get_403_on_the_member_list(world, role):
    assert world.client(role).get("/members/").status_code == 403


@pytest.mark.parametrize("role", ADMINS)
def test_the_three_admins_get_404_on_member_pages(world, role):
    client = world.client(role)
    member = world.self_member
    assert client.get(f"/members/{member.pk}/").status_code == 404
    assert client.get(f"/members/{member.pk}/edit/").status_code == 404
    assert client.post(f"/members/{member.pk}/id-number/").status_code == 404


@pytest.mark.parametrize("role", ADMINS)
def test_the_three_admins_see_no_member_on_their_pages(world, role):
    client = world.client(role)
    org = world.orgs["A"]
    paths = ["/", "/orgs/", f"/orgs/{org.pk}/", "/orgs/units/", "/audit/", "/admin/"]
    for path in paths:
        page = client.get(path).content.decode()
        leaked = [marker for marker in member_markers(world) if marker in page]
        assert leaked == [], (path, leaked)


def test_the_admin_member_changelist_is_empty_for_the_system_admin(world):
    client = world.client(Role.SYSTEM_ADMIN)
    response = client.get("/admin/members/member/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    page = response.content.decode()
    assert [m for m in member_markers(world) if m in page] == []
    # A member's admin page by its id: not found there either.
    detail = client.get(f"/admin/members/member/{world.self_member.pk}/change/", follow=True)
    assert world.self_member.name not in detail.content.decode()


@pytest.mark.parametrize("role", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_the_other_admins_have_no_admin_member_changelist(world, role):
    response = world.client(role).get("/admin/members/member/")
    assert response.status_code in (302, 403)
    assert world.self_member.name not in response.content.decode()


def test_admin_roles_are_exactly_the_three():
    assert frozenset(ADMINS) == ADMIN_ROLES
