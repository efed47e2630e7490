"""Importing a question bank from a spreadsheet: tolerant headers and values, every error by row, all or nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook

from dangjian.accounts.roles import Role
from dangjian.exams.models import Question, QuestionKind
from dangjian.exams.services.bank_import import import_bank
from dangjian.exams.tests.factories import QuestionBankFactory

pytestmark = pytest.mark.django_db


def xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


GOOD = [
    ["2026年党章党规题库"],  # a title row above the header
    ["题目类型", "题目", "A", "B", "C", "D", "正确答案", "标签", "答案解析"],
    ["单选", "党的最高领导机关是？", "全国代表大会和中央委员会", "国务院", "全国人大", "政协", "ａ", "党章", ""],
    ["多选题", "三会一课包括？", "支部党员大会", "支委会", "党小组会", "运动会", "A,B,C", "组织生活、党章", ""],
    ["判断", "预备期为一年。", None, None, None, None, "√", "党章", "党章第七条"],
    ["填空题", "每年集中学习不少于多少学时？", None, None, None, None, "32|32学时", "学时", ""],
]


def test_a_bank_as_people_keep_it_is_imported(world):
    bank = QuestionBankFactory(organization=world.orgs["A"])
    by = world.user(Role.SECRETARY)
    checked = import_bank(xlsx(GOOD), bank=bank, name="题库.xlsx", by=by, dry_run=True)
    assert checked.ok and checked.rows == 4 and not Question.objects.dangerously_all().exists()
    result = import_bank(xlsx(GOOD), bank=bank, name="题库.xlsx", by=by)
    assert result.written and result.created == 4
    kinds = dict(Question.objects.dangerously_all().filter(bank=bank).values_list("kind", "answer"))
    assert kinds[QuestionKind.SINGLE] == [0] and kinds[QuestionKind.MULTIPLE] == [0, 1, 2]
    assert kinds[QuestionKind.TRUE_FALSE] == [True] and kinds[QuestionKind.FILL] == ["32", "32学时"]
    # The same file again: every question is already in the bank, nothing is added.
    again = import_bank(xlsx(GOOD), bank=bank, name="题库.xlsx", by=by)
    assert not again.ok and Question.objects.dangerously_all().count() == 4


def test_bad_rows_are_all_reported_and_nothing_is_written(world):
    bank = QuestionBankFactory(organization=world.orgs["A"])
    rows = [
        GOOD[1],
        GOOD[2],
        ["问答题", "谈谈体会", None, None, None, None, "略", "", ""],
        ["单选", "选哪个？", "甲", "乙", None, None, "C", "", ""],
        ["判断", "", None, None, None, None, "对", "", ""],
        GOOD[2],
    ]
    result = import_bank(xlsx(rows), bank=bank, name="题库.xlsx", by=world.user(Role.SECRETARY))
    assert not result.written and not Question.objects.dangerously_all().exists()
    found = {(e.row, e.column) for e in result.errors}
    assert found == {(3, "题型"), (4, "答案"), (5, "题干"), (6, "题干")}
    assert any("与第2行重复" in e.message for e in result.errors)


def test_a_file_without_the_needed_columns_is_refused(world):
    bank = QuestionBankFactory(organization=world.orgs["A"])
    data = io.BytesIO("姓名,电话\n张三,1\n".encode())
    result = import_bank(data, bank=bank, name="x.csv", by=world.user(Role.SECRETARY))
    assert result.file_error and "缺少必需的列" in result.file_error


def test_only_a_manager_of_the_bank_imports(world):
    bank = QuestionBankFactory(organization=world.orgs["B"])
    with pytest.raises(PermissionDenied):
        import_bank(xlsx(GOOD), bank=bank, name="题库.xlsx", by=world.user(Role.SECRETARY))
