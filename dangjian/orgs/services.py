"""State changes of the organization tree. Every page, command and import goes through these."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError

from dangjian.accounts.access import access_for
from dangjian.core.services import service
from dangjian.orgs.models import Organization, Unit


def _check_fields(org: Organization) -> None:
    # Tree bookkeeping fields are filled by treebeard, not by the user.
    org.full_clean(exclude=["path", "depth", "numchild"])


@service
def organization_create(
    *,
    by,
    parent: Organization | None,
    code: str,
    name: str,
    kind: str,
    established_on: dt.date | None = None,
) -> Organization:
    """Add an organization under `parent` (a root when None: system admin only)."""
    access = access_for(by)
    if parent is None:
        if not (access.system or access.all_structure):
            raise PermissionDenied("只有系统管理员可以创建顶级党组织。")
    else:
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        if not access.can_add_child_to(parent):
            raise PermissionDenied("无权在该党组织下新建组织。")
    org = Organization(code=code.strip(), name=name.strip(), kind=kind, established_on=established_on)
    _check_fields(org)
    if parent is None:
        return Organization.objects.add_root(instance=org)
    return Organization.objects.add_child(parent, instance=org)


@service
def organization_update(*, by, org: Organization, **fields) -> Organization:
    """Change an organization's own fields (code, name, kind, date established); not its place in the tree."""
    allowed = {"code", "name", "kind", "established_on"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"organization_update does not change {sorted(unknown)}")
    access = access_for(by)
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if not access.can_edit_org(org):
        raise PermissionDenied("无权修改该党组织。")
    for name, value in fields.items():
        setattr(org, name, value.strip() if isinstance(value, str) else value)
    _check_fields(org)
    org.save()
    return org


@service
def organization_move(*, by, org: Organization, new_parent: Organization) -> Organization:
    """Move an organization, with its whole subtree, under `new_parent`.

    Refuses a move into the organization's own subtree (it would make a cycle). Both rows are locked
    first, so two concurrent moves cannot interleave their path rewrites.
    """
    access = access_for(by)
    locked = {o.pk: o for o in Organization.objects.select_for_update().filter(pk__in=[org.pk, new_parent.pk])}
    org, new_parent = locked[org.pk], locked[new_parent.pk]
    if not access.can_edit_org(org) or not access.can_add_child_to(new_parent):
        raise PermissionDenied("无权移动该党组织到目标位置。")
    if new_parent.path.startswith(org.path):
        raise ValidationError({"new_parent": "不能把党组织移动到它自己或它的下级组织之下。"})
    if org.depth == new_parent.depth + 1 and org.path.startswith(new_parent.path):
        raise ValidationError({"new_parent": "该党组织已经在目标上级组织之下。"})
    Organization.objects.move(org, new_parent, pos="last-child")
    org.refresh_from_db()
    return org


@service
def unit_save(*, by, unit: Unit) -> Unit:
    """Create or change a unit; its organizations must lie in the actor's scope."""
    access = access_for(by)
    for org in (unit.organization, unit.managing_organization):
        if org is not None and not access.can_add_child_to(org):
            raise PermissionDenied("所选党组织不在您的管理范围内。")
    if unit.organization is None and unit.managing_organization is None and not access.all_structure:
        raise ValidationError({"managing_organization": "请至少选择所属党组织或主管党组织。"})
    unit.full_clean()
    unit.save()
    return unit
