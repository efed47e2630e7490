"""The quick record form keeps the files of a refused submit (core.kept_uploads): thumbnails with a remove box on the
re-rendered form, attached on the next valid submit without choosing them again; another user's token is ignored; a
hostile file is never kept. The record's page shows its photos as thumbnails."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.orglife.models import ActivityRecord, RecordAttachment
from dangjian.orglife.tests.factories import PNG

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _store(settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _kept_tokens(body: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="attachments__kept" value="([^"]+)">', body)


def _url(world) -> str:
    return f"/orglife/records/new/?org={world.orgs['A'].code}"


def _data(**extra) -> dict:
    return {"kinds": ["theme_day"], "date": TODAY.isoformat(), "topic": "主题党日", **extra}


def test_a_refused_record_keeps_its_photo_and_the_next_submit_attaches_it(world):
    client = world.client(Role.SECRETARY)
    refused = client.post(_url(world), _data(topic="", attachments=[_png("现场.png")]))
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "请填写主题" in body
    tokens = _kept_tokens(body)
    assert len(tokens) == 1 and "现场.png" in body and "/uploads/kept/?token=" in body
    assert not ActivityRecord.objects.exists()

    saved = client.post(_url(world), _data(attachments__kept=tokens))
    assert saved.status_code == 302
    record = ActivityRecord.objects.get()
    attachment = record.attachments.get()
    assert attachment.name == "现场.png" and attachment.file.read() == PNG

    page = client.get(f"/orglife/records/{record.pk}/").content.decode()
    assert re.search(rf'<img src="/orglife/records/{record.pk}/attachments/{attachment.pk}/"', page)


def test_another_users_token_is_ignored(world):
    committee = world.client(Role.COMMITTEE)
    tokens = _kept_tokens(
        committee.post(_url(world), _data(topic="", attachments=[_png("别人的.png")])).content.decode()
    )
    assert len(tokens) == 1
    saved = world.client(Role.SECRETARY).post(_url(world), _data(attachments__kept=tokens))
    assert saved.status_code == 302
    assert ActivityRecord.objects.count() == 1 and not RecordAttachment.objects.exists()


def test_a_hostile_file_is_refused_and_not_kept(world):
    client = world.client(Role.SECRETARY)
    hostile = SimpleUploadedFile("签到表.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    refused = client.post(_url(world), _data(topic="", attachments=[hostile, _png("现场.png")]))
    body = refused.content.decode()
    assert refused.status_code == 200
    assert "附件“签到表.pdf”的内容与扩展名（PDF）不符" in body
    assert len(_kept_tokens(body)) == 1
    assert not ActivityRecord.objects.exists()


def test_the_form_offers_the_camera(world):
    body = world.client(Role.SECRETARY).get(_url(world)).content.decode()
    camera = re.search(r'<input type="file" name="attachments"[^>]*capture="environment"[^>]*>', body)
    assert camera and 'accept="image/*"' in camera.group(0)
