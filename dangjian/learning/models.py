"""Online learning and certificates (网络学习与证书): numbered certificates for a finished class, a completed online
course or a passed test, checked by anyone with the number on a public page; online material of catalog courses,
each member's progress credited by effective watching time, and the policies that cap it (docs/learning.md).

Scope. A certificate follows its member (`Member.objects.visible_to`): the member themself and the staff who see
them. Online material follows its catalog course's owner like the catalog (school roles and the branch roles in
their subtrees) and is open, read-only, to the members it is assigned or offered to; a member's progress follows the
member.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.orgs.models import Organization

# ---------------------------------------------------------------------------------------------------------
# Certificates (证书)


class CertificateKind(models.TextChoices):
    CLASS = "class", "培训班结业证书"
    COURSE = "course", "网络课程结业证书"
    EXAM = "exam", "考试合格证书"


class CertificateQuerySet(models.QuerySet["Certificate"]):
    def visible_to(self, user) -> CertificateQuerySet:
        """A certificate is seen with its member: by the member themself and by the roles that see the member."""
        from dangjian.members.models import Member

        return self.filter(member__in=Member.objects.visible_to(user).values("pk"))

    def dangerously_all(self) -> CertificateQuerySet:
        """Every certificate: for the public check by number (it shows only what the certificate's holder is asked
        to show anyway) and for commands."""
        return self.all()


class Certificate(models.Model):
    """A certificate (结业证书/合格证书): numbered per year (ZS2026-000123), issued once per member and source (a
    finished class, a completed online course, a passed test) by an organization. Never edited or deleted: its number
    is printed and checked by others."""

    number = models.CharField("证书编号", max_length=20, unique=True)
    year = models.PositiveSmallIntegerField("年度")
    serial = models.PositiveIntegerField("序号")
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="certificates", verbose_name="党员"
    )
    title = models.CharField("证书名称", max_length=200)
    kind = models.CharField("类型", max_length=10, choices=CertificateKind.choices)
    source_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", verbose_name="来源类型")
    source_id = models.PositiveBigIntegerField("来源编号")
    source = GenericForeignKey("source_type", "source_id")
    issuer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="certificates", verbose_name="发证党组织"
    )
    issued_on = models.DateField("发证日期")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = "证书"
        verbose_name_plural = "证书"
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id", "member"],
                name="certificate_once_per_source",
            ),
            models.UniqueConstraint(fields=["year", "serial"], name="certificate_serial_once"),
        ]
        indexes = [models.Index(fields=["member", "issued_on"], name="certificate_member_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("learning:certificate", args=[self.pk])

    @property
    def masked_name(self) -> str:
        """The holder's name as the public check shows it: the first character and one star (张*)."""
        name = self.member.name or ""
        return f"{name[:1]}*" if name else ""


class CertificateCounter(models.Model):
    """The last certificate serial of a year (证书编号计数): incremented with an UPDATE inside the issuing
    transaction, so concurrent issues get consecutive numbers and never the same one."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    last = models.PositiveIntegerField("已发序号", default=0)

    class Meta:
        verbose_name = "证书编号计数"
        verbose_name_plural = "证书编号计数"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
