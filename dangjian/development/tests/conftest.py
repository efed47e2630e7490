from __future__ import annotations

from dataclasses import dataclass

import pytest

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.development.tests.factories import full_members
from dangjian.orgs.models import OrgKind
from dangjian.orgs.tests.factories import OrganizationFactory


@dataclass
class Place:
    committee: object
    branch: object
    other_branch: object
    secretary: object
    other_secretary: object
    committee_user: object
    members: list


@pytest.fixture
def place(db) -> Place:
    committee = OrganizationFactory(kind=OrgKind.COMMITTEE, code="DEVC", name="实验中学党委")
    branch = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH, code="DEVA", name="高一党支部")
    other = OrganizationFactory(parent=committee, kind=OrgKind.BRANCH, code="DEVB", name="高二党支部")
    secretary, other_secretary, committee_user = UserFactory(), UserFactory(), UserFactory()
    grant(secretary, Role.SECRETARY, branch)
    grant(other_secretary, Role.SECRETARY, other)
    grant(committee_user, Role.COMMITTEE, committee)
    return Place(committee, branch, other, secretary, other_secretary, committee_user, full_members(branch, 3))
