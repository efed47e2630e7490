"""The classes seam's pages: bad input re-renders with the message beside the field (200), roles get 403, the
sign-in page works from the QR code's URL (also through the login), and every list's query count does not grow
with its rows."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from dangjian.accounts.roles import Role
from dangjian.core.validators import MALE
from dangjian.members.tests.factories import MemberFactory, make_id_number
from dangjian.training.models import (
    Attendance,
    ClassStatus,
    Enrollment,
    HoursEntry,
    SessionStatus,
    TrainingClass,
    TrainingSession,
)
from dangjian.training.services.attendance import attendance_mark
from dangjian.training.services.classes import class_file
from dangjian.training.services.enrollment import enrollment_add
from dangjian.training.services.sessions import session_add
from dangjian.training.services.sign_in import sign_in_token
from dangjian.training.tests.factories import TrainingClassFactory


def today() -> dt.date:
    return timezone.localdate()


def body(response) -> str:
    return response.content.decode()


def make_class(world, org="C1", status=ClassStatus.APPROVED, **extra) -> TrainingClass:
    extra.setdefault("starts_on", today() - dt.timedelta(days=2))
    extra.setdefault("ends_on", today() + dt.timedelta(days=5))
    return TrainingClassFactory(organizer=world.orgs[org], status=status, **extra)


def add_session(world, training_class, *, starts_in=-dt.timedelta(hours=1), hours="2"):
    starts_at = timezone.now().replace(microsecond=0) + starts_in
    return session_add(
        by=world.user(Role.SCHOOL_ADMIN),
        training_class=training_class,
        title="专题党课",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        hours=hours,
    )


def enroll(world, training_class, members):
    return enrollment_add(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, members=members)


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# ---------------------------------------------------------------------------------------------------------
# Classes: create, edit, filing


def class_data(**overrides) -> dict:
    data = {
        "title": "2026年党员冬训班",
        "organizer": "BJ01",
        "planned_headcount": "30",
        "starts_on": today().isoformat(),
        "ends_on": (today() + dt.timedelta(days=2)).isoformat(),
    }
    data.update(overrides)
    return data


def test_a_school_admin_creates_a_class(world):
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("training:class_create"), class_data())
    created = TrainingClass.objects.get(title="2026年党员冬训班")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.status == ClassStatus.DRAFT and created.organizer == world.orgs["C1"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ends_on": (dt.date.today() - dt.timedelta(days=30)).isoformat()}, "结班日期：结班日期不能早于开班日期。"),
        ({"organizer": "LH01"}, "找不到党组织编码“LH01”，或该组织不在您的管理范围内。"),
        ({"title": ""}, "培训班名称："),
        ({"planned_headcount": "-1"}, "计划人数："),
    ],
    ids=["dates-reversed", "organizer-out-of-scope", "no-title", "negative-headcount"],
)
def test_bad_class_input_shows_beside_the_field(world, overrides, message):
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("training:class_create"), class_data(**overrides))
    assert response.status_code == 200
    assert message in body(response)
    assert not TrainingClass.objects.exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR])
def test_viewers_do_not_create_classes(world, role):
    assert world.client(role).get(reverse("training:class_create")).status_code == 403
    assert world.client(role).post(reverse("training:class_create"), class_data(organizer="BJ01A")).status_code == 403
    assert not TrainingClass.objects.exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_organizer_pages_need_a_school_role(world, role):
    assert world.client(role).get(reverse("training:class_list")).status_code == 403


def test_the_filing_flow_through_the_pages(world):
    training_class = make_class(world, status=ClassStatus.DRAFT)
    add_session(world, training_class)
    admin, committee = world.client(Role.SCHOOL_ADMIN), world.client(Role.COMMITTEE)
    response = admin.post(reverse("training:class_file", args=[training_class.pk]))
    assert response.status_code == 302
    page = admin.get(reverse("training:class_filing", args=[training_class.pk]))
    assert "长期漏训" in body(page) and "赵甲一" in body(page)
    assert admin.post(reverse("training:class_approve", args=[training_class.pk])).status_code == 403
    rejected = committee.post(reverse("training:class_reject", args=[training_class.pk]), {"reason": ""})
    assert rejected.status_code == 200 and "退回原因：" in body(rejected)
    assert committee.post(reverse("training:class_approve", args=[training_class.pk])).status_code == 302
    assert TrainingClass.objects.get(pk=training_class.pk).status == ClassStatus.APPROVED


def test_a_refused_transition_comes_back_as_a_message(world):
    training_class = make_class(world)  # approved: it cannot be filed again
    response = world.client(Role.SCHOOL_ADMIN).post(
        reverse("training:class_file", args=[training_class.pk]), follow=True
    )
    assert "只有草稿或已退回的培训班可以备案" in body(response)


def test_the_filing_page_hides_members_the_viewer_does_not_see(world):
    training_class = make_class(world, org="A", status=ClassStatus.DRAFT)
    add_session(world, training_class)
    training_class = class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class)
    training_class.filing_warnings["long_untrained"]["items"].append(
        {"member_id": world.members["X"][0].pk, "member": "李外一", "organization": "临湖"}
    )
    TrainingClass.objects.filter(pk=training_class.pk).update(filing_warnings=training_class.filing_warnings)
    page = world.client(Role.SECRETARY).get(reverse("training:class_filing", args=[training_class.pk]))
    assert page.status_code == 200
    assert "赵甲一" in body(page) and "李外一" not in body(page)


# ---------------------------------------------------------------------------------------------------------
# Enrollment pages


def test_picking_members_by_name(world):
    training_class = make_class(world)
    client = world.client(Role.SCHOOL_ADMIN)
    url = reverse("training:enrollment", args=[training_class.pk])
    found = client.get(url, {"q": "甲"})
    assert "赵甲一" in body(found) and "钱甲二" in body(found) and "李外一" not in body(found)
    response = client.post(
        reverse("training:enrollment_add", args=[training_class.pk]), {"members": [world.members["A"][0].pk]}
    )
    assert response.status_code == 302
    assert Enrollment.objects.filter(training_class=training_class).count() == 1


def test_picking_a_member_out_of_scope_is_refused(world):
    training_class = make_class(world)
    response = world.client(Role.SCHOOL_ADMIN).post(
        reverse("training:enrollment_add", args=[training_class.pk]),
        {"members": [world.members["A"][0].pk, world.members["X"][0].pk]},
    )
    assert response.status_code == 200
    assert "不在您的管理范围内" in body(response)
    assert not Enrollment.objects.exists()


def test_enrolling_into_a_closed_class_is_refused_on_the_page(world):
    training_class = make_class(world, status=ClassStatus.FILED)
    response = world.client(Role.SCHOOL_ADMIN).post(
        reverse("training:enrollment_by_org", args=[training_class.pk]), {"organization": "BJ01"}
    )
    assert response.status_code == 200 and "未在报名中" in body(response)
    assert not Enrollment.objects.exists()


def workbook(*ids) -> io.BytesIO:
    book = Workbook()
    book.active.append(["公民身份号码"])
    for value in ids:
        book.active.append([value])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "名单.xlsx"
    return out


def test_an_import_shows_its_error_table(world):
    training_class = make_class(world)
    client = world.client(Role.SCHOOL_ADMIN)
    url = reverse("training:enrollment_import", args=[training_class.pk])
    response = client.post(
        url, {"file": workbook(world.members["A"][0].id_number, make_id_number(dt.date(1990, 1, 1), MALE, 7))}
    )
    assert response.status_code == 200
    assert 'id="import-error-table"' in body(response) and "找不到该公民身份号码的党员" in body(response)
    assert not Enrollment.objects.exists()
    response = client.post(url, {"file": workbook(world.members["A"][0].id_number)})
    assert response.status_code == 302
    assert Enrollment.objects.count() == 1


def test_a_secretary_enrolls_and_withdraws_their_branch_member(world):
    training_class = make_class(world, org="A")
    client = world.client(Role.SECRETARY)
    zhao = world.members["A"][0]
    assert (
        client.post(reverse("training:enrollment_add", args=[training_class.pk]), {"members": [zhao.pk]}).status_code
        == 302
    )
    response = client.post(reverse("training:enrollment_withdraw", args=[training_class.pk]), {"member": zhao.pk})
    assert response.status_code == 302
    assert Enrollment.objects.get().withdrawn_at is not None


# ---------------------------------------------------------------------------------------------------------
# Session pages


def test_session_hours_over_its_length_show_beside_the_field(world):
    training_class = make_class(world)
    starts_at = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    data = {
        "title": "专题党课",
        "starts_at": local(starts_at),
        "ends_at": local(starts_at + dt.timedelta(hours=2)),
        "hours": "3",
    }
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("training:session_add", args=[training_class.pk]), data)
    assert response.status_code == 200
    assert "学时：学时不能超过课次时长（2小时）。" in body(response)
    assert not TrainingSession.objects.exists()
    data["hours"] = "2"
    response = world.client(Role.SCHOOL_ADMIN).post(reverse("training:session_add", args=[training_class.pk]), data)
    assert response.status_code == 302 and TrainingSession.objects.count() == 1


def test_marking_and_closing_on_the_session_page(world):
    training_class = make_class(world)
    session = add_session(world, training_class)
    enroll(world, training_class, world.members["A"])
    client = world.client(Role.SCHOOL_ADMIN)
    url = reverse("training:attendance_mark", args=[session.pk])
    bad = client.post(url, {"members": [world.members["X"][0].pk], "present": "1"})
    assert bad.status_code == 200 and "不在您的管理范围内" in body(bad)
    assert client.post(url, {"members": [world.members["A"][0].pk], "present": "1"}).status_code == 302
    page = client.get(reverse("training:session_detail", args=[session.pk]))
    assert "组织者标记" in body(page) and session.short_code in body(page)
    closed = client.post(reverse("training:session_close", args=[session.pk]), follow=True)
    assert "为 1 名签到党员登记" in body(closed)
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.CLOSED
    again = client.post(reverse("training:session_close", args=[session.pk]), follow=True)
    assert "该课次已结束" in body(again)
    assert HoursEntry.objects.count() == 1


def test_the_projector_page_shows_the_qr_code_for_the_organizer_only(world):
    training_class = make_class(world, org="A")
    session = add_session(world, training_class, starts_in=dt.timedelta(minutes=10))
    response = world.client(Role.SCHOOL_ADMIN).get(reverse("training:session_qr", args=[session.pk]))
    assert response.status_code == 200
    assert "<svg" in body(response) and session.short_code in body(response)
    assert "<script" not in body(response).split('id="projector"')[1].split("</main>")[0]
    assert world.client(Role.SECRETARY).get(reverse("training:session_qr", args=[session.pk])).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# The member's pages


def test_the_qr_url_comes_back_after_login_and_signs_in(world):
    training_class = make_class(world, org="A")
    session = add_session(world, training_class, starts_in=dt.timedelta(minutes=10))
    enroll(world, training_class, [world.self_member])
    url = f"{reverse('training:sign_in')}?t={sign_in_token(session)}"
    anonymous = world.client(None).get(url)
    assert anonymous.status_code == 302
    assert parse_qs(urlparse(anonymous["Location"]).query)["next"] == [url]

    client = world.client(Role.MEMBER)
    page = client.get(url)
    assert page.status_code == 200 and "确认签到" in body(page) and session.title in body(page)
    done = client.post(reverse("training:sign_in"), {"t": sign_in_token(session)})
    assert done.status_code == 302 and done["Location"] == reverse("training:my_classes")
    assert Attendance.objects.get().member == world.self_member
    twice = client.post(reverse("training:sign_in"), {"t": sign_in_token(session)})
    assert twice.status_code == 200 and "您已签到" in body(twice)


def test_signing_in_by_code_with_a_bad_code(world):
    response = world.client(Role.MEMBER).post(reverse("training:sign_in"), {"code": "NOPE99"})
    assert response.status_code == 200 and "签到码：签到码不存在" in body(response)
    forged = world.client(Role.MEMBER).get(reverse("training:sign_in"), {"t": "forged:token"})
    assert forged.status_code == 200 and "签到二维码无效" in body(forged)


def test_a_user_without_a_member_record_gets_a_notice(world):
    response = world.client(Role.SECRETARY).get(reverse("training:sign_in"))
    assert response.status_code == 200 and "未关联党员信息" in body(response)
    assert world.client(Role.SECRETARY).get(reverse("training:my_classes")).status_code == 200


# ---------------------------------------------------------------------------------------------------------
# Query counts: a page of a list costs the same whatever its number of rows


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_the_class_list_query_count_does_not_grow(world):
    client = world.client(Role.COMMITTEE)
    url = reverse("training:class_list")
    for _ in range(2):
        add_session(world, make_class(world, org="A"))
    few = count_queries(client, url)
    for org in ("A", "B", "C1", "A", "B", "C1"):
        training_class = make_class(world, org=org)
        add_session(world, training_class)
        enroll(world, training_class, world.members["A"])
    assert count_queries(client, url) == few


def test_the_class_detail_and_roster_query_counts_do_not_grow(world):
    client = world.client(Role.SCHOOL_ADMIN)
    training_class = make_class(world)
    add_session(world, training_class)
    enroll(world, training_class, world.members["A"][:1])
    detail, roster = (
        reverse("training:class_detail", args=[training_class.pk]),
        reverse("training:enrollment", args=[training_class.pk]),
    )
    few = count_queries(client, detail), count_queries(client, roster)
    for _ in range(3):
        add_session(world, training_class, hours="1")
    enroll(world, training_class, [*world.members["A"], *MemberFactory.create_batch(6, organization=world.orgs["B"])])
    assert (count_queries(client, detail), count_queries(client, roster)) == few


def test_the_attendance_list_query_count_does_not_grow(world):
    client = world.client(Role.SCHOOL_ADMIN)
    training_class = make_class(world)
    session = add_session(world, training_class)
    enroll(world, training_class, world.members["A"][:1])
    url = reverse("training:session_detail", args=[session.pk])
    few = count_queries(client, url)
    members = MemberFactory.create_batch(8, organization=world.orgs["A"])
    enroll(world, training_class, members)
    attendance_mark(by=world.user(Role.SCHOOL_ADMIN), session=session, members=members[:5])
    assert count_queries(client, url) == few


def test_my_classes_query_count_does_not_grow(world):
    client = world.client(Role.MEMBER)
    url = reverse("training:my_classes")
    first = make_class(world, org="A")
    add_session(world, first, starts_in=dt.timedelta(hours=3))
    enroll(world, first, [world.self_member])
    few = count_queries(client, url)
    for _ in range(4):
        training_class = make_class(world, org="A")
        add_session(world, training_class, starts_in=dt.timedelta(hours=5))
        enroll(world, training_class, [world.self_member])
    assert count_queries(client, url) == few
