"""Papers, who sits them and make-up exams (试卷、应考人员、补考): docs/exams.md, "Papers" and "The competence test"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, acting_user, require, service, set_history
from dangjian.exams.drawing import check_rules, pool_of
from dangjian.exams.models import (
    Assignment,
    Counting,
    Paper,
    PaperKind,
    PaperMode,
    Question,
    QuestionBank,
    may_manage,
)
from dangjian.exams.selectors.competence import required_members
from dangjian.exams.selectors.results import not_passed_member_ids
from dangjian.exams.services.banks import NOT_MANAGER
from dangjian.members.models import Member, Status
from dangjian.orgs.models import Organization

MAX_DRAW = 200


@service
def paper_create(
    *,
    by,
    bank: QuestionBank,
    organization: Organization,
    title: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    kind: str = PaperKind.REGULAR,
    mode: str = PaperMode.FIXED,
    questions=None,
    draw_rules=(),
    time_limit: int = 30,
    shuffle_questions: bool = True,
    shuffle_options: bool = True,
    max_attempts: int = 1,
    counting: str = Counting.BEST,
    pass_mark: Decimal = Decimal("60"),
    year: int | None = None,
) -> Paper:
    """A paper of `organization` drawing on `bank` (a bank of the organization's subtree or above it that the user
    sees). Fixed mode: `questions` of the bank (all its active questions when none are picked); random mode:
    `draw_rules` [{"tag", "count"}], which the bank must be able to fill."""
    access = access_for(by)
    require(may_manage(access, organization), NOT_MANAGER)
    errors = Errors()
    title = (title or "").strip()
    if not title:
        errors.add("title", "请填写试卷名称。")
    if opens_at and closes_at and closes_at <= opens_at:
        errors.add("closes_at", "截止时间应晚于开始时间。")
    paper = Paper(
        title=title,
        kind=kind,
        organization=organization,
        bank=bank,
        mode=mode,
        draw_rules=[dict(r) for r in draw_rules] if mode == PaperMode.RANDOM else [],
        time_limit=time_limit,
        shuffle_questions=shuffle_questions,
        shuffle_options=shuffle_options,
        max_attempts=max_attempts,
        counting=counting,
        pass_mark=pass_mark,
        opens_at=opens_at,
        closes_at=closes_at,
        year=year or (timezone.localtime(opens_at).year if opens_at else timezone.localdate().year),
    )
    chosen: list[Question] = []
    if mode == PaperMode.FIXED:
        bank_questions = Question.objects.dangerously_all().filter(bank=bank, active=True)
        chosen = list(bank_questions.filter(pk__in=[q.pk for q in questions]) if questions else bank_questions)
        if not chosen:
            errors.add("questions", "题库中没有可用的试题，请先添加试题。")
    else:
        if not paper.draw_rules:
            errors.add("draw_rules", "请填写抽题规则（知识点和题数）。")
        elif sum(int(r["count"]) for r in paper.draw_rules) > MAX_DRAW:
            errors.add("draw_rules", f"每份试卷最多{MAX_DRAW}道题。")
        else:
            for problem in check_rules(paper.draw_rules, pool_of(paper)):
                errors.add("draw_rules", problem)
    try:
        paper.full_clean()
    except ValidationError as exc:
        errors.merge(exc)
    errors.raise_if_any()
    set_history(paper, by)
    paper.save()
    if chosen:
        paper.questions.set(chosen)
    return paper


def _members_for(by, paper: Paper, *, org=None, posts=(), leadership=False, member_ids=None):
    """The active members `by` sees in the paper's organization's subtree, narrowed to `org`'s subtree, to holders of
    `posts` (current party posts) or leadership-team members, and to `member_ids` (resolved in scope, never trusted)."""
    members = Member.objects.visible_to(by).filter(status=Status.ACTIVE).in_subtree(paper.organization)
    if org is not None:
        members = members.in_subtree(org)
    if posts or leadership:
        today = timezone.localdate()
        q = Q()
        if posts:
            q |= Q(
                pk__in=Member.objects.visible_to(by)
                .filter(posts__post__in=list(posts), posts__start_date__lte=today)
                .filter(Q(posts__end_date__isnull=True) | Q(posts__end_date__gte=today))
                .values("pk")
            )
        if leadership:
            q |= Q(is_leadership=True)
        members = members.filter(q)
    if member_ids is not None:
        members = members.filter(pk__in=list(member_ids))
    return members


def _assign(by, paper: Paper, members) -> int:
    already = set(Assignment.objects.dangerously_all().filter(paper=paper).values_list("member_id", flat=True))
    today = timezone.localdate()
    new = [
        Assignment(paper=paper, member_id=m.pk, organization_id=m.organization_id, assigned_on=today)
        for m in members.only("pk", "organization_id").order_by("pk")
        if m.pk not in already
    ]
    if new:
        bulk_create_with_history(new, Assignment, default_user=acting_user(by), default_change_reason="指定应考人员")
    return len(new)


@service
def paper_assign(
    *, by, paper: Paper, org: Organization | None = None, posts=(), leadership=False, member_ids=None, competence=False
) -> int:
    """Assign members to sit `paper`: those of an organization's subtree, holders of party posts or leadership-team
    members, a list, or (`competence`) whoever the competence-test policy names for the paper's year. Only active
    members of the paper's organization's subtree that the user sees; members already assigned are skipped. Returns
    how many were added. Refused once the paper has closed."""
    access = access_for(by)
    require(may_manage(access, paper.organization), NOT_MANAGER)
    if paper.closes_at <= timezone.now():
        raise ValidationError("考试已截止，不能再指定应考人员。")
    if competence:
        if paper.kind != PaperKind.COMPETENCE:
            raise ValidationError("只有履职能力测试按职务要求指定应考人员。")
        members = required_members(by=by, org=paper.organization, year=paper.year)
        if org is not None:
            members = members.in_subtree(org)
    else:
        if org is None and not posts and not leadership and member_ids is None:
            raise ValidationError("请选择应考人员的范围：党组织、职务或名单。")
        members = _members_for(by, paper, org=org, posts=posts, leadership=leadership, member_ids=member_ids)
    added = _assign(by, paper, members)
    if not added:
        raise ValidationError("没有可新增的应考人员：所选范围内的党员都已指定，或不在本试卷党组织的管理范围内。")
    return added


@service
def paper_makeup_create(*, by, paper: Paper, opens_at: dt.datetime, closes_at: dt.datetime, title: str = "") -> Paper:
    """A make-up exam (补考) of `paper` (of its original, for a make-up's make-up): the same bank, questions, rules and
    year, open from `opens_at` to `closes_at`, assigned to every member of the original who has not passed it (nor an
    earlier make-up). Allowed once the original has closed."""
    root = paper.root
    access = access_for(by)
    require(may_manage(access, root.organization), NOT_MANAGER)
    errors = Errors()
    now = timezone.now()
    if root.closes_at > now:
        errors.add(None, "原考试截止后才能安排补考。")
    if opens_at and closes_at and closes_at <= opens_at:
        errors.add("closes_at", "截止时间应晚于开始时间。")
    if closes_at and closes_at <= now:
        errors.add("closes_at", "补考截止时间应晚于现在。")
    errors.raise_if_any()
    ids = not_passed_member_ids(root)
    if not ids:
        raise ValidationError("原考试的应考人员都已通过，无需补考。")
    makeup = Paper(
        title=(title or "").strip() or f"{root.title}（补考）",
        kind=root.kind,
        organization=root.organization,
        bank=root.bank,
        mode=root.mode,
        draw_rules=root.draw_rules,
        time_limit=root.time_limit,
        shuffle_questions=root.shuffle_questions,
        shuffle_options=root.shuffle_options,
        max_attempts=root.max_attempts,
        counting=root.counting,
        pass_mark=root.pass_mark,
        opens_at=opens_at,
        closes_at=closes_at,
        year=root.year,
        makeup_of=root,
    )
    makeup.full_clean()
    set_history(makeup, by, "安排补考")
    makeup.save()
    makeup.questions.set(root.questions.all())
    members = Member.objects.dangerously_all().filter(pk__in=ids, status=Status.ACTIVE)
    today = timezone.localdate()
    # Counted where they were assigned to the original (the report keeps them there).
    origin = dict(
        Assignment.objects.dangerously_all()
        .filter(paper=root, member_id__in=ids)
        .values_list("member_id", "organization_id")
    )
    new = [
        Assignment(paper=makeup, member_id=m.pk, organization_id=origin.get(m.pk, m.organization_id), assigned_on=today)
        for m in members.only("pk", "organization_id").order_by("pk")
    ]
    bulk_create_with_history(new, Assignment, default_user=acting_user(by), default_change_reason="补考应考人员")
    return makeup
