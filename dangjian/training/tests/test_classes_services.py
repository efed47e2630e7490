"""The classes seam's rules: the filing flow and its warnings (重复调训, 多头调训, 长期漏训), enrollment (scope, closed
enrollment, imports), sessions (hours, read-only states, from a booking), manual attendance, and closing a session,
which credits each attendee once and the instructor-member the teaching reward.

The world (tests/scope.py): R > C1 > {A, B}, X > XB; the committee and school admin hold C1, the secretary A."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone
from openpyxl import Workbook

from dangjian.accounts.access import Access
from dangjian.accounts.roles import Role
from dangjian.members.models import Category, Status
from dangjian.members.tests.factories import MemberFactory
from dangjian.schools.models import BookingStatus
from dangjian.schools.tests.factories import (
    BookingRequestFactory,
    CourseFactory,
    InstructorFactory,
    PartySchoolFactory,
    SchoolVenueFactory,
)
from dangjian.training.models import (
    Attendance,
    AttendanceMethod,
    ClassStatus,
    Enrollment,
    EnrollmentSource,
    HoursEntry,
    HoursKind,
    MemberHoursYear,
    SessionStatus,
    TrainingClass,
    TrainingSession,
)
from dangjian.training.selectors import classes as selectors
from dangjian.training.selectors.ledger import hours_discrepancies
from dangjian.training.services.attendance import attendance_mark, session_close
from dangjian.training.services.classes import (
    class_approve,
    class_create,
    class_file,
    class_finish,
    class_reject,
    class_update,
)
from dangjian.training.services.enrollment import (
    enrollment_add,
    enrollment_add_by_organization,
    enrollment_import,
    enrollment_withdraw,
)
from dangjian.training.services.ledger import hours_reverse
from dangjian.training.services.sessions import SHORT_CODE_ALPHABET, session_add, session_from_booking, session_update
from dangjian.training.tests.factories import TrainingClassFactory, credit

SYSTEM = Access.system_access()


def today() -> dt.date:
    return timezone.localdate()


def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local time `days` from today."""
    return timezone.make_aware(dt.datetime.combine(today() + dt.timedelta(days=days), dt.time(hour, minute)))


def make_class(world, org: str = "C1", status: str = ClassStatus.APPROVED, **extra) -> TrainingClass:
    extra.setdefault("starts_on", today() - dt.timedelta(days=2))
    extra.setdefault("ends_on", today() + dt.timedelta(days=5))
    return TrainingClassFactory(organizer=world.orgs[org], status=status, **extra)


def add_session(world, training_class, *, starts_at=None, length=dt.timedelta(hours=3), hours="3", **extra):
    starts_at = starts_at or timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    return session_add(
        by=world.user(Role.SCHOOL_ADMIN),
        training_class=training_class,
        title=extra.pop("title", "学习贯彻党的二十大精神"),
        starts_at=starts_at,
        ends_at=starts_at + length,
        hours=hours,
        **extra,
    )


def enroll(world, training_class, *members, by=Role.SCHOOL_ADMIN) -> int:
    return enrollment_add(by=world.user(by), training_class=training_class, members=list(members))


def messages_of(caught, field: str) -> str:
    return " ".join(caught.value.message_dict[field])


# ---------------------------------------------------------------------------------------------------------
# Classes and the filing flow


def test_a_class_is_created_as_a_draft_by_a_school_manager(world):
    school = PartySchoolFactory(organization=world.orgs["A"])
    created = class_create(
        by=world.user(Role.SCHOOL_ADMIN),
        title="2025年发展对象培训班",
        organizer=world.orgs["C1"],
        school=school,
        starts_on=today(),
        ends_on=today() + dt.timedelta(days=2),
        planned_headcount=40,
    )
    assert created.status == ClassStatus.DRAFT
    assert created.created_by == world.user(Role.SCHOOL_ADMIN)
    assert created.history.first().history_user == world.user(Role.SCHOOL_ADMIN)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ends_on": -1}, "ends_on"),
        ({"school": "X"}, "school"),
        ({"school": "C1-inactive"}, "school"),
    ],
    ids=["ends-before-start", "school-out-of-scope", "school-inactive"],
)
def test_bad_class_input_is_refused(world, change, field):
    data = {"starts_on": today(), "ends_on": today() + dt.timedelta(days=change.get("ends_on", 1))}
    school = change.get("school")
    if school == "X":
        data["school"] = PartySchoolFactory(organization=world.orgs["XB"])
    elif school:
        data["school"] = PartySchoolFactory(organization=world.orgs["A"], active=False)
    before = TrainingClass.objects.count()
    with pytest.raises(ValidationError) as caught:
        class_create(by=world.user(Role.SCHOOL_ADMIN), title="培训班", organizer=world.orgs["C1"], **data)
    assert field in caught.value.message_dict
    assert TrainingClass.objects.count() == before


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER, Role.SYSTEM_ADMIN])
def test_only_school_managers_create_classes(world, role):
    with pytest.raises(PermissionDenied):
        class_create(by=world.user(role), title="培训班", organizer=world.orgs["A"], starts_on=today(), ends_on=today())
    assert not TrainingClass.objects.exists()


def test_the_school_admin_cannot_organize_outside_their_subtree(world):
    with pytest.raises(PermissionDenied):
        class_create(
            by=world.user(Role.SCHOOL_ADMIN),
            title="培训班",
            organizer=world.orgs["XB"],
            starts_on=today(),
            ends_on=today(),
        )


def test_filing_needs_a_session_and_approval_opens_enrollment(world):
    training_class = make_class(world, status=ClassStatus.DRAFT)
    admin, committee = world.user(Role.SCHOOL_ADMIN), world.user(Role.COMMITTEE)
    with pytest.raises(ValidationError) as caught:
        class_file(by=admin, training_class=training_class)
    assert "课次" in messages_of(caught, "status")
    add_session(world, training_class)
    assert enroll(world, training_class, world.members["A"][0]) == 1  # the planned roster, drawn up by the runner

    filed = class_file(by=admin, training_class=training_class)
    assert filed.status == ClassStatus.FILED and filed.filed_at is not None
    assert set(filed.filing_warnings) >= {"repeated", "overlapping", "long_untrained"}

    with pytest.raises(PermissionDenied):  # the school admin runs classes, the committee approves them
        class_approve(by=admin, training_class=training_class)
    assert TrainingClass.objects.get(pk=training_class.pk).status == ClassStatus.FILED

    with pytest.raises(ValidationError):  # the roster is frozen under review
        enroll(world, training_class, world.members["A"][1])
    approved = class_approve(by=committee, training_class=training_class)
    assert approved.status == ClassStatus.APPROVED and approved.decided_by == committee
    assert enroll(world, training_class, world.members["A"][1], by=Role.SECRETARY) == 1  # open to the branches


def test_a_rejected_filing_is_corrected_and_filed_again(world):
    training_class = make_class(world, status=ClassStatus.DRAFT)
    add_session(world, training_class)
    class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class)
    with pytest.raises(ValidationError) as caught:
        class_reject(by=world.user(Role.COMMITTEE), training_class=training_class, reason="  ")
    assert "reason" in caught.value.message_dict
    rejected = class_reject(by=world.user(Role.COMMITTEE), training_class=training_class, reason="课程重复")
    assert (rejected.status, rejected.rejection_reason) == (ClassStatus.REJECTED, "课程重复")
    again = class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class)
    assert again.status == ClassStatus.FILED


@pytest.mark.parametrize(
    "status, action",
    [
        (ClassStatus.APPROVED, "file"),
        (ClassStatus.FINISHED, "file"),
        (ClassStatus.DRAFT, "approve"),
        (ClassStatus.APPROVED, "approve"),
        (ClassStatus.REJECTED, "reject"),
        (ClassStatus.DRAFT, "finish"),
        (ClassStatus.FILED, "finish"),
    ],
)
def test_refused_transitions_change_nothing(world, status, action):
    training_class = make_class(world, status=status)
    if status != ClassStatus.FINISHED:
        add_session(world, training_class)
    run = {
        "file": lambda: class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class),
        "approve": lambda: class_approve(by=world.user(Role.COMMITTEE), training_class=training_class),
        "reject": lambda: class_reject(by=world.user(Role.COMMITTEE), training_class=training_class, reason="x"),
        "finish": lambda: class_finish(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class),
    }[action]
    with pytest.raises(ValidationError) as caught:
        run()
    assert "status" in caught.value.message_dict
    assert TrainingClass.objects.get(pk=training_class.pk).status == status


def test_a_committee_outside_the_organizer_cannot_approve(world):
    training_class = make_class(world, org="XB", status=ClassStatus.FILED)
    with pytest.raises(PermissionDenied):
        class_approve(by=world.user(Role.COMMITTEE), training_class=training_class)
    with pytest.raises(PermissionDenied):
        class_reject(by=world.user(Role.COMMITTEE), training_class=training_class, reason="不在范围")
    assert TrainingClass.objects.get(pk=training_class.pk).status == ClassStatus.FILED


def test_the_organizer_cannot_change_after_filing(world):
    training_class = make_class(world, status=ClassStatus.FILED)
    with pytest.raises(ValidationError) as caught:
        class_update(
            by=world.user(Role.SCHOOL_ADMIN),
            training_class=training_class,
            title=training_class.title,
            organizer=world.orgs["A"],
            starts_on=training_class.starts_on,
            ends_on=training_class.ends_on,
        )
    assert "organizer" in caught.value.message_dict


def test_the_class_dates_must_hold_its_sessions(world):
    training_class = make_class(world)
    add_session(world, training_class, starts_at=at(3, 9))
    with pytest.raises(ValidationError) as caught:
        class_update(
            by=world.user(Role.SCHOOL_ADMIN),
            training_class=training_class,
            title="改期",
            organizer=world.orgs["C1"],
            starts_on=training_class.starts_on,
            ends_on=today() + dt.timedelta(days=2),
        )
    assert "ends_on" in caught.value.message_dict
    assert TrainingClass.objects.get(pk=training_class.pk).title != "改期"


def test_a_class_finishes_once_every_session_is_closed_and_is_read_only_then(world):
    training_class = make_class(world)
    session = add_session(world, training_class)
    admin = world.user(Role.SCHOOL_ADMIN)
    with pytest.raises(ValidationError) as caught:
        class_finish(by=admin, training_class=training_class)
    assert "1个课次未结束" in messages_of(caught, "status")
    session_close(by=admin, session=session)
    assert class_finish(by=admin, training_class=training_class).status == ClassStatus.FINISHED
    with pytest.raises(ValidationError):
        add_session(world, training_class)
    with pytest.raises(ValidationError):
        enroll(world, training_class, world.members["A"][0])


# ---------------------------------------------------------------------------------------------------------
# Filing warnings (办班事前备案)


def test_no_warnings_when_everybody_trained_lately_and_nothing_overlaps(world):
    for place in ("A", "B"):
        for member in world.members[place]:
            credit(member, hours="2", on=today() - dt.timedelta(days=30))
    training_class = make_class(world, status=ClassStatus.DRAFT)
    add_session(world, training_class, course=CourseFactory(owner=world.orgs["C1"]))
    filed = class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class)
    warnings = filed.filing_warnings
    assert [warnings[key]["count"] for key in ("repeated", "overlapping", "long_untrained")] == [0, 0, 0]
    assert selectors.visible_findings(user=world.user(Role.SCHOOL_ADMIN), warnings=warnings).any is False


def test_long_untrained_candidates_are_active_members_without_hours_for_n_months(world):
    zhao, qian = world.members["A"]
    credit(zhao, on=today() - dt.timedelta(days=10))
    # 钱甲二 trained 13 months ago: long enough to be a candidate; 孙乙一 never trained.
    credit(qian, on=selectors.months_before(today(), 13))
    MemberFactory(name="周乙转", organization=world.orgs["B"], status=Status.TRANSFERRED_OUT)
    training_class = make_class(world, status=ClassStatus.DRAFT)
    add_session(world, training_class)
    found = class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class).filing_warnings
    section = found["long_untrained"]
    assert section["months"] == 12
    assert section["count"] == 2
    assert {item["member"] for item in section["items"]} == {"钱甲二", "孙乙一"}  # not 李外一 (another tree)
    with override_settings(DANGJIAN_LONG_UNTRAINED_MONTHS=24):
        assert selectors.filing_warnings(training_class)["long_untrained"]["count"] == 1


def test_repeated_training_is_a_member_already_credited_for_a_course_this_year(world):
    course = CourseFactory(owner=world.orgs["C1"], title="党章党规党纪")
    zhao, qian = world.members["A"]
    credit(zhao, course=course, on=today() - dt.timedelta(days=5))
    # A credit that was reversed nets to zero: 钱甲二 did not really take the course.
    hours_reverse(by=SYSTEM, entry=credit(qian, course=course), reason="录入错误")
    credit(world.members["B"][0], course=course, kind=HoursKind.ONLINE)  # online study is not 集中培训
    training_class = make_class(world)
    add_session(world, training_class, course=course)
    enroll(world, training_class, zhao, qian, world.members["B"][0])
    section = selectors.filing_warnings(training_class)["repeated"]
    assert section["count"] == 1
    assert [(i["member"], i["course"]) for i in section["items"]] == [("赵甲一", "党章党规党纪")]


def test_overlapping_training_is_a_member_summoned_by_another_organizer_at_the_same_time(world):
    zhao, qian = world.members["A"]
    sun = world.members["B"][0]
    ours = make_class(world, org="A", title="高一支部党员培训班")
    add_session(world, ours, starts_at=at(1, 10), length=dt.timedelta(hours=2), hours="2", title="专题党课")
    theirs = make_class(world, org="B", title="高二支部轮训班")
    add_session(world, theirs, starts_at=at(1, 11), length=dt.timedelta(hours=2), hours="2")
    adjacent = make_class(world, org="B", title="下午的班")
    add_session(world, adjacent, starts_at=at(1, 12), length=dt.timedelta(hours=2), hours="2")
    same_organizer = make_class(world, org="A", title="同一主办方的班")
    add_session(world, same_organizer, starts_at=at(1, 10), length=dt.timedelta(hours=1), hours="1")
    enroll(world, ours, zhao, qian, sun)
    enroll(world, theirs, zhao)
    enroll(world, adjacent, qian)
    enroll(world, same_organizer, sun)
    section = selectors.filing_warnings(ours)["overlapping"]
    assert section["count"] == 1
    item = section["items"][0]
    assert (item["member"], item["other_class"], item["session"]) == ("赵甲一", "高二支部轮训班", "专题党课")


def test_a_viewer_sees_only_the_findings_about_members_they_see(world):
    """A class organized by C1 lists candidates of A and B; the secretary of A sees A's only (and the count)."""
    training_class = make_class(world, org="C1")
    add_session(world, training_class)
    shown = selectors.visible_findings(
        user=world.user(Role.SECRETARY), warnings=selectors.filing_warnings(training_class)
    )
    assert {i["member"] for i in shown.long_untrained} == {"赵甲一", "钱甲二"}
    assert shown.hidden == 1 and shown.counts["long_untrained"] == 3


# ---------------------------------------------------------------------------------------------------------
# Enrollment


def test_enrollment_skips_the_enrolled_and_reactivates_the_withdrawn(world):
    training_class = make_class(world)
    zhao, qian = world.members["A"]
    assert enroll(world, training_class, zhao, qian) == 2
    assert enroll(world, training_class, zhao) == 0
    enrollment_withdraw(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, member=qian)
    assert Enrollment.objects.active().filter(training_class=training_class).count() == 1
    assert enroll(world, training_class, zhao, qian) == 1
    enrollment = Enrollment.objects.get(training_class=training_class, member=qian)
    assert enrollment.withdrawn_at is None and enrollment.source == EnrollmentSource.MANUAL
    assert enrollment.history.count() == 3  # enrolled, withdrew, enrolled again


def test_a_member_out_of_scope_is_refused_and_nobody_is_enrolled(world):
    training_class = make_class(world)
    with pytest.raises(ValidationError) as caught:
        enroll(world, training_class, world.members["A"][0], world.members["X"][0])
    assert "1人不在您的管理范围内" in messages_of(caught, "members")
    assert "李外一" not in messages_of(caught, "members")  # an out-of-scope name is never echoed
    assert not Enrollment.objects.filter(training_class=training_class).exists()


def test_a_member_who_is_not_active_is_refused(world):
    training_class = make_class(world)
    gone = MemberFactory(name="吴已转", organization=world.orgs["A"], status=Status.TRANSFERRED_OUT)
    with pytest.raises(ValidationError) as caught:
        enroll(world, training_class, world.members["A"][0], gone)
    assert "吴已转" in messages_of(caught, "members")
    assert not Enrollment.objects.filter(training_class=training_class).exists()


@pytest.mark.parametrize("status", [ClassStatus.FILED, ClassStatus.FINISHED])
def test_enrollment_is_closed_under_review_and_after_the_class(world, status):
    training_class = make_class(world, status=status)
    with pytest.raises(ValidationError) as caught:
        enroll(world, training_class, world.members["A"][0])
    assert "未在报名中" in messages_of(caught, "training_class")
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("status", [ClassStatus.DRAFT, ClassStatus.REJECTED])
def test_before_filing_only_the_runners_draw_up_the_planned_roster(world, status):
    training_class = make_class(world, org="C1", status=status)
    zhao = world.members["A"][0]
    with pytest.raises(PermissionDenied):  # the branch secretary does not see the class before its approval
        enroll(world, training_class, zhao, by=Role.SECRETARY)
    assert not Enrollment.objects.exists()
    assert enroll(world, training_class, zhao) == 1  # the school admin runs the class


def test_filing_checks_the_planned_roster(world):
    """The planned roster (拟调训名单) drawn up before filing is what 重复调训 and 多头调训 look at."""
    course = CourseFactory(owner=world.orgs["C1"], title="党章党规党纪")
    zhao, qian = world.members["A"]
    credit(zhao, course=course, on=today() - dt.timedelta(days=5))
    other = make_class(world, org="B", title="高二支部轮训班")
    add_session(world, other, starts_at=at(1, 10), length=dt.timedelta(hours=2), hours="2")
    enroll(world, other, qian)
    ours = make_class(world, status=ClassStatus.DRAFT)
    add_session(world, ours, course=course, starts_at=at(1, 9), length=dt.timedelta(hours=3), hours="3")
    enroll(world, ours, zhao, qian)
    warnings = class_file(by=world.user(Role.SCHOOL_ADMIN), training_class=ours).filing_warnings
    assert [i["member"] for i in warnings["repeated"]["items"]] == ["赵甲一"]
    assert [i["member"] for i in warnings["overlapping"]["items"]] == ["钱甲二"]


def test_a_secretary_enrolls_members_of_their_own_branch_only(world):
    training_class = make_class(world, org="A")
    zhao = world.members["A"][0]
    assert enroll(world, training_class, zhao, by=Role.SECRETARY) == 1
    with pytest.raises(ValidationError):  # 孙乙一 (B) is not in the secretary's scope
        enroll(world, training_class, world.members["B"][0], by=Role.SECRETARY)
    above = make_class(world, org="C1", status=ClassStatus.DRAFT)  # not yet approved: not seen from below
    with pytest.raises(PermissionDenied):
        enroll(world, above, zhao, by=Role.SECRETARY)
    district = make_class(world, org="R", title="全区党员轮训班")  # approved above: open to the branches below
    assert enroll(world, district, zhao, by=Role.SECRETARY) == 1
    with pytest.raises(ValidationError):  # …for their own members only
        enroll(world, district, world.members["B"][0], by=Role.SECRETARY)
    assert not TrainingClass.objects.visible_to(world.user(Role.SECRETARY)).filter(organizer=world.orgs["XB"]).exists()
    with pytest.raises(PermissionDenied):  # the instructor sees B but edits no members
        enroll(world, make_class(world, org="B"), world.members["B"][0], by=Role.INSTRUCTOR)
    assert Enrollment.objects.count() == 2


def test_enrollment_by_organization_takes_the_subtree_with_filters(world):
    training_class = make_class(world)
    admin = world.user(Role.SCHOOL_ADMIN)
    count = enrollment_add_by_organization(
        by=admin, training_class=training_class, organization=world.orgs["C1"], category=Category.PROBATIONARY
    )
    assert count == 1
    assert Enrollment.objects.get(training_class=training_class).member.name == "钱甲二"
    MemberFactory(name="郑班子", organization=world.orgs["B"], is_leadership=True)
    assert (
        enrollment_add_by_organization(
            by=admin, training_class=training_class, organization=world.orgs["C1"], leadership=True
        )
        == 1
    )
    assert enrollment_add_by_organization(by=admin, training_class=training_class, organization=world.orgs["C1"]) == 2
    assert Enrollment.objects.filter(source=EnrollmentSource.ORGANIZATION).count() == 4
    with pytest.raises(ValidationError) as caught:
        enrollment_add_by_organization(by=admin, training_class=training_class, organization=world.orgs["XB"])
    assert "organization" in caught.value.message_dict


def xlsx(*rows, header=("姓名", "公民身份号码")) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_an_import_enrolls_by_id_number(world):
    training_class = make_class(world)
    zhao, sun = world.members["A"][0], world.members["B"][0]
    data = xlsx(("赵甲一", zhao.id_number), ("孙乙一", sun.id_number.lower()), ("赵甲一", zhao.id_number), ("", ""))
    count = enrollment_import(
        by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, fileobj=data, name="名单.xlsx"
    )
    assert count == 2
    assert set(Enrollment.objects.values_list("source", flat=True)) == {EnrollmentSource.IMPORT}


def test_an_import_with_bad_rows_enrolls_nobody_and_names_every_row(world):
    training_class = make_class(world)
    zhao, outside = world.members["A"][0], world.members["X"][0]
    masked = zhao.masked_id_number
    bad_check = zhao.id_number[:17] + ("0" if zhao.id_number[17] != "0" else "1")
    gone = MemberFactory(organization=world.orgs["A"], status=Status.SUSPENDED)
    data = xlsx(
        ("赵甲一", zhao.id_number),  # row 2: fine
        ("李外一", outside.id_number),  # row 3: another tree
        ("某人", None),  # row 4: an empty ID number in a non-empty row
        ("数字", 110105198506151234),  # row 5: stored as a number
        ("脱敏", masked),  # row 6
        ("校验位", bad_check),  # row 7
        ("停止", gone.id_number),  # row 8
        header=("姓名", "公民身份号码"),
    )
    with pytest.raises(ValidationError) as caught:
        enrollment_import(
            by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, fileobj=data, name="名单.xlsx"
        )
    errors = caught.value.message_dict["file"]
    assert [e.split(" ", 1)[0] for e in errors] == ["第3行", "第4行", "第5行", "第6行", "第7行", "第8行"]
    assert all(" 公民身份号码: " in e for e in errors)
    assert "不在您的管理范围内" in errors[0] and "必填" in errors[1] and "存成了数字" in errors[2]
    assert "停止党籍" in errors[5]
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize(
    "data, name, message",
    [
        (lambda: io.BytesIO(b"not a workbook"), "名单.xlsx", "不是有效的 .xlsx"),
        (lambda: xlsx(("赵甲一",)), "名单.pdf", "只接受 .xlsx、.xls（Excel 97–2003）或 .csv"),
        (
            lambda: xlsx(("赵甲一", "x"), header=("姓名", "备注")),
            "名单.xlsx",
            "缺少“公民身份号码”列，或“姓名”和“党组织”两列",
        ),
        (lambda: xlsx(), "名单.xlsx", "没有数据"),
    ],
    ids=["not-xlsx", "extension", "no-id-column", "empty"],
)
def test_an_unusable_file_is_refused(world, data, name, message):
    training_class = make_class(world)
    with pytest.raises(ValidationError) as caught:
        enrollment_import(by=world.user(Role.SCHOOL_ADMIN), training_class=training_class, fileobj=data(), name=name)
    assert message in messages_of(caught, "file")


# ---------------------------------------------------------------------------------------------------------
# Sessions


@pytest.mark.parametrize(
    "length, hours, message",
    [
        (dt.timedelta(hours=2), "3", "学时不能超过课次时长（2小时）"),
        (dt.timedelta(minutes=90), "2", "学时不能超过课次时长（1.5小时）"),
        (dt.timedelta(hours=30), "25", "学时不能超过24"),
        (dt.timedelta(hours=2), "1.3", "0.5的整数倍"),
        (dt.timedelta(hours=2), "-1", "学时必须大于0"),
        (dt.timedelta(hours=2), "abc", "学时应为数字"),
    ],
    ids=["over-length", "over-length-fraction", "over-24", "not-half-steps", "negative", "not-a-number"],
)
def test_bad_session_hours_are_refused(world, length, hours, message):
    training_class = make_class(world)
    with pytest.raises(ValidationError) as caught:
        add_session(world, training_class, starts_at=at(1, 8), length=length, hours=hours)
    assert message in messages_of(caught, "hours")
    assert not TrainingSession.objects.exists()


def test_a_session_ends_after_it_starts_within_the_class_dates(world):
    training_class = make_class(world)
    with pytest.raises(ValidationError) as caught:
        add_session(world, training_class, starts_at=at(1, 10), length=dt.timedelta(0))
    assert "ends_at" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        add_session(world, training_class, starts_at=at(9, 10))
    assert "开班日期至结班日期" in messages_of(caught, "starts_at")


def test_a_session_may_use_only_catalog_rows_the_user_sees(world):
    training_class = make_class(world)
    with pytest.raises(ValidationError) as caught:
        add_session(
            world,
            training_class,
            course=CourseFactory(owner=world.orgs["XB"]),
            instructor=InstructorFactory(owner=world.orgs["XB"]),
        )
    assert {"course", "instructor"} <= set(caught.value.message_dict)
    shared = add_session(world, training_class, course=CourseFactory(owner=world.orgs["R"]))  # shared downwards
    assert shared.course is not None


def test_each_session_gets_its_own_short_code(world):
    training_class = make_class(world)
    codes = {
        add_session(world, training_class, starts_at=at(1, h), length=dt.timedelta(hours=1), hours="1").short_code
        for h in range(8, 14)
    }
    assert len(codes) == 6
    assert all(len(code) == 6 and set(code) <= set(SHORT_CODE_ALPHABET) for code in codes)


def test_a_closed_session_and_the_sessions_of_a_finished_class_are_read_only(world):
    training_class = make_class(world)
    session = add_session(world, training_class)
    admin = world.user(Role.SCHOOL_ADMIN)
    fields = {"title": "改名", "starts_at": session.starts_at, "ends_at": session.ends_at, "hours": "2"}
    session_close(by=admin, session=session)
    with pytest.raises(ValidationError) as caught:
        session_update(by=admin, session=session, **fields)
    assert "考勤已确认" in messages_of(caught, "status")
    class_finish(by=admin, training_class=training_class)
    with pytest.raises(ValidationError) as caught:
        session_update(by=admin, session=session, **fields)
    assert "已结班" in messages_of(caught, "status")
    assert TrainingSession.objects.get(pk=session.pk).title != "改名"


def test_a_secretary_does_not_run_sessions(world):
    training_class = make_class(world, org="A")
    with pytest.raises(PermissionDenied):
        session_add(
            by=world.user(Role.SECRETARY),
            training_class=training_class,
            title="党课",
            starts_at=at(1, 9),
            ends_at=at(1, 10),
            hours="1",
        )
    assert not TrainingSession.objects.exists()


def scheduled_booking(world, *, courses, starts_at, length, **extra):
    school = PartySchoolFactory(organization=world.orgs["A"])
    booking = BookingRequestFactory(
        school=school,
        status=BookingStatus.SCHEDULED,
        instructor=InstructorFactory(owner=world.orgs["R"], name="王讲师"),
        venue=SchoolVenueFactory(school=school, name="一楼报告厅"),
        starts_at=starts_at,
        ends_at=starts_at + length,
        courses=courses,
        **extra,
    )
    return booking


def test_a_session_from_a_scheduled_booking(world):
    first = CourseFactory(owner=world.orgs["R"], title="乡村振兴思路举措", hours=Decimal("4"))
    second = CourseFactory(owner=world.orgs["R"], title="基层治理", hours=Decimal("4"))
    booking = scheduled_booking(world, courses=[first, second], starts_at=at(1, 9), length=dt.timedelta(hours=3))
    training_class = make_class(world)
    session = session_from_booking(by=world.user(Role.SCHOOL_ADMIN), booking=booking, training_class=training_class)
    assert (session.title, session.course, session.hours) == ("乡村振兴思路举措", first, Decimal("3"))
    assert (session.instructor.name, session.venue, session.booking) == ("王讲师", "一楼报告厅", booking)
    with pytest.raises(ValidationError) as caught:
        session_from_booking(by=world.user(Role.SCHOOL_ADMIN), booking=booking, training_class=training_class)
    assert "已生成课次" in messages_of(caught, "booking")


def test_a_booking_gives_its_courses_hours_when_they_fit(world):
    short = CourseFactory(owner=world.orgs["R"], hours=Decimal("0.5"))
    booking = scheduled_booking(world, courses=[short], starts_at=at(1, 9), length=dt.timedelta(hours=2))
    session = session_from_booking(by=world.user(Role.SCHOOL_ADMIN), booking=booking, training_class=make_class(world))
    assert session.hours == Decimal("0.5")


def test_a_booking_that_became_a_session_is_neither_returned_nor_rescheduled(world):
    """Bug guard: returning or re-timing a booking after a class made a session of it left the session teaching at
    a time (and by an instructor) the booking no longer said."""
    from dangjian.schools.services import booking as booking_services

    booking = scheduled_booking(world, courses=[], starts_at=at(1, 9), length=dt.timedelta(hours=2))
    session = session_from_booking(by=world.user(Role.SCHOOL_ADMIN), booking=booking, training_class=make_class(world))
    system = Access.system_access()
    with pytest.raises(ValidationError) as caught:
        booking_services.booking_return(by=system, booking=booking, reason="讲师有事")
    assert "已生成培训课次" in messages_of(caught, "booking")
    with pytest.raises(ValidationError) as caught:
        booking_services.booking_schedule(
            by=system,
            booking=booking,
            instructor=booking.instructor,
            starts_at=at(2, 9),
            ends_at=at(2, 11),
            venue=booking.venue,
        )
    assert "不能改排" in messages_of(caught, "booking")
    booking.refresh_from_db()
    assert (booking.status, booking.starts_at) == (BookingStatus.SCHEDULED, session.starts_at)


@pytest.mark.parametrize("status", [BookingStatus.DRAFT, BookingStatus.SUBMITTED, BookingStatus.RETURNED])
def test_only_a_scheduled_booking_makes_a_session(world, status):
    booking = scheduled_booking(world, courses=[], starts_at=at(1, 9), length=dt.timedelta(hours=2))
    booking.status = status
    booking.save()
    with pytest.raises(ValidationError) as caught:
        session_from_booking(by=world.user(Role.SCHOOL_ADMIN), booking=booking, training_class=make_class(world))
    assert "booking" in caught.value.message_dict
    assert not TrainingSession.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Attendance by hand, closing, crediting


def test_the_organizer_marks_attendance_of_enrolled_members_only(world):
    training_class = make_class(world)
    session = add_session(world, training_class)
    zhao, qian = world.members["A"]
    enroll(world, training_class, zhao)
    admin = world.user(Role.SCHOOL_ADMIN)
    with pytest.raises(ValidationError) as caught:
        attendance_mark(by=admin, session=session, members=[zhao, qian])
    assert "钱甲二未报名" in messages_of(caught, "members")
    assert not Attendance.objects.exists()
    assert attendance_mark(by=admin, session=session, members=[zhao]) == 1
    assert attendance_mark(by=admin, session=session, members=[zhao]) == 0
    attendance = Attendance.objects.get()
    assert (attendance.method, attendance.marked_by) == (AttendanceMethod.MANUAL, admin)
    assert attendance_mark(by=admin, session=session, members=[zhao], present=False) == 1
    assert not Attendance.objects.exists()
    with pytest.raises(PermissionDenied):
        attendance_mark(by=world.user(Role.SECRETARY), session=session, members=[zhao])


def test_attendance_cannot_change_after_closing(world):
    training_class = make_class(world)
    session = add_session(world, training_class)
    enroll(world, training_class, world.members["A"][0])
    session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    with pytest.raises(ValidationError):
        attendance_mark(by=world.user(Role.SCHOOL_ADMIN), session=session, members=[world.members["A"][0]])
    assert not Attendance.objects.exists()


def closable(world, *, instructor_member=None, course=None):
    training_class = make_class(world)
    instructor = InstructorFactory(owner=world.orgs["C1"], member=instructor_member) if instructor_member else None
    session = add_session(world, training_class, hours="2.5", instructor=instructor, course=course)
    zhao, qian = world.members["A"]
    sun = world.members["B"][0]
    enroll(world, training_class, zhao, qian, sun)
    attendance_mark(by=world.user(Role.SCHOOL_ADMIN), session=session, members=[zhao, sun])
    return training_class, session


def test_closing_credits_each_attendee_and_the_instructor_member(world):
    teacher = MemberFactory(name="冯讲师", organization=world.orgs["C1"])
    course = CourseFactory(owner=world.orgs["C1"])
    _training_class, session = closable(world, instructor_member=teacher, course=course)
    closed = session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    assert (closed.credited, closed.instructor_member, closed.reward) == (2, teacher, Decimal("2.5"))
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED and session.closed_by == world.user(Role.SCHOOL_ADMIN)
    concentrated = HoursEntry.objects.filter(kind=HoursKind.CONCENTRATED)
    assert sorted(concentrated.values_list("member__name", flat=True)) == ["孙乙一", "赵甲一"]
    assert {(e.hours, e.session_id, e.course_id, e.date) for e in concentrated} == {
        (Decimal("2.5"), session.pk, course.pk, timezone.localtime(session.starts_at).date())
    }
    reward = HoursEntry.objects.get(kind=HoursKind.TEACHING)
    assert (reward.member, reward.hours, reward.session_id) == (teacher, Decimal("2.5"), session.pk)
    year = timezone.localtime(session.starts_at).year
    assert MemberHoursYear.objects.get(member=world.members["A"][0], year=year).concentrated == Decimal("2.5")
    assert hours_discrepancies() == []


@override_settings(DANGJIAN_TEACHING_REWARD_HOURS="4")
def test_the_teaching_reward_is_configurable(world):
    teacher = MemberFactory(organization=world.orgs["C1"])
    _training_class, session = closable(world, instructor_member=teacher)
    session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    assert HoursEntry.objects.get(kind=HoursKind.TEACHING).hours == Decimal("4")


def test_a_second_close_credits_nothing(world):
    _training_class, session = closable(world)
    session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    with pytest.raises(ValidationError) as caught:
        session_close(by=world.user(Role.COMMITTEE), session=session)
    assert messages_of(caught, "status") == "该课次已结束"
    assert HoursEntry.objects.count() == 2


def test_two_organizers_closing_at_once_credit_once(world):
    """The second organizer loaded the session while it was open; the first closed it meanwhile. The conditional
    update (OPEN → CLOSED) matches no row, so the second close credits nothing."""
    _training_class, session = closable(world)
    stale = TrainingSession.objects.get(pk=session.pk)
    session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    assert stale.status == SessionStatus.OPEN
    with pytest.raises(ValidationError):
        session_close(by=world.user(Role.COMMITTEE), session=stale)
    assert HoursEntry.objects.count() == 2


def test_the_conditional_update_is_the_guard(world):
    """Even when the session is marked closed by another transaction between the read and the claim, nothing is
    credited: the claim's UPDATE ... WHERE status = 'open' decides, not the Python object."""
    _training_class, session = closable(world)
    TrainingSession.objects.filter(pk=session.pk).update(status=SessionStatus.CLOSED)
    with pytest.raises(ValidationError) as caught:
        session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    assert messages_of(caught, "status") == "该课次已结束"
    assert not HoursEntry.objects.exists()


def test_a_session_is_not_closed_before_it_starts(world):
    training_class = make_class(world)
    session = add_session(world, training_class, starts_at=at(2, 9))
    with pytest.raises(ValidationError) as caught:
        session_close(by=world.user(Role.SCHOOL_ADMIN), session=session)
    assert "尚未开始" in messages_of(caught, "status")
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.OPEN


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.INSTRUCTOR, Role.MEMBER])
def test_only_a_runner_closes_a_session(world, role):
    _training_class, session = closable(world)
    with pytest.raises(PermissionDenied):
        session_close(by=world.user(role), session=session)
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.OPEN
    assert not HoursEntry.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Selectors for the hours seam and the member


def test_upcoming_classes_for_a_secretary_are_approved_classes_they_see_not_over(world):
    open_class = make_class(world, org="A", title="开放报名")
    make_class(world, org="A", status=ClassStatus.FILED)
    make_class(world, org="A", starts_on=today() - dt.timedelta(days=9), ends_on=today() - dt.timedelta(days=1))
    make_class(world, org="B")  # not the secretary's
    assert list(selectors.upcoming_classes_for(world.user(Role.SECRETARY))) == [open_class]
    assert not selectors.upcoming_classes_for(world.user(Role.MEMBER)).exists()
    assert selectors.upcoming_classes_for(world.user(Role.COMMITTEE)).count() == 2


def test_a_members_classes_and_upcoming_sessions(world):
    zhao = world.self_member
    mine = make_class(world, title="我的班")
    make_class(world, title="别人的班")
    soon = add_session(world, mine, starts_at=at(1, 9))
    enroll(world, mine, zhao)
    assert [c.title for c in selectors.my_classes(member=zhao)] == ["我的班"]
    assert [s.pk for s in selectors.my_upcoming_sessions(member=zhao)] == [soon.pk]
