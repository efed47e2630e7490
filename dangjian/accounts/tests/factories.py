"""Factories of users and role grants (用户 / 角色授权)."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from dangjian.accounts.access import forget_access
from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import ADMIN_ROLES

TEST_PASSWORD = "Dangjian@Test2026"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n:04d}")
    full_name = factory.Sequence(lambda n: f"测试用户{n:04d}")
    is_active = True
    password = factory.django.Password(TEST_PASSWORD)


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = "committee"
    organization = None


def grant(user: User, role: str, organization=None) -> RoleAssignment:
    """Give `user` the `role` over `organization`'s subtree (no organization for the three admins)."""
    if role in ADMIN_ROLES and organization is not None:
        raise ValueError("三员角色不指定党组织")
    assignment = RoleAssignmentFactory(user=user, role=role, organization=organization)
    forget_access(user)
    return assignment


def user_with_role(role: str, organization=None, **kwargs) -> User:
    """A new user holding one role (over `organization` for the business roles)."""
    user = UserFactory(**kwargs)
    grant(user, role, organization)
    return user
