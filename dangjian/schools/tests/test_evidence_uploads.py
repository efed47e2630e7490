"""六有 evidence uploads: checked by content as well as by name (core.uploads.check_file_upload), stored readable by
the application's own user only, and recorded in the audit trail."""

from __future__ import annotations

import stat

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.schools.models import SchoolLevel, StandardCheck, StandardItem
from dangjian.schools.services import schools as services
from dangjian.schools.tests.factories import PartySchoolFactory

THIS_YEAR = timezone.localdate().year
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def school(world):
    return PartySchoolFactory(organization=world.orgs["C1"], level=SchoolLevel.AMATEUR)


@pytest.fixture
def venue():
    return StandardItem.objects.get(scheme="huangpi", code="venue")


def save(world, school, item, evidence):
    return services.standard_check_save(
        by=world.user(Role.COMMITTEE), school=school, year=THIS_YEAR, item=item, met=True, evidence=evidence
    )


@pytest.mark.parametrize(
    ("name", "content", "extension"),
    [
        pytest.param("evil.pdf", HTML, "PDF", id="html-as-pdf"),
        pytest.param("照片.png", HTML, "PNG", id="html-as-png"),
        pytest.param("照片.jpg", PNG, "JPG", id="png-as-jpg"),
        pytest.param("经费.docx", b"MZ\x90\x00" + b"\x00" * 60, "DOCX", id="executable-as-docx"),
        pytest.param("计划.pdf", b" %PDF-1.4", "PDF", id="signature-not-at-the-start"),
    ],
)
def test_evidence_whose_content_is_not_its_extension_is_refused(world, school, venue, media, name, content, extension):
    with pytest.raises(ValidationError) as caught:
        save(world, school, venue, SimpleUploadedFile(name, content))
    assert caught.value.message_dict["evidence"] == [
        f"佐证材料的内容与扩展名（{extension}）不符，请上传真实的PDF、JPG、JPEG、PNG、DOCX、XLSX文件。"
    ]
    assert not StandardCheck.objects.filter(school=school).exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    assert not AuditEvent.objects.filter(action=AuditAction.UPLOAD).exists()


def test_html_named_pdf_is_refused_on_the_page_and_never_served(world, school, venue, media):
    client = world.client(Role.COMMITTEE)
    response = client.post(
        reverse("schools:standard_check", args=[school.pk]),
        {"year": THIS_YEAR, "item": venue.pk, "met": "on", "evidence": SimpleUploadedFile("evil.pdf", HTML)},
    )
    assert response.status_code == 200
    assert "佐证材料的内容与扩展名（PDF）不符" in response.content.decode()
    assert not StandardCheck.objects.filter(school=school).exists()


@pytest.mark.parametrize("size", [100, 3 * 1024 * 1024], ids=["in-memory", "temporary-file"])
def test_stored_evidence_is_readable_by_the_application_only(world, school, venue, media, size):
    """0600 for the file, 0700 for the directories the storage creates; an upload larger than
    FILE_UPLOAD_MAX_MEMORY_SIZE arrives as a temporary file and is moved, not copied, into place."""
    response = world.client(Role.COMMITTEE).post(
        reverse("schools:standard_check", args=[school.pk]),
        {
            "year": THIS_YEAR,
            "item": venue.pk,
            "met": "on",
            "evidence": SimpleUploadedFile("场所照片.pdf", b"%PDF-1.4\n" + b"x" * size),
        },
    )
    assert response.status_code == 302
    check = StandardCheck.objects.get(school=school, item=venue)
    path = media / check.evidence.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in path.relative_to(media).parents:
        if directory.parts:
            assert stat.S_IMODE((media / directory).stat().st_mode) == 0o700, directory


def test_each_evidence_upload_is_audited(world, school, venue, media):
    committee = world.user(Role.COMMITTEE)
    check = save(world, school, venue, SimpleUploadedFile("场所照片.png", PNG))
    event = AuditEvent.objects.get(action=AuditAction.UPLOAD)
    assert (event.actor_id, event.object_type, event.object_id) == (
        committee.pk,
        "schools.standardcheck",
        str(check.pk),
    )
    assert event.detail == {"filename": "场所照片.png", "size": len(PNG), "field": "evidence"}
    # Saved again without a new file: nothing uploaded, nothing recorded.
    services.standard_check_save(by=committee, school=school, year=THIS_YEAR, item=venue, met=False, note="整改中")
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD).count() == 1
