"""The import's run: the importer (parse, validate, write), the order of its steps and its one audit record."""

from __future__ import annotations

import contextlib
import gc
from typing import BinaryIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from dangjian.accounts.access import access_for
from dangjian.audit.models import AuditAction, AuditResult
from dangjian.audit.services import audit_record
from dangjian.core.sheets import SheetChoiceNeeded, locate_header, max_rows, open_upload
from dangjian.core.uploads import UploadLimits
from dangjian.members.imports.columns import ROSTER_COLUMNS
from dangjian.members.imports.parse import _Parsing, _Row
from dangjian.members.imports.results import ImportFileError, ImportResult, RowIssue
from dangjian.members.imports.validate import _Checking
from dangjian.members.imports.write import _database_integrity_errors, _MemberPipeline, _Writing
from dangjian.members.lookups import LookupLimitExceeded, counted_user, foreign_hits_record, id_lookups_reserve
from dangjian.members.models import Member


class _Importer(_Parsing, _Checking, _Writing):
    """One import: the header and the first pass (`parse`), the lookups, the second pass and the results
    (`validate`), the write (`write`), and its one audit record."""

    def __init__(self, *, by, actor, update: bool, via: str):
        self.access = access_for(by)
        self.by = by
        self.actor = actor if actor is not None else (None if hasattr(by, "view_roots") else by)
        self.update = update
        self.via = via
        self.today = timezone.localdate()
        self.now = timezone.now()
        # Who the history rows name: the user behind the import, if any (not for the system access).
        self.user_id = self.actor.pk if getattr(self.actor, "is_authenticated", False) else None
        self.result = ImportResult(update_mode=update)
        # Whose lookups of ID numbers are counted and limited (None: the system access, which sees everyone).
        self.counted_user = counted_user(by, actor)
        self.lookups = 0  # distinct ID numbers checked against the registry
        self.foreign = 0  # rows whose ID number is registered outside the importer's scope
        self.audited = False
        self.rows: list[_Row] = []
        self.columns: dict[str, int] = {}
        self.orgs: dict[str, tuple[int, str, str, str]] = {}  # the cell's text → (id, path, name, code)
        self.org_errors: dict[str, str] = {}  # the cell's text → why it names no organization
        self.sheet_label = ""  # 工作表“名称”, when the workbook has several sheets with data

    # -- the audit trail -------------------------------------------------------------------------------

    def audit(self, *, dry_run: bool) -> None:
        """The one IMPORT record of this run (dry run or not, written or refused): counts only, never an ID
        number nor a name."""
        result = self.result
        audit_record(
            action=AuditAction.IMPORT,
            result=AuditResult.SUCCESS if result.ok else AuditResult.FAILURE,
            actor=self.actor,
            object_type=Member._meta.label_lower,
            object_repr="党员名册导入",
            detail={
                "event": "import",
                "via": self.via,
                "mode": "update" if self.update else "create",
                "dry_run": dry_run,
                "written": result.written,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "posts": result.posts,
                "errors": len(result.errors),
                "warnings": len(result.warnings),
                "lookups": self.lookups,
                "out_of_scope": self.foreign,
            },
        )
        self.audited = True


def import_members(
    fileobj: BinaryIO,
    *,
    name: str,
    by,
    update: bool = False,
    dry_run: bool = False,
    actor=None,
    via: str = "page",
    limits: UploadLimits | None = None,
    sheet: str | None = None,
    progress=None,
) -> ImportResult:
    """Check the roster in `fileobj` (an .xlsx, .xls or .csv file named `name`; of a workbook, the worksheet `sheet`,
    or its one worksheet with data) and, unless `dry_run` or on any error, write it.

    `by` is the importer (a user, or an Access for a command run; `actor` then names the user for the history
    and the audit trail). Scope: every organization named and every member updated must lie in `by`'s
    editable subtrees. Raises PermissionDenied when `by` may edit no members at all.
    """
    access = access_for(by)
    if not access.can_edit_members:
        raise PermissionDenied("您的角色无权导入党员信息。")
    importer = _Importer(by=by, actor=actor, update=update, via=via)
    importer.progress = progress or (lambda percent: None)
    with _without_cyclic_gc():
        _run(importer, fileobj, name=name, dry_run=dry_run, limits=limits, sheet_name=sheet)
    importer.result.name_sheet(importer.sheet_label)
    # Outside the import's transaction, so that a refused (rolled back) import is counted and recorded too.
    foreign_hits_record(user=importer.counted_user, hits=importer.foreign, via=via)
    if not importer.audited:
        importer.audit(dry_run=dry_run)
    return importer.result


@contextlib.contextmanager
def _without_cyclic_gc():
    """Pause Python's cyclic garbage collector for the import. It allocates hundreds of thousands of small
    objects that live until it ends, none of them in a reference cycle; the collector would walk them again and
    again as they grow (a third of the run time at 100,000 rows). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(
    importer: _Importer,
    fileobj: BinaryIO,
    *,
    name: str,
    dry_run: bool,
    limits: UploadLimits | None,
    sheet_name: str | None,
) -> None:
    result = importer.result
    try:
        sheet = open_upload(fileobj, name=name, sheet=sheet_name, limits=limits, columns=ROSTER_COLUMNS)
        sheet = locate_header(sheet, ROSTER_COLUMNS)
        result.sheet, result.header_row, importer.sheet_label = sheet.name, sheet.first_row, sheet.label
        limit = max_rows()
        if sheet.height - 1 > limit:
            raise ImportFileError(f"数据行数超过上限：每个文件最多 {limit} 行，请拆分后分批导入。")
        if not importer.read_header(sheet):
            return
        importer.parse_rows(sheet)
        importer.progress(40)
    except ValidationError as exc:
        result.errors.append(RowIssue(None, "", exc.messages[0]))
        return
    except SheetChoiceNeeded as exc:
        result.sheet_names = exc.names
        result.errors.append(RowIssue(None, "", str(exc)))
        return
    except ImportFileError as exc:
        result.errors.append(RowIssue(None, "", str(exc)))
        return
    finally:
        fileobj.seek(0)
    if not importer.rows:
        result.errors.append(RowIssue(None, "", "文件中没有党员数据：表头下面的行都是空的。"))
        return
    # Every ID number of the file is about to be checked against the whole registry: counted per user and day,
    # and refused whole over the daily limit (members.lookups), before any lookup and outside the transaction.
    importer.lookups = len({row.digest for row in importer.rows if row.digest})
    try:
        id_lookups_reserve(user=importer.counted_user, count=importer.lookups, via=importer.via)
    except LookupLimitExceeded as exc:
        result.errors.append(RowIssue(None, "", str(exc)))
        return
    if dry_run:
        importer.look_up(lock=False)
        importer.mark_duplicates()
        importer.check_rows()
        importer.collect()
        return
    try:
        with transaction.atomic():
            importer.look_up(lock=True)
            importer.mark_duplicates()
            stream = None
            if connection.vendor == "postgresql" and not importer.has_errors() and importer.new_count():
                stream = _MemberPipeline(now=importer.now, user_id=importer.user_id)
            try:
                importer.check_rows(stream)
                importer.collect()
                importer.progress(70)
                if result.ok:
                    importer.write(stream)
            except BaseException as exc:
                if stream is not None:
                    stream.close(exc)
                raise
            if not result.ok:
                if stream is not None:
                    stream.close(send=False)
                transaction.set_rollback(True)  # rows sent before the first error are taken back
    except _database_integrity_errors():
        result.errors = [
            RowIssue(None, "", "导入期间有其他人登记了相同公民身份号码的党员，未写入任何数据。请重新导入。")
        ]
        result.written = False
        result.created = result.updated = result.unchanged = result.posts = 0
        result.preview = []
        importer.audited = False  # its record went with the rolled-back transaction
