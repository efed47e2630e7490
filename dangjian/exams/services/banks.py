"""Question banks and their questions (题库、试题): written by whoever manages exams over the bank's organization
(docs/exams.md, "Who does what")."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from dangjian.accounts.access import access_for
from dangjian.core.services import Errors, require, service, set_history
from dangjian.exams.models import Question, QuestionBank, may_manage
from dangjian.exams.questions import parse_question
from dangjian.orgs.models import Organization

NOT_MANAGER = "您无权管理该党组织的题库和考试。"


@service
def bank_create(*, by, organization: Organization, name: str, description: str = "", school=None) -> QuestionBank:
    """A new question bank of `organization` (or of its party school `school`)."""
    access = access_for(by)
    require(may_manage(access, organization), NOT_MANAGER)
    errors = Errors()
    name = (name or "").strip()
    if not name:
        errors.add("name", "请填写题库名称。")
    if school is not None and school.organization_id != organization.pk:
        errors.add("school", "党校不属于所选党组织。")
    errors.raise_if_any()
    bank = QuestionBank(organization=organization, name=name, description=(description or "").strip(), school=school)
    bank.full_clean()
    set_history(bank, by)
    bank.save()
    return bank


@service
def question_create(*, by, bank: QuestionBank, kind, text, options=(), answer="", tags="", explanation="") -> Question:
    """A question of `bank`; the parts as typed (see `exams.questions.parse_question`), every error at once."""
    access = access_for(by)
    require(may_manage(access, bank.organization), NOT_MANAGER)
    parsed = parse_question(kind=kind, text=text, options=list(options), answer=answer, tags=tags)
    if parsed.errors:
        raise ValidationError(parsed.errors)
    question = Question(
        bank=bank,
        kind=parsed.kind,
        text=parsed.text,
        options=parsed.options,
        answer=parsed.answer,
        tags=parsed.tags,
        explanation=(explanation or "").strip()[:500],
    )
    set_history(question, by)
    question.save()
    return question


@service
def question_set_active(*, by, question: Question, active: bool) -> Question:
    """Withdraw a question from new papers and draws (or bring it back); answer sheets already drawn keep it."""
    require(may_manage(access_for(by), question.bank.organization), NOT_MANAGER)
    question.active = active
    set_history(question, by, "停用试题" if not active else "启用试题")
    question.save(update_fields=["active", "updated_at"])
    return question
