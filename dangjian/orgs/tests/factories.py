"""Factories of organizations and units (党组织 / 单位).

Organizations are nodes of a treebeard tree: they are created through `add_root` / `add_child` so that
path, depth and numchild are right. Pass `parent=` to create a child.
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    code = factory.Sequence(lambda n: f"ORG{n:05d}")
    name = factory.Sequence(lambda n: f"测试党组织{n:05d}")
    kind = OrgKind.BRANCH
    established_on = None

    @classmethod
    def _create(cls, model_class, *args, parent: Organization | None = None, **kwargs):
        instance = model_class(*args, **kwargs)
        if parent is None:
            return model_class.objects.add_root(instance=instance)
        return model_class.objects.add_child(parent, instance=instance)


def credit_code(n: int) -> str:
    """A well-formed, unique 统一社会信用代码 (18 characters from the allowed alphabet)."""
    return f"52110000{n:010d}"


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    name = factory.Sequence(lambda n: f"测试单位{n:05d}")
    kind = UnitKind.SCHOOL
    credit_code = factory.Sequence(credit_code)
    address = ""
    organization = None
    managing_organization = None
