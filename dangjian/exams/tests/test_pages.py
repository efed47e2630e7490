"""The pages: a member sits a paper on their phone pages, a secretary keeps a bank and reads the results (Excel), the
import's upload → preview → confirm, and bad input answered in Chinese with nothing saved."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from dangjian.accounts.roles import Role
from dangjian.exams.models import Attempt, AttemptStatus, Question, QuestionBank
from dangjian.exams.tests.factories import PaperFactory, QuestionBankFactory, assign
from dangjian.exams.tests.test_import import GOOD, xlsx

pytestmark = pytest.mark.django_db
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")


def test_a_member_sits_a_paper(world):
    paper = PaperFactory(organization=world.orgs["A"], title="党章知识测试")
    assign(paper, world.self_member)
    client = world.client(Role.MEMBER)
    assert "党章知识测试" in client.get(reverse("exams:my_exams")).content.decode()
    started = client.post(reverse("exams:paper_take", args=[paper.pk]))
    attempt = Attempt.objects.dangerously_all().get()
    assert started["Location"] == attempt.get_absolute_url()
    page = client.get(attempt.get_absolute_url()).content.decode()
    assert 'id="exam-countdown"' in page and "exam_countdown.js" in page and not INLINE_SCRIPT.search(page)
    answers = {}
    for i, entry in enumerate(attempt.sheet):
        if entry["kind"] == "true_false":
            answers[f"q{i}"] = "true"
        elif entry["kind"] == "fill":
            answers[f"q{i}"] = "32"
        else:
            answers[f"q{i}"] = [str(c) for c in entry["correct"]]
    done = client.post(attempt.get_absolute_url(), answers, follow=True).content.decode()
    assert "得分 100.0，通过" in done
    again = client.post(attempt.get_absolute_url(), {}, follow=True).content.decode()
    assert "不能重复提交" in again
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED and attempt.score == 100


def test_someone_not_assigned_is_told_so(world):
    paper = PaperFactory(organization=world.orgs["A"])
    client = world.client(Role.SECRETARY)
    assert "不在本场考试的应考人员名单中" in client.get(reverse("exams:paper_take", args=[paper.pk])).content.decode()
    assert client.post(reverse("exams:paper_take", args=[paper.pk])).status_code == 403
    assert not Attempt.objects.dangerously_all().exists()


def test_the_results_page_and_its_excel(world):
    paper = PaperFactory(organization=world.orgs["A"])
    assign(paper, world.self_member)
    client = world.client(Role.SECRETARY)
    page = client.get(paper.get_absolute_url()).content.decode()
    assert "赵甲一" in page and "未参加" in page
    response = client.get(paper.get_absolute_url(), {"format": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_bad_question_is_answered_beside_its_field(world):
    bank = QuestionBankFactory(organization=world.orgs["A"])
    client = world.client(Role.SECRETARY)
    response = client.post(
        bank.get_absolute_url(), {"kind": "single", "text": "选哪个", "options": "甲\n乙", "answer": "C"}
    )
    assert response.status_code == 200
    assert "答案：答案“C”不是本题的选项" in response.content.decode()
    assert not Question.objects.dangerously_all().exists()


def test_a_new_bank_needs_a_name_and_an_organization_in_scope(world):
    client = world.client(Role.SECRETARY)
    response = client.post(reverse("exams:bank_list"), {"organization": "BJ01B", "name": ""})
    assert response.status_code == 200 and "题库名称" in response.content.decode()
    assert not QuestionBank.objects.dangerously_all().exists()
    client.post(reverse("exams:bank_list"), {"organization": "BJ01A", "name": "支部题库"})
    assert QuestionBank.objects.dangerously_all().get().organization == world.orgs["A"]


def test_the_import_page_checks_then_writes(world):
    bank = QuestionBankFactory(organization=world.orgs["A"])
    client = world.client(Role.SECRETARY)
    url = reverse("exams:bank_import", args=[bank.pk])
    upload = xlsx(GOOD)
    upload.name = "题库.xlsx"
    preview = client.post(url, {"file": upload})
    assert "校验通过" in preview.content.decode() and not Question.objects.dangerously_all().exists()
    token = preview.context["token"]
    client.post(url, {"token": token, "confirm": "1"})
    assert Question.objects.dangerously_all().filter(bank=bank).count() == 4


def test_the_import_page_lists_errors(world):
    bank = QuestionBankFactory(organization=world.orgs["A"])
    client = world.client(Role.SECRETARY)
    upload = io.BytesIO("题型,题干,答案\n问答,谈体会,略\n".encode())
    upload.name = "题库.csv"
    page = client.post(reverse("exams:bank_import", args=[bank.pk]), {"file": upload}).content.decode()
    assert "校验未通过" in page and "题型应为" in page


def test_the_competence_page_and_its_excel(world):
    client = world.client(Role.COMMITTEE)
    page = client.get(reverse("exams:competence"), {"org": "BJ01"})
    assert page.status_code == 200 and "通过率" in page.content.decode()
    assert client.get(reverse("exams:competence"), {"org": "BJ01", "format": "xlsx"}).status_code == 200
