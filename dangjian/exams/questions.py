"""What a question is made of, read the same way from a form and from a spreadsheet row: the kind in its Chinese
name, the options, the answer as people write it (A, ABD, A、C; 正确/错误, 对/错, √/×; fill-in answers separated by
| or ；), and the normalized comparison of fill-in answers (full-width and half-width alike, whitespace ignored)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dangjian.core.sheets.text import clean_text
from dangjian.exams.models import CHOICE_KINDS, MAX_OPTIONS, OPTION_LETTERS, QuestionKind

KIND_WORDS: dict[str, str] = {
    "单选": QuestionKind.SINGLE,
    "单选题": QuestionKind.SINGLE,
    "单项选择": QuestionKind.SINGLE,
    "单项选择题": QuestionKind.SINGLE,
    "多选": QuestionKind.MULTIPLE,
    "多选题": QuestionKind.MULTIPLE,
    "多项选择": QuestionKind.MULTIPLE,
    "多项选择题": QuestionKind.MULTIPLE,
    "判断": QuestionKind.TRUE_FALSE,
    "判断题": QuestionKind.TRUE_FALSE,
    "是非题": QuestionKind.TRUE_FALSE,
    "填空": QuestionKind.FILL,
    "填空题": QuestionKind.FILL,
}
TRUE_WORDS = frozenset({"正确", "对", "是", "√", "✓", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"错误", "错", "否", "×", "✗", "x", "f", "false", "n", "no"})
_SEPARATORS = re.compile(r"[|｜;；\n]+")
_LETTER_NOISE = re.compile(r"[\s,，、;；.。/]+")
_WHITESPACE = re.compile(r"\s+")
TAG_SEPARATORS = re.compile(r"[,，、;；|｜\s]+")
MAX_TAGS = 10


def normalized(value) -> str:
    """A fill-in answer as compared: `clean_text` (full-width digits and letters half-width, surrounding whitespace
    dropped), no whitespace inside, Latin letters in lower case."""
    return _WHITESPACE.sub("", clean_text(value)).lower()


def read_kind(value) -> str | None:
    text = clean_text(value)
    if text in QuestionKind.values:
        return text
    return KIND_WORDS.get(text.replace(" ", ""))


def read_tags(value) -> list[str]:
    seen: list[str] = []
    for tag in TAG_SEPARATORS.split(clean_text(value)):
        if tag and tag not in seen:
            seen.append(tag[:20])
    return seen


@dataclass
class Parsed:
    kind: str = ""
    text: str = ""
    options: list[str] = field(default_factory=list)
    answer: list = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def parse_question(*, kind, text, options, answer, tags="") -> Parsed:
    """A question from its parts as typed; `errors` maps a field (kind, text, options, answer, tags) to the Chinese
    message saying what is wrong, empty when the question is sound."""
    out = Parsed()
    kind_value = read_kind(kind)
    if kind_value is None:
        out.errors["kind"] = "题型应为单选题、多选题、判断题或填空题。" if clean_text(kind) else "请填写题型。"
    else:
        out.kind = kind_value
    out.text = clean_text(text)
    if not out.text:
        out.errors["text"] = "请填写题干。"
    elif len(out.text) > 2000:
        out.errors["text"] = "题干不能超过2000个字。"
    out.options = [clean_text(o) for o in options]
    while out.options and not out.options[-1]:
        out.options.pop()
    out.tags = read_tags(tags)
    if len(out.tags) > MAX_TAGS:
        out.errors["tags"] = f"知识点不能超过{MAX_TAGS}个。"
    raw = clean_text(answer)
    if kind_value is None:
        return out
    if kind_value in CHOICE_KINDS:
        _choice(out, raw, kind_value)
    elif out.options:
        out.errors["options"] = "判断题和填空题不填选项。"
    elif kind_value == QuestionKind.TRUE_FALSE:
        word = raw.lower()
        if word in TRUE_WORDS:
            out.answer = [True]
        elif word in FALSE_WORDS:
            out.answer = [False]
        else:
            out.errors["answer"] = "判断题的答案应为“正确”或“错误”（也可写对/错、√/×）。"
    else:
        accepted = [a for a in (clean_text(p) for p in _SEPARATORS.split(raw)) if a]
        if not accepted:
            out.errors["answer"] = "请填写填空题的答案（多个可接受的答案用“|”分隔）。"
        elif any(len(a) > 100 for a in accepted):
            out.errors["answer"] = "每个填空答案不能超过100个字。"
        out.answer = accepted
    return out


def _choice(out: Parsed, raw: str, kind: str) -> None:
    if any(not o for o in out.options):
        out.errors["options"] = "选项不能中间留空。"
        return
    if len(out.options) < 2:
        out.errors["options"] = "选择题至少要有2个选项。"
        return
    if len(out.options) > MAX_OPTIONS:
        out.errors["options"] = f"选择题最多{MAX_OPTIONS}个选项。"
        return
    if any(len(o) > 500 for o in out.options):
        out.errors["options"] = "每个选项不能超过500个字。"
        return
    letters = _LETTER_NOISE.sub("", raw).upper()
    if not letters:
        out.errors["answer"] = "请填写答案（选项字母，如A或ABD）。"
        return
    valid = OPTION_LETTERS[: len(out.options)]
    wrong = sorted({ch for ch in letters if ch not in valid})
    if wrong:
        out.errors["answer"] = f"答案“{raw}”不是本题的选项（本题选项为{valid[0]}-{valid[-1]}）。"
        return
    indices = sorted({valid.index(ch) for ch in letters})
    if kind == QuestionKind.SINGLE and len(indices) != 1:
        out.errors["answer"] = "单选题只能有一个答案。"
        return
    if kind == QuestionKind.MULTIPLE and len(indices) < 2:
        out.errors["answer"] = "多选题至少要有两个答案（只有一个答案请设为单选题）。"
        return
    out.answer = indices
