"""The 上讲台 duty (Huangpi: 区级领导每年至少上党校讲台一次，处级干部每年至少在业余党校授课一次): the seeded duties, who
owes them, what counts as a lecture (a completed booking or a closed session at a school of the right level, once
when a booking became a session), the report page with its audited .xlsx export and its bad inputs, and the to-do
items of the school that should invite who has not taught.

The place: the world's tree R > C1 > {A, B}; the district party school at R, an amateur school at C1 and one at B.
- 区领导 (in C1) holds a current post at R, the top organization: owes the district duty, has not taught.
- 甲处长 (in A, 区管干部) owes the amateur duty; gave a lecture at the district school only (the wrong level), so
  his amateur school is C1's (nearest above A).
- 乙处长 (in B, 区管干部) owes the amateur duty; taught at B's school through a booking that became a session
  (one lecture, not two) — done.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from dangjian.accounts.roles import Role
from dangjian.accounts.tests.factories import user_with_role
from dangjian.audit.models import AuditEvent
from dangjian.members import services as member_services
from dangjian.members.models import PartyPost, Post, Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.schools.models import BookingStatus, LectureDuty, LectureDutyWhere, LectureDutyWho, SchoolLevel
from dangjian.schools.selectors.lecture_duty import (
    duty_lines,
    lecture_duty_report,
    lecture_duty_todo_items,
)
from dangjian.schools.tests.factories import BookingRequestFactory, InstructorFactory, PartySchoolFactory
from dangjian.training.models import SessionStatus
from dangjian.training.tests.factories import TrainingClassFactory, TrainingSessionFactory
from dangjian.workbench.selectors import todo_items


def year() -> int:
    return timezone.localdate().year


def moment(days_ago: int = 1) -> dt.datetime:
    """A past time of this year (or today early in January)."""
    now = timezone.localtime()
    start = timezone.make_aware(dt.datetime(now.year, 1, 1, 9))
    return max(start, now - dt.timedelta(days=days_ago))


def booking(school, member, *, status=BookingStatus.COMPLETED, when=None):
    starts = when or moment()
    return BookingRequestFactory(
        school=school,
        status=status,
        instructor=InstructorFactory(owner=school.organization, member=member),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
    )


def session(school, member, *, status=SessionStatus.CLOSED, from_booking=None, when=None):
    starts = when or moment()
    return TrainingSessionFactory(
        training_class=TrainingClassFactory(organizer=school.organization, school=school),
        instructor=from_booking.instructor
        if from_booking
        else InstructorFactory(owner=school.organization, member=member),
        booking=from_booking,
        status=status,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
    )


@pytest.fixture
def place(world):
    r, c1, a, b = (world.orgs[k] for k in ("R", "C1", "A", "B"))
    district = PartySchoolFactory(organization=r, level=SchoolLevel.DISTRICT, code="BJQW", name="滨江区委党校")
    c1_school = PartySchoolFactory(organization=c1, level=SchoolLevel.AMATEUR, code="BJ01S", name="一中业余党校")
    b_school = PartySchoolFactory(organization=b, level=SchoolLevel.AREA_AMATEUR, code="BJ01BS", name="明德片区党校")
    leader = MemberFactory(name="区领导", organization=c1)
    PartyPost.objects.create(member=leader, organization=r, post=Post.SECRETARY, start_date=dt.date(2020, 1, 1))
    cadre_a = MemberFactory(name="甲处长", organization=a, is_district_cadre=True)
    cadre_b = MemberFactory(name="乙处长", organization=b, is_district_cadre=True)
    session(district, cadre_a)  # the wrong level for the amateur duty
    held = booking(b_school, cadre_b)
    session(b_school, cadre_b, from_booking=held)  # the same lecture
    return {
        "district": district,
        "c1_school": c1_school,
        "b_school": b_school,
        "leader": leader,
        "cadre_a": cadre_a,
        "cadre_b": cadre_b,
        "district_admin": user_with_role(Role.SCHOOL_ADMIN, r, full_name="区委党校管理员"),
        "b_admin": user_with_role(Role.SCHOOL_ADMIN, b, full_name="片区党校管理员"),
    }


def summary(lines):
    return {
        (line.duty.who, line.member.name): (line.taught, line.done, [s.name for s in line.inviting]) for line in lines
    }


def test_the_seeded_duties_are_on_and_cite_the_seed(db):
    duties = {d.who: d for d in LectureDuty.objects.all()}
    leaders, cadres = duties[LectureDutyWho.DISTRICT_LEADERS], duties[LectureDutyWho.DISTRICT_CADRES]
    assert (leaders.where, leaders.times_per_year, leaders.active) == (LectureDutyWhere.DISTRICT, 1, True)
    assert (cadres.where, cadres.times_per_year, cadres.active) == (LectureDutyWhere.AMATEUR, 1, True)
    assert "黄陂区领导干部上讲台制度" in leaders.source
    assert "区级领导每年至少上党校讲台一次" in leaders.source


def test_who_owes_who_taught_and_who_should_invite(world, place):
    lines = lecture_duty_report(user=world.user(Role.COMMITTEE), year=year(), pending_only=False)
    assert summary(lines) == {
        (LectureDutyWho.DISTRICT_LEADERS, "区领导"): (0, False, ["滨江区委党校"]),
        (LectureDutyWho.DISTRICT_CADRES, "甲处长"): (0, False, ["一中业余党校"]),
        (LectureDutyWho.DISTRICT_CADRES, "乙处长"): (1, True, []),
    }
    pending = lecture_duty_report(user=world.user(Role.COMMITTEE), year=year())
    assert {line.member.name for line in pending} == {"区领导", "甲处长"}


def test_an_open_booking_or_session_is_no_lecture_and_a_post_ended_last_year_owes_nothing(world, place):
    cadre_a = place["cadre_a"]
    booking(place["c1_school"], cadre_a, status=BookingStatus.SCHEDULED)
    session(place["c1_school"], cadre_a, status=SessionStatus.OPEN)
    PartyPost.objects.filter(member=place["leader"]).update(end_date=dt.date(year() - 1, 12, 31))
    lines = lecture_duty_report(user=world.user(Role.COMMITTEE), year=year(), pending_only=False)
    assert {line.member.name: line.taught for line in lines} == {"甲处长": 0, "乙处长": 1}
    session(place["c1_school"], cadre_a)
    lines = lecture_duty_report(user=world.user(Role.COMMITTEE), year=year())
    assert lines == []


def test_a_switched_off_duty_owes_nothing(world, place):
    LectureDuty.objects.filter(who=LectureDutyWho.DISTRICT_CADRES).update(active=False)
    lines = lecture_duty_report(user=world.user(Role.COMMITTEE), year=year(), pending_only=False)
    assert {line.member.name for line in lines} == {"区领导"}


def test_the_report_is_scoped(world, place):
    lines = lecture_duty_report(user=world.user(Role.SECRETARY), year=year(), pending_only=False)
    assert {line.member.name for line in lines} == {"甲处长"}  # the secretary of A sees A only


def test_the_lines_cost_a_fixed_number_of_queries(world, place, django_assert_max_num_queries):
    from dangjian.members.models import Member

    for i in range(15):
        MemberFactory(name=f"处长{i}", organization=world.orgs["A"], is_district_cadre=True)
    with django_assert_max_num_queries(8):
        duty_lines(members=Member.objects.all(), year=year())


def test_the_report_page_and_its_audited_export(world, place):
    client = world.client(Role.COMMITTEE)
    url = reverse("schools:lecture_duty_report")
    page = client.get(url).content.decode()
    assert "<td>区领导</td>" in page and "<td>甲处长</td>" in page and "乙处长" not in page
    assert "一中业余党校" in page
    assert 'href="/schools/lecture-duty/"' in client.get(reverse("schools:list")).content.decode()
    response = client.get(url, {"year": year(), "show": "all", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("上讲台任务", "姓名", "所在党组织")
    assert {row[1] for row in rows[1:]} == {"区领导", "甲处长", "乙处长"}
    event = AuditEvent.objects.filter(action="export").latest("pk")
    assert "上讲台" in f"{event.object_repr} {event.detail}"
    assert event.detail.get("rows") == 3 or "3" in str(event.detail)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "abc"}, "年度：请填写四位数字年份。"),
        ({"year": "1900"}, "年度：年度应在2000至2100之间。"),
        ({"org": "NOPE"}, "党组织：找不到党组织编码“NOPE”，或该组织不在您的管理范围内。"),
        ({"org": "LH"}, "党组织：找不到党组织编码“LH”，或该组织不在您的管理范围内。"),
        ({"duty": "99999"}, "上讲台任务：所选上讲台任务不存在或已停用。"),
        ({"show": "x"}, "显示：显示方式无效，请选择“未完成”或“全部”。"),
        ({"year": "abc", "format": "xlsx"}, "年度：请填写四位数字年份。"),
    ],
)
def test_bad_input_gets_a_message_naming_the_field(world, place, params, message):
    response = world.client(Role.COMMITTEE).get(reverse("schools:lecture_duty_report"), params)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert "甲处长" not in body


def test_a_role_without_school_access_is_refused(world):
    response = world.client(Role.SYSTEM_ADMIN).get(reverse("schools:lecture_duty_report"))
    assert response.status_code == 403


def test_the_inviting_school_gets_the_to_do_items_during_the_year(world, place):
    today = timezone.localdate()
    district_items = lecture_duty_todo_items(user=place["district_admin"], today=today)
    # The district admin's subtree holds every school: the district leader and 甲处长 (C1's amateur school).
    assert {item["key"].split(":")[2] for item in district_items} == {
        str(place["leader"].pk),
        str(place["cadre_a"].pk),
    }
    leader_item = next(i for i in district_items if i["key"].endswith(f":{place['leader'].pk}"))
    assert "邀请区领导" in leader_item["title"] and "滨江区委党校" in leader_item["title"]
    assert leader_item["period"] == str(today.year)
    # B's school invites nobody: 乙处长 has taught, 甲处长 belongs to C1's school.
    assert lecture_duty_todo_items(user=place["b_admin"], today=today) == []
    c1_admin = world.user(Role.SCHOOL_ADMIN)  # granted at C1
    items = lecture_duty_todo_items(user=c1_admin, today=today)
    assert [i["title"].split("（")[0] for i in items] == ["邀请甲处长"]
    assert any(i.kind == "领导干部上讲台" for i in todo_items(user=c1_admin, today=today))
    # A secretary (no school role) gets none.
    assert lecture_duty_todo_items(user=world.user(Role.SECRETARY), today=today) == []


def test_last_years_report_reads_the_flags_and_rolls_of_its_end(world, place):
    """A 区管干部 of last year re-categorized today, or who died today, still owed last year's duty; one made a cadre
    today did not owe it."""
    last = year() - 1
    committee = world.user(Role.COMMITTEE)

    def owing():
        lines = lecture_duty_report(user=committee, year=last, pending_only=False)
        return sorted(line.member.name for line in lines if line.duty.who == LectureDutyWho.DISTRICT_CADRES)

    before = owing()
    assert before == ["乙处长", "甲处长"]
    member_services.member_update(by=committee, member=place["cadre_a"], is_district_cadre=False)
    member_services.member_change_status(
        by=committee, member=place["cadre_b"], status=Status.DECEASED, on=timezone.localdate(), reason="病故"
    )
    member_services.member_update(by=committee, member=world.members["A"][0], is_district_cadre=True)
    assert owing() == before
