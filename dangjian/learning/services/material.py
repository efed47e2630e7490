"""Online material of catalog courses and the offers that open a course to members (docs/learning.md, "Online
courses"). A school-managing role (工委工作人员 / 党校管理员) over the course's owner adds material; over the offering
organization (or the class's organizer) offers a course, required or optional, to every member below the
organization or to the members of one class."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

from dangjian.core.services import Errors, acting_user, service
from dangjian.core.uploads import check_file_upload
from dangjian.learning.models import CourseOffer, MaterialKind, OnlineMaterial
from dangjian.schools.services._common import require_manager

NOT_MANAGER = "只有课程所属党组织范围内的工委工作人员或党校管理员才能维护网络课程。"
VIDEO_EXTENSIONS = ("mp4", "webm")
MAX_MINUTES = 24 * 60


def video_max_bytes() -> int:
    return getattr(settings, "DANGJIAN_LEARNING_VIDEO_MAX_BYTES", 1024 * 1024 * 1024)


def check_video_upload(fileobj, *, field: str = "file") -> None:
    """An MP4 (an `ftyp` box at byte 4) or WebM (the EBML header) file, not empty, at most the video limit."""
    name = getattr(fileobj, "name", "") or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in VIDEO_EXTENSIONS:
        raise ValidationError({field: "视频文件只能是MP4或WebM文件。"})
    size = getattr(fileobj, "size", None) or 0
    if size <= 0:
        raise ValidationError({field: "视频文件是空文件。"})
    if size > video_max_bytes():
        raise ValidationError({field: f"视频文件不能超过{video_max_bytes() // (1024 * 1024)}MB。"})
    fileobj.seek(0)
    head = fileobj.read(12)
    fileobj.seek(0)
    good = head[4:8] == b"ftyp" if extension == "mp4" else head[:4] == b"\x1a\x45\xdf\xa3"
    if not good:
        raise ValidationError({field: "视频文件内容与其格式不符，请上传真实的MP4或WebM文件。"})


@service
def material_add(
    *, by, course, title: str, kind: str, duration_minutes, file=None, url: str = "", position: int = 0
) -> OnlineMaterial:
    """Add online material to a catalog course: a video or a replay (an uploaded MP4/WebM), a PDF document (its
    reading time as the duration), or a link to the organization's own video platform (https)."""
    require_manager(by, course.owner, NOT_MANAGER)
    errors = Errors()
    title = (title or "").strip()
    if not title:
        errors.add("title", "请填写资料名称。")
    if kind not in MaterialKind.values:
        errors.add("kind", "资料类型无效。")
    try:
        minutes = int(duration_minutes)
    except (TypeError, ValueError):
        minutes = 0
        errors.add("duration_minutes", "时长应为整数（分钟）。")
    if "duration_minutes" not in errors and not 1 <= minutes <= MAX_MINUTES:
        errors.add("duration_minutes", f"时长应在1到{MAX_MINUTES}分钟之间。")
    url = (url or "").strip()
    if kind == MaterialKind.LINK:
        if not url.startswith("https://"):
            errors.add("url", "视频平台链接应以 https:// 开头。")
        if file:
            errors.add("file", "链接类资料不需要上传文件。")
    elif kind in (MaterialKind.VIDEO, MaterialKind.REPLAY, MaterialKind.PDF):
        if not file:
            errors.add("file", "请上传文件。")
        else:
            try:
                if kind == MaterialKind.PDF:
                    check_file_upload(file, field="file", label="文档", allowed=("pdf",))
                else:
                    check_video_upload(file, field="file")
            except ValidationError as exc:
                errors.merge(exc)
        url = ""
    errors.raise_if_any()
    material = OnlineMaterial(
        course=course,
        title=title[:100],
        kind=kind,
        url=url,
        duration_seconds=minutes * 60,
        position=max(0, int(position or 0)),
        created_by=acting_user(by),
    )
    if file and kind != MaterialKind.LINK:
        material.file.save(PurePath(file.name).name, file, save=False)
    material.full_clean()
    material.save()
    return material


@service
def offer_create(
    *,
    by,
    course,
    organization,
    training_class=None,
    school=None,
    required: bool = True,
    due_on: dt.date | None = None,
) -> CourseOffer:
    """Offer a course for online learning (课程指派/选学): to every member below `organization`, or to the members
    of `training_class` (then the offering organization is the class's organizer)."""
    errors = Errors()
    if training_class is not None:
        organization = training_class.organizer
    if organization is None:
        errors.add("organization", "请选择指派的党组织或培训班。")
    if not course.online_materials.filter(active=True).exists():
        errors.add("course", "该课程还没有网络学习资料，请先上传视频、文档或添加链接。")
    if due_on is not None and due_on < dt.date(2000, 1, 1):
        errors.add("due_on", "完成期限无效。")
    errors.raise_if_any()
    require_manager(by, organization, "只有该党组织范围内的工委工作人员或党校管理员才能指派课程。")
    if school is not None and school.organization_id != organization.pk:
        raise ValidationError({"school": "党校须为指派党组织所办的党校。"})
    offer = CourseOffer(
        course=course,
        organization=organization,
        training_class=training_class,
        school=school,
        required=bool(required),
        due_on=due_on,
        created_by=acting_user(by),
    )
    offer.full_clean()
    offer.save()
    return offer
