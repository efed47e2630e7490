"""Importing a question bank from a spreadsheet (题库导入), in the tolerant way of the rosters (docs/imports.md):
.xlsx/.xls/.csv, title rows above the header, the header in other platforms' words (exams/data/question_columns.toml),
values trimmed and full-width letters read as half-width. Each row is a question read by `exams.questions`; a
question already in the bank (same kind and stem) or twice in the file is an error. All or nothing: every error at
once as `第N行 列名: 说明`, nothing written unless every row is sound, the rows written in one transaction. Every run
(checked or written) leaves one IMPORT audit record with its counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record
from dangjian.core.services import acting_as, acting_user, require
from dangjian.core.sheets import (
    SheetChoiceNeeded,
    SheetError,
    clean_text,
    load_columns,
    locate_header,
    max_rows,
    open_upload,
)
from dangjian.exams.models import OPTION_LETTERS, Question, QuestionBank, may_manage
from dangjian.exams.questions import normalized, parse_question
from dangjian.exams.services.banks import NOT_MANAGER
from dangjian.members.imports.results import RowIssue

COLUMNS = load_columns(Path(__file__).resolve().parent.parent / "data" / "question_columns.toml")
OPTION_COLUMNS = tuple(f"选项{letter}" for letter in OPTION_LETTERS)
FIELD_COLUMNS = {"kind": "题型", "text": "题干", "options": "选项", "answer": "答案", "tags": "知识点"}
REQUIRED = ("题型", "题干", "答案")
PREVIEW_ROWS = 20
# A bank is read by people, not a roster: a few thousand questions at most.
MAX_QUESTIONS = 5000


@dataclass
class PreviewLine:
    row: int
    kind: str
    text: str
    answer: str
    tags: str


@dataclass
class BankImportResult:
    errors: list[RowIssue] = field(default_factory=list)
    rows: int = 0
    created: int = 0
    written: bool = False
    sheet: str = ""
    sheet_names: list[str] = field(default_factory=list)
    preview: list[PreviewLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_error(self) -> str | None:
        return next((e.message for e in self.errors if e.row is None), None)


def import_bank(
    fileobj: BinaryIO, *, bank: QuestionBank, name: str, by, sheet: str | None = None, dry_run: bool = False
) -> BankImportResult:
    """Check the questions in `fileobj` (named `name`) and, unless `dry_run` or on any error, add them to `bank` in
    one transaction. Raises PermissionDenied for a user who may not manage the bank."""
    require(may_manage(access_for(by), bank.organization), NOT_MANAGER)
    result = BankImportResult()
    questions: list[Question] = []
    try:
        questions = _read(fileobj, bank=bank, name=name, sheet=sheet, result=result)
        if result.ok and not dry_run:
            with transaction.atomic(), acting_as(by):
                # The bank's row is locked so two imports of the same file cannot both pass the duplicate check.
                QuestionBank.objects.dangerously_all().select_for_update().filter(pk=bank.pk).first()
                _check_existing(bank, questions, result)
                if result.ok:
                    bulk_create_with_history(
                        questions, Question, default_user=acting_user(by), default_change_reason="题库导入"
                    )
                    result.created, result.written = len(questions), True
    except SheetChoiceNeeded as exc:
        result.sheet_names = exc.names
        result.errors.append(RowIssue(None, "", str(exc)))
    except SheetError as exc:
        result.errors.append(RowIssue(None, "", str(exc)))
    finally:
        fileobj.seek(0)
    if dry_run and result.ok:
        result.created = len(questions)
    audit_record(
        action=AuditAction.IMPORT,
        result=AuditResult.SUCCESS if result.ok else AuditResult.FAILURE,
        actor=acting_user(by),
        obj=bank,
        object_repr=f"题库导入：{bank.name}",
        detail={
            "event": "import_questions",
            "dry_run": dry_run,
            "written": result.written,
            "rows": result.rows,
            "created": result.created,
            "errors": len(result.errors),
        },
    )
    return result


def _read(fileobj, *, bank, name, sheet, result: BankImportResult) -> list[Question]:
    book = locate_header(open_upload(fileobj, name=name, sheet=sheet, columns=COLUMNS), COLUMNS)
    result.sheet = book.name
    if book.height - 1 > min(max_rows(), MAX_QUESTIONS):
        raise SheetError(f"数据行数超过上限：每次最多导入 {MAX_QUESTIONS} 道试题，请拆分后分批导入。")
    where: dict[str, int] = {}
    for index, shown in enumerate(book.raw_header or book.header):
        column = COLUMNS.match(shown)
        if column is not None and column not in where:
            where[column] = index
    missing = [c for c in REQUIRED if c not in where]
    if missing:
        raise SheetError(
            f"缺少必需的列：{'、'.join(missing)}。表头应包含题型、题干、答案，选择题的选项按“选项A”“选项B”……分列。"
        )
    label = book.label
    seen: dict[tuple[str, str], int] = {}
    questions: list[Question] = []
    for number, cells in book.numbered():

        def cell(column: str, cells=cells) -> str:
            index = where.get(column)
            return clean_text(cells[index]) if index is not None and index < len(cells) else ""

        if not any(clean_text(c) for c in cells):
            continue
        result.rows += 1
        parsed = parse_question(
            kind=cell("题型"),
            text=cell("题干"),
            options=[cell(c) for c in OPTION_COLUMNS],
            answer=cell("答案"),
            tags=cell("知识点"),
        )
        for key_name, message in parsed.errors.items():
            result.errors.append(RowIssue(number, FIELD_COLUMNS.get(key_name, ""), message, sheet=label))
        if parsed.errors:
            continue
        key = (parsed.kind, normalized(parsed.text))
        if key in seen:
            result.errors.append(RowIssue(number, "题干", f"与第{seen[key]}行重复。", sheet=label))
            continue
        seen[key] = number
        question = Question(
            bank=bank,
            kind=parsed.kind,
            text=parsed.text,
            options=parsed.options,
            answer=parsed.answer,
            tags=parsed.tags,
            explanation=cell("解析")[:500],
        )
        question._row = number  # type: ignore[attr-defined]  # the row, for the duplicate check's message
        questions.append(question)
        if len(result.preview) < PREVIEW_ROWS:
            result.preview.append(
                PreviewLine(
                    number, question.get_kind_display(), question.text, question.answer_text, "、".join(question.tags)
                )
            )
    if result.rows == 0 and result.ok:
        raise SheetError("文件中没有试题。")
    if result.ok:
        _check_existing(bank, questions, result)
    return questions


def _check_existing(bank: QuestionBank, questions: list[Question], result: BankImportResult) -> None:
    existing = {
        (kind, normalized(text))
        for kind, text in Question.objects.dangerously_all().filter(bank=bank).values_list("kind", "text")
    }
    for question in questions:
        if (question.kind, normalized(question.text)) in existing:
            row = getattr(question, "_row", None)
            result.errors.append(RowIssue(row, "题干", "题库中已有这道题。"))
