"""Checks an uploaded file must pass before any parser reads it or any storage keeps it.

Spreadsheets (`check_xlsx_upload`). An .xlsx file is a zip container of XML parts. A hostile one can be a zip bomb
(tiny on disk, gigabytes unpacked), hold thousands of entries, or not be a zip at all; those are refused from the
zip's central directory alone, as is any one part other than a worksheet larger than DANGJIAN_UPLOAD_MAX_PART_BYTES.

Within those limits a file can still make the reader (python-calamine) hold far more in memory than its size: one
enormous cell, a long string in sharedStrings referenced from a million cells (the reader copies it into each), or
two cells far apart (the reader allocates the whole rectangle between them). So the parts the reader turns into
cells — `xl/sharedStrings.xml` and every part under `xl/worksheets/` — are streamed, a megabyte at a time and never
decompressed whole, and measured as the reader would build them: the longest cell (DANGJIAN_UPLOAD_MAX_CELL_CHARS),
the text of each worksheet with its shared strings filled in (DANGJIAN_UPLOAD_MAX_PART_BYTES), and the rectangle from
A1 to the last cell used (DANGJIAN_UPLOAD_MAX_CELLS). A part laid out as spreadsheet programs write it is measured by
regular expressions (about 3 s for a 200,000-row roster); anything else is walked element by element with expat,
entity references refused. Every part is decompressed here, not by zipfile, so a part whose content is larger than
its directory entry says is refused too.

Attachments (`check_file_upload`): extension, size and the first bytes of the content, so that an HTML page or an
executable named `evil.pdf` is refused whatever its name says.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import PurePath
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError

MB = 1024 * 1024
_CHUNK = MB  # bytes read, decompressed and parsed at a time


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_entries: int
    max_unpacked_bytes: int
    max_ratio: int
    # None: the setting's value (so limits built for one check keep the settings' content limits).
    max_part_bytes: int | None = None
    max_cell_chars: int | None = None
    max_cells: int | None = None

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            max_bytes=settings.DANGJIAN_UPLOAD_MAX_BYTES,
            max_entries=settings.DANGJIAN_UPLOAD_MAX_ZIP_ENTRIES,
            max_unpacked_bytes=settings.DANGJIAN_UPLOAD_MAX_UNPACKED_BYTES,
            max_ratio=settings.DANGJIAN_UPLOAD_MAX_COMPRESSION_RATIO,
        ).resolved()

    def resolved(self) -> UploadLimits:
        return replace(
            self,
            max_part_bytes=_or_setting(self.max_part_bytes, "DANGJIAN_UPLOAD_MAX_PART_BYTES"),
            max_cell_chars=_or_setting(self.max_cell_chars, "DANGJIAN_UPLOAD_MAX_CELL_CHARS"),
            max_cells=_or_setting(self.max_cells, "DANGJIAN_UPLOAD_MAX_CELLS"),
        )


def _or_setting(value: int | None, name: str) -> int:
    return int(getattr(settings, name)) if value is None else value


@dataclass(frozen=True)
class _Limits:
    """UploadLimits with the settings' values filled in: what the checks read."""

    max_bytes: int
    max_entries: int
    max_unpacked_bytes: int
    max_ratio: int
    max_part_bytes: int
    max_cell_chars: int
    max_cells: int

    @classmethod
    def of(cls, limits: UploadLimits) -> _Limits:
        return cls(
            max_bytes=limits.max_bytes,
            max_entries=limits.max_entries,
            max_unpacked_bytes=limits.max_unpacked_bytes,
            max_ratio=limits.max_ratio,
            max_part_bytes=_or_setting(limits.max_part_bytes, "DANGJIAN_UPLOAD_MAX_PART_BYTES"),
            max_cell_chars=_or_setting(limits.max_cell_chars, "DANGJIAN_UPLOAD_MAX_CELL_CHARS"),
            max_cells=_or_setting(limits.max_cells, "DANGJIAN_UPLOAD_MAX_CELLS"),
        )


def _megabytes(n: int) -> str:
    return f"{n / MB:.0f} MB"


def check_xlsx_upload(fileobj, *, name: str, limits: UploadLimits | None = None) -> None:
    """Refuse anything that is not a reasonably sized, well-formed .xlsx container whose cells the reader can hold
    in bounded memory.

    Raises ValidationError with a Chinese message (its code names the check); leaves the file position at the start.
    """
    checked = _Limits.of(limits or UploadLimits.from_settings())
    if PurePath(name or "").suffix.lower() != ".xlsx":
        raise ValidationError("只接受 .xlsx 格式的 Excel 文件。", code="extension")
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    if size > checked.max_bytes:
        raise ValidationError(f"文件过大：不能超过 {_megabytes(checked.max_bytes)}。", code="too_large")
    if not zipfile.is_zipfile(fileobj):
        fileobj.seek(0)
        raise ValidationError("文件不是有效的 .xlsx 文件（无法按 Excel 格式打开）。", code="not_xlsx")
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError("文件已损坏，无法按 Excel 格式打开。", code="not_xlsx") from None
    finally:
        fileobj.seek(0)
    if len(entries) > checked.max_entries:
        raise ValidationError("文件结构异常：包含的内部文件过多。", code="too_many_entries")
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise ValidationError("文件不是有效的 .xlsx 文件（缺少 Excel 工作簿结构）。", code="not_xlsx")
    _check_directory(entries, checked)
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > checked.max_unpacked_bytes or unpacked / packed > checked.max_ratio:
        raise ValidationError("文件解压后体积异常（疑似压缩炸弹），已拒绝。", code="zip_bomb")
    try:
        _check_contents(fileobj, entries, checked)
    except _Refused as refusal:
        raise ValidationError(refusal.message, code=refusal.code) from None
    except (OSError, EOFError, zlib.error, struct.error, ValueError, OverflowError, IndexError):
        raise ValidationError(CORRUPT_MESSAGE, code="not_xlsx") from None
    finally:
        fileobj.seek(0)


# ---------------------------------------------------------------------------------------------------------
# The zip directory: what each entry claims to be.

CORRUPT_MESSAGE = "文件已损坏或不是有效的Excel工作簿，无法读取。"
ENTITY_MESSAGE = "文件内容无法解析（含有不支持的XML内容，如实体引用），已拒绝。请用Excel另存为.xlsx后重试。"


def _part_kind(filename: str) -> str | None:
    """How the reader uses a part: "strings" (shared strings), "sheet" (a worksheet: the reader takes the part of
    any workbook relationship whose target lies under xl/worksheets/, matching names without regard to case), or
    None (not turned into cells)."""
    lower = filename.lower()
    if lower == "xl/sharedstrings.xml":
        return "strings"
    if lower.startswith("xl/worksheets/"):
        return "sheet"
    return None


def _short(filename: str) -> str:
    return filename if len(filename) <= 80 else filename[:77] + "..."


def _check_directory(entries: list[zipfile.ZipInfo], limits: _Limits) -> None:
    lowered = [entry.filename.lower() for entry in entries]
    if len(set(lowered)) != len(lowered):
        raise ValidationError("文件结构异常：包含重复的内部文件。", code="duplicate_entries")
    for entry in entries:
        if entry.flag_bits & 0x1 or entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValidationError(
                "文件使用了不支持的压缩方式或加密，无法读取。请用Excel另存为.xlsx后重试。", code="unsupported"
            )
        # A worksheet streams through the reader; its weight is its cells and their text, checked below. Every
        # other part (shared strings above all) is held whole in memory.
        if _part_kind(entry.filename) != "sheet" and entry.file_size > limits.max_part_bytes:
            raise ValidationError(
                f"文件中的内部部件“{_short(entry.filename)}”解压后超过 {_megabytes(limits.max_part_bytes)}"
                "（疑似恶意构造的文件），已拒绝。",
                code="part_too_large",
            )


# ---------------------------------------------------------------------------------------------------------
# The contents: each part decompressed in chunks, the cell parts scanned.


class _Refused(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def _corrupt() -> _Refused:
    return _Refused(CORRUPT_MESSAGE, "not_xlsx")


def _unpacked(fileobj, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's content, at most _CHUNK bytes at a time, decompressed here rather than by zipfile: zipfile stops
    at the size the directory states, the reader might not. Content longer or shorter than stated, or with another
    checksum, is refused."""
    fileobj.seek(info.header_offset)
    header = fileobj.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _corrupt()
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    fileobj.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    produced, crc = 0, 0
    for out in _decompressed(fileobj, info.compress_size, inflater):
        produced += len(out)
        if produced > info.file_size:
            raise _corrupt()
        crc = zlib.crc32(out, crc)
        yield out
    if (inflater is not None and not inflater.eof) or produced != info.file_size or crc != info.CRC:
        raise _corrupt()


def _decompressed(fileobj, left: int, inflater) -> Iterator[bytes]:
    while left > 0:
        raw = fileobj.read(min(_CHUNK, left))
        if not raw:
            raise _corrupt()
        left -= len(raw)
        if inflater is None:
            yield raw
            continue
        while raw:
            out = inflater.decompress(raw, _CHUNK)  # never more than _CHUNK at once, however well it packs
            raw = inflater.unconsumed_tail
            if out:
                yield out
        while not inflater.eof:  # output still pending for input already taken in
            out = inflater.decompress(b"", _CHUNK)
            if not out:
                break
            yield out


def _check_contents(fileobj, entries: list[zipfile.ZipInfo], limits: _Limits) -> None:
    strings = _SharedStrings(limits)
    # Shared strings first: a worksheet's weight depends on the strings its cells point at.
    order = {"strings": 0, "sheet": 1, None: 2}
    for info in sorted(entries, key=lambda entry: order[_part_kind(entry.filename)]):
        kind = _part_kind(info.filename)
        if kind is None:
            for _ in _unpacked(fileobj, info):
                pass
        elif kind == "strings":
            if not _plain_shared_strings(_unpacked(fileobj, info), strings):
                strings = _SharedStrings(limits)
                _scan_xml(_unpacked(fileobj, info), strings, limits)
        elif not _PlainWorksheet(limits, strings).scan(_unpacked(fileobj, info)):
            # Not laid out as spreadsheet programs write it: walked element by element from the start.
            sheet = _Worksheet(limits, strings)
            _scan_xml(_unpacked(fileobj, info), sheet, limits)
            sheet.finish()


@functools.lru_cache(maxsize=8)
def _pattern(template: bytes, limit: int) -> re.Pattern[bytes]:
    return re.compile(template % (limit + 1))


class _RunGuard:
    """Refuses a stretch of bytes without "<" (a text, or a tag with its attributes) longer than the longest cell
    could need, so that neither expat nor the reader ever buffers one huge token."""

    def __init__(self, limits: _Limits, refusal: _Refused):
        self.limit = limits.max_cell_chars * 8 + 4096  # a character is at most 8 bytes written (&#x10FFF;)
        self.pattern = _pattern(rb"<[^<]{%d}", self.limit)
        self.refusal = refusal
        self.tail = 0  # length of the run the previous chunk ended with

    def check(self, chunk: bytes) -> None:
        first = chunk.find(b"<")
        if first < 0:
            self.tail += len(chunk)
            if self.tail > self.limit:
                raise self.refusal
            return
        if self.tail + first > self.limit or self.pattern.search(chunk, first):
            raise self.refusal
        self.tail = len(chunk) - chunk.rfind(b"<") - 1


def _scan_xml(chunks: Iterator[bytes], scan, limits: _Limits) -> None:
    """Feed a part to expat, refusing entity references (the reader refuses them too) and, through the run guard,
    any token expat would have to buffer whole."""
    parser = expat.ParserCreate()
    # Unbuffered: a character reference arrives as its own piece of text (see _Worksheet._charge_value).
    parser.buffer_text = False
    parser.StartElementHandler = scan.start
    # A worksheet has no use for element ends, but without a handler expat would pass them to the default
    # handler below; a built-in taking one argument costs far less than a Python function.
    parser.EndElementHandler = getattr(scan, "end", len)
    parser.CharacterDataHandler = scan.text
    # A default handler keeps expat from expanding entities: a reference arrives there as "&name;".
    parser.DefaultHandler = _refuse_entity_references
    guard = _RunGuard(limits, scan.cell_too_large())
    try:
        for chunk in chunks:
            guard.check(chunk)
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError:
        raise _corrupt() from None


def _refuse_entity_references(data: str) -> None:
    if data.startswith("&"):
        raise _Refused(ENTITY_MESSAGE, "entity")


# Element kinds, by local name (the reader matches local names, whatever the prefix).
_OTHER, _C, _ROW, _V, _SI, _T, _R, _RPH = range(8)
_KINDS = {"c": _C, "row": _ROW, "v": _V, "si": _SI, "t": _T, "r": _R, "rPh": _RPH}


class _Scan:
    def __init__(self, limits: _Limits):
        self.max_chars = limits.max_cell_chars
        self.limits = limits
        self.kinds = dict(_KINDS)

    def kind(self, name: str) -> int:
        """The element's kind from its qualified name (cached, up to a bound: names are the file's to choose)."""
        kind = self.kinds.get(name)
        if kind is None:
            kind = _KINDS.get(name.rpartition(":")[2], _OTHER)
            if len(self.kinds) < 1000:
                self.kinds[name] = kind
        return kind

    def cell_too_large(self) -> _Refused:
        return _Refused(
            f"文件中有单元格的内容超过 {self.max_chars} 个字符（疑似恶意构造的文件），已拒绝。", "cell_too_large"
        )


class _SharedStrings(_Scan):
    """xl/sharedStrings.xml, element by element: each <si> is one string, its <t> texts joined (the reader leaves
    phonetic runs out; they are counted here all the same, erring heavy). Keeps each string's UTF-8 length in two
    numberings — every <si>, as Excel counts them, and only those holding text or runs,
    as the reader counts them today — and answers the larger, so that a worksheet is never weighed light."""

    def __init__(self, limits: _Limits):
        super().__init__(limits)
        self.every = array("I")
        self.with_text = array("I")
        self.depth = 0
        self.in_t = self.has_text = self.phonetic = False
        self.chars = self.bytes = 0
        self._lengths: array | None = None

    def start(self, name: str, attrs) -> None:
        kind = self.kinds.get(name)
        if kind is None:
            kind = self.kind(name)
        if kind == _SI:
            self.depth += 1
            if self.depth == 1:
                self.in_t = self.has_text = self.phonetic = False
                self.chars = self.bytes = 0
        elif not self.depth:
            return
        elif kind == _T:
            if not self.phonetic:
                self.has_text = True
            self.in_t = True  # phonetic text is counted too: erring on the heavy side
        elif kind == _R:
            self.has_text = True
        elif kind == _RPH:
            self.phonetic = True

    def end(self, name: str) -> None:
        kind = self.kinds.get(name)
        if kind is None:
            kind = self.kind(name)
        if kind == _T:
            self.in_t = False
        elif kind == _RPH:
            self.phonetic = False
        elif kind == _SI and self.depth:
            self.depth -= 1
            if self.depth:
                return
            self.in_t = False
            self.every.append(self.bytes)
            if self.has_text:
                self.with_text.append(self.bytes)
            if len(self.every) > self.limits.max_cells:
                raise self.too_many_strings()

    def text(self, data: str) -> None:
        if self.in_t:
            self.chars += len(data)
            if self.chars > self.max_chars:
                raise self.cell_too_large()
            self.bytes += len(data) if data.isascii() else len(data.encode())

    def length(self, index: int) -> int:
        every = self.every[index] if index < len(self.every) else 0
        with_text = self.with_text[index] if index < len(self.with_text) else 0
        return max(every, with_text)

    def too_many_strings(self) -> _Refused:
        # No worksheet can use more strings than it has cells.
        return _Refused(
            f"文件中的共享字符串超过 {self.limits.max_cells} 个（疑似恶意构造的文件），已拒绝。", "too_many_cells"
        )

    def lengths(self) -> array:
        """length(i) for every i, as one array (built once, for the plain worksheets' bulk sums)."""
        if self._lengths is None or len(self._lengths) != max(len(self.every), len(self.with_text)):
            longer, shorter = sorted((self.every, self.with_text), key=len, reverse=True)
            self._lengths = array("I", map(max, longer, shorter)) + longer[len(shorter) :]
        return self._lengths


_FAR_REFERENCE = re.compile(r"[A-Za-z]*[0-9]+\Z")
_INDEX = re.compile(r"\s*\+?([0-9]{1,12})\s*\Z")
_DIGITS = "0123456789"


class _Worksheet(_Scan):
    """A worksheet part as the reader walks it: a cell's position is its `r` attribute, or the one after the
    previous cell (a row's `r`, or the one after the previous row). Measures, erring on the heavy side: each cell's
    text, the worksheet's text with shared strings filled in (the reader copies a shared string into every cell that
    uses it), and the rectangle from A1 to the last row and column holding a cell with content (the reader allocates
    every cell of it).

    Speed: this runs over every row of a 200,000-row roster, so it listens to element starts and text only. A cell
    ends where the next cell or row starts (text or elements between are counted with it, which errs heavy)."""

    def __init__(self, limits: _Limits, strings: _SharedStrings):
        super().__init__(limits)
        self.strings = strings
        self.max_text = limits.max_part_bytes
        self.row = self.col = 0
        self.rows_seen = False
        self.last_row = self.last_col = -1
        self.in_cell = self.has_value = self.shared = False
        self.position = (0, 0)
        self.cell_chars = self.text_bytes = 0
        self.value: list[str] | None = None  # the text pieces of a shared-string cell's <v>, while it is read
        self.columns: dict[str, int] = {}

    def column(self, letters: str) -> int:
        col = self.columns.get(letters)
        if col is None:
            if not (letters.isascii() and letters.isalpha()):
                raise _corrupt()
            if len(letters) > 7:  # beyond any sheet (Excel ends at column XFD)
                raise self.too_many_cells()
            col = -1
            for letter in letters.upper():
                col = (col + 1) * 26 + ord(letter) - 65
            if len(self.columns) < 1000:
                self.columns[letters] = col
        return col

    def _position(self, reference: str, *, column: bool) -> tuple[int, int]:
        letters = reference.rstrip(_DIGITS)
        digits = reference[len(letters) :]
        if not digits or (column and not letters):
            raise _corrupt()
        if len(digits) > 10:
            raise self.too_many_cells()
        row = int(digits) - 1
        if row < 0:
            raise _corrupt()
        return row, self.column(letters) if letters else 0

    def _end_cell(self) -> None:
        if self.has_value:
            row, col = self.position
            if row > self.last_row:
                self.last_row = row
            if col > self.last_col:
                self.last_col = col
        self.in_cell = False
        self.col += 1

    def _charge_value(self) -> None:
        """A shared-string cell's <v> has been read: charge the string it points at. The reader may take the index
        from the text up to the first character reference only, so every such reading is tried; the longest
        string any of them picks is charged."""
        text, longest = "", 0
        for piece in self.value or ():
            text += piece
            index = _INDEX.match(text)
            if index is not None:
                longest = max(longest, self.strings.length(int(index.group(1))))
        self.value = None
        self.add(longest)

    def start(self, name: str, attrs) -> None:
        kind = self.kinds.get(name)
        if kind is None:
            kind = self.kind(name)
        if self.value is not None:
            self._charge_value()
        if kind == _C:
            if self.in_cell:
                self._end_cell()
            self.in_cell, self.has_value, self.cell_chars = True, False, 0
            self.shared = attrs.get("t") == "s"
            reference = attrs.get("r")
            if reference is None:
                self.position = (self.row, self.col)
            else:
                self.position = self._position(reference, column=True)
                self.col = self.position[1]
        elif kind == _ROW:
            if self.in_cell:
                self._end_cell()
            reference = attrs.get("r")
            if reference is not None:
                self.row = self._position(reference, column=False)[0]
            elif self.rows_seen:
                self.row += 1
            self.rows_seen, self.col = True, 0
        elif self.in_cell:
            self.has_value = True  # <v>, <is> (an inline string, even empty), <f>: counted as content
            if kind == _V and self.shared:
                self.value = []

    def text(self, data: str) -> None:
        if self.in_cell:
            self.cell_chars += len(data)
            if self.cell_chars > self.max_chars:
                raise self.cell_too_large()
            self.add(len(data) if data.isascii() else len(data.encode()))
            if self.value is not None and len(self.value) < 8:
                self.value.append(data)

    def add(self, size: int) -> None:
        self.text_bytes += size
        if self.text_bytes > self.max_text:
            raise _Refused(
                f"工作表的文字内容（共享字符串按引用次数展开后）超过 {_megabytes(self.max_text)}"
                "（疑似恶意构造的文件），已拒绝。",
                "text_too_large",
            )

    def too_many_cells(self) -> _Refused:
        return _Refused(
            f"工作表的数据范围过大：超过 {self.limits.max_cells} 个单元格（行数×列数）。"
            "请删除数据区域之外的内容（如远处的单元格）后重试。",
            "too_many_cells",
        )

    def finish(self) -> None:
        if self.value is not None:
            self._charge_value()
        if self.in_cell:
            self._end_cell()
        if self.last_row >= 0 and (self.last_row + 1) * (self.last_col + 1) > self.limits.max_cells:
            raise self.too_many_cells()


# A worksheet as spreadsheet programs write it (Excel, WPS, LibreOffice, openpyxl): <sheetData> holds rows, each
# <row r="N" …> holds cells <c r="LettersN" [s] [t] [cm] [vm] [ph]> with at most a formula, then a value or a plain
# inline string. Nothing else: no comments, entities in markup, prefixes or whitespace inside rows.
_ROW_ATTRIBUTE = rb'(?: [A-Za-z][A-Za-z0-9:]{0,40}="[^"<>&]{0,256}")'
_CELL = (
    rb'<c r="[A-Z]{1,3}(?P=row)"(?: s="[0-9]{1,6}")?(?: t="(?:s|n|b|e|str|inlineStr|d)")?'
    rb'(?: cm="[0-9]{1,6}")?(?: vm="[0-9]{1,6}")?(?: ph="[01]")?'
    rb'(?:/>|>(?:<f(?: [A-Za-z]{1,16}="[^"<>&]{0,64}")*+(?:/>|>[^<]*</f>))?'
    rb'(?:<v>[^<]*</v>|<is><t(?: xml:space="preserve")?>[^<]*</t></is>)?</c>)'
)
_ROWS = re.compile(
    rb'(?:\s*<row r="(?P<row>[0-9]{1,7})"' + _ROW_ATTRIBUTE + rb"*+(?:/>|>(?:" + _CELL + rb")*+</row>))*+\s*"
)
# In such rows: the row number and the column letters of every cell with content, the index of every shared-string
# cell, and every text between tags.
_CONTENT_ROW = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"[^>]*>(?=<[fvi])')
_CONTENT_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]{1,7}"[^>]*>(?=<[fvi])')
_SHARED_VALUE = re.compile(
    rb'<c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]{1,6}")? t="s"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>([^<]*)</v>'
)
_TEXT = re.compile(rb">([^<]+)<")
# A reference to an entity of the file's own DTD: left to _Worksheet, which refuses it as the reader would.
_ENTITY_REFERENCE = re.compile(rb"&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
_CHARACTER_REFERENCE = re.compile(r"&#(x[0-9a-fA-F]{1,6}|[0-9]{1,7});")
_NAMED_REFERENCES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'"}


def _unescape(text: str) -> str:
    for reference, character in _NAMED_REFERENCES.items():
        text = text.replace(reference, character)
    return _CHARACTER_REFERENCE.sub(
        lambda m: chr(min(int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1)), 0x10FFFF)), text
    )


# Shared strings as spreadsheet programs write them: <sst …> and one plain <si><t>text</t></si> per string.
_SST_START = re.compile(rb'(?:<\?xml[^<>]{0,200}\?>)?\s*<sst(?: [A-Za-z][A-Za-z0-9:]{0,40}="[^"<>&]{0,256}")*+>')
_PLAIN_STRINGS = re.compile(rb'(?:<si><t(?: xml:space="preserve")?>[^<]*</t></si>)*+')
_PLAIN_STRING = re.compile(rb"<si><t[^>]*>([^<]*)<")


def _plain_shared_strings(chunks: Iterator[bytes], strings: _SharedStrings) -> bool:
    """The fast way through xl/sharedStrings.xml written plainly: each string's length is its length as written
    (an entity is longer than its character, so this errs heavy), a megabyte at a time. Answers False for
    anything else (rich text, phonetic runs, comments, a string longer in bytes than a cell may hold in
    characters…), leaving `strings` to be filled by the element-by-element scan."""
    guard = _RunGuard(strings.limits, strings.cell_too_large())
    long_text = _pattern(rb">[^<]{%d}", strings.max_chars)
    started, buffer = False, b""
    for chunk in chunks:
        guard.check(chunk)
        buffer += chunk
        if not started:
            start = _SST_START.match(buffer)
            if start is None:
                if len(buffer) > 4096:
                    return False
                continue
            started, buffer = True, buffer[start.end() :]
        cut = buffer.rfind(b"</si>") + 5 if b"</si>" in buffer else 0
        if cut:
            region, buffer = buffer[:cut], buffer[cut:]
            if _PLAIN_STRINGS.fullmatch(region) is None or long_text.search(region) or _ENTITY_REFERENCE.search(region):
                return False
            sizes = array("I", map(len, _PLAIN_STRING.findall(region)))
            strings.every.extend(sizes)
            strings.with_text.extend(sizes)
            if len(strings.every) > strings.limits.max_cells:
                raise strings.too_many_strings()
        if len(buffer) > 8 * MB:
            return False
    return started and re.fullmatch(rb"\s*</sst>\s*", buffer) is not None


class _PlainWorksheet:
    """The fast way through a worksheet laid out as spreadsheet programs write it: the rows are checked against
    that layout and measured a megabyte at a time by regular expressions (C speed), as _Worksheet would measure
    them element by element. Anything else in or around <sheetData> makes `scan` answer False, and the part is
    walked by _Worksheet from the start; a cell text longer in bytes than a cell may hold in characters too (only
    _Worksheet counts characters)."""

    def __init__(self, limits: _Limits, strings: _SharedStrings):
        self.limits = limits
        self.strings = strings
        self.sheet = _Worksheet(limits, strings)  # for its refusals and column letters
        self.long_text = _pattern(rb">[^<]{%d}", limits.max_cell_chars)
        self.last_row = self.last_col = -1

    def scan(self, chunks: Iterator[bytes]) -> bool:
        guard = _RunGuard(self.limits, self.sheet.cell_too_large())
        state, buffer = "before", b""
        for chunk in chunks:
            guard.check(chunk)
            buffer += chunk
            if state == "before":
                # The reader starts at the first element named sheetData: the first time the name occurs at all
                # must be that element, written plainly.
                at = buffer.find(b"sheetData")
                if at < 0:
                    buffer = buffer[-16:]
                    continue
                if len(buffer) < at + 11:
                    continue
                if buffer[at - 1 : at] != b"<":
                    return False
                if buffer.startswith(b"sheetData/>", at):
                    state, buffer = "after", buffer[at + 11 :]
                elif buffer.startswith(b"sheetData>", at):
                    state, buffer = "rows", buffer[at + 10 :]
                else:
                    return False
            if state == "rows":
                end = buffer.find(b"</sheetData>")
                if end >= 0:
                    if not self.rows(buffer[:end]):
                        return False
                    state, buffer = "after", buffer[end + 12 :]
                else:
                    cut = buffer.rfind(b"<row ")
                    if cut > 0:
                        if not self.rows(buffer[:cut]):
                            return False
                        buffer = buffer[cut:]
                    if len(buffer) > 8 * MB:  # one row this long is not what a spreadsheet program writes
                        return False
            if state == "after":
                # The name again (a second sheetData, or the first one was inside a comment): not plain.
                if b"sheetData" in buffer:
                    return False
                buffer = buffer[-16:]
        if state != "after":
            return False
        if self.last_row >= 0 and (self.last_row + 1) * (self.last_col + 1) > self.limits.max_cells:
            raise self.sheet.too_many_cells()
        return True

    def rows(self, region: bytes) -> bool:
        if _ROWS.fullmatch(region) is None or self.long_text.search(region) or _ENTITY_REFERENCE.search(region):
            return False
        rows = _CONTENT_ROW.findall(region)
        if rows:
            self.last_row = max(self.last_row, max(map(int, rows)) - 1)
            letters = {c.decode() for c in set(_CONTENT_COLUMN.findall(region))}
            self.last_col = max(self.last_col, *map(self.sheet.column, letters))
        self.sheet.add(self._shared(_SHARED_VALUE.findall(region)))
        self.sheet.add(sum(map(len, _TEXT.findall(region))))
        return True

    def _shared(self, values: list[bytes]) -> int:
        """The bytes of the shared strings these cells use (the reader copies one into each)."""
        lengths = self.strings.lengths()
        try:
            return sum(map(lengths.__getitem__, map(int, values)))
        except (ValueError, IndexError, OverflowError):
            pass
        total = 0
        for raw in values:
            text, longest = raw.decode(errors="replace"), 0
            # As written, up to the first reference, or with every reference resolved: whichever the reader takes.
            for reading in (text.partition("&")[0], _unescape(text)):
                index = _INDEX.match(reading)
                if index is not None:
                    longest = max(longest, self.strings.length(int(index.group(1))))
            total += longest
        return total


# ---------------------------------------------------------------------------------------------------------
# Attachments: evidence, sign-in sheet scans, photos.

# The extension, and the first bytes its content must start with, so that a renamed executable or HTML page is
# refused whatever its name says.
FILE_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}
ATTACHMENT_EXTENSIONS: tuple[str, ...] = tuple(FILE_SIGNATURES)
# Kept under the name the first users imported.
ATTACHMENT_SIGNATURES = FILE_SIGNATURES


def _size_of(fileobj) -> int:
    size = getattr(fileobj, "size", None)
    if size is None:
        position = fileobj.tell()
        fileobj.seek(0, 2)
        size = fileobj.tell()
        fileobj.seek(position)
    return size


def check_file_upload(
    fileobj,
    *,
    field: str,
    label: str,
    allowed: tuple[str, ...] = ATTACHMENT_EXTENSIONS,
    max_bytes: int | None = None,
) -> None:
    """Refuse an uploaded file that is empty, larger than `max_bytes` (default DANGJIAN_ATTACHMENT_MAX_BYTES), of
    another type than `allowed`, or whose content does not start as its extension's format does (an HTML page named
    `evil.pdf`). Raises ValidationError({field: message}); messages name the field by its Chinese `label`. Leaves
    the file position at the start."""
    unknown = set(allowed) - set(FILE_SIGNATURES)
    if unknown:
        raise ValueError(f"no content signature for {sorted(unknown)}")
    max_bytes = settings.DANGJIAN_ATTACHMENT_MAX_BYTES if max_bytes is None else max_bytes
    name = getattr(fileobj, "name", "") or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    kinds = "、".join(e.upper() for e in allowed)
    if extension not in allowed:
        raise ValidationError({field: f"{label}只能是{kinds}文件。"})
    try:
        size = _size_of(fileobj)
        fileobj.seek(0)
        head = fileobj.read(16)
        fileobj.seek(0)
    except (AttributeError, OSError, ValueError):
        raise ValidationError({field: f"{label}无法读取，请重新上传。"}) from None
    if size == 0:
        raise ValidationError({field: f"{label}是空文件。"})
    if size > max_bytes:
        raise ValidationError({field: f"{label}不能超过{_megabytes(max_bytes)}（该文件约{size / MB:.1f} MB）。"})
    if not any(head.startswith(signature) for signature in FILE_SIGNATURES[extension]):
        raise ValidationError({field: f"{label}的内容与扩展名（{extension.upper()}）不符，请上传真实的{kinds}文件。"})


# The name orglife's services import.
check_attachment = check_file_upload
