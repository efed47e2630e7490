"""Reading a question as typed (a form or a spreadsheet row), and the fill-in comparison."""

from __future__ import annotations

import pytest

from dangjian.exams.models import QuestionKind
from dangjian.exams.questions import normalized, parse_question


def test_choice_answers_in_the_ways_people_write_them():
    parsed = parse_question(kind="多选", text="三会一课", options=["甲", "乙", "丙"], answer="a、C")
    assert parsed.errors == {}
    assert (parsed.kind, parsed.answer) == (QuestionKind.MULTIPLE, [0, 2])
    assert parse_question(kind="单选题", text="题", options=["甲", "乙"], answer="Ｂ").answer == [1]


@pytest.mark.parametrize(
    ("kind", "options", "answer", "field", "words"),
    [
        ("问答题", [], "x", "kind", "题型应为"),
        ("单选题", ["甲"], "A", "options", "至少要有2个选项"),
        ("单选题", ["甲", "乙"], "C", "answer", "不是本题的选项"),
        ("单选题", ["甲", "乙"], "AB", "answer", "只能有一个答案"),
        ("多选题", ["甲", "乙"], "A", "answer", "至少要有两个答案"),
        ("判断题", [], "也许", "answer", "正确"),
        ("判断题", ["甲"], "对", "options", "不填选项"),
        ("填空题", [], " | ", "answer", "请填写填空题的答案"),
    ],
    ids=[
        "kind",
        "one-option",
        "letter-out-of-range",
        "single-two",
        "multiple-one",
        "tf-word",
        "tf-options",
        "fill-empty",
    ],
)
def test_bad_questions_name_the_field(kind, options, answer, field, words):
    parsed = parse_question(kind=kind, text="题干", options=options, answer=answer)
    assert field in parsed.errors
    assert words in parsed.errors[field]


def test_an_empty_stem_is_refused():
    assert parse_question(kind="判断题", text="  ", options=[], answer="对").errors["text"] == "请填写题干。"


def test_true_false_and_fill_in():
    assert parse_question(kind="判断", text="t", options=[], answer="×").answer == [False]
    assert parse_question(kind="填空", text="t", options=[], answer="三会一课｜三会一课制度").answer == [
        "三会一课",
        "三会一课制度",
    ]


def test_fill_in_compare_ignores_width_and_whitespace():
    assert normalized("  ３２ 学时 ") == normalized("32学时")
    assert normalized("ＡＢＣ") == normalized("abc")
