"""The member roster from an .xlsx file (党员名册导入): the template, the checks, and the all-or-nothing write.

One engine serves the page (`import_views`) and the command (`import_members`), so both check and write the
same way:

1. The file: `core.uploads.check_xlsx_upload` first (extension, size, zip structure, zip bombs), then
   `core.sheets.open_sheet` reads the first visible worksheet (python-calamine: about 15 times faster than
   openpyxl's read-only mode, and it never expands XML entities: a sheet that uses one is refused as
   unreadable). More data rows than DANGJIAN_IMPORT_MAX_ROWS (default 200,000) are refused before any row is
   looked at.
2. The header: the template's columns in any order; an unknown column is ignored with a warning, a missing
   required column is an error.
3. The rows, in two passes. The first parses every cell (dates as Excel dates or YYYY-MM-DD text, labels as
   the template writes them). Then the lookups run in bulk, a fixed number of queries whatever the file's
   size: every ID number's blind index at once, every organization code at once (inside the importer's
   editable scope: a code outside it gets the same message as one that does not exist), every unit name at
   once. The second pass checks each row with the model's own rules, `Member.clean_fields()` and
   `Member.clean()`, the same rules as a single edit.
4. All or nothing: any error and nothing is written; every error is reported at once, as (row as Excel
   numbers it, column, message). Otherwise everything is written in one transaction: new members and their
   "created" history rows (reason "Excel导入", the importer as the user) with bulk statements (on PostgreSQL
   queued in pipeline mode while the rows below are still being checked, see `_MemberPipeline`), updated
   members with `bulk_update` and their "changed" history rows, posts (党内职务) with theirs.
5. Every run, dry or not, written or refused, leaves one IMPORT audit record with the counts (never an ID number).
   Its ID numbers count against the importer's daily lookups (members.lookups: a file over the limit is refused
   whole); a number registered outside the importer's scope gets only the neutral UNREGISTRABLE_ID_MESSAGE (the
   precise duplicate message is kept for members the importer can see), and many of them raise a security alert.

Speed (bench/import_bench.py): 100,000 rows in about 15 s on PostgreSQL, most of it the server's work on the
two tables' indexes and Python's per-row checks, with a peak of under 300 MB.

Update mode matches existing members by ID number (its blind index) and changes only the fields that differ,
only for the columns the file has; a row whose ID number is not registered yet is a new member. Posts are matched
by (organization, post): one the member holds is left as it is (wherever it lies, even outside the importer's
scope), one they do not hold yet is added from today, in the organization 党内职务所在组织编码 names for it (the
member's own without a code, unless they hold a post of that name anywhere: an older file does not double a
post it cannot place), which must lie in the importer's editable scope.

The columns: the 13 of the original template first and in order, then 党内职务所在组织编码, 班子成员 and 区管干部
(是/否), which are read when present and ignored when absent, so older files import as before. An export by a
role that sees ID numbers in full, imported again in update mode, changes nothing (tests/test_round_trip.py).

The package, along those seams: `columns` (the template's columns, labels and messages), `parse` (map: header and
cells to field values), `validate` (the lookups in bulk and the model's rules), `write` (the bulk writes with their
history rows), `engine` (the run and its audit record), `annotate` (the template and the annotated copy of a
refused file), `results` (what the page and the command show).
"""

from dangjian.core.sheets import open_sheet
from dangjian.members.imports.annotate import annotated_copy, template_workbook
from dangjian.members.imports.columns import (
    ERROR_COLUMN,
    MSG_ID_AS_NUMBER,
    MSG_ID_MASKED,
    PREVIEW_ROWS,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    XLSX_CONTENT_TYPE,
    max_rows,
)
from dangjian.members.imports.engine import _Importer, import_members
from dangjian.members.imports.results import ImportFileError, ImportResult, PreviewRow, RowIssue
from dangjian.members.imports.write import _MemberPipeline, insert_with_history

# The names the page, the command, the training enrollment import and the tests import from here.
__all__ = [
    "ERROR_COLUMN",
    "MSG_ID_AS_NUMBER",
    "MSG_ID_MASKED",
    "PREVIEW_ROWS",
    "REQUIRED_COLUMNS",
    "TEMPLATE_COLUMNS",
    "XLSX_CONTENT_TYPE",
    "ImportFileError",
    "ImportResult",
    "PreviewRow",
    "RowIssue",
    "_Importer",
    "_MemberPipeline",
    "annotated_copy",
    "import_members",
    "insert_with_history",
    "max_rows",
    "open_sheet",
    "template_workbook",
]
