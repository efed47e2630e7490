"""The one check of uploaded attachments (core.uploads.check_file_upload): extension, content signature, size.
Organizational-life attachments and 六有 evidence both go through it."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from dangjian.core import uploads
from dangjian.core.uploads import check_file_upload

GOOD = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF",
    "jpeg": b"\xff\xd8\xff\xe1\x00\x10Exif",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "docx": b"PK\x03\x04\x14\x00\x06\x00",
    "xlsx": b"PK\x03\x04\x14\x00\x06\x00",
}


def messages(upload, **kwargs) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        check_file_upload(upload, field="file", label="附件", **kwargs)
    return caught.value.message_dict["file"]


@pytest.mark.parametrize("extension", sorted(GOOD))
def test_a_file_whose_content_matches_its_extension_passes(extension):
    upload = SimpleUploadedFile(f"材料.{extension.upper()}", GOOD[extension] + b"\x00" * 100)
    check_file_upload(upload, field="file", label="附件")
    assert upload.tell() == 0


@pytest.mark.parametrize("extension", sorted(GOOD))
def test_html_under_any_allowed_extension_is_refused(extension):
    upload = SimpleUploadedFile(f"evil.{extension}", b"<html><script>alert(1)</script></html>")
    assert messages(upload) == [
        f"附件的内容与扩展名（{extension.upper()}）不符，请上传真实的PDF、JPG、JPEG、PNG、DOCX、XLSX文件。"
    ]


@pytest.mark.parametrize("name", ["evil.html", "evil.svg", "evil.pdf.exe", "无扩展名", ""])
def test_other_extensions_are_refused(name):
    assert messages(SimpleUploadedFile(name or "x", GOOD["pdf"]) if name else io.BytesIO(GOOD["pdf"])) == [
        "附件只能是PDF、JPG、JPEG、PNG、DOCX、XLSX文件。"
    ]


def test_the_allowed_types_narrow_the_check():
    assert messages(SimpleUploadedFile("a.pdf", GOOD["pdf"]), allowed=("png", "jpg")) == ["附件只能是PNG、JPG文件。"]
    with pytest.raises(ValueError):
        check_file_upload(SimpleUploadedFile("a.gif", b"GIF89a"), field="file", label="附件", allowed=("gif",))


def test_empty_and_too_large_files_are_refused(settings):
    assert messages(SimpleUploadedFile("a.pdf", b"")) == ["附件是空文件。"]
    settings.DANGJIAN_ATTACHMENT_MAX_BYTES = 1024 * 1024
    assert messages(SimpleUploadedFile("a.pdf", GOOD["pdf"] + b"x" * 1024 * 1024)) == [
        "附件不能超过1 MB（该文件约1.0 MB）。"
    ]
    check_file_upload(SimpleUploadedFile("a.pdf", GOOD["pdf"]), field="file", label="附件", max_bytes=100)


def test_a_plain_file_object_is_measured_by_seeking():
    upload = io.BytesIO(GOOD["png"])
    upload.name = "photo.png"
    upload.seek(5)
    check_file_upload(upload, field="file", label="附件")
    assert upload.tell() == 0


def test_organizational_life_attachments_use_the_same_check():
    from dangjian.orglife import services as orglife_services

    assert orglife_services.check_attachment is uploads.check_file_upload
