"""A small district for the supervision tests:

益阳区教育工委 R (work committee)              committee user
├── 民办教育机构党委 P (committee)
│   ├── 城东联合党支部 J1 (joint branch)
│   └── 城西联合党支部 J2 (joint branch)
└── 实验小学党支部 S (branch, covering a public school)
外区教育工委 X (another root, out of scope)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import UserFactory, grant
from dangjian.orgs.models import Organization, OrgKind, UnitKind
from dangjian.orgs.tests.factories import OrganizationFactory, UnitFactory

TODAY = dt.date(2024, 6, 15)


@dataclass
class District:
    r: Organization
    p: Organization
    j1: Organization
    j2: Organization
    s: Organization
    x: Organization
    school: object
    committee: object
    outsider: object


@pytest.fixture
def district(db) -> District:
    r = OrganizationFactory(code="YY", name="益阳区教育工委", kind=OrgKind.WORK_COMMITTEE)
    p = OrganizationFactory(parent=r, code="YY-P", name="民办教育机构党委", kind=OrgKind.COMMITTEE)
    j1 = OrganizationFactory(parent=p, code="YY-P1", name="城东联合党支部", kind=OrgKind.JOINT_BRANCH)
    j2 = OrganizationFactory(parent=p, code="YY-P2", name="城西联合党支部", kind=OrgKind.JOINT_BRANCH)
    s = OrganizationFactory(parent=r, code="YY-S", name="实验小学党支部", kind=OrgKind.BRANCH)
    x = OrganizationFactory(code="WQ", name="外区教育工委", kind=OrgKind.WORK_COMMITTEE)
    school = UnitFactory(name="益阳实验小学", kind=UnitKind.SCHOOL, organization=s, managing_organization=r)
    committee = UserFactory(username="yy_committee")
    grant(committee, Role.COMMITTEE, r)
    outsider = UserFactory(username="wq_committee")
    grant(outsider, Role.COMMITTEE, x)
    return District(r, p, j1, j2, s, x, school, committee, outsider)
