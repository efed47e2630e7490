"""Every file the product writes for download or archive (CSV, .xlsx, Word): the formula-injection guard, the writers,
and the export's audit record (GB/T 22239-2019 8.1.4.3: exports of business and personal data are audited).

Formula injection (CSV/Excel injection, OWASP). A spreadsheet reads a cell whose text starts with = + - or @ as a
formula (`=HYPERLINK("http://…?"&A1,"点击")` sends a neighbouring cell away, `=cmd|' /C calc'!A0` runs a program
through DDE); a leading tab or carriage return hides such a start from the eye and some importers strip it. Every
text value therefore goes through one guard, `FORMULA_TRIGGERS`:
  - CSV (`csv_safe`, `csv_row`, `write_csv`): a text cell starting with a trigger gets a leading apostrophe, which
    Excel and WPS show as text. The value read back by a program has the apostrophe; that is the price of CSV.
  - .xlsx (`xlsx_text_cell`, `xlsx_value`, `write_xlsx`): such a cell is written as a string cell with Excel's quote
    prefix — exactly how Excel itself stores text typed as '=…: shown as text, never evaluated (not even after the
    cell is edited), and the value read back is unchanged, so a round trip stays exact. Control characters an .xlsx
    cannot hold are stripped.
  - Word (.docx, `core.docx`): text runs are escaped XML; Word evaluates only field codes, which the writer never
    emits, so text needs no guard there.
Only text is guarded: numbers, dates and rates are written as numbers ("numbers stay numbers": a negative
shortfall stays -2.0), which is why the writers take typed values rather than pre-formatted strings.

The audit record. `core` imports no area app, and the audit app sits above `core` and `accounts` (it reads roles
and access and receives `core.signals`), so this module must not call `audit.services.audit_record`. It sends the
`export_done` signal instead, as the lower layers do for security events, and the audit app's receiver
(`audit.exports`) writes the one `AuditEvent` (action `export`). `record_export` fails closed: if no receiver took
the record (the audit app not installed), it raises rather than let an export leave unaudited. The download helpers
take the record as a required `ExportAudit`, so a new export cannot forget it; the record is written once the file
is complete and before it is sent, with the number of rows. Parameters go through `safe_params`: any run of digits
long enough to be an ID number or a phone number is masked, so the trail never holds either in full.

Memory: openpyxl's write-only mode streams rows to a temporary file, and rows are consumed as an iterable.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO, TextIO

from django.core.exceptions import ImproperlyConfigured
from django.dispatch import Signal
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dangjian.core.validators import mask_id_number, mask_phone

# What makes a spreadsheet read a cell as a formula (or, for tab and CR, what hides a leading one).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DATE_FORMAT = "yyyy-mm-dd"
# Times are written in the configured time zone (TIME_ZONE, Asia/Shanghai by default), to the minute: a sheet or a
# CSV says what the reader's clock said, never UTC.
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

# Sent once per export (kwargs: what, object_type, params, rows, via, actor, extra); the audit app records it.
export_done = Signal()


class Percent(Decimal):
    """A rate in percent (87.5): printed as 87.5%, written to .xlsx as a number formatted as a percentage."""


# ---------------------------------------------------------------------------------------------------------
# The guard


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would read this text as (or hide in it) a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_safe(value) -> str:
    """A value as CSV text that no spreadsheet evaluates: text starting with a trigger gets a leading apostrophe.
    None is empty; anything else that is not text (a number) is written as it prints."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    return "'" + value if is_formula_like(value) else value


def xlsx_text_cell(ws, value: str | None):
    """A text cell for a write-only sheet that no spreadsheet evaluates; None for an empty value (an empty cell).

    Control characters an .xlsx cannot hold are stripped and a carriage return is written as the line feed XML
    reads it back as; text starting with a trigger becomes a string cell with the quote prefix. The value read back
    is the value written."""
    if not value:
        return None
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    guard = is_formula_like(value)
    # XML reads a carriage return back as a line feed: write what will be read (the guard was decided before).
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not guard:
        return value or None
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"  # a string, even though it starts with "="
    cell.quotePrefix = True  # Excel's own mark for text typed with a leading apostrophe
    return cell


def xlsx_value(ws, value):
    """A typed value for a write-only sheet: text through `xlsx_text_cell`, a `Percent` as a percentage, a Decimal
    with one decimal, a date as yyyy-mm-dd, other numbers and booleans as they are, None or "" as an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return xlsx_text_cell(ws, value)
    if isinstance(value, Percent):
        cell = WriteOnlyCell(ws, value=float(value) / 100)
        cell.number_format = "0.0%"
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = "0.0"
        return cell
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(ws, value=local_naive(value))
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, int | float | bool):
        return value
    return xlsx_text_cell(ws, str(value))


def local_naive(value: dt.datetime) -> dt.datetime:
    """An aware time in the configured time zone without its offset (Excel keeps no time zone); a naive one as is."""
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


# ---------------------------------------------------------------------------------------------------------
# CSV


def plain_text(value) -> str:
    """The default text of a non-text CSV value: a Percent with %, a time in the configured time zone to the minute,
    None empty, anything else as it prints."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{local_naive(value):%Y-%m-%d %H:%M}"
    if isinstance(value, Percent):
        return f"{Decimal(value)}%"
    return str(value)


def csv_row(values: Iterable, *, text_of: Callable[[object], str] = plain_text) -> list[str]:
    """One CSV row: text through the guard, other values through `text_of` (numbers stay numbers)."""
    return [csv_safe(value) if isinstance(value, str) else text_of(value) for value in values]


def write_csv(
    out: TextIO,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    text_of: Callable[[object], str] = plain_text,
    lineterminator: str = "\n",
) -> int:
    """A header row and one row per line, with the csv module, every text cell guarded; the number of rows.

    A field holding a carriage return or a line feed anywhere is always quoted: unquoted, it would end the row in a
    spreadsheet and start the next with whatever follows (`a\r=1+1` would put `=1+1` at the head of a new line).
    The csv module quotes only the characters of its line terminator, so the rows are written with CRLF and the
    terminator is swapped for `lineterminator` on the way out."""
    writer = csv.writer(_Terminated(out, lineterminator), lineterminator="\r\n")
    writer.writerow(csv_row(headers))
    count = 0
    for row in rows:
        writer.writerow(csv_row(row, text_of=text_of))
        count += 1
    return count


def csv_lines(
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    text_of: Callable[[object], str] = plain_text,
    lineterminator: str = "\n",
) -> Iterator[str]:
    """What `write_csv` writes, one line at a time (the header first), for a streamed download."""
    line = _Line()
    writer = csv.writer(_Terminated(line, lineterminator), lineterminator="\r\n")
    writer.writerow(csv_row(headers))
    yield line.take()
    for row in rows:
        writer.writerow(csv_row(row, text_of=text_of))
        yield line.take()


class _Line:
    """A file holding the last row written, for `csv_lines`."""

    text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def take(self) -> str:
        text, self.text = self.text, ""
        return text


class _Terminated:
    """A file whose rows (one `write` per row from the csv module, ending in CRLF) end in `lineterminator`."""

    def __init__(self, out: TextIO | _Line, lineterminator: str):
        self.out = out
        self.lineterminator = lineterminator

    def write(self, text: str):
        if text.endswith("\r\n"):
            text = text[:-2] + self.lineterminator
        return self.out.write(text)


# ---------------------------------------------------------------------------------------------------------
# .xlsx


def add_sheet(
    wb: Workbook,
    title: str,
    headers: Sequence[str] | None,
    lines: Iterable[Sequence],
    *,
    widths: Sequence[int | None] | None = None,
    cell: Callable = xlsx_value,
) -> int:
    """Append one sheet to a write-only workbook: a bold, frozen header row (if any), then one row per line, every
    value through `cell` (default `xlsx_value`, which carries the guard); the number of data rows."""
    ws = wb.create_sheet(ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Sheet")
    if widths is None:
        widths = [max(10, display_width(h) + 2) for h in headers] if headers else [18, 18]
    for index, width in enumerate(widths, start=1):
        if width is not None:  # None: the spreadsheet's default width
            ws.column_dimensions[get_column_letter(index)].width = width
    if headers:
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        row = []
        for text in headers:
            header_cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", text))
            if is_formula_like(text):
                header_cell.data_type = "s"
                header_cell.quotePrefix = True
            header_cell.font = bold
            row.append(header_cell)
        ws.append(row)
    count = 0
    for line in lines:
        ws.append([cell(ws, value) for value in line])
        count += 1
    return count


def write_xlsx(
    out: BinaryIO | str,
    *,
    title: str,
    headers: Sequence[str],
    lines: Iterable[Sequence],
    widths: Sequence[int] | None = None,
    cell: Callable = xlsx_value,
) -> int:
    """A one-sheet workbook (`add_sheet`) saved to `out`; the number of data rows."""
    wb = Workbook(write_only=True)
    rows = add_sheet(wb, title, headers, lines, widths=widths, cell=cell)
    wb.save(out)
    return rows


def display_width(text: str) -> int:
    """Columns the text takes in a terminal or a spreadsheet column: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# ---------------------------------------------------------------------------------------------------------
# The audit record


# A run of digits long enough to be an ID number (15 or 18 characters) or a phone number (7 to 14 digits).
_NUMBER_LIKE = re.compile(r"(?P<id>\d{17}[\dXx]|\d{15,17})|(?P<phone>\d{7,14})")
_NOT_PARAMS = frozenset({"format", "page", "per_page", "csrfmiddlewaretoken"})
PARAM_MAX = 100


def _mask_number(match: re.Match) -> str:
    if match.group("id"):
        return mask_id_number(match.group("id").upper())
    return mask_phone(match.group("phone"))


def safe_params(params: Mapping | None) -> dict:
    """An export's filter or parameters for the audit trail: the values given (empty ones, the format and the page
    left out), text cut to 100 characters with any ID-number-like or phone-like run of digits masked."""
    kept: dict = {}
    for name, value in (params or {}).items():
        if name in _NOT_PARAMS or value is None or value == "":
            continue
        if isinstance(value, bool | int | float):
            kept[name] = value
            continue
        text = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
        if text:
            kept[name] = _NUMBER_LIKE.sub(_mask_number, text[:PARAM_MAX])
    return kept


def record_export(
    *,
    what: str,
    rows: int | None = None,
    params: Mapping | None = None,
    via: str = "page",
    object_type: str = "",
    actor=None,
    **extra,
) -> None:
    """Record one export in the audit trail (through `export_done`): `what` was exported (Chinese, e.g.
    "组织生活台账"), with which filter or parameters, how many rows, `via` "page" or "command", by `actor` (default:
    the request's user). Extra keyword arguments (JSON values) go into the record's detail as they are.

    Raises ImproperlyConfigured if nothing recorded it: an export is never left out of the trail silently."""
    responses = export_done.send(
        sender=record_export,
        what=what,
        object_type=object_type,
        params=safe_params(params),
        rows=rows,
        via=via,
        actor=actor,
        extra=extra,
    )
    if not responses:
        raise ImproperlyConfigured("导出未能记入审计日志：未安装审计应用（dangjian.audit）。")


@dataclass(frozen=True)
class ExportAudit:
    """What an export's audit record says besides the row count (see `record_export`)."""

    what: str
    params: Mapping = field(default_factory=dict)
    object_type: str = ""
    via: str = "page"
    actor: object = None
    extra: Mapping = field(default_factory=dict)

    def record(self, rows: int | None = None) -> None:
        record_export(
            what=self.what,
            rows=rows,
            params=self.params,
            via=self.via,
            object_type=self.object_type,
            actor=self.actor,
            **self.extra,
        )


def request_params(request, *names: str) -> dict:
    """The page's query parameters (or only `names`) for an export's audit record, before `safe_params`."""
    if names:
        return {name: request.GET.get(name) for name in names}
    return {name: value for name, value in request.GET.items()}


# ---------------------------------------------------------------------------------------------------------
# Downloads


def xlsx_file_response(write: Callable[[BinaryIO], int], *, filename: str, audit: ExportAudit) -> FileResponse:
    """An .xlsx download written by `write(out)` (which returns the number of rows) to a temporary file and
    streamed from it rather than held in memory; the export is recorded once the file is written."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    try:
        rows = write(out)
        audit.record(rows)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


def xlsx_response(
    *,
    filename: str,
    title: str,
    headers: Sequence[str],
    lines: Iterable[Sequence],
    audit: ExportAudit,
    widths: Sequence[int] | None = None,
) -> FileResponse:
    """A one-sheet .xlsx download (`write_xlsx`), recorded in the audit trail with its row count."""
    return xlsx_file_response(
        lambda out: write_xlsx(out, title=title, headers=headers, lines=lines, widths=widths),
        filename=filename,
        audit=audit,
    )


def file_response(
    content: bytes, *, filename: str, content_type: str, audit: ExportAudit, rows: int | None = None
) -> HttpResponse:
    """A download of a document built in memory (a Word ledger), recorded in the audit trail first."""
    audit.record(rows)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
