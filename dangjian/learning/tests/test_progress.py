"""Effective time (有效学习时长) and the online credit: only real watching by the earning page counts; a course
credits its hours once, at once, into the ledger (kind 网络学习), within the rule's caps."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.learning.models import (
    Certificate,
    CertificateKind,
    CourseCompletion,
    LearningPolicy,
    MaterialKind,
    MaterialProgress,
)
from dangjian.learning.services.progress import progress_beat
from dangjian.learning.tests.factories import offer, online_course
from dangjian.training.models import HoursEntry, HoursKind, HoursPolicy, MemberHoursYear
from dangjian.training.services.enrollment import enrollment_add, enrollment_withdraw
from dangjian.training.tests.factories import HoursPolicyFactory, TrainingClassFactory

pytestmark = pytest.mark.django_db

TAB = "tab-aaaaaaaa"
OTHER_TAB = "tab-bbbbbbbb"


@pytest.fixture
def course(world):
    """A 2-hour course with a 10-minute video, required for every member of branch A."""
    course, video = online_course(world.orgs["C1"], hours="2", minutes=10)
    offer(course, world.orgs["A"])
    return course, video


class Player:
    """A player page of the member user: events at chosen moments (no waiting in tests)."""

    def __init__(self, world, material, tab=TAB, user=None):
        self.user = user or world.user(Role.MEMBER)
        self.material = material
        self.tab = tab
        self.t0 = timezone.now()

    def send(self, event, position, at):
        return progress_beat(
            by=self.user,
            material=self.material,
            tab=self.tab,
            position=position,
            event=event,
            now=self.t0 + dt.timedelta(seconds=at),
        )

    def watch(self, start, end, *, at=0, step=15):
        """Open at `start` (at second `at`) and play in real time to `end`, a beat every `step` seconds."""
        results = [self.send("open", start, at)]
        position, clock = start, at
        while position < end:
            step_now = min(step, end - position)
            position += step_now
            clock += step_now
            results.append(self.send("beat", position, clock))
        return results, clock


def progress(world, material) -> MaterialProgress:
    return MaterialProgress.objects.get(member=world.self_member, material=material)


def online_entries(member):
    return HoursEntry.objects.filter(member=member, kind=HoursKind.ONLINE)


def test_real_watching_counts_its_wall_clock_time(world, course):
    _, video = course
    results, _ = Player(world, video).watch(0, 60)
    assert [r.credited_seconds for r in results] == [0, 15, 15, 15, 15]
    row = progress(world, video)
    assert row.watched_seconds == 60 and row.effective_seconds == 60
    assert results[-1].share == 10  # 60 of 600 seconds


def test_seeking_ahead_earns_nothing_and_the_skipped_part_stays_unwatched(world, course):
    _, video = course
    player = Player(world, video)
    player.send("open", 0, 0)
    jumped = player.send("beat", 300, 15)
    assert jumped.accepted and jumped.credited_seconds == 0
    assert "快于实际时间" in jumped.message
    after = player.send("beat", 315, 30)
    assert after.credited_seconds == 15
    assert progress(world, video).watched == [[300.0, 315.0]]
    assert progress(world, video).watched_seconds == 15


def test_beats_faster_than_real_time_earn_nothing(world, course):
    _, video = course
    player = Player(world, video)
    player.send("open", 0, 0)
    results = [player.send("beat", 15 * i, 5 * i) for i in range(1, 5)]  # 15 s of video every 5 s
    assert all(r.credited_seconds == 0 for r in results)
    assert progress(world, video).effective_seconds == 0


def test_a_hidden_page_earns_nothing_across_the_gap(world, course):
    _, video = course
    player = Player(world, video)
    player.send("open", 0, 0)
    player.send("beat", 15, 15)
    late = player.send("beat", 135, 135)  # two minutes without a beat: the page was hidden or asleep
    assert late.credited_seconds == 0 and "间隔过长" in late.message
    assert progress(world, video).effective_seconds == 15


def test_only_one_of_two_pages_earns(world, course):
    _, video = course
    first = Player(world, video, tab=TAB)
    second = Player(world, video, tab=OTHER_TAB)
    second.t0 = first.t0
    first.send("open", 0, 0)
    second.send("open", 0, 1)  # another tab or device takes over
    refused = first.send("beat", 15, 15)
    assert not refused.accepted and refused.credited_seconds == 0
    assert "另一个页面或设备" in refused.message
    earning = second.send("beat", 15, 16)
    assert earning.accepted and earning.credited_seconds == 15
    assert progress(world, video).effective_seconds == 15


def test_watching_a_part_twice_counts_it_once_towards_the_share(world, course):
    _, video = course
    player = Player(world, video)
    _, clock = player.watch(0, 60)
    player.watch(0, 60, at=clock + 100)
    row = progress(world, video)
    assert row.watched_seconds == 60 and row.effective_seconds == 120


def test_progress_resumes_where_the_member_stopped_on_any_device(world, course, client):
    _, video = course
    player = Player(world, video)
    _, clock = player.watch(0, 45)
    player.send("stop", 50, clock + 5)
    page = world.client(Role.MEMBER).get(video.get_absolute_url())
    assert page.status_code == 200
    assert 'data-resume="50.0"' in page.content.decode()


def test_the_course_credits_its_hours_once_at_the_minimum_share_and_reports_see_it(world, course):
    course_row, video = course
    member = world.self_member
    HoursPolicy.objects.update(active=False)
    HoursPolicyFactory(owner=None, required_hours=Decimal("32"), online_cap=Decimal("8"), valid_from=2020)
    player = Player(world, video)
    _, clock = player.watch(0, 525)  # 87.5%: not yet
    assert not online_entries(member).exists()
    done = player.send("beat", 540, clock + 15)  # 90%
    assert done.completed and done.hours == Decimal("2.0")
    entry = online_entries(member).get()
    assert entry.hours == Decimal("2.0") and entry.course_id == course_row.pk
    assert MemberHoursYear.objects.get(member=member, year=entry.year).online == Decimal("2.0")
    # Watching on never credits the course again.
    player.watch(540, 600, at=clock + 15)
    assert online_entries(member).count() == 1
    assert CourseCompletion.objects.filter(member=member).count() == 1
    certificate = Certificate.objects.dangerously_all().get(member=member, kind=CertificateKind.COURSE)
    assert certificate.title == course_row.title and certificate.issuer == course_row.owner
    # The ledger and the kept totals agree, and the report counts the online hours at once.
    out = io.StringIO()
    call_command("verify_hours", "--year", str(entry.year), stdout=out)
    assert "一致" in out.getvalue()
    out = io.StringIO()
    call_command("hours_report", "--year", str(entry.year), "--org", "BJ01A", "--format", "csv", stdout=out)
    rows = {row[0]: row for row in csv.reader(io.StringIO(out.getvalue()))}
    assert rows[member.name][4] == "2.0"


def test_the_daily_cap_stops_counting_for_the_day(world, course):
    _, video = course
    LearningPolicy.objects.create(name="每日上限", owner=world.orgs["A"], daily_minutes=1)
    results, _ = Player(world, video).watch(0, 90)
    assert sum(r.credited_seconds for r in results) == 60
    assert "已达上限" in results[-1].message
    assert progress(world, video).effective_seconds == 60


def test_the_yearly_cap_cuts_the_credit(world, course):
    _, video = course
    LearningPolicy.objects.create(name="年度上限", owner=world.orgs["C1"], yearly_hours=Decimal("1.5"))
    results, _ = Player(world, video).watch(0, 540)
    assert results[-1].completed and results[-1].hours == Decimal("1.5")
    assert online_entries(world.self_member).get().hours == Decimal("1.5")
    assert "年度网络学习学时上限" in CourseCompletion.objects.get(member=world.self_member).note


def test_the_nearest_rule_sets_the_minimum_share(world, course):
    _, video = course
    LearningPolicy.objects.create(name="支部要求", owner=world.orgs["A"], min_share=50)
    results, _ = Player(world, video).watch(0, 300)
    assert results[-1].completed


# ---------------------------------------------------------------------------------------------------------
# Who may send beats, and bad input


def test_a_course_not_offered_to_the_member_records_nothing(world):
    _, video = online_course(world.orgs["C1"])
    offer(video.course, world.orgs["B"])
    with pytest.raises(PermissionDenied):
        Player(world, video).send("open", 0, 0)
    assert not MaterialProgress.objects.exists()


def test_staff_without_a_member_record_record_nothing(world, course):
    _, video = course
    Player(world, video).send("open", 0, 0)
    with pytest.raises(PermissionDenied):
        Player(world, video, user=world.user(Role.SECRETARY)).send("beat", 15, 15)
    assert progress(world, video).effective_seconds == 0


@pytest.mark.parametrize(
    "tab, position, event, field",
    [
        (TAB, -1, "beat", "position"),
        (TAB, 601 + 5, "beat", "position"),
        (TAB, "nan", "beat", "position"),
        (TAB, "abc", "beat", "position"),
        ("x", 15, "beat", "tab"),
        (TAB, 15, "skip", "event"),
    ],
    ids=["negative", "past-the-end", "nan", "text", "bad-tab", "bad-event"],
)
def test_bad_input_is_refused_and_changes_nothing(world, course, tab, position, event, field):
    _, video = course
    player = Player(world, video)
    player.send("open", 0, 0)
    player.tab = tab
    with pytest.raises(ValidationError) as caught:
        player.send(event, position, 15)
    assert field in caught.value.message_dict
    row = progress(world, video)
    assert row.effective_seconds == 0 and row.position == 0


def test_the_beat_page_answers_in_json_with_clear_messages(world, course):
    _, video = course
    url = f"/learning/materials/{video.pk}/beat/"
    member = world.client(Role.MEMBER)
    opened = member.post(url, {"tab": TAB, "event": "open", "position": "0"})
    assert opened.status_code == 200 and opened.json()["ok"]
    bad = member.post(url, {"tab": TAB, "event": "beat", "position": "-5"})
    assert bad.status_code == 400 and "播放位置" in bad.json()["message"]
    other = member.post(url, {"tab": OTHER_TAB, "event": "beat", "position": "0"})
    assert other.status_code == 409 and "另一个页面" in other.json()["message"]
    staff = world.client(Role.SECRETARY).post(url, {"tab": TAB, "event": "beat", "position": "0"})
    assert staff.status_code == 403 and "党员本人" in staff.json()["message"]
    _, foreign = online_course(world.orgs["XB"])
    outside = member.post(f"/learning/materials/{foreign.pk}/beat/", {"tab": TAB, "event": "open", "position": "0"})
    assert outside.status_code == 404


# ---------------------------------------------------------------------------------------------------------
# What a member sees


def test_a_member_sees_required_courses_of_their_organizations_and_classes_and_optional_ones(world):
    admin = world.user(Role.SCHOOL_ADMIN)
    required, _ = online_course(world.orgs["C1"])
    offer(required, world.orgs["C1"])  # the committee, for every member below it
    optional, _ = online_course(world.orgs["C1"])
    offer(optional, world.orgs["A"], required=False)
    for_class, _ = online_course(world.orgs["C1"])
    training_class = TrainingClassFactory(organizer=world.orgs["C1"])
    offer(for_class, world.orgs["C1"], training_class=training_class)
    elsewhere, _ = online_course(world.orgs["C1"])
    offer(elsewhere, world.orgs["B"])
    enrollment_add(by=admin, training_class=training_class, members=[world.self_member])

    page = world.client(Role.MEMBER).get("/learning/").content.decode()
    required_part, optional_part = page.split('id="optional-courses"')
    assert required.title in required_part and for_class.title in required_part
    assert optional.title in optional_part and optional.title not in required_part
    assert elsewhere.title not in page

    enrollment_withdraw(by=admin, training_class=training_class, member=world.self_member)
    assert for_class.title not in world.client(Role.MEMBER).get("/learning/").content.decode()


def test_a_pdf_counts_reading_time_and_a_link_records_nothing(world):
    course, pdf = online_course(world.orgs["C1"], kind=MaterialKind.PDF, minutes=2)
    offer(course, world.orgs["A"])
    results, _ = Player(world, pdf).watch(0, 30)
    assert sum(r.credited_seconds for r in results) == 30
    link_course, link = online_course(world.orgs["C1"], kind=MaterialKind.LINK)
    offer(link_course, world.orgs["A"])
    with pytest.raises(ValidationError):
        Player(world, link).send("open", 0, 0)
