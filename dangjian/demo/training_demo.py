"""The demo county's training classes (演示数据 · 培训班), on top of the party schools of `schools_demo`.

Four classes of the current year, relative to now, each through the class services of `training.services`
(`classes`, `enrollment`, `sessions`, `attendance`) with the system's access (so the hours ledger and its kept totals
are written as in real use):

- 党支部书记轮训班 (清河县委党校, run by the work committee): its planned roster of 20–40 members of the county
  enrolled, filed, approved, three sessions in the past, most attending, sessions closed (credited), finished;
- 学习贯彻党的二十大精神专题培训班 (the demo `school` user's amateur school): approved, one session closed in the
  past, one in the coming week (its QR page works now); the demo `member` user is enrolled (我的培训);
- 新发展党员培训班 (the same amateur school): filed, waiting for approval; its roster holds members who already took
  one of its courses in the first class this year, so the filing warns of 重复调训;
- 党务工作者业务能力提升培训班 (清河县委党校): a draft with sessions planned.

The same few classes at every scale. Deterministic for a seed (the dates around today aside).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.members.models import Member, Status
from dangjian.schools.models import Course, PartySchool
from dangjian.training.models import EnrollmentSource, TrainingClass
from dangjian.training.services.attendance import attendance_mark, session_close
from dangjian.training.services.classes import class_approve, class_create, class_file, class_finish
from dangjian.training.services.enrollment import enrollment_add
from dangjian.training.services.sessions import session_add

DISTRICT_CODE = "QHDX"
MORNING = ((9, 0), (11, 30), Decimal("2.5"))
AFTERNOON = ((14, 30), (17, 0), Decimal("2.5"))

# Sessions: (course title, slot).
SECRETARIES_SESSIONS = (
    ("习近平新时代中国特色社会主义思想专题辅导", MORNING),
    ("党务工作基本规范与“三会一课”", AFTERNOON),
    ("发展党员工作流程与“525”工作法", MORNING),
)
CONGRESS_SESSIONS = (
    ("深入学习贯彻党的二十届三中全会精神", MORNING),
    ("习近平总书记关于教育的重要论述", AFTERNOON),
)
NEW_MEMBERS_SESSIONS = (
    ("党章党规党纪专题辅导", MORNING),
    ("发展党员工作流程与“525”工作法", AFTERNOON),  # also in the secretaries' class: 重复调训
    ("弘扬新时代教育家精神", MORNING),
)
WORKERS_SESSIONS = (
    ("党费收缴、使用和管理", MORNING),
    ("公文写作与调查研究", AFTERNOON),
)


def _at(day: dt.date, hm: tuple[int, int]) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(*hm)))


def _weekday(day: dt.date, *, back: bool = False) -> dt.date:
    """The day itself, or the nearest weekday after it (before it with `back`)."""
    step = dt.timedelta(days=-1 if back else 1)
    while day.weekday() >= 5:
        day += step
    return day


class TrainingDemo:
    def __init__(self, plan, seed: int):
        self.plan = plan
        self.rng = random.Random(seed * 7_919 + 11)
        self.by = Access.system_access()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.year = self.today.year
        self.counts = dict.fromkeys(("classes", "sessions", "enrollments", "attendances", "sessions_closed"), 0)
        self.root = plan.root.obj
        self.committee = plan.party_school.obj  # the demo `school` user's committee
        self.district = PartySchool.objects.get(code=DISTRICT_CODE)
        self.amateur = PartySchool.objects.filter(organization=self.committee).order_by("pk").first()
        self.courses = {c.title: c for c in Course.objects.filter(owner=self.root).prefetch_related("instructors")}

    # -- helpers --------------------------------------------------------------------------------------------

    def _members(self, org) -> list[Member]:
        return list(
            Member.objects.filter(organization__path__startswith=org.path, status=Status.ACTIVE)
            .select_related("organization")
            .order_by("pk")
        )

    def _instructor(self, course: Course | None):
        instructors = sorted(course.instructors.all(), key=lambda i: i.pk) if course else []
        linked = [i for i in instructors if i.member_id]  # leaders who teach earn 授课奖励 hours
        pool = linked or instructors
        return self.rng.choice(pool) if pool else None

    def _class(self, *, title, school, days, target_group, description, headcount) -> TrainingClass:
        self.counts["classes"] += 1
        return class_create(
            by=self.by,
            title=title,
            organizer=school.organization,
            school=school,
            starts_on=min(days),
            ends_on=max(days),
            target_group=target_group,
            description=description,
            planned_headcount=headcount,
        )

    def _sessions(self, training_class, school, spec, days) -> list:
        venues = list(school.venues.order_by("pk"))
        sessions = []
        for (title, (start, end, hours)), day in zip(spec, days, strict=True):
            course = self.courses.get(title)
            sessions.append(
                session_add(
                    by=self.by,
                    training_class=training_class,
                    title=title,
                    starts_at=_at(day, start),
                    ends_at=_at(day, end),
                    hours=hours,
                    venue=(venues[0].name if venues else school.name),
                    course=course,
                    instructor=self._instructor(course),
                )
            )
        self.counts["sessions"] += len(sessions)
        return sessions

    def _enroll(self, training_class, members) -> None:
        self.counts["enrollments"] += enrollment_add(
            by=self.by, training_class=training_class, members=members, source=EnrollmentSource.MANUAL
        )

    def _run(self, session, roster, share: float) -> list[Member]:
        """Mark most of the roster present and close the session (credits the ledger)."""
        present = [m for m in roster if self.rng.random() < share] or roster[:1]
        self.counts["attendances"] += attendance_mark(by=self.by, session=session, members=present)
        session_close(by=self.by, session=session)
        self.counts["sessions_closed"] += 1
        return present

    # -- the classes ----------------------------------------------------------------------------------------

    def write(self) -> dict:
        if self.amateur is None:  # pragma: no cover - the schools demo always makes it
            return self.counts
        finished_roster = self._finished()
        self._approved()
        self._filed(finished_roster)
        self._draft()
        return self.counts

    def _finished(self) -> list[Member]:
        """党支部书记轮训班: three sessions 9–10 weeks ago, everybody's attendance closed, class finished."""
        first = _weekday(self.today - dt.timedelta(days=70))
        days = [first, _weekday(first + dt.timedelta(days=1)), _weekday(first + dt.timedelta(days=7))]
        days = [d for d in days if d < self.today] or [self.today - dt.timedelta(days=1)] * 3
        # Branch secretaries first (the class is for them), then other members, some of the committee's among them.
        active = {m.pk: m for m in self.plan.secretaries.values() if m.pk and m.status == Status.ACTIVE}
        secretaries = [active[pk] for pk in sorted(active)]
        size = self.rng.randint(24, 36)
        roster = self.rng.sample(secretaries, min(len(secretaries), size - 6))
        chosen = {m.pk for m in roster}
        committee_members = [m for m in self._members(self.committee) if m.pk not in chosen]
        roster += self.rng.sample(committee_members, min(len(committee_members), size - len(roster)))
        training_class = self._class(
            title=f"{days[0].year}年度党支部书记轮训班",
            school=self.district,
            days=days,
            target_group="全县教育系统基层党支部书记",
            description="落实党支部书记每年集中轮训要求，围绕理论武装和党务实务开展专题培训。",
            headcount=len(roster),
        )
        sessions = self._sessions(training_class, self.district, SECRETARIES_SESSIONS, days)
        self._enroll(training_class, roster)
        class_file(by=self.by, training_class=training_class)
        class_approve(by=self.by, training_class=training_class)
        attended: dict[int, Member] = {}
        for session in sessions:
            for member in self._run(session, roster, 0.9):
                attended[member.pk] = member
        class_finish(by=self.by, training_class=training_class)
        return list(attended.values())

    def _approved(self) -> None:
        """学习贯彻党的二十大精神专题培训班: one session closed last week, one in the coming week; the demo member
        enrolled."""
        past = _weekday(self.today - dt.timedelta(days=7), back=True)
        coming = _weekday(self.today + dt.timedelta(days=6))
        days = [past, coming]
        demo_member = Member.objects.filter(user__username="member").first()
        members = self._members(self.committee)
        roster = self.rng.sample(members, min(len(members), self.rng.randint(20, 32)))
        if demo_member is not None and demo_member not in roster:
            roster[-1:] = [demo_member]
        training_class = self._class(
            title="学习贯彻党的二十大精神专题培训班",
            school=self.amateur,
            days=days,
            target_group="本校党员教师",
            description="深入学习贯彻党的二十大和二十届三中全会精神，结合教育强国建设开展专题学习。",
            headcount=len(roster) + 5,
        )
        sessions = self._sessions(training_class, self.amateur, CONGRESS_SESSIONS, days)
        self._enroll(training_class, roster)
        class_file(by=self.by, training_class=training_class)
        class_approve(by=self.by, training_class=training_class)
        self._run(sessions[0], roster, 0.85)

    def _filed(self, finished_attendees: list[Member]) -> None:
        """新发展党员培训班: filed in two weeks' time; some of its roster took one of its courses this year."""
        first = _weekday(self.today + dt.timedelta(days=14))
        days = [first, first, _weekday(first + dt.timedelta(days=1))]
        members = self._members(self.committee)
        took = [m for m in finished_attendees if m.organization.path.startswith(self.committee.path)]
        repeated = self.rng.sample(took, min(len(took), 3))
        others = [m for m in members if m.pk not in {r.pk for r in repeated}]
        roster = repeated + self.rng.sample(others, min(len(others), self.rng.randint(18, 26)))
        training_class = self._class(
            title="新发展党员培训班",
            school=self.amateur,
            days=days,
            target_group="预备党员、新发展党员",
            description="帮助新党员系统学习党章党规，明确党员权利义务，增强党员意识。",
            headcount=len(roster),
        )
        self._sessions(training_class, self.amateur, NEW_MEMBERS_SESSIONS, days)
        self._enroll(training_class, roster)
        class_file(by=self.by, training_class=training_class)

    def _draft(self) -> None:
        """党务工作者业务能力提升培训班: a draft, sessions planned a month ahead, no roster yet."""
        first = _weekday(self.today + dt.timedelta(days=28))
        days = [first, first]
        training_class = self._class(
            title="党务工作者业务能力提升培训班",
            school=self.district,
            days=days,
            target_group="基层党组织专兼职党务工作者",
            description="围绕党费管理、公文写作等党务基本功开展培训。",
            headcount=40,
        )
        self._sessions(training_class, self.district, WORKERS_SESSIONS, days)


def write_demo_training(plan, *, seed: int) -> dict:
    """Write the training-class demo of the planned county `plan` (written already, with its party schools):
    one finished, one approved (running), one filed and one draft class. Returns the counts."""
    return TrainingDemo(plan, seed).write()
