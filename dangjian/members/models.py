"""Party members (党员), their party posts (党内职务) and the transfers of their organizational relationship
(组织关系接转)."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.accounts.access import access_for
from dangjian.core.crypto import blind_index
from dangjian.core.fields import BlindIndexField, EncryptedTextField
from dangjian.core.models import TimeStampedModel
from dangjian.core.validators import (
    FEMALE,
    MALE,
    add_years,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    parse_id_number,
    validate_not_future,
    validate_phone,
)
from dangjian.orgs.models import Organization, Unit, subtree_q

ETHNIC_GROUPS = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 "
    "黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 "
    "撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 "
    "塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()


DUPLICATE_ID_MESSAGE = "该公民身份号码已登记为党员，不能重复登记。"
# The one answer, in the import (page and command, dry runs included) and in the member forms, for an ID number
# registered in an organization outside the user's scope: it names neither the member nor the organization, and
# reads the same whatever the reason, so the forms are no oracle of who is a party member where (F7).
UNREGISTRABLE_ID_MESSAGE = "无法登记，请联系上级党组织办理组织关系转接"


def id_number_digest(number: str) -> str:
    """The blind index of an ID number, after the same normalization as on input."""
    return blind_index(normalize_id_number(number))


_NOT_A_DIGIT = re.compile(r"\D")


def normalize_phone(number: str) -> str:
    """A phone number as its blind index sees it: digits only, so that 010-12345678 and 01012345678 match."""
    return _NOT_A_DIGIT.sub("", number or "")


def phone_digest(number: str) -> str:
    """The blind index of a phone number (digits only); "" for no number."""
    digits = normalize_phone(number)
    return blind_index(digits) if digits else ""


class PhoneIndexField(BlindIndexField):
    """The blind index of the phone number: as BlindIndexField, over the number's digits only."""

    def pre_save(self, model_instance, add):
        value = phone_digest(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


class Gender(models.TextChoices):
    MALE = MALE, "男"
    FEMALE = FEMALE, "女"


class Education(models.TextChoices):
    POSTGRADUATE = "postgraduate", "研究生"
    BACHELOR = "bachelor", "大学本科"
    COLLEGE = "college", "大学专科"
    SECONDARY_VOCATIONAL = "secondary_vocational", "中专"
    HIGH_SCHOOL = "high_school", "高中"
    JUNIOR_OR_BELOW = "junior_or_below", "初中及以下"


class Category(models.TextChoices):
    FULL = "full", "正式党员"
    PROBATIONARY = "probationary", "预备党员"


class Status(models.TextChoices):
    ACTIVE = "active", "正常"
    TRANSFERRED_OUT = "transferred_out", "转出"
    SUSPENDED = "suspended", "停止党籍"
    EXPELLED = "expelled", "出党"
    DECEASED = "deceased", "去世"


class MemberQuerySet(models.QuerySet["Member"]):
    def visible_to(self, user) -> MemberQuerySet:
        """The members the user may see: those in their granted subtrees, those being transferred into
        them (pending), and themself.

        The three admin roles see no member data (三员分立).
        """
        access = access_for(user)
        if access.system:
            return self.all()
        q = self._held_q(access)
        if access.view_roots:
            # A member on their way in (组织关系转接中) is seen, read-only, by the receiving side too: one
            # subquery over the few pending transfers, so the list stays one query.
            incoming = MemberTransfer.objects.pending().filter(subtree_q(access.view_roots, "to_organization__path"))
            q |= Q(pk__in=incoming.values("member_id"))
        return self.filter(q)

    def held_by(self, user) -> MemberQuerySet:
        """The members on the user's own rolls: those whose organization lies in their granted subtrees, and
        themself. A subset of `visible_to` without the members still on their way in, for counts and
        reports that must count a member in transfer once (on the sending side)."""
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(self._held_q(access))

    @staticmethod
    def _held_q(access) -> Q:
        q = subtree_q(access.view_roots, "organization__path")
        if access.user_id is not None:
            q |= Q(user_id=access.user_id)
        return q

    def editable_by(self, user) -> MemberQuerySet:
        access = access_for(user)
        if access.system:
            return self.all()
        return self.filter(subtree_q(access.member_edit_roots, "organization__path"))

    def in_subtree(self, org: Organization) -> MemberQuerySet:
        return self.filter(organization__path__startswith=org.path)

    def with_id_number(self, number: str) -> MemberQuerySet:
        """Exact lookup by ID number through its keyed hash: the ciphertext itself cannot be searched."""
        return self.filter(id_number_digest=id_number_digest(number))

    def with_phone(self, number: str) -> MemberQuerySet:
        """Exact lookup of a whole phone number through its keyed hash (no prefix, no part of a number)."""
        digest = phone_digest(number)
        return self.filter(phone_digest=digest) if digest else self.none()

    def active(self) -> MemberQuerySet:
        return self.filter(status=Status.ACTIVE)

    def dangerously_all(self) -> MemberQuerySet:
        """Every member, with no scope: for jobs, commands and migrations only."""
        return self.all()


class Member(TimeStampedModel):
    """A party member (党员). Never deleted: leaving, suspension, expulsion and death are statuses."""

    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    ethnicity = models.CharField("民族", max_length=10, choices=[(e, e) for e in ETHNIC_GROUPS], default="汉族")
    birth_date = models.DateField("出生日期", validators=[validate_not_future])
    # Stored only as AES-GCM ciphertext (core.crypto); looked up and kept unique through the keyed hash.
    id_number = EncryptedTextField("公民身份号码")
    id_number_digest = BlindIndexField(
        "公民身份号码索引", source="id_number", unique=True, error_messages={"unique": DUPLICATE_ID_MESSAGE}
    )
    # Encrypted like the ID number; looked up as a whole number only, through its keyed hash (not unique).
    phone = EncryptedTextField("手机号码", max_length=20, blank=True, validators=[validate_phone])
    phone_digest = PhoneIndexField("手机号码索引", source="phone", blank=True, db_index=True)
    education = models.CharField("学历", max_length=32, choices=Education.choices, blank=True)
    join_date = models.DateField("入党日期", validators=[validate_not_future])
    full_date = models.DateField("转正日期", null=True, blank=True, validators=[validate_not_future])
    category = models.CharField("人员类别", max_length=16, choices=Category.choices, default=Category.FULL)
    status = models.CharField("党籍状态", max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_changed_on = models.DateField("状态变更日期", null=True, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="members", verbose_name="所在党组织"
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name="工作单位"
    )
    is_leadership = models.BooleanField("班子成员", default=False)
    is_district_cadre = models.BooleanField("区管干部", default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="member",
        verbose_name="登录账号",
    )
    # Optimistic concurrency: every change bumps it; a save based on an older version is refused.
    version = models.PositiveIntegerField("版本", default=0, editable=False)
    history = HistoricalRecords()

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = "党员"
        verbose_name_plural = "党员"
        indexes = [
            models.Index(fields=["organization", "status"], name="member_org_status_idx"),
            models.Index(fields=["name"], name="member_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("members:detail", args=[self.pk])

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def save(self, *args, **kwargs):
        # Stored in one canonical form, so the blind index (computed at save) matches every later lookup.
        self.id_number = normalize_id_number(self.id_number)
        super().save(*args, **kwargs)

    def validate_unique(self, exclude=None):
        """Check the ID number's uniqueness through its digest and report it on the ID number field."""
        exclude = set(exclude or ())
        if "id_number" not in exclude and self.id_number:
            self.id_number_digest = id_number_digest(self.id_number)
            exclude.discard("id_number_digest")
        try:
            super().validate_unique(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            if "id_number_digest" in errors:
                errors.pop("id_number_digest")
                errors.setdefault("id_number", []).append(DUPLICATE_ID_MESSAGE)
            raise ValidationError(errors) from None

    def clean(self) -> None:
        """Cross-field rules for a member record.

        - The ID number is valid (GB 11643) and agrees with the birth date and gender.
        - 入党日期 is on or after the 18th birthday (党章第一条：年满十八岁).
        - 转正日期 is after 入党日期; a probationary member has none yet.
        """
        errors: dict[str, list[str]] = {}
        self.id_number = normalize_id_number(self.id_number)
        info = None
        if self.id_number:
            try:
                info = parse_id_number(self.id_number)
            except ValidationError as exc:
                errors.setdefault("id_number", []).extend(exc.messages)
        if info is not None:
            if self.birth_date and self.birth_date != info.birth_date:
                errors.setdefault("birth_date", []).append(
                    f"出生日期与公民身份号码不一致（号码中为{info.birth_date:%Y-%m-%d}）。"
                )
            if self.gender and self.gender != info.gender:
                errors.setdefault("gender", []).append(
                    f"性别与公民身份号码不一致（号码中为{Gender(info.gender).label}）。"
                )
        birth = self.birth_date or (info.birth_date if info else None)
        if birth and self.join_date and self.join_date < add_years(birth, 18):
            errors.setdefault("join_date", []).append("入党日期不能早于年满十八周岁之日。")
        if self.join_date and self.full_date and self.full_date <= self.join_date:
            errors.setdefault("full_date", []).append("转正日期必须晚于入党日期。")
        if self.category == Category.PROBATIONARY and self.full_date:
            errors.setdefault("full_date", []).append("预备党员尚未转正，不应填写转正日期。")
        if self.status_changed_on and self.status_changed_on > timezone.localdate():
            errors.setdefault("status_changed_on", []).append("日期不能晚于今天。")
        if errors:
            raise ValidationError(errors)


class Flag(models.TextChoices):
    """The member flags the hour and duty rules read (班子成员 40 hours, 区管干部 上讲台): their changes are kept."""

    LEADERSHIP = "is_leadership", "班子成员"
    DISTRICT_CADRE = "is_district_cadre", "区管干部"


class MemberFlagChange(models.Model):
    """One change of a member's flag (re-categorization): what it was before, and when it changed.

    A report of a closed period reads the flag a member had then — the `was` of their first change after it, else
    today's value — so re-categorizing a member today never changes last year's figures (docs/rules.md, "How the rules
    combine": a report of a closed period never changes afterwards). Written by the member services and the
    roster import, never edited."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="flag_changes", verbose_name="党员")
    flag = models.CharField("标记", max_length=32, choices=Flag.choices)
    was = models.BooleanField("变更前")
    changed_at = models.DateTimeField("变更时间", default=timezone.now, db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )

    class Meta:
        verbose_name = "党员标记变更"
        verbose_name_plural = "党员标记变更"
        indexes = [models.Index(fields=["member", "flag", "changed_at"], name="member_flag_change_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.flag} {self.was}→{not self.was} @ {self.changed_at:%Y-%m-%d}"


def flag_changes(member: Member, before: dict, *, at, changed_by_id: int | None = None) -> list[MemberFlagChange]:
    """The unsaved change rows of the flags in `before` (field → value before the change) that `member` no longer
    has: one builder for the page's service and the roster import's bulk update."""
    return [
        MemberFlagChange(member=member, flag=flag, was=before[flag], changed_at=at, changed_by_id=changed_by_id)
        for flag in Flag.values
        if flag in before and bool(before[flag]) != bool(getattr(member, flag))
    ]


class Post(models.TextChoices):
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    COMMITTEE_MEMBER = "committee_member", "委员"


class PartyPost(TimeStampedModel):
    """A post a member holds in an organization's committee (党内职务), with its term dates."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="posts", verbose_name="党员")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="posts", verbose_name="任职党组织"
    )
    post = models.CharField("职务", max_length=32, choices=Post.choices)
    start_date = models.DateField("任职日期", validators=[validate_not_future])
    end_date = models.DateField("离任日期", null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "党内职务"
        verbose_name_plural = "党内职务"
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return f"{self.organization} {self.get_post_display()}"

    @property
    def is_current(self) -> bool:
        return self.end_date is None or self.end_date >= timezone.localdate()

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "离任日期不能早于任职日期。"})


class TransferKind(models.TextChoices):
    INTERNAL = "internal", "系统内转接"
    OUTGOING = "outgoing", "转出系统外"
    INCOMING = "incoming", "从系统外转入"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "转接中"
    ACCEPTED = "accepted", "已接收"
    RETURNED = "returned", "已退回"
    COMPLETED = "completed", "已办结"


class MemberTransferQuerySet(models.QuerySet["MemberTransfer"]):
    def visible_to(self, user) -> MemberTransferQuerySet:
        """The transfers the user may see: those whose sending or receiving organization lies in their
        granted subtrees (both sides see the trail, whatever its outcome), and their own."""
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(access.view_roots, "from_organization__path") | subtree_q(
            access.view_roots, "to_organization__path"
        )
        if access.user_id is not None:
            q |= Q(member__user_id=access.user_id)
        return self.filter(q)

    def pending(self) -> MemberTransferQuerySet:
        return self.filter(status=TransferStatus.PENDING)

    def dangerously_all(self) -> MemberTransferQuerySet:
        """Every transfer, with no scope: for jobs, commands and migrations only."""
        return self.all()


class MemberTransfer(TimeStampedModel):
    """A transfer of a member's organizational relationship (组织关系接转记录).

    Inside the system (系统内转接) the sending organization starts it and the receiving branch accepts it
    (the member moves) or returns it with a reason; to or from outside the system (转出系统外 / 从系统外转入)
    it records the other side and the introduction letter (介绍信) and is complete at once. Never deleted.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="transfers", verbose_name="党员")
    kind = models.CharField("转接类型", max_length=16, choices=TransferKind.choices)
    status = models.CharField("办理状态", max_length=16, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    from_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_out",
        verbose_name="转出党组织",
    )
    to_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfers_in",
        verbose_name="接收党组织",
    )
    # The other side outside the system: the destination of an outgoing transfer, the origin of an incoming one.
    external_organization = models.CharField("系统外党组织", max_length=200, blank=True)
    letter_number = models.CharField("介绍信编号", max_length=50, blank=True)
    transfer_date = models.DateField("转接日期", default=timezone.localdate, validators=[validate_not_future])
    reason = models.CharField("退回原因", max_length=200, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="经办人",
    )
    started_at = models.DateTimeField("发起时间", default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="办理人",
    )
    decided_at = models.DateTimeField("办理时间", null=True, blank=True)
    history = HistoricalRecords()

    objects = MemberTransferQuerySet.as_manager()

    class Meta:
        verbose_name = "组织关系接转记录"
        verbose_name_plural = "组织关系接转记录"
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status="pending"),
                name="member_transfer_one_pending",
                violation_error_message="该党员已有一笔正在办理的组织关系转接。",
            ),
            models.CheckConstraint(
                condition=Q(kind="internal") | ~Q(letter_number=""),
                name="member_transfer_external_has_letter",
                violation_error_message="转出或转入系统外须填写介绍信编号。",
            ),
            models.CheckConstraint(
                condition=~Q(kind="internal") | Q(to_organization__isnull=False),
                name="member_transfer_internal_has_receiver",
                violation_error_message="系统内转接须指定接收党组织。",
            ),
        ]
        indexes = [
            models.Index(fields=["to_organization", "status"], name="transfer_to_status_idx"),
            models.Index(fields=["from_organization", "status"], name="transfer_from_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.get_kind_display()}（{self.get_status_display()}）"

    @property
    def is_pending(self) -> bool:
        return self.status == TransferStatus.PENDING

    @property
    def other_side(self) -> str:
        """Where the member goes to, or comes from, by name."""
        if self.kind == TransferKind.INTERNAL:
            return self.to_organization.name if self.to_organization_id else ""
        return self.external_organization

    def overdue_since(self) -> dt.datetime:
        """The moment after which a pending transfer counts as overdue (DANGJIAN_TRANSFER_OVERDUE_DAYS)."""
        return self.started_at + dt.timedelta(days=overdue_days())

    def is_overdue(self, now=None) -> bool:
        return self.is_pending and (now or timezone.now()) > self.overdue_since()


def overdue_days() -> int:
    """How many days a transfer may stay pending before both sides are reminded (default 30)."""
    return int(getattr(settings, "DANGJIAN_TRANSFER_OVERDUE_DAYS", 30))


class IdLookupDay(models.Model):
    """One user's checks of ID numbers against the registry on one day (身份证号查询计数): how many numbers their
    imports (dry runs included) and member forms looked up, and how many of those were registered outside their
    scope. One row per user and day, counted in the database so the limit holds across processes
    (see members.lookups; DANGJIAN_ID_LOOKUP_DAILY_LIMIT, DANGJIAN_FOREIGN_LOOKUP_ALERT)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="用户")
    day = models.DateField("日期")
    lookups = models.PositiveIntegerField("查询号码数", default=0)
    foreign_hits = models.PositiveIntegerField("范围外已登记数", default=0)

    class Meta:
        verbose_name = "身份证号查询计数"
        verbose_name_plural = "身份证号查询计数"
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="id_lookup_day_once")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.day:%Y-%m-%d}: {self.lookups}"
