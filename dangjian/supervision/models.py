"""Party building in off-campus training institutions (校外培训机构党建): the institutions and their coverage, the
grid (网格化) and pairings (结对), the party-building instructors (党建指导员) with their assignments and monthly
visits (“四个一”), the clues of violations (违规线索), the three checks (三同步) and the process-supervision points
(过程监管积分) with the red list (红名单).

Sources (the Yiyang and Qinhuai seed, 2024 newsletter no. 15; docs/rules.md, "Off-campus training institutions
(Yiyang, Qinhuai)"):
- Yiyang: every institution in a party organization (its own branch or a joint branch) and with an instructor
  ("两个全覆盖"); instructors from the education bureau or the area's schools, visiting every month for 上党课、
  讲政策、排隐患、核台账; "以案说法" sessions; clues passed to enforcement and enforcement actions taken part in;
  "网格化" management anchored on public schools; institution branches paired (结对) with school branches;
  party building a precondition of approving a new institution and part of the 过程监管积分制度; the 红名单 whose
  institutions get priority for after-school services (课后服务).
- Qinhuai: party building checked at registration, at the annual inspection and at grading (三同步).

Scope. An institution is seen by the roles that see a subtree (committee staff, party-school admins, secretaries,
instructors by their grant) over the organization that covers its unit or the committee that manages it, and by the
instructors currently assigned to it. Everything recorded about an institution (visits, clues, checks, points) is
seen with it. Instructor appointments are seen over the appointing organization and by the instructor themself.
Rules (point rules, red-list policies) apply downwards, like the orglife duties. The three admins and plain members
see none of it.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from dangjian.accounts.access import Access, access_for
from dangjian.core.models import TimeStampedModel
from dangjian.orgs.models import DownwardRuleQuerySet, Organization, Unit, subtree_q

# 办学许可证号: "教民" + 15 digits (region code, school-type and serial) + "号".
licence_validator = RegexValidator(
    r"^教民\d{15}号$", "办学许可证号应为“教民”加15位数字再加“号”，如：教民143090270000013号。"
)


def normalize_licence(value: str) -> str:
    """The licence number in its stored form: no spaces, full-width digits folded, a final 号."""
    value = (value or "").strip().replace(" ", "").translate({0xFF10 + i: ord("0") + i for i in range(10)})
    if value.startswith("教民") and not value.endswith("号"):
        value += "号"
    return value


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(month: dt.date) -> dt.date:
    nxt = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def _paths_q(access: Access, prefix: str) -> Q:
    """Institutions (at `prefix`, e.g. "institution__") whose unit's covering or managing organization lies in the
    user's viewed subtrees."""
    roots = access.view_roots
    return subtree_q(roots, f"{prefix}unit__organization__path") | subtree_q(
        roots, f"{prefix}unit__managing_organization__path"
    )


def _assigned_q(access: Access, prefix: str, today: dt.date | None = None) -> Q:
    """Institutions (at `prefix`) the user is currently assigned to as an instructor."""
    if access.user_id is None:
        return Q(pk__in=[])
    today = today or timezone.localdate()
    assigned = Assignment.objects.filter(
        Q(end_on__isnull=True) | Q(end_on__gte=today),
        appointment__user_id=access.user_id,
        start_on__lte=today,
    ).values("institution_id")
    return Q(**{f"{prefix}pk__in" if prefix else "pk__in": assigned})


def institution_scope_q(user, prefix: str = "") -> Q | None:
    """The Q selecting the institutions (at `prefix`) `user` sees; None for everything (the system access)."""
    access = access_for(user)
    if access.system:
        return None
    q = _paths_q(access, prefix)
    if prefix:
        q |= Q(**{f"{prefix[:-2]}_id__in": Institution.objects.filter(_assigned_q(access, "")).values("pk")})
    else:
        q |= _assigned_q(access, "")
    return q


class ScopedByInstitution(models.QuerySet):
    """A record about one institution: seen with the institution."""

    institution_prefix = "institution__"

    def visible_to(self, user):
        q = institution_scope_q(user, self.institution_prefix)
        return self.all() if q is None else self.filter(q)

    def dangerously_all(self):
        return self.all()


class RuleQuerySet(DownwardRuleQuerySet):
    """Points rules and red-list policies apply downwards (`orgs.models.DownwardRuleQuerySet`); a user without a
    granted subtree (a plain member) sees none of them, not even the system's."""

    def visible_to(self, user):
        access = access_for(user)
        if not access.system and not access.view_roots:
            return self.none()
        return super().visible_to(user)


def _valid_range_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
        name=name,
        violation_error_message="截止年度不能早于起始年度。",
    )


# ---------------------------------------------------------------------------------------------------------
# The grid and the institutions


class GridCellQuerySet(models.QuerySet["GridCell"]):
    def visible_to(self, user):
        """Grid cells whose anchoring school's organization (or managing committee) the user sees."""
        access = access_for(user)
        if access.system:
            return self.all()
        roots = access.view_roots
        return self.filter(
            subtree_q(roots, "organization__path") | subtree_q(roots, "school__managing_organization__path")
        )

    def dangerously_all(self):
        return self.all()


class GridCell(TimeStampedModel):
    """A grid cell (网格): the area around a public school through which the institutions in it are guided and
    supervised (Yiyang: "依托公办学校实施属地指导和管理"). `organization` is the school's party organization."""

    name = models.CharField("网格名称", max_length=100)
    school = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="grid_cells", verbose_name="依托学校")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="grid_cells", verbose_name="学校党组织"
    )
    area = models.CharField("所属片区", max_length=50, blank=True)
    history = HistoricalRecords()

    objects = GridCellQuerySet.as_manager()

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格"
        ordering = ["area", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class SubjectType(models.TextChoices):
    SUBJECT = "subject", "学科类"
    NON_SUBJECT = "non_subject", "非学科类"


class ApprovalStatus(models.TextChoices):
    PREPARING = "preparing", "筹设"
    APPROVED = "approved", "已审批"
    SUSPENDED = "suspended", "停办"
    CANCELLED = "cancelled", "注销"


class InstitutionQuerySet(models.QuerySet["Institution"]):
    def visible_to(self, user) -> InstitutionQuerySet:
        """The institutions the user sees: through the covering or managing organization in their viewed subtrees,
        or as a currently assigned instructor."""
        q = institution_scope_q(user)
        return self.all() if q is None else self.filter(q)

    def operating(self) -> InstitutionQuerySet:
        """Approved institutions (已审批): the ones coverage and points count."""
        return self.filter(approval_status=ApprovalStatus.APPROVED)

    def in_subtree(self, org: Organization) -> InstitutionQuerySet:
        return self.filter(
            Q(unit__organization__path__startswith=org.path)
            | Q(unit__organization__isnull=True, unit__managing_organization__path__startswith=org.path)
        )

    def dangerously_all(self) -> InstitutionQuerySet:
        return self.all()


class Institution(TimeStampedModel):
    """An off-campus training institution (校外培训机构): its unit (name, address, covering party organization,
    managing committee), its licence, subject type, approval status and dates, staff count, area and grid cell.
    Its staff members are the members whose unit it is. Written only through `supervision.services`."""

    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="institution", verbose_name="单位")
    licence_no = models.CharField(
        "办学许可证号",
        max_length=20,
        unique=True,
        validators=[licence_validator],
        error_messages={"unique": "该办学许可证号已登记。"},
    )
    subject_type = models.CharField("培训类别", max_length=12, choices=SubjectType.choices)
    approval_status = models.CharField(
        "审批状态", max_length=12, choices=ApprovalStatus.choices, default=ApprovalStatus.PREPARING
    )
    approved_on = models.DateField("审批日期", null=True, blank=True)
    last_inspection_on = models.DateField("最近年检日期", null=True, blank=True)
    closed_on = models.DateField("停办/注销日期", null=True, blank=True)
    staff_count = models.PositiveIntegerField("从业人员数", default=0, validators=[MaxValueValidator(100_000)])
    area = models.CharField("所属片区", max_length=50, blank=True, db_index=True)
    grid_cell = models.ForeignKey(
        GridCell, on_delete=models.SET_NULL, null=True, blank=True, related_name="institutions", verbose_name="网格"
    )
    history = HistoricalRecords()

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = "校外培训机构"
        verbose_name_plural = "校外培训机构"
        ordering = ["unit__name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(approval_status="approved") | Q(approved_on__isnull=False),
                name="institution_approved_has_date",
                violation_error_message="已审批的机构须填写审批日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.unit.name

    def get_absolute_url(self) -> str:
        return reverse("supervision:institution_detail", args=[self.pk])

    @property
    def name(self) -> str:
        return self.unit.name

    @property
    def supervising_organizations(self) -> tuple[Organization, ...]:
        """The organizations whose committee staff supervise the institution: its covering and its managing
        organization (those set)."""
        return tuple(org for org in (self.unit.organization, self.unit.managing_organization) if org is not None)

    @property
    def scope_path(self) -> str:
        """Where the institution sits in the tree: its covering organization, else its managing committee."""
        org = self.unit.organization or self.unit.managing_organization
        return org.path if org else ""


class PairingQuerySet(models.QuerySet["Pairing"]):
    def visible_to(self, user) -> PairingQuerySet:
        """Pairings of which either branch lies in the user's viewed subtrees."""
        access = access_for(user)
        if access.system:
            return self.all()
        roots = access.view_roots
        return self.filter(subtree_q(roots, "school_branch__path") | subtree_q(roots, "institution_branch__path"))

    def dangerously_all(self) -> PairingQuerySet:
        return self.all()


class Pairing(TimeStampedModel):
    """A pairing (结对) of a public school's branch with an institution's branch (Yiyang: 26 institution branches
    paired with 28 school branches), from a date, until it ends."""

    school_branch = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="school_pairings", verbose_name="学校党支部"
    )
    institution_branch = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="institution_pairings", verbose_name="机构党支部"
    )
    start_on = models.DateField("结对日期")
    end_on = models.DateField("结束日期", null=True, blank=True)
    history = HistoricalRecords()

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = "结对"
        verbose_name_plural = "结对"
        ordering = ["-start_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_branch", "institution_branch"],
                condition=Q(end_on__isnull=True),
                name="pairing_open_once",
                violation_error_message="这两个党支部已经结对。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_branch} ⇄ {self.institution_branch}"


class PairingActivityQuerySet(models.QuerySet["PairingActivity"]):
    def visible_to(self, user) -> PairingActivityQuerySet:
        return self.filter(pairing__in=Pairing.objects.visible_to(user))

    def dangerously_all(self) -> PairingActivityQuerySet:
        return self.all()


class PairingActivity(TimeStampedModel):
    """A joint activity of a pairing (结对活动: joint study, members into the community …)."""

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="activities", verbose_name="结对")
    date = models.DateField("活动日期")
    title = models.CharField("活动主题", max_length=200)
    participants = models.PositiveIntegerField("参加人数", default=0)
    note = models.TextField("活动情况", blank=True)
    history = HistoricalRecords()

    objects = PairingActivityQuerySet.as_manager()

    class Meta:
        verbose_name = "结对活动"
        verbose_name_plural = "结对活动"
        ordering = ["-date", "-pk"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.title}"


# ---------------------------------------------------------------------------------------------------------
# Instructors


class AppointmentSource(models.TextChoices):
    BUREAU = "bureau", "教育行政部门选派"
    SCHOOL = "school", "辖区学校选派"


class AppointmentQuerySet(models.QuerySet["InstructorAppointment"]):
    def visible_to(self, user) -> AppointmentQuerySet:
        """Appointments made by an organization in the user's viewed subtrees, and the user's own."""
        access = access_for(user)
        if access.system:
            return self.all()
        q = subtree_q(access.view_roots, "appointing_organization__path")
        if access.user_id is not None:
            q |= Q(user_id=access.user_id)
        return self.filter(q)

    def active_on(self, day: dt.date) -> AppointmentQuerySet:
        return self.filter(Q(end_on__isnull=True) | Q(end_on__gte=day), start_on__lte=day)

    def dangerously_all(self) -> AppointmentQuerySet:
        return self.all()


class InstructorAppointment(TimeStampedModel):
    """The appointment of a party-building instructor (党建指导员选派): a user (linked to their member record when
    they have one), appointed by the education bureau or a school (the appointing organization), from a date
    until it ends (挂牌上岗)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instructor_appointments", verbose_name="账号"
    )
    member = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="instructor_appointments",
        verbose_name="党员",
    )
    name = models.CharField("姓名", max_length=50)
    source = models.CharField("选派来源", max_length=12, choices=AppointmentSource.choices)
    appointing_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="instructor_appointments", verbose_name="选派党组织"
    )
    start_on = models.DateField("任职日期")
    end_on = models.DateField("离任日期", null=True, blank=True)
    history = HistoricalRecords()

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = "党建指导员"
        verbose_name_plural = "党建指导员"
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(end_on__isnull=True),
                name="appointment_open_once",
                violation_error_message="该账号已是在任党建指导员。",
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                name="appointment_dates",
                violation_error_message="离任日期不能早于任职日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_active(self, day: dt.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.start_on <= day and (self.end_on is None or self.end_on >= day)


class Assignment(TimeStampedModel):
    """An instructor's assignment to an institution (派驻), from a date to a date. At most one open assignment per
    institution: a reassignment closes the previous one the day before the new one starts (history kept)."""

    appointment = models.ForeignKey(
        InstructorAppointment, on_delete=models.PROTECT, related_name="assignments", verbose_name="党建指导员"
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="assignments", verbose_name="机构"
    )
    start_on = models.DateField("派驻日期")
    end_on = models.DateField("结束日期", null=True, blank=True)
    history = HistoricalRecords()

    objects = ScopedByInstitution.as_manager()

    class Meta:
        verbose_name = "派驻记录"
        verbose_name_plural = "派驻记录"
        ordering = ["-start_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution"],
                condition=Q(end_on__isnull=True),
                name="assignment_open_once",
                violation_error_message="该机构已有在岗的党建指导员。",
            ),
            models.CheckConstraint(
                condition=Q(end_on__isnull=True) | Q(end_on__gte=models.F("start_on")),
                name="assignment_dates",
                violation_error_message="结束日期不能早于派驻日期。",
            ),
        ]
        indexes = [models.Index(fields=["appointment", "start_on"], name="assignment_appointment_idx")]

    def __str__(self) -> str:
        return f"{self.appointment} → {self.institution_id}"

    def covers(self, day: dt.date) -> bool:
        return self.start_on <= day and (self.end_on is None or self.end_on >= day)


# The “四个一” items of a monthly visit (Yiyang seed, docs/rules.md: 每月上门开展上党课、讲政策、排隐患、核台账
# “四个一”工作), as (field of `Visit`, Chinese label).
FOUR_ITEMS: tuple[tuple[str, str], ...] = (
    ("party_lecture", "上党课"),
    ("policy_talk", "讲政策"),
    ("hazard_check", "排隐患"),
    ("ledger_check", "核台账"),
)
FOUR_ITEM_FIELDS: tuple[str, ...] = tuple(name for name, _ in FOUR_ITEMS)
FOUR_ITEM_LABELS: dict[str, str] = dict(FOUR_ITEMS)


class VisitPolicy(TimeStampedModel):
    """The “四个一” visit rule (“四个一”走访规则): which of the four items a month's visits must record for the month to
    count as a “四个一” visit, for an owner's subtree (None: the whole system) over a range of years. Of the rules
    valid in a year, the most specific owner wins (`selectors.visits.required_items`). Default (Yiyang seed,
    docs/rules.md: 每月上门开展上党课、讲政策、排隐患、核台账“四个一”工作): all four."""

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    require_party_lecture = models.BooleanField("须上党课", default=True)
    require_policy_talk = models.BooleanField("须讲政策", default=True)
    require_hazard_check = models.BooleanField("须排隐患", default=True)
    require_ledger_check = models.BooleanField("须核台账", default=True)
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2023)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = "“四个一”走访规则"
        verbose_name_plural = "“四个一”走访规则"
        ordering = ["-valid_from", "pk"]
        constraints = [
            _valid_range_constraint("visit_policy_valid_range"),
            models.CheckConstraint(
                condition=Q(require_party_lecture=True)
                | Q(require_policy_talk=True)
                | Q(require_hazard_check=True)
                | Q(require_ledger_check=True),
                name="visit_policy_requires_an_item",
                violation_error_message="“四个一”走访规则须至少要求一项工作。",
            ),
        ]

    def __str__(self) -> str:
        return "“四个一”须完成：" + "、".join(FOUR_ITEM_LABELS[name] for name in self.required)

    @property
    def required(self) -> tuple[str, ...]:
        """The fields of `Visit` this rule requires, in the order of FOUR_ITEMS."""
        return tuple(name for name in FOUR_ITEM_FIELDS if getattr(self, f"require_{name}"))


class Visit(TimeStampedModel):
    """A monthly visit (每月上门指导) of an instructor to an assigned institution, with the “四个一” items (上党课,
    讲政策, 排隐患, 核台账), findings and hazards; a "以案说法" session is marked as such. One regular visit per
    institution and month; any further one is a supplement (补充走访)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="visits", verbose_name="机构")
    appointment = models.ForeignKey(
        InstructorAppointment, on_delete=models.PROTECT, related_name="visits", verbose_name="党建指导员"
    )
    month = models.DateField("走访月份")  # the first day of the visit's month
    date = models.DateField("走访日期")
    party_lecture = models.BooleanField("上党课", default=False)
    policy_talk = models.BooleanField("讲政策", default=False)
    hazard_check = models.BooleanField("排隐患", default=False)
    ledger_check = models.BooleanField("核台账", default=False)
    findings = models.TextField("指导情况", blank=True)
    hazards = models.TextField("发现隐患", blank=True)
    is_case_law_session = models.BooleanField("以案说法", default=False)
    is_supplement = models.BooleanField("补充走访", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = ScopedByInstitution.as_manager()

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "month"],
                condition=Q(is_supplement=False),
                name="visit_regular_once_a_month",
                violation_error_message="该机构本月已有走访记录，再次走访请登记为补充走访。",
            ),
        ]
        indexes = [
            models.Index(fields=["month", "institution"], name="visit_month_idx"),
            models.Index(fields=["appointment", "date"], name="visit_appointment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.institution_id}"

    @property
    def four_items_done(self) -> int:
        return sum((self.party_lecture, self.policy_talk, self.hazard_check, self.ledger_check))

    @property
    def items_done(self) -> frozenset[str]:
        """The “四个一” items (fields of FOUR_ITEMS) this visit recorded."""
        return frozenset(name for name in FOUR_ITEM_FIELDS if getattr(self, name))

    def missing_labels(self, required: tuple[str, ...] = FOUR_ITEM_FIELDS) -> tuple[str, ...]:
        """The labels of the `required` items this visit did not record (empty: a complete “四个一” visit)."""
        done = self.items_done
        return tuple(FOUR_ITEM_LABELS[name] for name in required if name not in done)


class VisitPhotoQuerySet(ScopedByInstitution):
    institution_prefix = "visit__institution__"


def _visit_photo_path(instance: VisitPhoto, filename: str) -> str:
    # The stored name is ours, not the uploader's: the original name is kept in `name` for display.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"supervision/visits/{instance.visit_id}/{uuid.uuid4().hex}.{suffix}"


class VisitPhoto(models.Model):
    """A photo taken on a visit (走访照片) as its evidence: JPG or PNG, served only to whoever sees the visit (never
    statically)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos", verbose_name="走访记录")
    file = models.FileField("照片文件", upload_to=_visit_photo_path)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="上传人",
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    objects = VisitPhotoQuerySet.as_manager()

    class Meta:
        verbose_name = "走访照片"
        verbose_name_plural = "走访照片"
        ordering = ["visit", "pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("supervision:visit_photo", args=[self.pk])


class ClueStatus(models.TextChoices):
    PENDING = "pending", "待移交"
    PASSED = "passed", "已移交"
    INVESTIGATING = "investigating", "查处中"
    CLOSED = "closed", "已办结"
    DISMISSED = "dismissed", "不予立案"


# The allowed status changes of a clue; a closed or dismissed clue is final.
CLUE_TRANSITIONS: dict[str, frozenset[str]] = {
    ClueStatus.PENDING: frozenset({ClueStatus.PASSED}),
    ClueStatus.PASSED: frozenset({ClueStatus.INVESTIGATING, ClueStatus.DISMISSED}),
    ClueStatus.INVESTIGATING: frozenset({ClueStatus.CLOSED}),
    ClueStatus.CLOSED: frozenset(),
    ClueStatus.DISMISSED: frozenset(),
}
OPEN_CLUE_STATUSES = (ClueStatus.PENDING, ClueStatus.PASSED, ClueStatus.INVESTIGATING)


class ClueQuerySet(ScopedByInstitution):
    def open(self):
        return self.filter(status__in=OPEN_CLUE_STATUSES)


class Clue(TimeStampedModel):
    """A clue of a violation (违规线索) found at an institution, usually on a visit, passed to the enforcement
    department (移交执法部门) and followed up to its end; whether the instructor took part in the enforcement action
    (直接参与查处) is recorded, as Yiyang reports it. Open (待移交, 已移交, 查处中) clues count as open violations."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="clues", verbose_name="机构")
    visit = models.ForeignKey(
        Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="clues", verbose_name="走访记录"
    )
    reported_by = models.ForeignKey(
        InstructorAppointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clues",
        verbose_name="报送指导员",
    )
    found_on = models.DateField("发现日期")
    description = models.TextField("线索内容")
    department = models.CharField("移交部门", max_length=100, blank=True)
    passed_on = models.DateField("移交日期", null=True, blank=True)
    status = models.CharField("办理状态", max_length=16, choices=ClueStatus.choices, default=ClueStatus.PENDING)
    took_part = models.BooleanField("指导员参与查处", default=False)
    closed_on = models.DateField("办结日期", null=True, blank=True)
    history = HistoricalRecords()

    objects = ClueQuerySet.as_manager()

    class Meta:
        verbose_name = "违规线索"
        verbose_name_plural = "违规线索"
        ordering = ["-found_on", "-pk"]
        indexes = [models.Index(fields=["status", "institution"], name="clue_status_idx")]

    def __str__(self) -> str:
        return f"{self.found_on:%Y-%m-%d} {self.description[:20]}"

    def get_absolute_url(self) -> str:
        return reverse("supervision:clue_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CLUE_STATUSES


class ClueUpdateQuerySet(ScopedByInstitution):
    institution_prefix = "clue__institution__"


class ClueUpdate(models.Model):
    """One step of a clue's follow-up (跟踪记录): the status change, when, by whom, with a note."""

    clue = models.ForeignKey(Clue, on_delete=models.CASCADE, related_name="updates", verbose_name="违规线索")
    date = models.DateField("日期")
    from_status = models.CharField("原状态", max_length=16, choices=ClueStatus.choices, blank=True)
    to_status = models.CharField("新状态", max_length=16, choices=ClueStatus.choices)
    note = models.CharField("说明", max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = ClueUpdateQuerySet.as_manager()

    class Meta:
        verbose_name = "线索跟踪记录"
        verbose_name_plural = "线索跟踪记录"
        ordering = ["date", "pk"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_to_status_display()}"


# ---------------------------------------------------------------------------------------------------------
# The three checks (三同步)


class CheckKind(models.TextChoices):
    APPROVAL = "approval", "审批（登记）"
    ANNUAL = "annual", "年检"
    GRADING = "grading", "等级评估"


class CheckResult(models.TextChoices):
    PASS = "pass", "合格"
    FAIL = "fail", "不合格"
    RECTIFY = "rectify", "限期整改"


class PartyCheck(TimeStampedModel):
    """A party-building check (党建工作同步检查) of an institution at its approval, annual inspection or grading,
    with its result; at approval, whether the party-building precondition was met (党建工作纳入审批前置条件)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="checks", verbose_name="机构")
    kind = models.CharField("检查环节", max_length=12, choices=CheckKind.choices)
    date = models.DateField("检查日期")
    result = models.CharField("检查结果", max_length=12, choices=CheckResult.choices)
    precondition_met = models.BooleanField("党建前置条件已满足", null=True, blank=True)
    notes = models.TextField("检查情况", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = ScopedByInstitution.as_manager()

    class Meta:
        verbose_name = "党建同步检查"
        verbose_name_plural = "党建同步检查"
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="approval", precondition_met__isnull=False)
                | (~Q(kind="approval") & Q(precondition_met__isnull=True)),
                name="check_precondition_only_at_approval",
                violation_error_message="只有审批环节记录党建前置条件是否满足，且必须填写。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date:%Y-%m-%d} {self.get_result_display()}"


class InspectionPolicy(TimeStampedModel):
    """The annual-inspection interval (年检周期规则): how many months after its last annual inspection (年检; never
    inspected: after its approval) an institution is due again, for an owner's subtree (None: the whole system) over a
    range of years; of the rules valid in a year, the most specific owner wins. The Qinhuai seed (docs/rules.md:
    培训机构年检时，党建工作同步检查) names the annual inspection but no interval: the default is yearly (12 months)."""

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    interval_months = models.PositiveSmallIntegerField(
        "年检周期（月）",
        default=12,
        validators=[MinValueValidator(1, "年检周期应为1到60个月。"), MaxValueValidator(60, "年检周期应为1到60个月。")],
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2023)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = "年检周期规则"
        verbose_name_plural = "年检周期规则"
        ordering = ["-valid_from", "pk"]
        constraints = [
            _valid_range_constraint("inspection_policy_valid_range"),
            models.CheckConstraint(
                condition=Q(interval_months__gte=1, interval_months__lte=60),
                name="inspection_policy_interval_range",
                violation_error_message="年检周期应为1到60个月。",
            ),
        ]

    def __str__(self) -> str:
        return f"年检周期：每{self.interval_months}个月"


# ---------------------------------------------------------------------------------------------------------
# Points and the red list


class PointCategory(models.TextChoices):
    PARTY_BUILDING = "party_building", "党建工作"
    OPERATION = "operation", "规范办学"
    SAFETY = "safety", "安全管理"
    SERVICE = "service", "社会服务"
    VIOLATION = "violation", "违规行为"


class PointRule(TimeStampedModel):
    """A rule of the process-supervision points (过程监管积分细则): a code, what it rewards or penalizes, the points
    (positive or negative), its category (party-building items included, Yiyang), valid for a range of years and an
    owner's subtree (None: the whole system)."""

    code = models.CharField(
        "细则编码",
        max_length=20,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]{2,20}$", "细则编码只能由字母、数字、下划线或短横线组成。")],
    )
    name = models.CharField("细则名称", max_length=100)
    category = models.CharField("类别", max_length=16, choices=PointCategory.choices)
    points = models.SmallIntegerField("分值", validators=[MinValueValidator(-100), MaxValueValidator(100)])
    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2023)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = "积分细则"
        verbose_name_plural = "积分细则"
        ordering = ["category", "code", "pk"]
        constraints = [
            _valid_range_constraint("point_rule_valid_range"),
            models.CheckConstraint(
                condition=~Q(points=0), name="point_rule_nonzero", violation_error_message="分值不能为0。"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.points:+d}）"


class PointEvent(models.Model):
    """One entry of an institution's points ledger (积分记录) for a year: the rule, the points copied from it, the
    date, a note and who recorded it. Never edited: a mistake is reversed by a new entry with the opposite points
    (`reverses`)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="point_events", verbose_name="机构"
    )
    year = models.PositiveSmallIntegerField("年度")
    rule = models.ForeignKey(PointRule, on_delete=models.PROTECT, related_name="events", verbose_name="积分细则")
    points = models.SmallIntegerField("分值")
    date = models.DateField("记分日期")
    note = models.CharField("说明", max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", verbose_name="冲销记录"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    objects = ScopedByInstitution.as_manager()

    class Meta:
        verbose_name = "积分记录"
        verbose_name_plural = "积分记录"
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["year", "institution"], name="point_event_year_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.rule_id} {self.points:+d}"


class RedListPolicy(TimeStampedModel):
    """How big the red list (红名单) is: the top `top_n` or the top `top_percent` per cent of the ranking of a scope
    (the owner's subtree; None: the whole system) in a year, with at least `min_points`. Of the policies valid for
    a year, the most specific owner wins. The seeds set no number: the default (top 10%, at least 1 point) is ours,
    to be configured."""

    owner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="制定党组织"
    )
    top_n = models.PositiveIntegerField("前N名", null=True, blank=True, validators=[MinValueValidator(1)])
    top_percent = models.PositiveSmallIntegerField(
        "前百分之", null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    min_points = models.SmallIntegerField("最低积分", default=1)
    valid_from = models.PositiveSmallIntegerField("起始年度", default=2023)
    valid_to = models.PositiveSmallIntegerField("截止年度", null=True, blank=True)
    source = models.CharField("依据", max_length=200, blank=True)
    active = models.BooleanField("启用", default=True)
    history = HistoricalRecords()

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = "红名单规则"
        verbose_name_plural = "红名单规则"
        ordering = ["-valid_from", "pk"]
        constraints = [
            _valid_range_constraint("red_list_policy_valid_range"),
            models.CheckConstraint(
                condition=Q(top_n__isnull=False, top_percent__isnull=True)
                | Q(top_n__isnull=True, top_percent__isnull=False),
                name="red_list_policy_one_quota",
                violation_error_message="请在“前N名”和“前百分之”中二选一填写。",
            ),
        ]

    def __str__(self) -> str:
        quota = f"前{self.top_n}名" if self.top_n else f"前{self.top_percent}%"
        return f"红名单：{quota}"


class RedListEntry(TimeStampedModel):
    """An institution put on the red list (列入红名单) for a year: marked for priority in after-school services
    (优先进校参与课后服务)."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="red_list_entries", verbose_name="机构"
    )
    year = models.PositiveSmallIntegerField("年度")
    points = models.IntegerField("积分")
    rank = models.PositiveIntegerField("名次")
    after_school_priority = models.BooleanField("课后服务优先", default=True)
    listed_on = models.DateField("列入日期")
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = ScopedByInstitution.as_manager()

    class Meta:
        verbose_name = "红名单"
        verbose_name_plural = "红名单"
        ordering = ["-year", "rank", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "year"],
                name="red_list_once_a_year",
                violation_error_message="该机构已列入本年度红名单。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} 红名单 {self.institution_id}"
