"""The visit form keeps the photos of a refused submit: shown again as thumbnails with a remove box and attached on
the next valid submit without choosing them again; a token is only ever the user's own; a hostile file is never
kept; the camera is offered beside the picker."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dangjian.supervision.models import Visit, VisitPhoto
from dangjian.supervision.tests.factories import PNG, assign, client_for, institution, instructor

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
URL = "/supervision/visits/new/"


@pytest.fixture(autouse=True)
def _store(settings, tmp_path):
    settings.DANGJIAN_IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def place(district):
    inst = institution(district.j1, name="晨光艺术培训学校")
    appointment = instructor(district.r, start_on=TODAY - dt.timedelta(days=400))
    assign(inst, appointment, TODAY - dt.timedelta(days=300))
    return inst, appointment


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _kept_tokens(body: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="photos__kept" value="([^"]+)">', body)


def _refused(client, inst, photos) -> str:
    """A submit refused for want of any of the four items."""
    response = client.post(URL, {"institution": inst.pk, "date": TODAY.isoformat(), "photos": photos})
    assert response.status_code == 200
    assert "请至少勾选一项" in response.content.decode()
    return response.content.decode()


def test_a_refused_visit_keeps_its_photos_and_the_next_submit_saves_them(place):
    inst, appointment = place
    client = client_for(appointment.user)
    body = _refused(client, inst, [_png("门口.png"), _png("课堂.png")])
    tokens = _kept_tokens(body)
    assert len(tokens) == 2 and not Visit.objects.exists()
    assert "已保留上次选择的2个文件" in body and "门口.png" in body
    thumbnail = re.search(r'<img src="(/uploads/kept/\?token=[^"]+)"', body).group(1)
    shown = client.get(thumbnail)
    assert shown.status_code == 200 and shown.content == PNG and shown["Content-Type"] == "image/png"

    data = {"institution": inst.pk, "date": TODAY.isoformat(), "party_lecture": "on", "photos__kept": tokens}
    response = client.post(URL, data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert sorted(p.name for p in visit.photos.all()) == ["课堂.png", "门口.png"]
    assert all(p.file.read() == PNG for p in visit.photos.all())
    # Saved with the visit: the kept copies are gone.
    assert client.get(thumbnail).content != PNG


def test_a_kept_photo_can_be_removed_and_new_ones_added(place):
    inst, appointment = place
    client = client_for(appointment.user)
    first, second = _kept_tokens(_refused(client, inst, [_png("门口.png"), _png("课堂.png")]))
    data = {
        "institution": inst.pk,
        "date": TODAY.isoformat(),
        "policy_talk": "on",
        "photos__kept": [first, second],
        "photos__drop": [first],
        "photos": [_png("台账.png")],
    }
    assert client.post(URL, data).status_code == 302
    assert sorted(VisitPhoto.objects.values_list("name", flat=True)) == ["台账.png", "课堂.png"]


def test_another_users_token_is_ignored(district, place):
    inst, appointment = place
    other_inst = institution(district.j2, name="星星英语培训学校")
    other = instructor(district.r, start_on=TODAY - dt.timedelta(days=400), name="李指导")
    assign(other_inst, other, TODAY - dt.timedelta(days=300))
    tokens = _kept_tokens(_refused(client_for(other.user), other_inst, [_png("别人的照片.png")]))
    assert len(tokens) == 1

    client = client_for(appointment.user)
    thumbnail = client.get(f"/uploads/kept/?token={tokens[0]}")
    assert thumbnail.status_code == 200 and thumbnail.content != PNG  # the same grey square as an unknown token
    assert thumbnail.content == client.get("/uploads/kept/?token=" + "x" * 43).content
    data = {"institution": inst.pk, "date": TODAY.isoformat(), "party_lecture": "on", "photos__kept": tokens}
    assert client.post(URL, data).status_code == 302
    assert not VisitPhoto.objects.exists()
    # The owner still has it.
    assert client_for(other.user).get(f"/uploads/kept/?token={tokens[0]}").content == PNG


@pytest.mark.parametrize("token", ["../../etc/passwd", "", "短"], ids=["path", "empty", "short"])
def test_a_made_up_token_is_ignored(place, token):
    inst, appointment = place
    data = {"institution": inst.pk, "date": TODAY.isoformat(), "party_lecture": "on", "photos__kept": [token]}
    assert client_for(appointment.user).post(URL, data).status_code == 302
    assert Visit.objects.count() == 1 and not VisitPhoto.objects.exists()


def test_a_hostile_file_is_never_kept(place):
    inst, appointment = place
    hostile = SimpleUploadedFile("假照片.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    body = _refused(client_for(appointment.user), inst, [_png("门口.png"), hostile])
    assert len(_kept_tokens(body)) == 1
    assert "现场照片：现场照片“假照片.jpg”的内容与扩展名" in body
    assert "假照片.jpg</div>" not in body  # not among the kept files


def test_a_hostile_file_is_named_when_the_form_itself_is_refused(place):
    _, appointment = place
    hostile = SimpleUploadedFile("通知.pdf", b"%PDF-1.4\n...", content_type="application/pdf")
    response = client_for(appointment.user).post(
        URL, {"date": TODAY.isoformat(), "photos": [_png("门口.png"), hostile]}
    )
    assert response.status_code == 200
    assert any("通知.pdf" in e for e in response.context["form"].errors["photos"])
    assert len(_kept_tokens(response.content.decode())) == 1
    assert not Visit.objects.exists()


def test_the_form_offers_the_camera(place):
    _, appointment = place
    body = client_for(appointment.user).get(URL).content.decode()
    inputs = re.findall(r'<input type="file"[^>]*name="photos"[^>]*>', body)
    assert len(inputs) == 2
    assert all('accept="image/*"' in i for i in inputs)
    assert any('capture="environment"' in i for i in inputs)
    assert any("multiple" in i for i in inputs)


def test_the_thumbnail_needs_a_login(client):
    response = client.get("/uploads/kept/?token=" + "x" * 43)
    assert response.status_code == 302 and "/login/" in response["Location"]
