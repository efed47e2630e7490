"""Finding the header of a real-world sheet and naming its columns (docs/imports.md, "Header").

People's rosters start with a title or two (merged across the columns), then the header, whose cells carry spaces,
line breaks, full-width characters, a "*" marking a required column, a note in brackets ("出生日期（yyyy-mm-dd）") and
their own words for a column (身份证号码 for 公民身份号码). An importer declares its columns and their synonyms as
data (a TOML file beside it); `locate_header` takes the row among the first ten that names most of them.
"""

from __future__ import annotations

import functools
import itertools
import re
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from dangjian.core.sheets.reading import Sheet, header_text

HEADER_SCAN_ROWS = 10
_NOTE = re.compile(r"[(\[【][^)\]】]*[)\]】]")
_NOISE = re.compile(r"[\s*:：]+")


def header_key(value) -> str:
    """What a header cell is compared by: NFKC (full-width forms), no whitespace, no "*" or colon, no bracketed note,
    lower case. 「*身份证号码\n（18位）」 → 「身份证号码」."""
    text = unicodedata.normalize("NFKC", str(value if value is not None else ""))
    text = _NOISE.sub("", text)
    stripped = _NOTE.sub("", text)
    return (stripped or text).lower()


@dataclass(frozen=True)
class Columns:
    """The columns an importer reads: each column's name and the header texts that mean it."""

    names: tuple[str, ...]
    by_key: dict[str, str]

    @classmethod
    def from_mapping(cls, synonyms: dict[str, list[str]]) -> Columns:
        by_key: dict[str, str] = {}
        for name, words in synonyms.items():
            for word in (name, *words):
                key = header_key(word)
                if by_key.setdefault(key, name) != name:
                    raise ValueError(f"header {word!r} names both {by_key[key]!r} and {name!r}")
        return cls(names=tuple(synonyms), by_key=by_key)

    def match(self, cell) -> str | None:
        """The column a header cell names, or None."""
        return self.by_key.get(header_key(cell))


@functools.cache
def load_columns(path: Path | str) -> Columns:
    """The columns of a TOML file: a table `[columns]` of name = [synonyms…] (the name itself always matches)."""
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    return Columns.from_mapping({name: list(words) for name, words in data["columns"].items()})


def locate_header(sheet: Sheet, columns: Columns, *, scan: int = HEADER_SCAN_ROWS) -> Sheet:
    """`sheet` with its header moved to the row among its first `scan` that names the most of `columns` (the first
    such row); the rows above it are kept as `above`. A sheet whose rows name none of them is returned as it is."""
    head = [sheet.raw_header or sheet.header]
    head.extend(itertools.islice(sheet.rows, scan - 1))
    scores = [len({columns.match(cell) for cell in row} - {None}) for row in head]
    best = max(range(len(head)), key=lambda i: (scores[i], -i))
    if scores[best] == 0:
        best = 0
    rest = itertools.chain(head[best + 1 :], sheet.rows)
    return replace(
        sheet,
        header=[header_text(cell) for cell in head[best]],
        raw_header=list(head[best]),
        first_row=sheet.first_row + best,
        rows=rest,
        height=sheet.height - best,
        above=[*sheet.above, *head[:best]],
    )
