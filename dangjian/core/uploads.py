"""Checks an uploaded spreadsheet must pass before any parser touches it.

An .xlsx file is a zip container of XML parts. A hostile one can be a zip bomb (tiny on disk, gigabytes
unpacked), hold thousands of entries, or not be a zip at all. These checks read only the zip's central
directory, never the compressed data, so they are cheap and cannot themselves be bombed.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_entries: int
    max_unpacked_bytes: int
    max_ratio: int

    @classmethod
    def from_settings(cls) -> UploadLimits:
        return cls(
            max_bytes=settings.DANGJIAN_UPLOAD_MAX_BYTES,
            max_entries=settings.DANGJIAN_UPLOAD_MAX_ZIP_ENTRIES,
            max_unpacked_bytes=settings.DANGJIAN_UPLOAD_MAX_UNPACKED_BYTES,
            max_ratio=settings.DANGJIAN_UPLOAD_MAX_COMPRESSION_RATIO,
        )


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


def check_xlsx_upload(fileobj, *, name: str, limits: UploadLimits | None = None) -> None:
    """Refuse anything that is not a reasonably sized, well-formed .xlsx container.

    Raises ValidationError with a Chinese message; leaves the file position at the start.
    """
    limits = limits or UploadLimits.from_settings()
    if PurePath(name or "").suffix.lower() != ".xlsx":
        raise ValidationError("只接受 .xlsx 格式的 Excel 文件。", code="extension")
    fileobj.seek(0, 2)
    size = fileobj.tell()
    fileobj.seek(0)
    if size > limits.max_bytes:
        raise ValidationError(f"文件过大：不能超过 {_megabytes(limits.max_bytes)}。", code="too_large")
    if not zipfile.is_zipfile(fileobj):
        fileobj.seek(0)
        raise ValidationError("文件不是有效的 .xlsx 文件（无法按 Excel 格式打开）。", code="not_xlsx")
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError("文件已损坏，无法按 Excel 格式打开。", code="not_xlsx") from None
    finally:
        fileobj.seek(0)
    if len(entries) > limits.max_entries:
        raise ValidationError("文件结构异常：包含的内部文件过多。", code="too_many_entries")
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise ValidationError("文件不是有效的 .xlsx 文件（缺少 Excel 工作簿结构）。", code="not_xlsx")
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > limits.max_unpacked_bytes or unpacked / packed > limits.max_ratio:
        raise ValidationError("文件解压后体积异常（疑似压缩炸弹），已拒绝。", code="zip_bomb")


# What a document attachment may be (evidence, sign-in sheet scans, photos): the extension, and the first bytes
# its content must start with, so that a renamed executable or HTML page is refused whatever its name says.
ATTACHMENT_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def check_attachment(
    fileobj,
    *,
    field: str,
    label: str,
    extensions: tuple[str, ...] = tuple(ATTACHMENT_SIGNATURES),
    max_bytes: int = ATTACHMENT_MAX_BYTES,
) -> None:
    """Refuse an attachment that is empty, too large, of another type than `extensions`, or whose content does not
    match its extension. Messages name the field by its Chinese `label`."""
    name = getattr(fileobj, "name", "") or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    allowed = "、".join(e.upper() for e in extensions)
    if extension not in extensions:
        raise ValidationError({field: f"{label}只能是{allowed}文件。"})
    size = getattr(fileobj, "size", None)
    if size == 0:
        raise ValidationError({field: f"{label}是空文件。"})
    if size is not None and size > max_bytes:
        actual = f"{size / 1024 / 1024:.1f} MB"
        raise ValidationError({field: f"{label}不能超过{_megabytes(max_bytes)}（该文件约{actual}）。"})
    try:
        fileobj.seek(0)
        head = fileobj.read(8)
        fileobj.seek(0)
    except (AttributeError, OSError):
        head = b""
    if not any(head.startswith(signature) for signature in ATTACHMENT_SIGNATURES.get(extension, (b"",))):
        raise ValidationError({field: f"{label}的内容与扩展名（{extension.upper()}）不符，请上传真实的{allowed}文件。"})
