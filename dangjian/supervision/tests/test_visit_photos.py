"""The visit's photos (现场照片): stored with the visit in one go (JPG/PNG only, at most 10; one bad photo refuses
the whole visit), served only through the visit's scope, and shown as thumbnails on the institution's page at a
fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.supervision.models import Visit, VisitPhoto
from dangjian.supervision.tests.factories import PNG, assign, client_for, institution, instructor, visit, visit_photo

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
URL = "/supervision/visits/new/"


@pytest.fixture
def place(district):
    inst = institution(district.j1, name="晨光艺术培训学校")
    appointment = instructor(district.r, start_on=TODAY - dt.timedelta(days=400))
    assign(inst, appointment, TODAY - dt.timedelta(days=300))
    return inst, appointment


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _data(inst, photos) -> dict:
    return {"institution": inst.pk, "date": TODAY.isoformat(), "party_lecture": "on", "photos": photos}


def _thumbnails(body: str) -> list[str]:
    return re.findall(r'<img src="/supervision/visits/photos/(\d+)/"[^>]*loading="lazy"', body)


def test_a_visit_with_two_photos_saves_both_and_shows_two_thumbnails(district, place):
    inst, appointment = place
    response = client_for(appointment.user).post(URL, _data(inst, [_png("门口.png"), _png("课堂.png")]))
    assert response.status_code == 302
    v = Visit.objects.get()
    photos = list(v.photos.order_by("pk"))
    assert [p.name for p in photos] == ["门口.png", "课堂.png"]
    assert all(p.file.name.startswith(f"supervision/visits/{v.pk}/") for p in photos)
    assert all(p.uploaded_by == appointment.user and p.size == len(PNG) for p in photos)
    assert "门口" not in photos[0].file.name  # the stored name is ours
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD).count() == 2
    body = client_for(district.committee).get(f"/supervision/institutions/{inst.pk}/").content.decode()
    assert sorted(_thumbnails(body)) == sorted(str(p.pk) for p in photos)
    assert f'<a href="/supervision/visits/photos/{photos[0].pk}/"' in body


def test_the_form_offers_the_photo_field(place):
    _, appointment = place
    body = client_for(appointment.user).get(URL).content.decode()
    assert 'enctype="multipart/form-data"' in body and "现场照片" in body
    field = re.search(r'<input[^>]*name="photos"[^>]*>', body)
    assert field and 'accept="image/*"' in field.group(0) and "multiple" in field.group(0)


@pytest.mark.parametrize(
    "bad",
    [
        SimpleUploadedFile("通知.pdf", b"%PDF-1.4\n...", content_type="application/pdf"),
        SimpleUploadedFile("假照片.jpg", "这不是图片".encode(), content_type="image/jpeg"),
    ],
    ids=["pdf", "text-named-jpg"],
)
def test_a_bad_photo_refuses_the_whole_visit(place, bad):
    inst, appointment = place
    response = client_for(appointment.user).post(URL, _data(inst, [_png("门口.png"), bad]))
    assert response.status_code == 200
    form = response.context["form"]
    assert any(bad.name in e for e in form.errors["photos"])
    assert "现场照片：" in response.content.decode()
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()


def test_eleven_photos_are_refused(place):
    inst, appointment = place
    response = client_for(appointment.user).post(URL, _data(inst, [_png(f"照片{n}.png") for n in range(11)]))
    assert response.status_code == 200
    assert any("最多上传10张" in e for e in response.context["form"].errors["photos"])
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()


def test_the_photo_is_served_only_within_the_visits_scope(district, place):
    inst, _ = place
    photo = visit_photo(visit(inst, TODAY))
    url = reverse("supervision:visit_photo", args=[photo.pk])
    response = client_for(district.committee).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert client_for(district.outsider).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_the_institution_page_does_not_query_per_photo(district, place):
    inst, _ = place
    first = visit(inst, TODAY)
    visit_photo(first)
    client = client_for(district.committee)
    url = f"/supervision/institutions/{inst.pk}/"
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(4):
        visit_photo(first, name=f"照片{n}.png")
    second = visit(inst, TODAY, is_supplement=True)
    for n in range(3):
        visit_photo(second, name=f"补充{n}.png")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(_thumbnails(response.content.decode())) == 8
    assert len(many.captured_queries) == len(one.captured_queries)
