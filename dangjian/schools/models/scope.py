"""The party schools' scope: the subtree roots of the school roles, rows shared downwards from an ancestor's owner
(`shared_q`), the scoped querysets every school model builds on (`school_scoped`), and the values shared by the
models (the code validator, `ZERO`)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db.models import Q

from dangjian.accounts.access import access_for
from dangjian.orgs.models import ScopedQuerySet, ancestor_paths, subtree_q

school_code_validator = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z_-]{1,31}$", "编码只能由字母、数字、下划线或短横线组成，长度2-32位。"
)
ZERO = Decimal("0")


def school_view_roots(user) -> tuple[str, ...]:
    """The subtree roots in which the user sees party-school data."""
    return access_for(user).school_view_roots


def school_manage_roots(user) -> tuple[str, ...]:
    """The subtree roots in which the user may change party-school data."""
    return access_for(user).school_manage_roots


def shared_q(user, field: str = "owner") -> Q:
    """Rows owned inside the user's school subtrees, or by an ancestor of one of them (shared downwards)."""
    roots = school_view_roots(user)
    return subtree_q(roots, f"{field}__path") | Q(**{f"{field}__path__in": ancestor_paths(roots)})


class SchoolScopedQuerySet(ScopedQuerySet):
    """Party-school rows (`orgs.models.ScopedQuerySet`) seen through the school roles' subtrees; with
    `shared_downwards`, also the rows owned by an ancestor (a district's catalog serves the schools below)."""

    shared_downwards = False

    def scope_roots(self, access) -> tuple[str, ...]:
        return school_view_roots(access)

    def visible_to(self, user):
        if self.shared_downwards and not access_for(user).system:
            return self.filter(shared_q(access_for(user), self.scope_field))
        return super().visible_to(user)

    def manageable_by(self, user):
        """The rows the user may change: owned inside a subtree of a school-managing role."""
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(school_manage_roots(access), f"{self.scope_field}__path"))


def school_scoped(field: str, *, shared: bool = False) -> type[SchoolScopedQuerySet]:
    return type(
        f"SchoolScopedQuerySet_{field}", (SchoolScopedQuerySet,), {"scope_field": field, "shared_downwards": shared}
    )
