"""Registering a person on the development path and recording its steps, with the time rules of the step list
(docs/development-of-members.md; 《中国共产党发展党员工作细则》2014). Every refusal names the field and the rule;
several problems are reported together; nothing is saved unless everything holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, acting_user, require_editor, service, set_history
from dangjian.core.validators import add_years, normalize_id_number, parse_id_number
from dangjian.development.models import (
    DUPLICATE_CANDIDATE_MESSAGE,
    Candidate,
    ContactAssignment,
    ContactRole,
    ProbationExtension,
    StepRecord,
)
from dangjian.development.selectors.path import next_due, probation_end
from dangjian.development.selectors.training import course_hours_from_ledger
from dangjian.development.steps import Step, step_list
from dangjian.members.lookups import id_number_check
from dangjian.members.models import UNREGISTRABLE_ID_MESSAGE, Category, Member, Status
from dangjian.members.services import member_create, member_make_full
from dangjian.orgs.models import BRANCH_KINDS, Organization

NOT_A_BRANCH = "发展党员工作由党支部进行，请选择一个党支部（当前为%(kind)s）。"
STOPPED = "该人员已终止培养，不能再登记步骤。"


def _candidate_id_taken(access_user, number: str) -> str | None:
    """Why `number` cannot be registered on the path: the precise message when the user sees the person who holds
    it, the neutral one otherwise (the form is no oracle of who applied where)."""
    holder = Candidate.objects.dangerously_all().filter(id_number_digest=_digest(number)).values_list("pk", flat=True)
    pk = holder.first()
    if pk is None:
        return None
    if Candidate.objects.visible_to(access_user).filter(pk=pk).exists():
        return DUPLICATE_CANDIDATE_MESSAGE
    return UNREGISTRABLE_ID_MESSAGE


def _digest(number: str) -> str:
    from dangjian.core.crypto import blind_index

    return blind_index(normalize_id_number(number))


@service
def candidate_register(
    *,
    by,
    organization: Organization,
    name: str,
    gender: str,
    birth_date: dt.date,
    id_number: str,
    applied_on: dt.date,
    phone: str = "",
    education: str = "",
    note: str = "",
) -> Candidate:
    """Register an applicant (第1步 递交入党申请书) in a branch of the user's scope: the person and the step's
    record together. Refused when the applicant is under 18 on the application's date (《发展党员工作细则》第七条),
    when the ID number is invalid, disagrees with the birth date or gender, is already on the path or in the
    roster, or when the organization is not a branch (docs/development-of-members.md, 第一阶段)."""
    access = access_for(by)
    require_editor(access, organization)
    errors = Errors()
    steps = step_list()
    first = steps.step(1)
    number = normalize_id_number(id_number or "")
    if organization.kind not in BRANCH_KINDS:
        errors.add("organization", NOT_A_BRANCH % {"kind": organization.get_kind_display()})
    if not (name or "").strip():
        errors.add("name", "请填写姓名。")
    info = None
    if not number:
        errors.add("id_number", "请填写公民身份号码。")
    else:
        try:
            info = parse_id_number(number)
        except ValidationError as exc:
            errors.extend("id_number", exc.messages)
    if info is not None:
        if birth_date and birth_date != info.birth_date:
            errors.add("birth_date", f"出生日期与公民身份号码不一致（号码中为{info.birth_date:%Y-%m-%d}）。")
        if gender and gender != info.gender:
            errors.add("gender", "性别与公民身份号码不一致。")
    today = timezone.localdate()
    if applied_on is None:
        errors.add("applied_on", "请填写申请日期。")
    elif applied_on > today:
        errors.add("applied_on", "申请日期不能晚于今天。")
    elif birth_date and first.min_age and applied_on < add_years(birth_date, first.min_age):
        errors.add("applied_on", f"申请人递交申请时未满{first.min_age}周岁，不能受理（{first.age_rule}）。")
    if number and "id_number" not in errors:
        taken = _candidate_id_taken(by, number) or id_number_check(by=by, number=number)
        if taken:
            errors.add("id_number", taken)
    errors.raise_if_any()
    candidate = Candidate(
        name=name.strip(),
        gender=gender,
        birth_date=birth_date,
        id_number=number,
        phone=(phone or "").strip(),
        education=education or "",
        organization=organization,
        stage=steps.stage_after(1),
        last_step=1,
    )
    try:
        candidate.full_clean(validate_unique=False)
    except ValidationError as exc:
        errors.merge(exc)
        errors.raise_if_any()
    set_history(candidate, by, "登记入党申请人")
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:
        raise ValidationError({"id_number": _candidate_id_taken(by, number) or UNREGISTRABLE_ID_MESSAGE}) from None
    record = StepRecord(
        candidate=candidate, number=1, date=applied_on, note=(note or "").strip(), recorded_by=acting_user(by)
    )
    set_history(record, by)
    record.save()
    return candidate


def _lock(candidate: Candidate) -> Candidate:
    """The candidate's current row, locked until the transaction ends: two submissions of a step never interleave."""
    return Candidate.objects.select_for_update().select_related("organization").get(pk=candidate.pk)


def _dates(candidate: Candidate) -> dict[int, dt.date]:
    return dict(StepRecord.objects.dangerously_all().filter(candidate=candidate).values_list("number", "date"))


def _extension_months(candidate: Candidate) -> int:
    ext = ProbationExtension.objects.dangerously_all().filter(candidate=candidate).first()
    return ext.months if ext else 0


def _check_contacts(step: Step, candidate: Candidate, contacts: Sequence[Member], errors: Errors) -> None:
    """The people named are full members (正式党员, 党籍正常) of the person's own branch, as many as the rule asks."""
    rule = step.contacts
    assert rule is not None, "called for steps that assign contacts"
    label = ContactRole(rule.role).label
    unique = {m.pk: m for m in contacts}
    if not rule.min <= len(unique) <= rule.max:
        count = f"{rule.min}名" if rule.min == rule.max else f"{rule.min}至{rule.max}名"
        errors.add("contacts", f"{label}应为{count}正式党员（{rule.rule}）。")
    for member in unique.values():
        if (
            member.organization_id != candidate.organization_id
            or member.category != Category.FULL
            or member.status != Status.ACTIVE
        ):
            errors.add("contacts", f"{member.name}不是本支部的正式党员，不能担任{label}（{rule.rule}）。")


def _course(step: Step, candidate: Candidate, by, date: dt.date, days, hours, errors: Errors):
    """The short course's days and hours: the hours come from the training ledger when the person is in the roster
    (the hours credited to them since they were chosen as a development candidate); otherwise as entered."""
    rule = step.course
    assert rule is not None, "called for the course step"
    from_ledger = False
    ledger = course_hours_from_ledger(by=by, candidate=candidate, until=date)
    if ledger is not None:
        hours, from_ledger = ledger, True
    try:
        hours = Decimal(str(hours)) if hours not in (None, "") else None
    except InvalidOperation:
        errors.add("course_hours", "培训学时应为数字。")
        return days, None, from_ledger
    if hours is not None and hours < 0:
        errors.add("course_hours", "培训学时不能为负数。")
    if days is not None and days < 0:
        errors.add("course_days", "培训天数不能为负数。")
    if (days or 0) < rule.min_days and (hours or 0) < rule.min_hours:
        where = "（学时取自学时台账）" if from_ledger else ""
        errors.add(
            "course_hours",
            f"集中培训不足{rule.min_days}天或{rule.min_hours}学时{where}：已填{days or 0}天、{hours or 0}学时"
            f"（{rule.rule}）。",
        )
    return days, hours, from_ledger


@service
def step_record(
    *,
    by,
    candidate: Candidate,
    number: int,
    date: dt.date,
    people: str = "",
    note: str = "",
    exception_reason: str = "",
    contacts: Sequence[Member] = (),
    course_days: int | None = None,
    course_hours=None,
) -> StepRecord:
    """Record step `number` of a person's path (docs/development-of-members.md; 《发展党员工作细则》).

    Refused, naming the field and the rule: a step out of order or recorded twice; a date in the future or before
    the previous step; a date before a rule's earliest day (a year of activism before the person is chosen as a
    development candidate or voted on: 第十五条; the probation's end before the vote on full membership: 第三十四条);
    a date after a deadline (the talk within a month of the application: 第八条; the approval within three months
    of the vote: 第二十四条, 第三十五条) unless the rule allows an exception and its reason is given, and never
    beyond the rule's limit (six months for the admission's approval); contact people or introducers who are not
    full members of the person's branch (第十一条, 第十六条); a short course of fewer than 3 days or 24 hours
    (第十九条). The step that approves the admission enters the person in the roster as a probationary member,
    the step that approves full membership makes (or creates) the roster entry a full member, through the members
    app's services, exactly once: the candidate's row is locked for the step."""
    access = access_for(by)
    candidate = _lock(candidate)
    require_editor(access, candidate.organization)
    steps = step_list()
    errors = Errors()
    if candidate.stopped_on is not None:
        raise ValidationError(STOPPED)
    dates = _dates(candidate)
    if number in dates:
        raise ValidationError({"number": f"第{number}步已于{dates[number]:%Y-%m-%d}登记，每个步骤只登记一次。"})
    if not 1 <= number <= len(steps.steps):
        raise ValidationError({"number": f"步骤应为1到{len(steps.steps)}之间的数字。"})
    due = next_due(dates, _extension_months(candidate))
    step = steps.step(number)
    if due is None or due.step.number != number:
        expected = f"下一步应为{due.step.label}" if due else "发展流程已全部完成"
        raise ValidationError({"number": f"不能登记{step.label}：须按顺序逐步登记，{expected}。"})
    today = timezone.localdate()
    reason = (exception_reason or "").strip()
    exception_rule = ""
    if date is None:
        errors.add("date", "请填写日期。")
    elif date > today:
        errors.add("date", "日期不能晚于今天。")
    else:
        previous = dates.get(number - 1)
        if previous and date < previous:
            errors.add("date", f"日期不能早于上一步（第{number - 1}步，{previous:%Y-%m-%d}）。")
        if step.min_age and candidate.birth_date and date < add_years(candidate.birth_date, step.min_age):
            errors.add("date", f"未满{step.min_age}周岁（{step.age_rule}）。")
        if step.earliest is not None and due.earliest is not None and date < due.earliest:
            errors.add("date", f"{step.name}不能早于{due.earliest:%Y-%m-%d}（{step.earliest.rule}）。")
        if step.deadline is not None and due.deadline is not None and date > due.deadline:
            rule = step.deadline.rule
            if not due.exception_allowed:
                errors.add("date", f"{step.name}已超过期限{due.deadline:%Y-%m-%d}（{rule}）。")
            elif due.limit is not None and date > due.limit:
                errors.add("date", f"{step.name}超过了最长期限{due.limit:%Y-%m-%d}，不能作为例外登记（{rule}）。")
            elif not reason:
                errors.add(
                    "exception_reason",
                    f"{step.name}晚于期限{due.deadline:%Y-%m-%d}（{rule}）；如确属特殊情况，请填写例外情况说明。",
                )
            else:
                exception_rule = rule
    if reason and not exception_rule and "date" not in errors and "exception_reason" not in errors:
        errors.add("exception_reason", "该步骤未超过规定期限，无需填写例外情况说明。")
    if step.contacts is not None:
        _check_contacts(step, candidate, contacts, errors)
    elif contacts:
        errors.add("contacts", f"{step.name}不指定培养联系人或入党介绍人。")
    from_ledger = False
    if step.course is not None and date is not None:
        course_days, course_hours, from_ledger = _course(step, candidate, by, date, course_days, course_hours, errors)
    errors.raise_if_any()
    record = StepRecord(
        candidate=candidate,
        number=number,
        date=date,
        people=(people or "").strip()[:200],
        note=(note or "").strip(),
        exception_reason=reason if exception_rule else "",
        exception_rule=exception_rule[:300],
        course_days=course_days if step.course else None,
        course_hours=course_hours if step.course else None,
        hours_from_ledger=from_ledger,
        recorded_by=acting_user(by),
    )
    try:
        record.full_clean()
    except ValidationError as exc:
        errors.merge(exc)
        errors.raise_if_any()
    set_history(record, by)
    record.save()
    if step.contacts is not None:
        for member in {m.pk: m for m in contacts}.values():
            assignment = ContactAssignment(candidate=candidate, member=member, role=step.contacts.role, step=record)
            set_history(assignment, by)
            assignment.save()
    dates[number] = date
    if step.roster:
        _write_roster(by=by, candidate=candidate, roster=step.roster, dates=dates)
    candidate.last_step = number
    candidate.stage = steps.stage_after(number)
    set_history(candidate, by, step.name)
    candidate.save()
    return record


def _write_roster(*, by, candidate: Candidate, roster: str, dates: dict[int, dt.date]) -> None:
    """Enter the person in the member roster through the members app's services (never typed again): as a
    probationary member from the admission vote's date (入党时间), or as a full member from the probation's end
    (预备期满之日, 党章第七条) — updating the probationary entry, or an existing entry with the same ID number in
    the user's scope, or creating one."""
    steps = step_list()
    join_date = dates[steps.admission_vote_step]
    member = candidate.member
    if member is None:
        member = Member.objects.editable_by(by).with_id_number(candidate.id_number).first()
    common = dict(
        name=candidate.name,
        gender=candidate.gender,
        birth_date=candidate.birth_date,
        id_number=candidate.id_number,
        phone=candidate.phone,
        education=candidate.education,
        organization=candidate.organization,
        join_date=join_date,
    )
    if roster == "probationary":
        if member is None:
            member = member_create(by=by, reason="发展党员：接收为预备党员", category=Category.PROBATIONARY, **common)
    else:
        end = probation_end(dates, _extension_months(candidate))
        assert end is not None, "the admission vote is recorded before full membership (ordered steps)"
        if member is None:
            member = member_create(
                by=by, reason="发展党员：预备党员转正", category=Category.FULL, full_date=end, **common
            )
        elif member.category == Category.PROBATIONARY:
            member = member_make_full(by=by, member=member, on=end, reason="发展党员：预备党员转正")
    candidate.member = member


@service
def probation_extend(*, by, candidate: Candidate, months: int, decided_on: dt.date, reason: str) -> ProbationExtension:
    """Extend a probationary member's probation once (延长预备期), by 6 to 12 months, as the branch meeting decided at
    the probation's end (《发展党员工作细则》第三十四条; 党章第七条：预备期可以延长一次，时间最长不超过一年)."""
    access = access_for(by)
    candidate = _lock(candidate)
    require_editor(access, candidate.organization)
    steps = step_list()
    errors = Errors()
    rule = "《发展党员工作细则》第三十四条：预备期可以延长一次，延长时间不能少于半年，最长不超过一年"
    dates = _dates(candidate)
    admitted = steps.number_of(becomes="probationary")
    vote_full = steps.number_of(becomes="full") - 1
    if max(dates, default=0) < admitted or vote_full in dates:
        raise ValidationError("只有尚未讨论转正的预备党员才能延长预备期。")
    if ProbationExtension.objects.dangerously_all().filter(candidate=candidate).exists():
        raise ValidationError({"months": f"该预备党员的预备期已延长过一次，不能再次延长（{rule}）。"})
    if months is None or not steps.extension_min_months <= months <= steps.extension_max_months:
        errors.add(
            "months", f"延长预备期应为{steps.extension_min_months}至{steps.extension_max_months}个月（{rule}）。"
        )
    end = probation_end(dates)
    assert end is not None, "an admitted member has an admission vote"
    if decided_on is None:
        errors.add("decided_on", "请填写支部大会决定日期。")
    elif decided_on > timezone.localdate():
        errors.add("decided_on", "日期不能晚于今天。")
    elif decided_on < end:
        errors.add("decided_on", f"延长预备期由支部大会在预备期满（{end:%Y-%m-%d}）时讨论决定，不能早于该日。")
    if not (reason or "").strip():
        errors.add("reason", "请填写延长原因。")
    errors.raise_if_any()
    extension = ProbationExtension(
        candidate=candidate, months=months, decided_on=decided_on, reason=reason.strip(), recorded_by=acting_user(by)
    )
    set_history(extension, by)
    try:
        with transaction.atomic():
            extension.save()
    except IntegrityError:
        raise ValidationError({"months": f"该预备党员的预备期已延长过一次，不能再次延长（{rule}）。"}) from None
    return extension
