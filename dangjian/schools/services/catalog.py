"""State changes of the catalog seam: the instructor pool (师资库) and its points (积分), the course catalog (课程),
modules (教学模块) and premium-course rounds (精品课程评选).

Catalog rows have an owning organization and are shared downwards; changes need a school-managing role over
the owner (`require_manager`). Sources: Huangpi (积分管理, seven categories, 精品课程评选) and Xiqing (three
instructor teams, the 40/40/20 module mix).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import acting_user, service, set_history
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization
from dangjian.schools.models import (
    DEFAULT_PREMIUM_REWARD_HOURS,
    Course,
    CourseCategory,
    CourseFormat,
    CourseModule,
    Instructor,
    InstructorTeam,
    PointEntry,
    PointEvent,
    PointRule,
    PremiumEntry,
    PremiumRound,
    PremiumRoundStatus,
    format_hours,
)
from dangjian.schools.selectors.catalog import (
    PREMIUM_TIE_BREAK,
    point_rule_for,
    premium_award_source,
    premium_ranked_entries,
    premium_standings,
)
from dangjian.schools.services._common import NOT_MANAGER_MESSAGE, require_manager

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def _lock(model, obj):
    """The row again, locked for the rest of the transaction (so that two requests never both act on it)."""
    return model.objects.select_for_update().get(pk=obj.pk)


def _validate(obj) -> None:
    obj.full_clean()


# ---------------------------------------------------------------------------------------------------------
# Points (积分)


def _require_points_scope(by, instructor: Instructor) -> None:
    """Points are recorded by a school manager whose subtree the instructor's pool reaches: the instructor is
    owned inside one of their manage roots, or by an ancestor of one (a district instructor teaching a town
    class)."""
    access = access_for(by)
    if access.system:
        return
    path = instructor.owner.path
    if not any(path.startswith(root) or root.startswith(path) for root in access.school_manage_roots):
        raise PermissionDenied(NOT_MANAGER_MESSAGE)


@service
def instructor_points_award(
    *, by, instructor: Instructor, event: str, on: datetime.date, source: str = ""
) -> PointEntry:
    """Record the points an event earns an instructor (Huangpi 积分管理: points for a class taught, a trainee
    rating, a premium-course selection). The rule is `selectors.catalog.point_rule_for(instructor, event,
    on.year)`: the most specific valid rule of the instructor's owner or an ancestor. With no rule:
    `ValidationError({"event": …}, code="no_rule")` and nothing is saved.

    `by` must manage a subtree the instructor's pool reaches (see `_require_points_scope`). Called by the booking
    seam when a class is completed and by `premium_round_close`.
    """
    instructor = Instructor.objects.select_for_update().select_related("owner").get(pk=instructor.pk)
    _require_points_scope(by, instructor)
    if event not in PointEvent.values:
        raise ValidationError({"event": ValidationError("积分事项无效。", code="invalid")})
    rule = point_rule_for(instructor=instructor, event=event, year=on.year)
    if rule is None:
        raise ValidationError(
            {
                "event": ValidationError(
                    "没有适用的积分规则：%(event)s（%(year)s年度，%(owner)s及其上级均未设置）。",
                    code="no_rule",
                    params={"event": PointEvent(event).label, "year": on.year, "owner": instructor.owner.name},
                )
            },
        )
    entry = PointEntry(
        instructor=instructor,
        year=on.year,
        date=on,
        event=event,
        points=rule.points,
        rule=rule,
        source=(source or "").strip()[:200],
        recorded_by=acting_user(by),
    )
    _validate(entry)
    entry.save()
    return entry


@service
def point_entry_reverse(*, by, entry: PointEntry, reason: str) -> PointEntry:
    """Correct a points entry by a reversing entry (积分冲销): negated points, same year and event, `reverses`
    set. The ledger is never edited; an entry is reversed at most once, a reversal is not reversed, and a
    reason is required. Needs a manager role over the instructor's owner."""
    entry = PointEntry.objects.select_for_update().select_related("instructor__owner").get(pk=entry.pk)
    require_manager(by, entry.instructor.owner)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写冲销原因。"})
    if entry.reverses_id is not None:
        raise ValidationError({"entry": "冲销记录不能再被冲销。"})
    if PointEntry.objects.filter(reverses=entry).exists():
        raise ValidationError({"entry": "该积分记录已冲销过，不能重复冲销。"})
    reversal = PointEntry(
        instructor=entry.instructor,
        year=entry.year,
        date=timezone.localdate(),
        event=entry.event,
        points=-entry.points,
        rule=entry.rule,
        source=f"冲销：{reason}"[:200],
        reverses=entry,
        recorded_by=acting_user(by),
    )
    _validate(reversal)
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError:  # the one-to-one `reverses`: a concurrent reversal won
        raise ValidationError({"entry": "该积分记录已冲销过，不能重复冲销。"}) from None
    return reversal


@service
def point_rule_save(
    *,
    by,
    owner: Organization,
    event: str,
    points: Decimal,
    valid_from: int,
    valid_to: int | None = None,
    description: str = "",
    rule: PointRule | None = None,
) -> PointRule:
    """Add (or, with `rule`, change) a points rule (积分规则, Huangpi 积分管理): the points an event earns in the
    owner's subtree for the years valid_from..valid_to (open-ended when empty). valid_to >= valid_from; points
    non-zero; one rule per owner, event and starting year (a later starting year supersedes an earlier one).
    Needs a manager role over the owner."""
    require_manager(by, owner)
    # Serialize rule changes of one owner, so that the duplicate check below cannot race.
    list(Organization.objects.select_for_update().filter(pk=owner.pk))
    if rule is not None:
        rule = _lock(PointRule, rule)
        require_manager(by, rule.owner)
    if points is not None and points == ZERO:
        raise ValidationError({"points": "积分不能为0。"})
    if valid_from is None or not 2000 <= valid_from <= 2100:
        raise ValidationError({"valid_from": "起始年度应在2000至2100之间。"})
    if valid_to is not None and not 2000 <= valid_to <= 2100:
        raise ValidationError({"valid_to": "截止年度应在2000至2100之间。"})
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError({"valid_to": "截止年度不能早于起始年度。"})
    duplicate = PointRule.objects.filter(owner=owner, event=event, valid_from=valid_from)
    if rule is not None:
        duplicate = duplicate.exclude(pk=rule.pk)
    if duplicate.exists():
        raise ValidationError(
            {"valid_from": "该组织已有同一事项、同一起始年度的积分规则，请修改原规则或换一个起始年度。"}
        )
    rule = rule or PointRule()
    rule.owner = owner
    rule.event = event
    rule.points = points
    rule.valid_from = valid_from
    rule.valid_to = valid_to
    rule.description = (description or "").strip()
    _validate(rule)
    set_history(rule, by, "保存积分规则")
    rule.save()
    return rule


# ---------------------------------------------------------------------------------------------------------
# Instructors (师资库)


def _check_instructor(by, *, team: InstructorTeam, team_changed: bool, member, appointed_on, ends_on) -> None:
    errors = {}
    if team is not None and team_changed and not team.active:
        errors["team"] = "该讲师团已停用，请选择在用的讲师团。"
    if appointed_on and ends_on and ends_on <= appointed_on:
        errors["appointment_ends_on"] = "聘期截止日期须晚于聘任日期。"
    if ends_on and not appointed_on:
        errors["appointed_on"] = "填写聘期截止日期时，请同时填写聘任日期。"
    if member is not None and not Member.objects.visible_to(by).filter(pk=member.pk).exists():
        errors["member"] = "找不到该党员，或该党员不在您的查看范围内。"
    if errors:
        raise ValidationError(errors)


INSTRUCTOR_FIELDS = ("name", "team", "employer", "title", "topics", "member", "appointed_on", "appointment_ends_on")


@service
def instructor_create(
    *,
    by,
    owner: Organization,
    name: str,
    team: InstructorTeam,
    employer: str = "",
    title: str = "",
    topics: str = "",
    member: Member | None = None,
    appointed_on: datetime.date | None = None,
    appointment_ends_on: datetime.date | None = None,
    active: bool = True,
) -> Instructor:
    """Add an instructor to the pool (师资库; Xiqing's three teams, appointment letters 聘任书): the team must be
    active, the appointment end after its start, a linked member one the user sees. Needs a manager role over
    the owner."""
    require_manager(by, owner)
    _check_instructor(
        by, team=team, team_changed=True, member=member, appointed_on=appointed_on, ends_on=appointment_ends_on
    )
    instructor = Instructor(
        owner=owner,
        name=(name or "").strip(),
        team=team,
        employer=(employer or "").strip(),
        title=(title or "").strip(),
        topics=(topics or "").strip(),
        member=member,
        appointed_on=appointed_on,
        appointment_ends_on=appointment_ends_on,
        active=active,
    )
    _validate(instructor)
    set_history(instructor, by, "新增讲师")
    instructor.save()
    return instructor


@service
def instructor_update(*, by, instructor: Instructor, owner: Organization | None = None, **changes) -> Instructor:
    """Change an instructor (师资库): same rules as `instructor_create`; a team that was deactivated may stay
    as it is but cannot be newly chosen. Moving the instructor to another owner needs a manager role over both."""
    instructor = _lock(Instructor, instructor)
    require_manager(by, instructor.owner)
    if owner is not None and owner.pk != instructor.owner_id:
        require_manager(by, owner)
        instructor.owner = owner
    unknown = set(changes) - set(INSTRUCTOR_FIELDS) - {"active"}
    if unknown:
        raise TypeError(f"unknown instructor fields: {sorted(unknown)}")
    team = changes.get("team", instructor.team)
    member = changes.get("member", instructor.member)
    _check_instructor(
        by,
        team=team,
        team_changed=team is not None and team.pk != instructor.team_id,
        member=member if member is not None and member.pk != instructor.member_id else None,
        appointed_on=changes.get("appointed_on", instructor.appointed_on),
        ends_on=changes.get("appointment_ends_on", instructor.appointment_ends_on),
    )
    for name, value in changes.items():
        setattr(instructor, name, value.strip() if isinstance(value, str) else value)
    _validate(instructor)
    set_history(instructor, by, "修改讲师信息")
    instructor.save()
    return instructor


# ---------------------------------------------------------------------------------------------------------
# Courses (课程)


def _check_hours(hours) -> None:
    try:
        doubled = Decimal(hours) * 2
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"hours": "学时应为数字。"}) from None
    if doubled != doubled.to_integral_value():
        raise ValidationError({"hours": "学时须为0.5的整数倍（如0.5、1、1.5）。"})


def _visible_instructors(by, instructors) -> list[Instructor]:
    instructors = list(instructors or [])
    if not instructors:
        return []
    seen = set(
        Instructor.objects.visible_to(by).filter(pk__in=[i.pk for i in instructors]).values_list("pk", flat=True)
    )
    if len(seen) != len({i.pk for i in instructors}):
        raise ValidationError({"instructors": "所选讲师不存在，或不在您的查看范围内。"})
    return instructors


@dataclass
class CourseData:
    """What a course form sends; the target groups as flags."""

    title: str
    category: str
    format: str
    content_type: str
    hours: Decimal | None = None
    for_secretaries: bool = False
    for_party_workers: bool = False
    for_members: bool = False
    instructors: list = field(default_factory=list)
    summary: str = ""
    materials: str = ""
    active: bool = True


def _apply_course(by, course: Course, data: CourseData) -> list[Instructor]:
    errors = {}
    if data.format not in CourseFormat.values:
        errors["format"] = "请选择课程形式。"
    if not (data.for_secretaries or data.for_party_workers or data.for_members):
        errors["target_groups"] = "请至少选择一类培训对象。"
    if errors:
        raise ValidationError(errors)
    hours = data.hours if data.hours not in (None, "") else format_hours(data.format)
    _check_hours(hours)
    instructors = _visible_instructors(by, data.instructors)
    course.title = (data.title or "").strip()
    course.category = data.category
    course.format = data.format
    course.hours = Decimal(hours)
    course.content_type = data.content_type
    course.for_secretaries = data.for_secretaries
    course.for_party_workers = data.for_party_workers
    course.for_members = data.for_members
    course.summary = (data.summary or "").strip()
    course.materials = (data.materials or "").strip()
    course.active = data.active
    return instructors


@service
def course_create(*, by, owner: Organization, data: CourseData) -> Course:
    """Add a course to the catalog (课程; Huangpi's seven categories, Xiqing's three content types): hours default
    to the format's (`format_hours`) when left empty and go in steps of 0.5; at least one target group
    (书记 / 党务工作者 / 普通党员); only instructors the user sees. Needs a manager role over the owner."""
    require_manager(by, owner)
    course = Course(owner=owner)
    instructors = _apply_course(by, course, data)
    _validate(course)
    set_history(course, by, "新增课程")
    course.save()
    course.instructors.set(instructors)
    return course


@service
def course_update(*, by, course: Course, data: CourseData, owner: Organization | None = None) -> Course:
    """Change a course: the rules of `course_create`. An instructor already on the course may stay even when the
    user does not see them; added ones must be visible. Moving to another owner needs a manager role over both."""
    course = _lock(Course, course)
    require_manager(by, course.owner)
    if owner is not None and owner.pk != course.owner_id:
        require_manager(by, owner)
        course.owner = owner
    current = set(course.instructors.values_list("pk", flat=True))
    hidden = current - set(Instructor.objects.visible_to(by).filter(pk__in=current).values_list("pk", flat=True))
    wanted = list(data.instructors or [])
    # Only instructors added now must be visible; those the form could not show (out of sight) stay on.
    _apply_course(by, course, replace(data, instructors=[i for i in wanted if i.pk not in current]))
    _validate(course)
    set_history(course, by, "修改课程")
    course.save()
    course.instructors.set(sorted(hidden | {i.pk for i in wanted}))
    return course


# ---------------------------------------------------------------------------------------------------------
# Modules (教学模块)


@service
def module_save(
    *,
    by,
    owner: Organization,
    name: str,
    courses,
    target_political: Decimal = Decimal("40"),
    target_practice: Decimal = Decimal("40"),
    target_model: Decimal = Decimal("20"),
    tolerance: Decimal = Decimal("5"),
    description: str = "",
    module: CourseModule | None = None,
) -> CourseModule:
    """Create or change a module (教学模块: 乡村振兴, 基层治理, 党务工作 …) with its courses and its target mix by
    content type (Xiqing: 40% 政治理论 + 40% 基层实务 + 20% 先进模范): the three targets add up to 100; courses
    must be ones the user sees (courses already in the module out of the user's sight stay). Needs a manager
    role over the owner."""
    require_manager(by, owner)
    current: set[int] = set()
    if module is not None:
        module = _lock(CourseModule, module)
        require_manager(by, module.owner)
        current = set(module.courses.values_list("pk", flat=True))
    targets = (target_political, target_practice, target_model)
    if all(t is not None for t in targets) and sum(targets, ZERO) != HUNDRED:
        total = sum(targets, ZERO).quantize(Decimal("0.1"))
        raise ValidationError({"target_political": f"三类内容的目标占比之和须为100%，当前为{total}%。"})
    courses = list(courses or [])
    wanted = {c.pk for c in courses}
    visible = set(Course.objects.visible_to(by).filter(pk__in=wanted | current).values_list("pk", flat=True))
    if not (wanted - current) <= visible:
        raise ValidationError({"courses": "所选课程不存在，或不在您的查看范围内。"})
    keep = (current - visible) | wanted
    module = module or CourseModule()
    module.owner = owner
    module.name = (name or "").strip()
    module.description = (description or "").strip()
    module.target_political = target_political
    module.target_practice = target_practice
    module.target_model = target_model
    module.tolerance = tolerance
    _validate(module)
    set_history(module, by, "保存教学模块")
    module.save()
    module.courses.set(sorted(keep))
    return module


# ---------------------------------------------------------------------------------------------------------
# Premium rounds (精品课程评选)


def _require_open(round: PremiumRound) -> None:
    if round.status != PremiumRoundStatus.OPEN:
        raise ValidationError({"__all__": "该评选已公布结果，不能再修改。"})


def _check_reward_hours(value) -> Decimal:
    """The round's reward hours: a number from 0 to 200 in steps of 0.5 (0: no hours)."""
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"reward_hours": "区内讲师奖励学时应为数字。"}) from None
    if not hours.is_finite():
        raise ValidationError({"reward_hours": "区内讲师奖励学时应为数字。"})
    if not ZERO <= hours <= Decimal("200"):
        raise ValidationError({"reward_hours": "区内讲师奖励学时应在0到200之间。"})
    if (hours * 2) != (hours * 2).to_integral_value():
        raise ValidationError({"reward_hours": "区内讲师奖励学时须为0.5的整数倍（如0、1、1.5、4）。"})
    return hours


@service
def premium_round_create(
    *,
    by,
    owner: Organization,
    year: int,
    category: str,
    quota: int,
    reward_hours: Decimal | None = None,
) -> PremiumRound:
    """Open an annual premium-course round for one category (Huangpi 精品课程评选, by the seven categories): one
    round per owner, year and category; quota >= 1; the hours a selected course's in-district instructor earns
    (`reward_hours`, 0 to 200 in steps of 0.5; empty: DEFAULT_PREMIUM_REWARD_HOURS — the seed names no number).
    Needs a manager role over the owner."""
    require_manager(by, owner)
    hours = DEFAULT_PREMIUM_REWARD_HOURS if reward_hours in (None, "") else _check_reward_hours(reward_hours)
    label = CourseCategory(category).label if category in CourseCategory.values else category
    duplicate = f"{owner.name}{year}年已有{label}精品课程评选，不能重复创建。"
    if PremiumRound.objects.filter(owner=owner, year=year, category=category).exists():
        raise ValidationError({"category": duplicate})
    round = PremiumRound(owner=owner, year=year, category=category, quota=quota, reward_hours=hours)
    _validate(round)
    set_history(round, by, "创建精品课程评选")
    try:
        with transaction.atomic():
            round.save()
    except IntegrityError:  # a concurrent request created the same round first
        raise ValidationError({"category": duplicate}) from None
    return round


@service
def premium_entry_add(*, by, round: PremiumRound, course: Course) -> PremiumEntry:
    """Enter a course in an open premium round (精品课程评选): the course is of the round's category, visible to
    the user and active; once per round. Needs a manager role over the round's owner."""
    round = _lock(PremiumRound, round)
    require_manager(by, round.owner)
    _require_open(round)
    if not Course.objects.visible_to(by).filter(pk=course.pk).exists():
        raise ValidationError({"course": "找不到该课程，或该课程不在您的查看范围内。"})
    course = Course.objects.get(pk=course.pk)
    if course.category != round.category:
        raise ValidationError(
            {"course": f"该课程属于{course.get_category_display()}，本次评选只接受{round.get_category_display()}课程。"}
        )
    if not course.active:
        raise ValidationError({"course": "该课程已停用，不能参评。"})
    if round.entries.filter(course=course).exists():
        raise ValidationError({"course": "该课程已参加本次评选。"})
    entry = PremiumEntry(round=round, course=course)
    _validate(entry)
    set_history(entry, by, "登记参评课程")
    entry.save()
    return entry


@service
def premium_score(*, by, entry: PremiumEntry, score: Decimal) -> PremiumEntry:
    """Score an entry of an open premium round: 0 to 100 (two decimals). Needs a manager role over the owner."""
    round = PremiumRound.objects.select_for_update().get(pk=entry.round_id)
    require_manager(by, round.owner)
    _require_open(round)
    entry = _lock(PremiumEntry, entry)
    if score is None:
        raise ValidationError({"score": "请填写评分。"})
    score = Decimal(score)
    if not ZERO <= score <= HUNDRED:
        raise ValidationError({"score": "评分应在0到100之间。"})
    entry.score = score
    _validate(entry)
    set_history(entry, by, "评分")
    entry.save()
    return entry


@dataclass
class PremiumCloseResult:
    selected: list[PremiumEntry]
    tie_note: str
    awarded: list[PointEntry]
    not_awarded: list[tuple[Course, Instructor, str]]  # course, instructor, why
    hours_credited: list = field(default_factory=list)  # the HoursEntry rows written (精品课程奖励)
    hours_not_credited: list[tuple[Course, Instructor, str]] = field(default_factory=list)  # course, instructor, why


def premium_hours_credit(*, by, round: PremiumRound, course: Course, on: datetime.date) -> tuple[list, list]:
    """Credit the in-district instructors of a selected course the round's reward hours (精品课程奖励; Huangpi:
    区内教师入选精品课程的，奖励培训学时) through the hours ledger. An instructor is in-district when linked to a
    member (`Instructor.member`) who is on the rolls (正常); one outside the district (no member) earns points
    only. Credited once per member, course and year: a member who already holds an unreversed 精品课程奖励 entry
    for this course in that year (a second round of the year, a course entered twice) is not credited again.

    The caller holds the course's row lock, so two rounds closing at once cannot both credit. Schools does not
    import training at load time (training builds on schools): the ledger is reached at run time, and its
    entries are read through the model registry. Returns (entries written, [(course, instructor, why)])."""
    from dangjian.training.services.ledger import Credit, hours_credit_many  # the only writer of hours

    hours_entry = apps.get_model("training", "HoursEntry")
    premium_kind = "premium"  # training.models.HoursKind.PREMIUM
    instructors = list(course.instructors.select_related("member").order_by("name", "pk"))
    skipped: list[tuple[Course, Instructor, str]] = []
    if not instructors:
        return [], skipped
    if not round.reward_hours:
        return [], [(course, i, "本次评选未设奖励学时") for i in instructors if i.member_id]
    if on > timezone.localdate():
        return [], [(course, i, "评选年度尚未到，未计学时") for i in instructors if i.member_id]
    member_ids = {i.member_id for i in instructors if i.member_id}
    already = set(
        hours_entry.objects.filter(
            kind=premium_kind,
            course=course,
            year=on.year,
            member_id__in=member_ids,
            reverses__isnull=True,
            reversed_by__isnull=True,
        ).values_list("member_id", flat=True)
    )
    credits, seen = [], set()
    for instructor in instructors:
        member = instructor.member
        if member is None:
            continue  # outside the district: points only
        if member.status != Status.ACTIVE:
            skipped.append((course, instructor, f"对应党员党籍状态为{member.get_status_display()}，未计学时"))
        elif member.pk in already:
            skipped.append((course, instructor, f"该课程{on.year}年度已计过精品课程奖励学时"))
        elif member.pk not in seen:
            seen.add(member.pk)
            credits.append(
                Credit(
                    member_id=member.pk,
                    on=on,
                    hours=round.reward_hours,
                    kind=premium_kind,
                    course_id=course.pk,
                    document=f"精品课程入选：{premium_award_source(round, course)}"[:200],
                )
            )
    written = hours_credit_many(by=by, credits=credits) if credits else []
    return written, skipped


@service
def premium_round_close(*, by, round: PremiumRound) -> PremiumCloseResult:
    """Publish a premium round (Huangpi 精品课程评选): every entry must be scored (else an error listing them); the
    top `quota` by score are selected, a tie at the quota boundary going to the earlier entry (lower pk;
    PREMIUM_TIE_BREAK); selected courses get `premium_year = round.year`; every instructor of a selected course
    earns the PREMIUM_SELECTED points through `instructor_points_award`, dated in the round's year, and every
    in-district instructor (linked to a member) the round's `reward_hours` through the hours ledger, once per member,
    course and year (`premium_hours_credit`; Huangpi: 区内教师入选精品课程的，奖励培训学时). Without an applicable
    points rule the round closes anyway and the result says no points were awarded. The round becomes closed and
    read-only. Needs a manager role over the owner."""
    round = _lock(PremiumRound, round)
    require_manager(by, round.owner)
    _require_open(round)
    entries = premium_ranked_entries(round)
    if not entries:
        raise ValidationError({"__all__": "本次评选还没有参评课程，不能公布结果。"})
    unscored = [e for e in entries if e.score is None]
    if unscored:
        titles = "、".join(f"《{e.course.title}》" for e in unscored)
        raise ValidationError({"__all__": f"以下参评课程尚未评分，不能公布结果：{titles}。"})
    standings, _tie, note = premium_standings(entries, round.quota)
    today = timezone.localdate()
    on = today if today.year == round.year else datetime.date(round.year, 12, 31)
    selected, awarded, not_awarded, credited, not_credited = [], [], [], [], []
    for standing in standings:
        entry = standing.entry
        entry.selected = standing.within_quota
        set_history(entry, by, "公布评选结果")
        entry.save()
        if not entry.selected:
            continue
        selected.append(entry)
        course = _lock(Course, entry.course)
        course.premium_year = round.year
        set_history(course, by, f"入选{round}")
        course.save()
        for instructor in course.instructors.select_related("owner").order_by("name", "pk"):
            try:
                awarded.append(
                    instructor_points_award(
                        by=by,
                        instructor=instructor,
                        event=PointEvent.PREMIUM_SELECTED,
                        on=on,
                        source=premium_award_source(round, course),
                    )
                )
            except ValidationError as exc:
                not_awarded.append((course, instructor, "；".join(exc.messages)))
            except PermissionDenied:
                not_awarded.append((course, instructor, "无权为该讲师记积分。"))
        written, skipped = premium_hours_credit(by=by, round=round, course=course, on=on)
        credited += written
        not_credited += skipped
    round.status = PremiumRoundStatus.CLOSED
    round.closed_at = timezone.now()
    set_history(round, by, "公布评选结果")
    round.save()
    return PremiumCloseResult(
        selected=selected,
        tie_note=note or PREMIUM_TIE_BREAK,
        awarded=awarded,
        not_awarded=not_awarded,
        hours_credited=credited,
        hours_not_credited=not_credited,
    )
