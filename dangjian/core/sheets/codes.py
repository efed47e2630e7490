"""Code lists (代码表): a coded column's allowed values with the national codes and the words people use for them,
as data (a TOML file beside the importer), normalized on import and suggested when a value is unknown
(docs/imports.md, "Values"). 学历 follows GB/T 4658-2006, 民族 GB 3304-1991, 性别 GB/T 2261.1-2003."""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dangjian.core.sheets.text import fold


@dataclass(frozen=True)
class CodeList:
    """One column's values: `labels` are the canonical ones in order; any label, national code or synonym (compared
    folded: no spaces, full-width as half-width, lower case) resolves to its label."""

    title: str
    labels: tuple[str, ...]
    by_key: dict[str, str]
    source: str = ""
    _guesses: dict = field(default_factory=dict, compare=False, repr=False)  # text → suggest(text), per process

    @classmethod
    def from_table(cls, title: str, table: dict) -> CodeList:
        labels: list[str] = []
        by_key: dict[str, str] = {}
        for entry in table["values"]:
            label = entry["label"]
            labels.append(label)
            words = [label, *entry.get("synonyms", ())]
            for code in entry.get("codes", ()):
                words.append(code)
                if code.isdigit() and str(int(code)) != code:
                    words.append(str(int(code)))  # a code typed as a number loses its leading zero (01 → 1)
            for word in words:
                key = fold(word)
                if by_key.setdefault(key, label) != label:
                    raise ValueError(f"{title}: {word!r} stands for both {by_key[key]!r} and {label!r}")
        return cls(title=title, labels=tuple(labels), by_key=by_key, source=table.get("source", ""))

    def resolve(self, text: str) -> str | None:
        """The canonical label `text` stands for, or None."""
        return self.by_key.get(fold(text))

    def suggest(self, text: str) -> str | None:
        """The label whose spelling is closest to an unknown `text` (difflib's ratio, at least 0.5), or None. Ties go
        to the value listed first (the commonest: 汗族 → 汉族, not 黎族)."""
        key = fold(text)
        if key not in self._guesses:
            best = _closest(key, self.by_key)
            self._guesses[key] = self.by_key[best] if best is not None else None
        return self._guesses[key]

    def unknown_message(self, text: str) -> str:
        """`学历“本料”无法识别，是否为“大学本科”？` with the labels the column takes when they are few."""
        message = f"{self.title}“{text[:20]}”无法识别"
        guess = self.suggest(text)
        message += f"，是否为“{guess}”？" if guess else "。"
        if len(self.labels) <= 12:
            message += f"可填：{'、'.join(self.labels)}。"
        return message


@functools.cache
def load_code_lists(path: Path | str) -> dict[str, CodeList]:
    """Every code list of a TOML file: one table per column, `[[<title>.values]]` entries of label, codes, synonyms."""
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    return {title: CodeList.from_table(title, table) for title, table in data.items()}


def _closest(key: str, candidates, cutoff: float = 0.5) -> str | None:
    """The candidate most like `key` (difflib's ratio, at least `cutoff`); the first one listed on a tie."""
    matcher = difflib.SequenceMatcher(None, "", key)
    best, best_ratio = None, cutoff
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio or (best is None and ratio >= best_ratio):
            best, best_ratio = candidate, ratio
    return best


def suggest_name(text: str, names, *, limit: int = 3) -> list[str]:
    """The names among `names` closest to an unknown `text` (an organization typed with a character off), best
    first."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(fold(name), name)
    close = difflib.get_close_matches(fold(text), list(by_key), n=limit, cutoff=0.5)
    return [by_key[key] for key in close]
