"""The organization tree (党组织) and the units (单位) organizations are attached to."""

from __future__ import annotations

from typing import TypeVar

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from dangjian.accounts.access import access_for
from dangjian.core.models import TimeStampedModel
from dangjian.core.validators import validate_not_future


class OrgKind(models.TextChoices):
    WORK_COMMITTEE = "work_committee", "工委"
    COMMITTEE = "committee", "党委"
    GENERAL_BRANCH = "general_branch", "党总支"
    BRANCH = "branch", "党支部"
    JOINT_BRANCH = "joint_branch", "联合党支部"
    TEMPORARY_BRANCH = "temporary_branch", "临时党支部"


BRANCH_KINDS = frozenset({OrgKind.BRANCH, OrgKind.JOINT_BRANCH, OrgKind.TEMPORARY_BRANCH})

org_code_validator = RegexValidator(
    r"^[0-9A-Za-z][0-9A-Za-z_-]{1,31}$", "党组织编码只能由字母、数字、下划线或短横线组成，长度2-32位。"
)


def subtree_q(paths, field: str = "path") -> Q:
    """Rows whose organization path lies under any of `paths`; matches nothing for no paths.

    A prefix match on the materialized path: one indexed range scan per root on both databases.
    """
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def ancestor_paths(paths) -> list[str]:
    """Every proper ancestor path of the given organization paths, sorted (the tree's steps of 4 characters):
    for rows that apply downwards, like a district's catalog or policies."""
    step = Organization.steplen
    return sorted({path[:i] for path in paths for i in range(step, len(path), step)})


# The model of a queryset shared by several models (the scoped and the downward-rule ones).
_M = TypeVar("_M", bound=models.Model)


class DownwardRuleQuerySet(models.QuerySet[_M]):
    """Policy rows that apply downwards (duties, term and setup rules, points rules …): each has an `owner`
    organization (None: the whole system), an `active` flag and a range of years `valid_from`–`valid_to`. A user
    sees the system's rules, those owned inside their subtrees and those of an ancestor of one (they apply to it)."""

    def visible_to(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        roots = access.view_roots
        return self.filter(
            Q(owner__isnull=True) | subtree_q(roots, "owner__path") | Q(owner__path__in=ancestor_paths(roots))
        )

    def valid_in(self, year: int):
        return self.filter(active=True, valid_from__lte=year).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))

    def dangerously_all(self):
        return self.all()


class ScopedQuerySet(models.QuerySet[_M]):
    """The one scoped queryset of the rows that belong to an organization reached through `scope_field`: seen by
    whoever views that organization's subtree (`scope_roots`: the view roots by default; an app narrows them to its
    roles' roots), and with `own_branch` also by a member of that very organization (their own branch).
    `scoped_queryset(field, …)` makes one for a field; `dangerously_all()` is the named bypass."""

    scope_field = "organization"
    own_branch = False

    def scope_roots(self, access) -> tuple[str, ...]:
        return access.view_roots

    def visible_to(self, user):
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(self.scope_roots(access), f"{self.scope_field}__path")
        if self.own_branch:
            q |= Q(**{f"{self.scope_field}_id__in": access.own_org_ids})
        return self.filter(q)

    def in_subtree(self, org: Organization):
        return self.filter(**{f"{self.scope_field}__path__startswith": org.path})

    def dangerously_all(self):
        """Every row, with no scope: for jobs, commands and migrations only."""
        return self.all()


def scoped_queryset(field: str, *, own_branch: bool = False, base: type[ScopedQuerySet] = ScopedQuerySet) -> type:
    """A `base` subclass scoped through `field` (e.g. "school__organization")."""
    return type(f"{base.__name__}_{field}", (base,), {"scope_field": field, "own_branch": own_branch})


class OrganizationQuerySet(MP_NodeQuerySet):
    def visible_to(self, user) -> OrganizationQuerySet:
        """The organizations the user may see: their granted subtrees, their own branch as a member,
        the whole structure for the system admin."""
        access = access_for(user)
        if access.system or access.all_structure:
            return self.all()
        q = subtree_q(access.view_roots) | Q(pk__in=access.own_org_ids)
        return self.filter(q)

    def in_subtree(self, org: Organization) -> OrganizationQuerySet:
        return self.filter(path__startswith=org.path)

    def within(self, roots) -> OrganizationQuerySet:
        """The organizations under any of `roots` (paths or organizations), the roots included; none for no roots."""
        return self.filter(subtree_q([getattr(root, "path", root) for root in roots]))

    def granted_to(self, user, roles=None) -> OrganizationQuerySet:
        """The organizations in the subtrees `user` holds — by any of `roles` when given, else every subtree they
        view; everything for the system access of a job or command. Where a page lets a user pick an organization
        for a report or a rule, this is the list it picks from."""
        access = access_for(user)
        if access.system:
            return self.all()
        return self.within(access.roots_of(roles) if roles is not None else access.view_roots)

    def grant_roots(self, user, roles) -> OrganizationQuerySet:
        """The organizations at the roots of `user`'s grants of any of `roles` (a secretary's branch, a committee's
        root), in tree order — for the lists that answer per grant. None for the system access, which holds none."""
        return self.filter(path__in=access_for(user).roots_of(roles)).order_by("path")

    def dangerously_all(self) -> OrganizationQuerySet:
        """Every organization, with no scope: for jobs, commands and migrations only."""
        return self.all()


class OrganizationManager(MP_NodeManager.from_queryset(OrganizationQuerySet)):
    def get_queryset(self) -> OrganizationQuerySet:
        # treebeard's manager hard-codes its own queryset class; keep its tree ordering, use ours.
        return OrganizationQuerySet(self.model, using=self._db).order_by("path")


class Organization(MP_Node, TimeStampedModel):
    """A party organization (党组织): one node of the tree, from the work committee down to branches.

    The tree is a materialized path (django-treebeard MP_Node): everything under an organization is
    one prefix query on `path`, on SQLite and PostgreSQL alike.
    """

    steplen = 4
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    code = models.CharField(
        "党组织编码",
        max_length=32,
        unique=True,
        validators=[org_code_validator],
        error_messages={"unique": "党组织编码已存在，请换一个编码。"},
    )
    name = models.CharField("党组织名称", max_length=100)
    kind = models.CharField("组织类别", max_length=20, choices=OrgKind.choices)
    established_on = models.DateField("成立日期", null=True, blank=True, validators=[validate_not_future])
    history = HistoricalRecords(excluded_fields=["path", "depth", "numchild"])

    objects = OrganizationManager()

    class Meta:
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' under any collation;
            # other databases ignore the operator class.
            models.Index(fields=["path"], name="org_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind"], name="org_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orgs:detail", args=[self.pk])

    @property
    def is_branch(self) -> bool:
        return self.kind in BRANCH_KINDS


class UnitKind(models.TextChoices):
    SCHOOL = "school", "学校"
    BUREAU = "bureau", "教育行政机关"
    TRAINING_INSTITUTION = "training_institution", "校外培训机构"
    OTHER = "other", "其他"


class UnitQuerySet(models.QuerySet["Unit"]):
    def visible_to(self, user) -> UnitQuerySet:
        """Units whose covering or managing organization the user may see."""
        access = access_for(user)
        if access.system or access.all_structure:
            return self.all()
        q = (
            subtree_q(access.view_roots, "organization__path")
            | subtree_q(access.view_roots, "managing_organization__path")
            | Q(organization_id__in=access.own_org_ids)
        )
        return self.filter(q)

    def dangerously_all(self) -> UnitQuerySet:
        return self.all()


class Unit(TimeStampedModel):
    """A unit (单位): a school, an education bureau or an off-campus training institution.

    `organization` is the party organization that covers it (a joint branch covers several units);
    `managing_organization` is the committee responsible for it, which still sees it while uncovered.
    """

    name = models.CharField("单位名称", max_length=100)
    kind = models.CharField("单位类型", max_length=32, choices=UnitKind.choices)
    credit_code = models.CharField(
        "统一社会信用代码",
        max_length=18,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-HJ-NPQRTUWXY]{18}$", "统一社会信用代码应为18位数字或大写字母。")],
    )
    address = models.CharField("地址", max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name="所属党组织",
    )
    managing_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_units",
        verbose_name="主管党组织",
    )
    history = HistoricalRecords()

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="unit_credit_code_unique",
                violation_error_message="统一社会信用代码已存在。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("orgs:unit_detail", args=[self.pk])
