"""The ranking page's Excel download: once a scope and year are published it is the published ranking (the kept
rows), never recomputed — a change to the scores afterwards moves the page's live ranking but not the download —
with its header row in Chinese; before publication it is the ranking as computed now."""

from __future__ import annotations

import io
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.schools.models import SchoolEvaluation
from dangjian.schools.services.evaluation import ranking_publish
from dangjian.schools.tests.factories import ranked_schools

YEAR = timezone.localdate().year - 1
RANKING = reverse("schools:ranking")


def _rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return list(sheet.iter_rows(values_only=True))


def test_the_download_is_the_published_ranking_even_after_the_scores_change(world):
    schools = ranked_schools(world.orgs["A"], YEAR, [90, 85, 80, 70, 60], names=list("甲乙丙丁戊"))
    ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["A"], year=YEAR)
    # After publication 戊's evaluation is corrected upwards: it would now come first.
    SchoolEvaluation.objects.filter(school=schools[4], year=YEAR).update(composite=Decimal("99"))

    client = world.client(Role.SECRETARY)
    live = client.get(RANKING, {"year": YEAR, "org": "BJ01A"})
    assert live.context["ranking"].rows[0].school.name == "戊"  # the page shows the ranking as computed now

    rows = _rows(client.get(RANKING, {"year": YEAR, "org": "BJ01A", "format": "xlsx"}))
    assert rows[0] == (
        "名次",
        "学校编码",
        "学校名称",
        "党校类型",
        "综合得分",
        "等次",
        "补助（元）",
        "并列说明",
        "发布时间",
    )
    assert [(r[0], r[2], r[4]) for r in rows[1:]] == [
        (1, "甲", 90),
        (2, "乙", 85),
        (3, "丙", 80),
        (4, "丁", 70),
        (5, "戊", 60),  # as published, not the corrected 99
    ]
    assert rows[1][3] == "业余党校" and rows[5][5] == "不合格"
    assert AuditEvent.objects.filter(object_repr="党校考评排名", detail__published=True, detail__rows=5).exists()


def test_the_page_says_the_download_is_the_published_ranking(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85, 80], names=list("甲乙丙"))
    client = world.client(Role.SECRETARY)
    assert "导出已发布排名" not in client.get(RANKING, {"year": YEAR, "org": "BJ01A"}).content.decode()
    ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["A"], year=YEAR)
    assert "导出已发布排名（Excel）" in client.get(RANKING, {"year": YEAR, "org": "BJ01A"}).content.decode()


def test_before_publication_the_download_is_the_ranking_computed_now(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85], names=list("甲乙"))
    rows = _rows(world.client(Role.SECRETARY).get(RANKING, {"year": YEAR, "org": "BJ01A", "format": "xlsx"}))
    assert rows[0][:4] == ("名次", "学校编码", "学校名称", "党校类型")
    assert [r[2] for r in rows[1:]] == ["甲", "乙"]


def test_the_published_download_stays_within_the_users_scope(world):
    ranked_schools(world.orgs["A"], YEAR, [90, 85], names=list("甲乙"))
    ranking_publish(by=world.user(Role.COMMITTEE), org=world.orgs["A"], year=YEAR)
    response = world.client(Role.SECRETARY).get(RANKING, {"year": YEAR, "org": "LH01", "format": "xlsx"})
    assert response.status_code == 200
    assert "找不到党组织编码" in response.content.decode()
