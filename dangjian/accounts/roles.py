"""The roles of Dangjian and what each may do (docs/rules.md, "Who uses it").

A role is granted on an organization and covers its whole subtree. The three admin roles
(三员分立) are granted without an organization and see no member data.
"""

from django.db import models


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDIT_ADMIN = "audit_admin", "审计管理员"
    COMMITTEE = "committee", "工委工作人员"
    SCHOOL_ADMIN = "school_admin", "党校管理员"
    SECRETARY = "secretary", "支部书记"
    INSTRUCTOR = "instructor", "党建指导员"
    MEMBER = "member", "党员"


ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
BUSINESS_ROLES = frozenset(set(Role) - ADMIN_ROLES)

# Roles whose grant lets the holder see the organizations and the members of the granted subtree.
SUBTREE_VIEW_ROLES = frozenset({Role.COMMITTEE, Role.SCHOOL_ADMIN, Role.SECRETARY, Role.INSTRUCTOR})
# Roles that may create and edit member records in their subtree.
MEMBER_EDIT_ROLES = frozenset({Role.COMMITTEE, Role.SECRETARY})
# Roles that may create, edit and move organizations below their subtree root.
ORG_EDIT_ROLES = frozenset({Role.COMMITTEE})
# Roles that see party-school data (schools, catalog, instructor pool, bookings, evaluations) in their subtree,
# and those of them that run it.
SCHOOL_VIEW_ROLES = frozenset({Role.COMMITTEE, Role.SCHOOL_ADMIN, Role.SECRETARY, Role.INSTRUCTOR})
SCHOOL_MANAGE_ROLES = frozenset({Role.COMMITTEE, Role.SCHOOL_ADMIN})
