"""Online learning and certificates (网络学习与证书): numbered certificates for a finished class, a completed online
course or a passed test, checked by anyone with the number on a public page; online material of catalog courses,
each member's progress credited by effective watching time, and the policies that cap it (docs/learning.md).

Scope. A certificate follows its member (`Member.objects.visible_to`): the member themself and the staff who see
them. Online material follows its catalog course's owner like the catalog (school roles and the branch roles in
their subtrees) and is open, read-only, to the members it is assigned or offered to; a member's progress follows the
member.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from dangjian.orgs.models import DownwardRuleQuerySet, Organization

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


# ---------------------------------------------------------------------------------------------------------
# Online courses (网络课程)


class MaterialKind(models.TextChoices):
    VIDEO = "video", "视频"
    REPLAY = "replay", "直播回放"
    PDF = "pdf", "文档（PDF）"
    LINK = "link", "视频平台链接"


# Kinds whose watching this site tracks by heartbeats (a link opens the organization's own platform, which keeps its
# own record and reports it through the hours import).
TRACKED_KINDS = frozenset({MaterialKind.VIDEO, MaterialKind.REPLAY, MaterialKind.PDF})


def _material_path(instance: OnlineMaterial, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    return f"learning/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def _member_paths(user) -> tuple[int | None, list[str]]:
    """The member behind `user` (their id) and the paths of their organization and its ancestors."""
    from dangjian.members.models import Member
    from dangjian.orgs.models import ancestor_paths

    row = (
        Member.objects.dangerously_all()  # the user's own member record
        .filter(user_id=getattr(user, "pk", None))
        .values_list("pk", "organization__path")
        .first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if row is None:
        return None, []
    member_id, path = row
    return member_id, [*ancestor_paths([path]), path]


def offers_for_member_q(member_id: int, paths: list[str], prefix: str = "") -> models.Q:
    """The offers that reach a member: made by their organization or one above it for everyone below, or made for a
    class the member is enrolled in (and has not withdrawn from)."""
    Q = models.Q
    return Q(**{f"{prefix}organization__path__in": paths, f"{prefix}training_class__isnull": True}) | Q(
        **{
            f"{prefix}training_class__enrollments__member_id": member_id,
            f"{prefix}training_class__enrollments__withdrawn_at__isnull": True,
        }
    )


class CourseOfferQuerySet(models.QuerySet["CourseOffer"]):
    def visible_to(self, user) -> CourseOfferQuerySet:
        """Offers made inside the user's school subtrees (staff), and the offers that reach the user as a member."""
        from dangjian.accounts.access import access_for
        from dangjian.orgs.models import subtree_q

        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(access.school_view_roots, "organization__path")
        member_id, paths = _member_paths(user)
        if member_id is not None:
            q |= offers_for_member_q(member_id, paths)
        return self.filter(q).distinct()

    def manageable_by(self, user) -> CourseOfferQuerySet:
        from dangjian.accounts.access import access_for
        from dangjian.orgs.models import subtree_q

        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(access.school_manage_roots, "organization__path"))

    def dangerously_all(self) -> CourseOfferQuerySet:
        return self.all()


class CourseOffer(models.Model):
    """A catalog course offered for online learning (课程指派/选学): by an organization (a committee, a school's
    organization) to every member below it, or to the members of one class; required (指定学习) or optional (选学)."""

    course = models.ForeignKey(
        "schools.Course", on_delete=models.PROTECT, related_name="online_offers", verbose_name="课程"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="course_offers", verbose_name="指派党组织"
    )
    school = models.ForeignKey(
        "schools.PartySchool",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="course_offers",
        verbose_name="指派党校",
    )
    training_class = models.ForeignKey(
        "training.TrainingClass",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="course_offers",
        verbose_name="培训班",
    )
    required = models.BooleanField("指定学习", default=True)
    due_on = models.DateField("完成期限", null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("指派时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = CourseOfferQuerySet.as_manager()

    class Meta:
        verbose_name = "网络课程指派"
        verbose_name_plural = "网络课程指派"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.course} → {self.training_class or self.organization}"


class OnlineMaterialQuerySet(models.QuerySet["OnlineMaterial"]):
    def visible_to(self, user) -> OnlineMaterialQuerySet:
        """Material of the catalog courses the user sees as staff (the catalog's scope: owned in their school subtrees
        or above them), and of the courses offered to the user as a member."""
        from dangjian.accounts.access import access_for
        from dangjian.schools.models.scope import shared_q

        access = access_for(user)
        if access.system:
            return self.all()
        q = shared_q(access, "course__owner")
        member_id, paths = _member_paths(user)
        if member_id is not None:
            offered = CourseOffer.objects.dangerously_all().filter(offers_for_member_q(member_id, paths))
            q |= models.Q(course_id__in=offered.values("course_id"))
        return self.filter(q)

    def manageable_by(self, user) -> OnlineMaterialQuerySet:
        from dangjian.accounts.access import access_for
        from dangjian.orgs.models import subtree_q

        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(access.school_manage_roots, "course__owner__path"))

    def dangerously_all(self) -> OnlineMaterialQuerySet:
        return self.all()


class OnlineMaterial(models.Model):
    """Online material of a catalog course (网络课程资料): an uploaded video (served in ranges after a scope check,
    never as a static file), a live session's replay, a PDF document read for a set time, or a link to the
    organization's own video platform. `duration_seconds` is the playing time (or the reading time of a document)
    against which the watched share is measured."""

    course = models.ForeignKey(
        "schools.Course", on_delete=models.PROTECT, related_name="online_materials", verbose_name="课程"
    )
    title = models.CharField("资料名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=MaterialKind.choices)
    file = models.FileField("文件", upload_to=_material_path, blank=True)
    url = models.URLField("链接", max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField("时长（秒）")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    active = models.BooleanField("在用", default=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    history = HistoricalRecords()

    objects = OnlineMaterialQuerySet.as_manager()

    class Meta:
        verbose_name = "网络课程资料"
        verbose_name_plural = "网络课程资料"
        ordering = ["course", "position", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("learning:material", args=[self.pk])

    @property
    def tracked(self) -> bool:
        return self.kind in TRACKED_KINDS


class LearningPolicyQuerySet(DownwardRuleQuerySet["LearningPolicy"]):
    """Online-learning rules apply downwards: seen like every policy row (`orgs.models.DownwardRuleQuerySet`)."""


class LearningPolicy(models.Model):
    """An online-learning rule (网络学习规则): the watched share a course needs before it credits its hours (default
    90%), and the caps — counted watching per day, online hours credited per year. Applies downwards from its owner
    (None: the whole system); the rule of the nearest organization above the member wins (docs/learning.md)."""

    name = models.CharField("名称", max_length=100)
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="适用党组织"
    )
    min_share = models.PositiveSmallIntegerField(
        "完成比例（%）", default=90, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    daily_minutes = models.PositiveIntegerField(
        "每日计入时长上限（分钟）", null=True, blank=True, help_text="留空为不设上限。"
    )
    yearly_hours = models.DecimalField(
        "每年网络学习学时上限",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="留空为不设上限。",
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2019)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = LearningPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = "网络学习规则"
        verbose_name_plural = "网络学习规则"
        ordering = ["valid_from", "pk"]

    def __str__(self) -> str:
        return self.name


class ProgressQuerySet(models.QuerySet["MaterialProgress"]):
    def visible_to(self, user) -> ProgressQuerySet:
        from dangjian.members.models import Member

        return self.filter(member__in=Member.objects.visible_to(user).values("pk"))

    def dangerously_all(self) -> ProgressQuerySet:
        return self.all()


class MaterialProgress(models.Model):
    """A member's progress in one material (学习进度): the parts watched (merged second ranges), the effective time
    counted, where to resume, and the page (tab) that is currently earning with its last heartbeat."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="learning_progress", verbose_name="党员"
    )
    material = models.ForeignKey(OnlineMaterial, on_delete=models.PROTECT, related_name="progress", verbose_name="资料")
    watched = models.JSONField("已观看区间", default=list, blank=True)
    watched_seconds = models.PositiveIntegerField("已观看时长（秒）", default=0)
    effective_seconds = models.PositiveIntegerField("有效学习时长（秒）", default=0)
    position = models.FloatField("播放位置（秒）", default=0)
    tab = models.CharField("当前学习页面", max_length=40, blank=True)
    last_beat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ProgressQuerySet.as_manager()

    class Meta:
        verbose_name = "学习进度"
        verbose_name_plural = "学习进度"
        constraints = [models.UniqueConstraint(fields=["member", "material"], name="progress_once")]

    def __str__(self) -> str:
        return f"{self.member} {self.material}"


class DailyLearning(models.Model):
    """A member's counted watching on one day (每日学习时长), for the daily cap."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+", verbose_name="党员")
    day = models.DateField("日期")
    seconds = models.PositiveIntegerField("计入时长（秒）", default=0)

    class Meta:
        verbose_name = "每日学习时长"
        verbose_name_plural = "每日学习时长"
        constraints = [models.UniqueConstraint(fields=["member", "day"], name="daily_learning_once")]

    def __str__(self) -> str:
        return f"{self.member} {self.day} {self.seconds}s"


class CompletionQuerySet(models.QuerySet["CourseCompletion"]):
    def visible_to(self, user) -> CompletionQuerySet:
        from dangjian.members.models import Member

        return self.filter(member__in=Member.objects.visible_to(user).values("pk"))

    def dangerously_all(self) -> CompletionQuerySet:
        return self.all()


class CourseCompletion(models.Model):
    """A member's completion of an online course (网络课程完成): written once, when the watched share reaches the
    rule's minimum; it holds the hours credited to the ledger (kind 网络学习) then, which a yearly cap may have cut."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="course_completions", verbose_name="党员"
    )
    course = models.ForeignKey("schools.Course", on_delete=models.PROTECT, related_name="+", verbose_name="课程")
    completed_on = models.DateField("完成日期")
    share = models.PositiveSmallIntegerField("完成比例（%）")
    hours = models.DecimalField("计入学时", max_digits=5, decimal_places=1)
    entry = models.OneToOneField(
        "training.HoursEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = CompletionQuerySet.as_manager()

    class Meta:
        verbose_name = "网络课程完成"
        verbose_name_plural = "网络课程完成"
        constraints = [models.UniqueConstraint(fields=["member", "course"], name="course_completion_once")]

    def __str__(self) -> str:
        return f"{self.member} {self.course}"
