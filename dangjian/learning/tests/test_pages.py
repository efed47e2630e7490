"""Online-course pages: the file served in byte ranges after the scope check, the course's online page (material and
offers, with the bad inputs the forms refuse), the player."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from dangjian.accounts.roles import Role
from dangjian.learning.models import CourseOffer, MaterialKind, OnlineMaterial
from dangjian.learning.services.material import material_add, offer_create
from dangjian.learning.tests.factories import MP4, material, offer, online_course
from dangjian.schools.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def file_url(row) -> str:
    return f"/learning/materials/{row.pk}/file/"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_video_is_served_in_ranges_to_the_member_it_is_offered_to(world):
    course, video = online_course(world.orgs["C1"])
    offer(course, world.orgs["A"])
    client = world.client(Role.MEMBER)
    whole = client.get(file_url(video))
    assert whole.status_code == 200 and body(whole) == MP4
    assert whole["Accept-Ranges"] == "bytes"
    part = client.get(file_url(video), HTTP_RANGE="bytes=4-11")
    assert part.status_code == 206
    assert part.content == MP4[4:12]
    assert part["Content-Range"] == f"bytes 4-11/{len(MP4)}"
    tail = client.get(file_url(video), HTTP_RANGE="bytes=-10")
    assert tail.status_code == 206 and tail.content == MP4[-10:]
    beyond = client.get(file_url(video), HTTP_RANGE=f"bytes={len(MP4) + 5}-")
    assert beyond.status_code == 416


def test_the_file_is_not_found_for_a_member_it_is_not_offered_to_nor_at_a_static_address(world):
    course, video = online_course(world.orgs["C1"])
    offer(course, world.orgs["B"])
    assert world.client(Role.MEMBER).get(file_url(video)).status_code == 404
    assert world.client(None).get(file_url(video)).status_code == 302  # to the login page
    assert world.client(Role.MEMBER).get("/media/" + video.file.name).status_code == 404


def test_staff_preview_the_player_without_tracking(world):
    _, video = online_course(world.orgs["C1"])
    page = world.client(Role.SCHOOL_ADMIN).get(video.get_absolute_url()).content.decode()
    assert "预览" in page and "data-beat-url" not in page
    assert "js/learning-player.js" in page


def test_the_member_player_carries_the_beat_address(world):
    course, video = online_course(world.orgs["C1"])
    offer(course, world.orgs["A"])
    page = world.client(Role.MEMBER).get(video.get_absolute_url()).content.decode()
    assert f"/learning/materials/{video.pk}/beat/" in page


# ---------------------------------------------------------------------------------------------------------
# Material and offers


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_a_manager_adds_a_video_through_the_page(world):
    course = CourseFactory(owner=world.orgs["C1"])
    client = world.client(Role.SCHOOL_ADMIN)
    response = client.post(
        f"/learning/courses/{course.pk}/",
        {
            "action": "material",
            "m-title": "第一讲",
            "m-kind": MaterialKind.VIDEO,
            "m-duration_minutes": "45",
            "m-file": upload("lecture.mp4", MP4),
        },
    )
    assert response.status_code == 302
    row = OnlineMaterial.objects.get(course=course)
    assert row.duration_seconds == 45 * 60 and row.file.name.startswith("learning/")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"m-kind": MaterialKind.VIDEO, "m-file": ("fake.mp4", b"<html>not a video</html>")}, "file"),
        ({"m-kind": MaterialKind.VIDEO, "m-file": ("notes.txt", b"hello")}, "file"),
        ({"m-kind": MaterialKind.VIDEO}, "file"),
        ({"m-kind": MaterialKind.PDF, "m-file": ("doc.pdf", b"<html>")}, "file"),
        ({"m-kind": MaterialKind.LINK, "m-url": "http://video.example.cn/1"}, "url"),
        ({"m-kind": MaterialKind.VIDEO, "m-file": ("a.mp4", MP4), "m-duration_minutes": "0"}, "duration_minutes"),
    ],
    ids=["html-as-mp4", "text-file", "no-file", "html-as-pdf", "plain-http-link", "zero-minutes"],
)
def test_bad_material_is_refused_beside_its_field_and_nothing_saved(world, data, field):
    course = CourseFactory(owner=world.orgs["C1"])
    post = {"action": "material", "m-title": "第一讲", "m-duration_minutes": "30", **data}
    if "m-file" in post:
        name, content = post["m-file"]
        post["m-file"] = upload(name, content)
    response = world.client(Role.SCHOOL_ADMIN).post(f"/learning/courses/{course.pk}/", post)
    assert response.status_code == 200
    assert field in response.context["material_form"].errors
    assert not OnlineMaterial.objects.filter(course=course).exists()


def test_a_secretary_sees_the_course_page_but_may_not_add_material(world):
    course = CourseFactory(owner=world.orgs["C1"])
    client = world.client(Role.SECRETARY)
    assert client.get(f"/learning/courses/{course.pk}/").status_code == 200
    refused = client.post(
        f"/learning/courses/{course.pk}/",
        {"action": "material", "m-title": "x", "m-kind": "link", "m-duration_minutes": "5", "m-url": "https://a.cn"},
    )
    assert refused.status_code == 403
    assert not OnlineMaterial.objects.filter(course=course).exists()
    with pytest.raises(PermissionDenied):
        material_add(
            by=world.user(Role.SECRETARY),
            course=course,
            title="x",
            kind=MaterialKind.LINK,
            duration_minutes=5,
            url="https://a.cn",
        )


def test_a_manager_offers_a_course_to_an_organization_in_scope_only(world):
    course = CourseFactory(owner=world.orgs["C1"])
    admin = world.user(Role.SCHOOL_ADMIN)
    with pytest.raises(ValidationError) as caught:
        offer_create(by=admin, course=course, organization=world.orgs["A"])
    assert "course" in caught.value.message_dict  # no material yet
    material(course)
    client = world.client(Role.SCHOOL_ADMIN)
    outside = client.post(f"/learning/courses/{course.pk}/", {"action": "offer", "o-organization": "LH01"})
    assert outside.status_code == 200 and "organization" in outside.context["offer_form"].errors
    nothing = client.post(f"/learning/courses/{course.pk}/", {"action": "offer"})
    assert nothing.status_code == 200 and "organization" in nothing.context["offer_form"].errors
    assert not CourseOffer.objects.exists()
    done = client.post(
        f"/learning/courses/{course.pk}/", {"action": "offer", "o-organization": "BJ01A", "o-required": "on"}
    )
    assert done.status_code == 302
    created = CourseOffer.objects.get()
    assert created.organization == world.orgs["A"] and created.required


def test_the_staff_list_shows_the_courses_with_online_material_in_scope(world):
    course, _ = online_course(world.orgs["C1"])
    foreign, _ = online_course(world.orgs["XB"])
    page = world.client(Role.COMMITTEE).get("/learning/").content.decode()
    assert course.title in page and foreign.title not in page
