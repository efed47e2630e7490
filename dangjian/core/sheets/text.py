"""Cell values as people type them: surrounding spaces (half- and full-width), tabs and line breaks dropped, and
full-width digits and letters read as their half-width forms (docs/imports.md, "Values")."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from dangjian.core.sheets.reading import cell_text
from dangjian.core.validators import id_check_char

# Full-width digits and Latin letters (０-９, Ａ-Ｚ, ａ-ｚ) → their ASCII forms; the ideographic space → a space.
# Only these: full-width brackets and commas are how Chinese names are written (高一（3）班党支部) and stay as typed.
_HALF_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
_HALF_WIDTH[0x3000] = 0x20
_WIDE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
_SPACES = re.compile(r"\s+")


def clean_text(value) -> str:
    """A cell as text (`cell_text`), full-width digits and letters made half-width, surrounding whitespace of any
    kind (spaces, full-width spaces, tabs, line breaks) dropped. Called for every cell of a 100,000-row roster: the
    translation only runs on a cell that has something to translate."""
    text = value.strip() if type(value) is str else cell_text(value)
    if _WIDE.search(text) is not None:
        text = text.translate(_HALF_WIDTH).strip()
    return text


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def clean_name(value) -> str:
    """A person's name: `clean_text`, and no spaces between Chinese characters (张　伟, aligned with a full-width
    space as rosters do, is 张伟); a name in Latin letters keeps its spaces."""
    return _CJK_GAP.sub("", clean_text(value))


def fold(value) -> str:
    """The key two spellings are compared by: Unicode compatibility forms (NFKC: full-width punctuation too), no
    whitespace anywhere, lower case. 「高一（3）班 党支部」 and 「高一(3)班党支部」 fold alike."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", cell_text(value))).lower()


class IdNumberMangled(ValueError):
    """An ID number a spreadsheet stored as a number: Excel keeps 15 significant digits, so an 18-digit number comes
    back with its last digits turned to 0 or in scientific notation. `shown` is what the file holds."""

    def __init__(self, shown: str):
        super().__init__(shown)
        self.shown = shown


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.IGNORECASE)


def read_id_number(raw) -> str:
    """A 公民身份号码 cell as text: no spaces anywhere, full-width digits as half-width, a lower-case x upper-cased.

    Raises IdNumberMangled for Excel's precision loss (docs/imports.md, "ID numbers"): a number of 16 digits or more
    (only 15 are kept), scientific notation (1.10101E+17, what a CSV saved from Excel holds), or 18 digits ending in
    000 whose check digit fails (a pasted rounded value) — so the message says what happened, not "checksum error"."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if isinstance(raw, float) and not raw.is_integer():
            raise IdNumberMangled(repr(raw))
        digits = str(int(raw))
        if len(digits) > 15:
            raise IdNumberMangled(str(int(Decimal(f"{raw:.15g}"))))  # as Excel shows it: 15 digits, then zeros
        return digits
    text = _SPACES.sub("", clean_text(raw)).upper()
    if _SCIENTIFIC.match(text):
        raise IdNumberMangled(text)
    if len(text) == 18 and text.isdigit() and text.endswith("000") and id_check_char(text[:17]) != text[17]:
        raise IdNumberMangled(text)
    return text
