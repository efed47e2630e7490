"""The demo county's party schools (演示数据 · 党校): schools, the instructor pool, the catalog, bookings, the 2025
evaluation and its published ranking, generated deterministically from the seed on top of the planned county.

What is written (Huangpi's amateur schools and Xiqing's menu-style booking, docs/rules.md):

- 清河县委党校 (区委党校, run by the work committee) with three venues; an extended school (延伸建校: Huangpi's
  二级单位党校) at the teacher-training school, hanging under it; an amateur school (业余党校, 独立建校) for each
  党委 and 党总支 directly under the work committee (the bureau's 机关党委 when there is one, the private-education
  党委, the school committees — the demo `school` user's committee among them); and 片区业余党校 as joint schools
  (联合建校) of 3–5 small schools each, run by the work committee, whose principal rotates yearly among the member
  units' secretaries: 2024 and 2025 confirmed, 2026 proposed by `principal_propose`. The county scale stops at
  60 amateur and 17 area schools: 78 schools to rank, as many as Huangpi's amateur schools.
- Every school's 2025 plan, funding lines (a few overspent, with the reason) and 六有 checklist (met, but for the weak
  school and one sound school, which the ranking's gate then keeps from 示范 and 优秀 whatever its score).
- The work committee's instructor pool (30 instructors in the three teams, a few of them leaders of the plan, so
  that teaching earns them hours later), its point rules, ~40 courses over the seven categories with four modules
  (three near the 40/40/20 mix, one off it), and three 2025 premium rounds, scored and closed.
- Bookings: a year of completed 2025 sessions, and, relative to today, submitted, scheduled (in the coming weeks),
  returned and draft ones. No instructor and no venue is ever booked twice at the same time.
- The 2025 evaluation of every school but the district one (its records score computed from what the school did),
  and the ranking of the amateur schools published for the work committee (the 不合格 school gets its task).

Everything goes through the services with the system's access, so that it obeys their rules. The services
rightly refuse to file or schedule a booking in the past: the completed 2025 bookings are written with the ORM,
exactly as the services would have left them (status, instructor, time and venue, the trail of BookingEvents
draft → submitted → scheduled → completed with the services' notes, and the teaching points, which do go through
`instructor_points_award`).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.core.bulk import insert_rows
from dangjian.core.services import set_history
from dangjian.core.validators import FEMALE, MALE, add_years
from dangjian.members.models import Member, Post
from dangjian.orgs.models import OrgKind, UnitKind
from dangjian.schools.models import (
    BookingEvent,
    BookingRequest,
    BookingStatus,
    BuildMode,
    ContentType,
    Course,
    CourseCategory,
    CourseFormat,
    FundingPurpose,
    IndicatorKind,
    Instructor,
    InstructorTeam,
    PartySchool,
    PointEvent,
    SchoolLevel,
    SchoolVenue,
    StandardItem,
    TargetGroup,
    scheme_for,
)
from dangjian.schools.selectors.evaluation import active_indicators, composite_for
from dangjian.schools.services import booking as booking_services
from dangjian.schools.services import catalog as catalog_services
from dangjian.schools.services import evaluation as evaluation_services
from dangjian.schools.services import schools as school_services

MAX_AMATEUR_SCHOOLS = 60
MAX_AREA_SCHOOLS = 17
DISTRICT_CODE = "QHDX"
HISTORY_BOOKING_REASON = "加载演示数据：历史约课"
CENT = Decimal("0.01")

# ---------------------------------------------------------------------------------------------------------
# Material: the instructor pool, the catalog, notes.

# Topic tags → what an instructor of that tag is good at (擅长专题).
TOPICS = {
    "theory": "习近平新时代中国特色社会主义思想、党的二十届三中全会精神、中国式现代化",
    "party": "党务工作规范、发展党员、“三会一课”、党组织换届选举",
    "rural": "乡村振兴政策、县域特色产业、农村集体经济",
    "governance": "基层治理、矛盾纠纷化解、新时代“枫桥经验”、校园安全与应急管理",
    "law": "教育法律法规、党章党规党纪、纪律处分条例、廉洁教育",
    "econ": "县域经济、财政资金管理、防范化解金融风险",
    "red": "党史学习教育、红色文化、革命传统教育",
    "edu": "习近平总书记关于教育的重要论述、师德师风、教育强国建设",
    "model": "先进事迹报告、师德典型、榜样引领",
    "general": "心理健康与压力调适、公文写作、调查研究",
}
LEAD, PRO, BACKBONE = "领学宣讲团", "专业讲师团", "骨干讲师团"
# (team, employer, title, tag); the leaders of the plan who teach are added to 骨干讲师团 (see _leader_instructors).
INSTRUCTORS = (
    (LEAD, "中共邢台市委党校", "教授、科学社会主义教研室主任", "theory"),
    (LEAD, "中共邢台市委党校", "副教授", "theory"),
    (LEAD, "中共邢台市委党校", "副教授、党史党建教研室副主任", "red"),
    (LEAD, "邢台市委宣讲团", "宣讲团成员、市委宣传部理论科科长", "theory"),
    (LEAD, "邢台学院马克思主义学院", "教授", "theory"),
    (LEAD, "邢台学院马克思主义学院", "副教授", "edu"),
    (LEAD, "河北省委讲师团", "特聘宣讲专家", "rural"),
    (LEAD, "邢台市委党史研究室", "副主任", "red"),
    (PRO, "中共清河县委党校", "常务副校长、高级讲师", "theory"),
    (PRO, "中共清河县委党校", "教务科科长、讲师", "party"),
    (PRO, "中共清河县委党校", "高级讲师", "econ"),
    (PRO, "中共清河县委党校", "讲师", "governance"),
    (PRO, "中共清河县委党校", "讲师", "law"),
    (PRO, "中共清河县委党校", "助理讲师", "red"),
    (PRO, "中共清河县委组织部", "组织科科长", "party"),
    (PRO, "中共清河县纪委监委", "党风政风监督室主任", "law"),
    (PRO, "清河县司法局", "普法与依法治理股股长", "law"),
    (PRO, "清河县农业农村局", "乡村振兴股股长、农艺师", "rural"),
    (PRO, "清河县财政局", "教科文股股长", "econ"),
    (PRO, "清河县教师发展中心", "心理健康教育教研员", "general"),
    (BACKBONE, "清河县城关镇中学", "河北省优秀共产党员、高级教师", "model"),
    (BACKBONE, "清河县实验小学", "河北省师德标兵、语文教师", "model"),
    (BACKBONE, "清河县柳林镇王庄村党支部", "党支部书记、全省乡村振兴带头人", "rural"),
    (BACKBONE, "清河县民办教育机构党委", "专职副书记", "party"),
    (BACKBONE, "清河县教育局", "安全稳定股股长", "governance"),
    (BACKBONE, "清河县教育局", "教研室主任", "general"),
)
PARTY_SCHOOL_EMPLOYER = "中共清河县委党校"

C = CourseCategory
F = CourseFormat
POL, PRA, MOD = ContentType.POLITICAL_THEORY, ContentType.GRASSROOTS_PRACTICE, ContentType.EXEMPLARY_MODEL
# (title, category, format, content type, hours (None: the format's), targets: S 书记 W 党务工作者 M 普通党员, tag)
COURSES = (
    ("习近平新时代中国特色社会主义思想专题辅导", C.POLITICAL_THEORY, F.PACK, POL, None, "SWM", "theory"),
    ("深入学习贯彻党的二十届三中全会精神", C.POLITICAL_THEORY, F.PACK, POL, None, "SWM", "theory"),
    ("习近平总书记关于“三农”工作的重要论述", C.POLITICAL_THEORY, F.PACK, POL, None, "SW", "rural"),
    ("习近平总书记关于教育的重要论述", C.POLITICAL_THEORY, F.PACK, POL, None, "SWM", "edu"),
    ("奋斗百年路 启航新征程", C.POLITICAL_THEORY, F.PACK, POL, None, "SWM", "red"),
    ("新时代党的建设总要求", C.POLITICAL_THEORY, F.MICRO, POL, None, "M", "party"),
    ("中国式现代化的理论与实践", C.POLITICAL_THEORY, F.ONLINE, POL, "2", "SWM", "theory"),
    ("全面从严治党与党风廉政建设", C.POLITICAL_THEORY, F.PACK, POL, None, "SW", "law"),
    ("县域经济高质量发展", C.ECONOMY_FINANCE, F.PACK, PRA, None, "SW", "econ"),
    ("乡村振兴政策解读", C.ECONOMY_FINANCE, F.PACK, PRA, None, "SWM", "rural"),
    ("教育经费管理与财务规范", C.ECONOMY_FINANCE, F.PACK, PRA, None, "W", "econ"),
    ("防范金融风险与反电信网络诈骗", C.ECONOMY_FINANCE, F.MICRO, PRA, None, "M", "econ"),
    ("发展壮大农村集体经济", C.ECONOMY_FINANCE, F.ONLINE, PRA, "1.5", "S", "rural"),
    ("基层治理实务", C.PUBLIC_ADMIN, F.PACK, PRA, None, "SW", "governance"),
    ("新时代“枫桥经验”与矛盾纠纷化解", C.PUBLIC_ADMIN, F.PACK, PRA, None, "SW", "governance"),
    ("网格化管理与为民服务", C.PUBLIC_ADMIN, F.MICRO, PRA, None, "WM", "governance"),
    ("校园安全与应急管理", C.PUBLIC_ADMIN, F.PACK, PRA, None, "SW", "governance"),
    ("意识形态工作责任制落实", C.PUBLIC_ADMIN, F.PACK, POL, None, "SW", "theory"),
    ("教育法律法规要点解读", C.LAW, F.PACK, PRA, None, "SWM", "law"),
    ("党章党规党纪专题辅导", C.LAW, F.PACK, POL, None, "SWM", "law"),
    ("《中国共产党纪律处分条例》解读", C.LAW, F.MICRO, POL, None, "M", "law"),
    ("未成年人保护法与校园欺凌防治", C.LAW, F.PACK, PRA, None, "WM", "law"),
    ("民办教育促进法与校外培训监管", C.LAW, F.PACK, PRA, None, "SW", "law"),
    ("宪法精神与依法治校", C.LAW, F.ONLINE, POL, None, "M", "law"),
    ("党务工作基本规范与“三会一课”", C.PROFESSIONAL, F.PACK, PRA, None, "SW", "party"),
    ("发展党员工作流程与“525”工作法", C.PROFESSIONAL, F.PACK, PRA, None, "SW", "party"),
    ("党费收缴、使用和管理", C.PROFESSIONAL, F.MICRO, PRA, None, "W", "party"),
    ("基层党组织换届选举实务", C.PROFESSIONAL, F.PACK, PRA, None, "SW", "party"),
    ("基层党组织书记集中轮训班", C.PROFESSIONAL, F.INTENSIVE, PRA, None, "S", "party"),
    ("党务工作者网络培训课程", C.PROFESSIONAL, F.ONLINE, PRA, "3", "W", "party"),
    ("主题党日活动的组织与创新", C.PROFESSIONAL, F.MICRO, PRA, None, "SW", "party"),
    ("师德师风建设专题", C.GENERAL, F.PACK, POL, None, "SWM", "edu"),
    ("弘扬新时代教育家精神", C.GENERAL, F.PACK, MOD, None, "SWM", "model"),
    ("榜样的力量：全国优秀教师事迹报告", C.GENERAL, F.MICRO, MOD, None, "M", "model"),
    ("教师心理健康与压力调适", C.GENERAL, F.PACK, PRA, None, "M", "general"),
    ("公文写作与调查研究", C.GENERAL, F.PACK, PRA, None, "W", "general"),
    ("红色影片《古田军号》观影研讨", C.GENERAL, F.ONLINE, MOD, "2", "M", "red"),
    ("红色教育现场教学：县革命烈士陵园", C.ONSITE, F.ONSITE, MOD, None, "SWM", "red"),
    ("乡村振兴示范村现场教学", C.ONSITE, F.ONSITE, MOD, None, "SW", "rural"),
    ("基层党建示范点观摩", C.ONSITE, F.ONSITE, PRA, None, "SW", "party"),
    ("廉政教育基地警示教育", C.ONSITE, F.ONSITE, POL, None, "SWM", "law"),
    ("优秀共产党员先进事迹现场教学", C.ONSITE, F.ONSITE, MOD, None, "M", "model"),
)
# Modules (Xiqing's three, 40/40/20 by hours, and one that departs from it), by course title.
MODULES = (
    (
        "乡村振兴",
        "面向农村学校和乡镇党员：政治理论8学时、基层实务8学时、先进模范4学时。",
        (
            "习近平总书记关于“三农”工作的重要论述",
            "习近平新时代中国特色社会主义思想专题辅导",
            "乡村振兴政策解读",
            "县域经济高质量发展",
            "乡村振兴示范村现场教学",
        ),
    ),
    (
        "基层治理",
        "面向党组织书记和党务工作者：意识形态、基层治理与矛盾化解。",
        (
            "意识形态工作责任制落实",
            "深入学习贯彻党的二十届三中全会精神",
            "基层治理实务",
            "新时代“枫桥经验”与矛盾纠纷化解",
            "网格化管理与为民服务",
            "优秀共产党员先进事迹现场教学",
        ),
    ),
    (
        "党务工作",
        "面向新任党支部书记和党务工作者的党务基本功。",
        (
            "党章党规党纪专题辅导",
            "新时代党的建设总要求",
            "全面从严治党与党风廉政建设",
            "党务工作基本规范与“三会一课”",
            "发展党员工作流程与“525”工作法",
            "榜样的力量：全国优秀教师事迹报告",
            "弘扬新时代教育家精神",
        ),
    ),
    (
        "师德师风",
        "2025年新设模块，政治理论课程偏多，基层实务课程待补充。",
        (
            "师德师风建设专题",
            "习近平总书记关于教育的重要论述",
            "廉政教育基地警示教育",
            "教育法律法规要点解读",
            "弘扬新时代教育家精神",
        ),
    ),
)
# The 2025 premium rounds: category, quota.
PREMIUM_ROUNDS = ((C.POLITICAL_THEORY, 2), (C.PROFESSIONAL, 2), (C.ONSITE, 1))
POINT_RULES = (
    (PointEvent.CLASS_TAUGHT, "2", "每完成一次约课授课计2分"),
    (PointEvent.TRAINEE_RATING, "1", "学员评价满意率达90%以上的，每次加1分"),
    (PointEvent.PREMIUM_SELECTED, "5", "课程入选年度精品课程的，授课讲师每人加5分"),
)

# 六有 notes by item code: (met, not met).
CHECK_NOTES = {
    "leadership": (
        "成立校务委员会，党组织书记任校长，明确专人负责日常工作。",
        "校务委员会分工不明确，专职联络员未落实。",
    ),
    "venue": ("有固定教室和党员活动室，多媒体设备齐全。", "借用会议室办学，缺少固定教学场所。"),
    "instructors": ("从县师资库选聘讲师，建立校内兼职讲师队伍。", "校内兼职讲师不足，课程以观看视频为主。"),
    "management": ("学员档案、教学日志、考勤台账齐全。", "部分班次缺少考勤记录和教学日志。"),
    "funding": ("培训经费列入年度预算，专款专用。", "培训经费未单独列支，到位不及时。"),
    "results": ("学员评价满意率95%以上，形成调研成果2篇。", "培训后评估不足，成效材料不完整。"),
    "organization": ("县委教育工委统一领导，校务委员会按季度研究工作。", "校务委员会未按期召开。"),
    "plan": ("年度培训计划经工委会议审定并印发。", "年度培训计划未按时制定。"),
    "rules": ("教学、学员、经费等管理制度健全并上墙。", "管理制度不健全。"),
}
OVERSPENT_NOTES = {
    FundingPurpose.TEACHING: "下半年增办一期入党积极分子培训班，超支部分经党组织会议研究由党建工作经费列支。",
    FundingPurpose.INSTRUCTORS: "增加邀请市委宣讲团专家授课，超支部分已报县委教育工委备案。",
    FundingPurpose.VENUE: "增购远程教育终端和音响设备，超支部分由单位公用经费补足。",
    FundingPurpose.MATERIALS: "加印《党员学习参考》等学习资料，超支部分由党建工作经费列支。",
}
RETURN_REASON = "所选期间县委党校讲师已排满，请将期望日期调整到下月后重新提交。"
VENUE_EQUIPMENT = "多媒体投影、音响系统、远程教育终端"
ROADS = ("人民路", "建设路", "文化路", "育才路", "学府路", "振兴路", "府前街", "新华街")
SLOTS = {"morning": ((9, 0), (11, 30)), "afternoon": ((14, 30), (17, 0)), "onsite": ((8, 30), (12, 0))}
HALF_DAY = {"morning": "am", "onsite": "am", "afternoon": "pm"}  # what a venue is held for


def _system() -> Access:
    return Access.system_access()


def _at(day: dt.date, hm: tuple[int, int]) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(*hm)))


def _span(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """As the booking service writes a session on the trail."""
    return f"{timezone.localtime(starts_at):%Y-%m-%d %H:%M}至{timezone.localtime(ends_at):%H:%M}"


def _short(org_name: str) -> str:
    """清河县第一中学党委 → 清河县第一中学."""
    for suffix in ("党委", "党总支", "党支部"):
        if org_name.endswith(suffix):
            return org_name[: -len(suffix)]
    return org_name


# ---------------------------------------------------------------------------------------------------------
# The plan of the schools, in memory first.


@dataclass(eq=False)
class SchoolPlan:
    code: str
    name: str
    org: object  # the OrgPlan of the organization that runs it
    level: str
    mode: str
    address: str
    established_on: dt.date
    venues: list[tuple[str, int]]
    units: list = field(default_factory=list)  # UnitPlans: the member units of a joint school, in rotation order
    parent: SchoolPlan | None = None
    principal: Member | None = None
    deputy: str = ""
    weak: bool = False
    met: dict[str, bool] = field(default_factory=dict)  # 六有 item code → met
    scores: dict[int, Decimal] = field(default_factory=dict)  # indicator pk → score
    obj: PartySchool | None = None
    venue_objs: list[SchoolVenue] = field(default_factory=list)


class SchoolsDemo:
    def __init__(self, plan, seed: int):
        from dangjian.demo.builder import COUNTY, REFERENCE_DATE

        self.plan = plan
        self.county = COUNTY
        self.reference = REFERENCE_DATE
        self.year = REFERENCE_DATE.year
        self.rng = random.Random(seed * 104_729 + 5)
        self.by = _system()
        self.root = plan.root.obj
        self.units_by_org = {id(u.organization): u for u in plan.units if u.organization is not None}
        self.unit_of_member = {id(m): unit for m, _org, unit in plan.members}
        self.posts_by_org: dict[int, list] = {}
        for post in plan.posts:
            if post.end_date is None:
                self.posts_by_org.setdefault(id(post.organization), []).append(post)
        self.counts: dict[str, int] = {}
        self.overspent = 0
        # Who and what is busy when: (instructor pk, day) and (venue pk, day, slot).
        self.instructor_days: set[tuple[int, dt.date]] = set()
        self.venue_slots: set[tuple[int, dt.date, str]] = set()

    # -- helpers -------------------------------------------------------------------------------------------

    def _address(self) -> str:
        return f"{self.county}{self.rng.choice(ROADS)}{self.rng.randint(1, 300)}号"

    def _deputy_of(self, org_plan) -> str:
        """A deputy secretary of the organization, else a committee member, else a leadership member."""
        posts = self.posts_by_org.get(id(org_plan), [])
        for wanted in (Post.DEPUTY_SECRETARY, Post.COMMITTEE_MEMBER):
            for post in posts:
                if post.post == wanted:
                    return post.member.name
        secretary = self.plan.secretaries.get(org_plan)
        for member in self._subtree_members(org_plan):
            if member.is_leadership and member is not secretary:
                return member.name
        return self.plan.person_name(MALE)

    @staticmethod
    def _subtree_members(org_plan):
        for node in org_plan.walk():
            yield from node.members

    def _founded(self, first: int, last: int) -> dt.date:
        start = dt.date(first, 1, 1)
        return start + dt.timedelta(days=self.rng.randint(0, (dt.date(last, 12, 31) - start).days))

    def _money(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randint(low // 100, high // 100) * 100)

    # -- the whole ------------------------------------------------------------------------------------------

    def write(self) -> dict:
        self._point_rules()
        self._instructors()
        self._catalog()
        schools = self._plan_schools()
        self._plan_quality(schools)
        for school in schools:
            self._write_school(school)
        self.district = schools[0]
        self._premium_rounds()
        self._completed_bookings(schools)
        self._current_bookings(schools)
        self._evaluations(schools)
        self.counts["year"] = self.year
        self.counts["schools"] = len(schools)
        self.counts["venues"] = sum(len(s.venue_objs) for s in schools)
        self.counts["funding_overspent"] = self.overspent
        return self.counts

    # -- instructors and points ----------------------------------------------------------------------------

    def _point_rules(self) -> None:
        for event, points, description in POINT_RULES:
            catalog_services.point_rule_save(
                by=self.by,
                owner=self.root,
                event=event,
                points=Decimal(points),
                valid_from=self.year - 1,
                description=description,
            )

    def _leader_instructors(self) -> list[tuple[Member, str, str, str]]:
        """Leaders of the plan who teach (Huangpi: leaders 上讲台 earn hours): the work committee's secretary, the
        demo school committee's secretary, the first 党总支 school's and the first small school's secretary.
        (member, employer, title, tag)."""
        plan = self.plan
        chosen = [(plan.secretaries[plan.root], "县委教育工委书记、县教育局局长", "theory")]
        party_school = plan.party_school
        chosen.append((plan.secretaries[party_school], "党委书记", "party"))
        general = next((o for o in plan.root.children if o.kind == OrgKind.GENERAL_BRANCH), None)
        if general is not None:
            chosen.append((plan.secretaries[general], "党总支书记", "governance"))
        small = next(iter(self._small_school_orgs()), None)
        if small is not None:
            chosen.append((plan.secretaries[small], "党支部书记、校长", "edu"))
        rows, seen = [], set()
        for member, title, tag in chosen:
            if id(member) in seen:
                continue
            seen.add(id(member))
            unit = self.unit_of_member.get(id(member))
            employer = unit.name if unit is not None else f"{self.county}教育局"
            rows.append((member, employer, title, tag))
        return rows

    def _instructors(self) -> None:
        teams = {t.name: t for t in InstructorTeam.objects.filter(active=True)}
        fallback = InstructorTeam.objects.filter(active=True).order_by("order", "pk").first()
        self.instructors: list[Instructor] = []
        self.tags: dict[int, str] = {}
        self.linked: list[Instructor] = []
        used_names: set[str] = set()

        def add(name, team, employer, title, tag, member=None):
            appointed = dt.date(self.year - 1, 1, 1) + dt.timedelta(days=self.rng.randint(0, 420))
            appointed = min(appointed, dt.date(self.year, 2, 28))
            instructor = catalog_services.instructor_create(
                by=self.by,
                owner=self.root,
                name=name,
                team=teams.get(team, fallback),
                employer=employer,
                title=title,
                topics=TOPICS[tag],
                member=member,
                appointed_on=appointed,
                appointment_ends_on=add_years(appointed, 3) - dt.timedelta(days=1),  # a three-year letter
            )
            used_names.add(name)
            self.instructors.append(instructor)
            self.tags[instructor.pk] = tag
            return instructor

        for team, employer, title, tag in INSTRUCTORS:
            name = self.plan.person_name(self.rng.choice((MALE, FEMALE)))
            while name in used_names:
                name = self.plan.person_name(self.rng.choice((MALE, FEMALE)))
            add(name, team, employer, title, tag)
        for member, employer, title, tag in self._leader_instructors():
            self.linked.append(add(member.name, BACKBONE, employer, title, tag, member=member))
        self.liaisons = [i for i in self.instructors if i.employer == PARTY_SCHOOL_EMPLOYER]
        self.counts["instructors"] = len(self.instructors)

    # -- the catalog ----------------------------------------------------------------------------------------

    def _catalog(self) -> None:
        rng = self.rng
        by_tag: dict[str, list[Instructor]] = {}
        for instructor in self.instructors:
            by_tag.setdefault(self.tags[instructor.pk], []).append(instructor)
        self.courses: dict[str, Course] = {}
        self.course_instructors: dict[int, list[Instructor]] = {}
        # Who teaches what, planned first: one or two instructors of the course's topic, those who teach nothing
        # yet first (the leaders first of all on the courses that can be booked); then anyone left without a
        # course joins one of their topic.
        linked = {i.pk for i in self.linked}
        load = dict.fromkeys((i.pk for i in self.instructors), 0)  # courses planned per instructor
        plan: dict[str, list[Instructor]] = {}
        for title, _category, fmt, _content, _hours, _targets, tag in COURSES:
            bookable = fmt in (CourseFormat.PACK, CourseFormat.ONSITE)
            pool = by_tag.get(tag) or self.instructors
            pool = sorted(pool, key=lambda i: (load[i.pk], not (bookable and i.pk in linked), rng.random()))
            plan[title] = pool[: rng.choice((1, 1, 2))]
            for i in plan[title]:
                load[i.pk] += 1
        for instructor in self.instructors:
            if not load[instructor.pk]:
                tag = self.tags[instructor.pk]
                fits = [c[0] for c in COURSES if c[6] == tag and len(plan[c[0]]) < 3] or [COURSES[0][0]]
                plan[rng.choice(fits)].append(instructor)
                load[instructor.pk] += 1
        for title, category, fmt, content, hours, targets, _tag in COURSES:
            chosen = plan[title]
            data = catalog_services.CourseData(
                title=title,
                category=category,
                format=fmt,
                content_type=content,
                hours=Decimal(hours) if hours else None,
                for_secretaries="S" in targets,
                for_party_workers="W" in targets,
                for_members="M" in targets,
                instructors=chosen,
                summary=f"{title}。适用对象：{'、'.join(self._target_labels(targets))}。",
                materials="课件PPT、学习参考资料、课后思考题",
            )
            course = catalog_services.course_create(by=self.by, owner=self.root, data=data)
            self.courses[title] = course
            self.course_instructors[course.pk] = chosen
        self.counts["courses"] = len(self.courses)
        for name, description, titles in MODULES:
            catalog_services.module_save(
                by=self.by,
                owner=self.root,
                name=name,
                description=description,
                courses=[self.courses[t] for t in titles],
            )
        self.counts["modules"] = len(MODULES)

    @staticmethod
    def _target_labels(targets: str) -> list[str]:
        labels = {
            "S": TargetGroup.SECRETARIES.label,
            "W": TargetGroup.PARTY_WORKERS.label,
            "M": TargetGroup.MEMBERS.label,
        }
        return [labels[t] for t in targets]

    def _premium_rounds(self) -> None:
        rng = self.rng
        selected = 0
        for category, quota in PREMIUM_ROUNDS:
            round_ = catalog_services.premium_round_create(
                by=self.by, owner=self.root, year=self.year, category=category, quota=quota
            )
            entries = [
                catalog_services.premium_entry_add(by=self.by, round=round_, course=course)
                for course in self.courses.values()
                if course.category == category and course.format != CourseFormat.ONLINE
            ]
            scores = rng.sample(range(7600, 9700, 5), len(entries))
            for entry, score in zip(entries, scores, strict=True):
                catalog_services.premium_score(by=self.by, entry=entry, score=Decimal(score) / 100)
            result = catalog_services.premium_round_close(by=self.by, round=round_)
            selected += len(result.selected)
        self.counts["premium_rounds"] = len(PREMIUM_ROUNDS)
        self.counts["premium_courses"] = selected

    # -- schools --------------------------------------------------------------------------------------------

    def _small_school_orgs(self) -> list:
        """The single-branch schools directly under the root (not the bureau's branch)."""
        return [
            o
            for o in self.plan.root.children
            if o.kind == OrgKind.BRANCH
            and (unit := self.units_by_org.get(id(o))) is not None
            and unit.kind == UnitKind.SCHOOL
        ]

    def _plan_schools(self) -> list[SchoolPlan]:
        rng, county, root_plan = self.rng, self.county, self.plan.root
        founded = self._founded
        district = SchoolPlan(
            code=DISTRICT_CODE,
            name=f"中共{county}委党校",
            org=root_plan,
            level=SchoolLevel.DISTRICT,
            mode=BuildMode.INDEPENDENT,
            address=f"{county}学府路88号",
            established_on=dt.date(1984, 10, 1),
            venues=[("报告厅", 300), ("第一教室", 80), ("党性教育体验馆", 50)],
            principal=self.plan.secretaries[root_plan],
            deputy=self.liaisons[0].name if self.liaisons else "",
        )
        schools = [district]

        small = self._small_school_orgs()
        training = next((o for o in small if self.units_by_org[id(o)].name == f"{county}教师进修学校"), None)
        if training is not None:
            unit = self.units_by_org[id(training)]
            schools.append(
                SchoolPlan(
                    code=f"{DISTRICT_CODE}-JX",
                    name=f"{county}教师进修学校业余党校",
                    org=training,
                    level=SchoolLevel.AMATEUR,
                    mode=BuildMode.EXTENDED,
                    address=unit.address,
                    established_on=founded(2019, 2021),
                    venues=[("培训楼多功能厅", 120)],
                    parent=district,
                    principal=self.plan.secretaries[training],
                    deputy=self._deputy_of(training),
                )
            )
            small = [o for o in small if o is not training]

        amateur_orgs = [o for o in root_plan.children if o.kind in (OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH)]
        if self.plan.party_school not in amateur_orgs[:MAX_AMATEUR_SCHOOLS]:
            amateur_orgs.remove(self.plan.party_school)
            amateur_orgs.insert(0, self.plan.party_school)
        for org in amateur_orgs[:MAX_AMATEUR_SCHOOLS]:
            unit = self.units_by_org.get(id(org))
            big = org.kind == OrgKind.COMMITTEE
            schools.append(
                SchoolPlan(
                    code=f"YYDX-{org.code.split('-', 1)[1]}",
                    name=f"{_short(org.name)}业余党校",
                    org=org,
                    level=SchoolLevel.AMATEUR,
                    mode=BuildMode.INDEPENDENT,
                    address=unit.address if unit is not None else self._address(),
                    established_on=founded(2016, 2021),
                    venues=[("党员活动室", rng.randint(40, 80))] + ([("报告厅", rng.randint(150, 300))] if big else []),
                    principal=self.plan.secretaries[org],
                    deputy=self._deputy_of(org),
                )
            )

        # 片区业余党校: joint schools of 3–5 small schools each, as many as the small schools allow.
        areas = min(MAX_AREA_SCHOOLS, len(small) // 3)
        from dangjian.demo.builder import AREAS, TOWNS

        names = [f"{a}片区" for a in AREAS] + [f"{t}片区" for t in TOWNS]
        pool = list(small)
        for i in range(areas):
            left_after = areas - i - 1
            size = rng.randint(3, max(3, min(5, len(pool) - 3 * left_after)))
            members, pool = pool[:size], pool[size:]
            units = [self.units_by_org[id(o)] for o in members]
            rng.shuffle(units)
            host = units[0]
            schools.append(
                SchoolPlan(
                    code=f"PQDX-{i + 1:02d}",
                    name=f"{county}{names[i % len(names)]}业余党校",
                    org=root_plan,
                    level=SchoolLevel.AREA_AMATEUR,
                    mode=BuildMode.JOINT,
                    address=host.address,
                    established_on=founded(2020, 2023),
                    venues=[(f"{_short(host.name).removeprefix(county)}党员活动室", rng.randint(30, 60))],
                    units=units,
                    deputy=self.plan.secretaries[units[-1].organization].name,
                )
            )
        return schools

    def _plan_quality(self, schools: list[SchoolPlan]) -> None:
        """Every school's 2025 六有 checklist and, but for the district school, its evaluation scores: a realistic
        spread; one weak area school (it ends last: 不合格); one sound school missing one 六有 item."""
        rng = self.rng
        indicators = active_indicators()
        self.indicators = indicators
        schemes = dict.fromkeys(scheme_for(SimpleNamespace(level=s.level)) for s in schools)
        items = {
            scheme: list(StandardItem.objects.filter(scheme=scheme, active=True).order_by("order", "pk"))
            for scheme in schemes
        }
        self.items = items
        rankable = [s for s in schools if s.level != SchoolLevel.DISTRICT]
        joint = [s for s in rankable if s.mode == BuildMode.JOINT] or rankable
        if rankable:
            rng.choice(joint).weak = True
        # One sound school misses one 六有 item: the ranking's gate keeps it from 示范 and 优秀 whatever its score.
        sound = [s for s in rankable if not s.weak]
        gated = rng.choice(sound) if len(sound) >= 4 else None
        for school in schools:
            codes = [i.code for i in items[scheme_for(SimpleNamespace(level=school.level))]]
            if school.level == SchoolLevel.DISTRICT:
                school.met = dict.fromkeys(codes, True)
                continue
            if school.weak:
                unmet = set(rng.sample(codes, min(2, len(codes))))
                school.met = {c: c not in unmet for c in codes}
            elif school is gated:
                unmet = {rng.choice(codes)}
                school.met = {c: c not in unmet for c in codes}
            else:
                school.met = dict.fromkeys(codes, True)
            school.scores = self._scores(school, indicators)
        if not rankable:
            return

        def composite(school):
            return composite_for(school.scores, indicators)

        others = [s for s in rankable if not s.weak]
        weak = next(s for s in rankable if s.weak)
        # The weak school ends last, clearly.
        for _ in range(40):
            if not others or composite(weak) < min(composite(s) for s in others) - Decimal("1"):
                break
            for ind in indicators:
                weak.scores[ind.pk] = max(Decimal(0), (weak.scores[ind.pk] * Decimal("0.95")).quantize(CENT))

    def _scores(self, school: SchoolPlan, indicators) -> dict[int, Decimal]:
        rng = self.rng
        quality = rng.uniform(56, 62) if school.weak else rng.triangular(66, 96, 84)
        scores = {}
        for ind in indicators:
            if ind.kind == IndicatorKind.STANDARD:
                met = school.met.get(ind.code.removeprefix("liuyou_"), rng.random() < 0.9)
                fraction = rng.choice((8, 8.5, 9, 9.5, 10) if met else (4, 4.5, 5, 5.5, 6)) / 10
            else:
                spread = {IndicatorKind.FIELD_CHECK: (-3, 3), IndicatorKind.RECORDS_CHECK: (-6, 4)}.get(
                    ind.kind, (-4, 5)
                )
                fraction = min(0.97, max(0.3, (quality + rng.uniform(*spread)) / 100))
            scores[ind.pk] = (Decimal(str(round(fraction * 2 * 100))) / 200 * ind.max_score).quantize(CENT)
        return scores

    def _write_school(self, school: SchoolPlan) -> None:
        by, rng, year = self.by, self.rng, self.year
        liaison = ""
        if school.level != SchoolLevel.DISTRICT and self.liaisons:
            pool = self.liaisons[1:] or self.liaisons  # the first is the district school's deputy principal
            liaison = pool[rng.randrange(len(pool))].name
        school.obj = school_services.school_create(
            by=by,
            code=school.code,
            name=school.name,
            organization=school.org.obj,
            level=school.level,
            build_mode=school.mode,
            parent=school.parent.obj if school.parent else None,
            address=school.address,
            equipment=VENUE_EQUIPMENT,
            deputy_principal=school.deputy,
            liaison=liaison,
            established_on=school.established_on,
        )
        for name, capacity in school.venues:
            venue = school_services.venue_add(
                by=by,
                school=school.obj,
                name=name,
                address=school.address,
                capacity=capacity,
                equipment=VENUE_EQUIPMENT if capacity >= 60 else "投影仪、音响",
            )
            school.venue_objs.append(venue)
        if school.mode == BuildMode.JOINT:
            for unit in school.units:
                school_services.joint_unit_add(by=by, school=school.obj, unit=unit.obj)
            for term_year in (year - 1, year):
                term = school_services.principal_propose(by=by, school=school.obj, year=term_year)
                school_services.principal_confirm(by=by, term=term)
            school_services.principal_propose(by=by, school=school.obj, year=year + 1)
        else:
            principal = school.principal
            school_services.principal_set(by=by, school=school.obj, year=year, name=principal.name, member=principal)

        district = school.level == SchoolLevel.DISTRICT
        classes = rng.randint(20, 30) if district else rng.randint(4, 10)
        trainees = classes * rng.randint(60, 120 if district else 60)
        school_services.plan_save(
            by=by,
            school=school.obj,
            year=year,
            plan=(
                f"{year}年度培训计划：以学习贯彻习近平新时代中国特色社会主义思想和党的二十届三中全会精神为主线，"
                f"全年计划办班{classes}期、培训党员{trainees}人次；分书记、党务工作者、普通党员三类开展分类培训，"
                "每季度至少开展一次现场教学或专题党课。"
            ),
            planned_classes=classes,
            planned_trainees=trainees,
        )
        scale = 8 if district else (1 if school.mode != BuildMode.JOINT else Decimal("0.6"))
        lines = {
            FundingPurpose.TEACHING: (12000, 24000),
            FundingPurpose.INSTRUCTORS: (4000, 9000),
            FundingPurpose.VENUE: (2000, 6000),
            FundingPurpose.MATERIALS: (1000, 3000),
        }
        for purpose, (low, high) in lines.items():
            allocated = self._money(int(low * scale), int(high * scale))
            if school.weak:
                spent, note = (allocated * Decimal(rng.uniform(0.3, 0.5))).quantize(CENT), "部分培训班次未按计划举办。"
            elif rng.random() < 0.12:
                spent = (allocated * Decimal(rng.uniform(1.05, 1.2))).quantize(Decimal("1"))
                note = OVERSPENT_NOTES[purpose]
            else:
                spent, note = (allocated * Decimal(rng.uniform(0.75, 0.99))).quantize(Decimal("1")), ""
            if purpose == FundingPurpose.MATERIALS and school.code.startswith("YYDX") and not self.overspent:
                spent, note = allocated + Decimal(800), OVERSPENT_NOTES[purpose]  # at least one overspent line
            self.overspent += spent > allocated
            school_services.funding_save(
                by=by, school=school.obj, year=year, purpose=purpose, allocated=allocated, spent=spent, note=note
            )
        for item in self.items[scheme_for(school.obj)]:
            met = school.met.get(item.code, True)
            notes = CHECK_NOTES.get(item.code, ("符合要求。", "尚未达标，待整改。"))
            school_services.standard_check_save(
                by=by, school=school.obj, year=year, item=item, met=met, note=notes[0] if met else notes[1]
            )

    # -- bookings -------------------------------------------------------------------------------------------

    def _free(self, instructor: Instructor, venue: SchoolVenue, day: dt.date, slot: str) -> bool:
        """One session a day per instructor, one per half day per venue, within the instructor's appointment."""
        return (
            (instructor.pk, day) not in self.instructor_days
            and (venue.pk, day, HALF_DAY[slot]) not in self.venue_slots
            and (instructor.appointed_on is None or instructor.appointed_on <= day)
            and (instructor.appointment_ends_on is None or day <= instructor.appointment_ends_on)
        )

    def _hold(self, instructor: Instructor, venue: SchoolVenue, day: dt.date, slot: str) -> None:
        self.instructor_days.add((instructor.pk, day))
        self.venue_slots.add((venue.pk, day, HALF_DAY[slot]))

    def _bookable(self) -> list[Course]:
        return [c for c in self.courses.values() if c.format in (CourseFormat.PACK, CourseFormat.ONSITE)]

    def _request(self, school: SchoolPlan, course: Course, instructor: Instructor | None = None):
        """What a school asks for: courses, instructor, topic, target group, headcount, venue and slot."""
        rng = self.rng
        instructor = instructor or rng.choice(self.course_instructors[course.pk])
        courses = [course]
        micro = [c for c in self.courses.values() if c.format == CourseFormat.MICRO]
        if course.format == CourseFormat.PACK and micro and rng.random() < 0.3:
            courses.append(rng.choice(micro))
        flags = {
            TargetGroup.SECRETARIES: course.for_secretaries,
            TargetGroup.PARTY_WORKERS: course.for_party_workers,
            TargetGroup.MEMBERS: course.for_members,
        }
        groups = [group for group, on in flags.items() if on]
        district = self.district.venue_objs
        own = school.venue_objs
        venue = rng.choice(district) if not own or rng.random() < 0.3 else rng.choice(own)
        slot = "onsite" if course.format == CourseFormat.ONSITE else rng.choice(("morning", "afternoon"))
        headcount = rng.randint(20, max(20, min(venue.capacity or 60, 150)))
        topic = f"{course.title}专题培训" if len(course.title) < 20 else course.title
        note = f"现场教学，{venue.name}集合后前往教学点" if slot == "onsite" else venue.name
        return SimpleNamespace(
            school=school,
            courses=courses,
            instructor=instructor,
            topic=topic,
            group=rng.choice(groups),
            headcount=headcount,
            venue=venue,
            slot=slot,
            venue_note=note,
        )

    def _completed_bookings(self, schools: list[SchoolPlan]) -> None:
        """A year of 2025 sessions, written with the ORM as the services would have left them (the booking
        service refuses wanted dates and sessions in the past); the teaching points through the service."""
        rng, year = self.rng, self.year
        requesting = [s for s in schools if s.level != SchoolLevel.DISTRICT]
        bookable = self._bookable()
        days = [
            d
            for n in range((dt.date(year, 12, 19) - dt.date(year, 3, 3)).days + 1)
            if (d := dt.date(year, 3, 3) + dt.timedelta(days=n)).weekday() < 5
        ]
        requests = []
        for instructor in self.linked:  # the leaders who teach do teach (Huangpi: 领导干部上讲台)
            mine = [c for c in bookable if instructor in self.course_instructors[c.pk]]
            if mine and requesting:
                requests.append(self._request(rng.choice(requesting), rng.choice(mine), instructor))
        for school in requesting:
            for _ in range(rng.randint(3, 5)):
                requests.append(self._request(school, rng.choice(bookable)))
        completed = 0
        for req in requests:
            for _ in range(60):
                day = rng.choice(days)
                if self._free(req.instructor, req.venue, day, req.slot):
                    break
            else:
                continue
            self._hold(req.instructor, req.venue, day, req.slot)
            self._write_completed(req, day)
            completed += 1
        self.counts["bookings_completed"] = completed

    def _write_completed(self, req, day: dt.date) -> None:
        rng, by = self.rng, self.by
        start_hm, end_hm = SLOTS[req.slot]
        starts_at, ends_at = _at(day, start_hm), _at(day, end_hm)
        wanted_from = day - dt.timedelta(days=rng.randint(0, 10))
        wanted_to = day + dt.timedelta(days=rng.randint(0, 14))
        created = _at(wanted_from - dt.timedelta(days=rng.randint(8, 20)), (9, rng.randint(0, 59)))
        submitted = created + dt.timedelta(days=rng.randint(0, 2), hours=rng.randint(1, 6))
        scheduled = submitted + dt.timedelta(days=rng.randint(1, 4), hours=rng.randint(1, 5))
        done = ends_at + dt.timedelta(hours=rng.randint(1, 40))
        booking = BookingRequest(
            school=req.school.obj,
            dispatcher=self.district.obj,
            topic=req.topic,
            target_group=req.group,
            headcount=req.headcount,
            wanted_from=wanted_from,
            wanted_to=wanted_to,
            venue_note=req.venue_note,
            status=BookingStatus.COMPLETED,
            instructor=req.instructor,
            starts_at=starts_at,
            ends_at=ends_at,
            venue=req.venue,
        )
        booking.full_clean(exclude=["courses"])
        set_history(booking, by, HISTORY_BOOKING_REASON)
        booking.save()
        booking.courses.set(req.courses)
        BookingRequest.objects.filter(pk=booking.pk).update(created_at=created, updated_at=done)
        entry = catalog_services.instructor_points_award(
            by=by, instructor=req.instructor, event=PointEvent.CLASS_TAUGHT, on=day, source=f"约课：{req.topic}"
        )
        if rng.random() < 0.55:
            rating = rng.randint(90, 100)
            catalog_services.instructor_points_award(
                by=by,
                instructor=req.instructor,
                event=PointEvent.TRAINEE_RATING,
                on=min(day + dt.timedelta(days=rng.randint(1, 5)), self.reference),
                source=f"学员评价：{req.topic}（满意率{rating}%）",
            )
        # The trail the services write at each step (booking_create, _submit, _schedule, _complete).
        steps = (
            (
                "",
                BookingStatus.DRAFT,
                created,
                f"约课邀请函：{len(req.courses)}门课程，派单党校{self.district.obj.name}",
            ),
            (BookingStatus.DRAFT, BookingStatus.SUBMITTED, submitted, "提交区委党校排课"),
            (
                BookingStatus.SUBMITTED,
                BookingStatus.SCHEDULED,
                min(scheduled, starts_at - dt.timedelta(hours=12)),
                f"排课：{_span(starts_at, ends_at)}，讲师{req.instructor.name}，场地{req.venue}",
            ),
            (
                BookingStatus.SCHEDULED,
                BookingStatus.COMPLETED,
                done,
                f"讲师{req.instructor.name}计授课积分{entry.points}分",
            ),
        )
        fields = [f for f in BookingEvent._meta.concrete_fields if not f.primary_key]
        rows = [
            SimpleNamespace(booking_id=booking.pk, from_status=a, to_status=b, by_id=None, at=at, note=note[:200])
            for a, b, at, note in steps
        ]
        insert_rows(BookingEvent, fields, rows, returning=False)  # `at` as given (auto_now_add would say "now")

    def _current_bookings(self, schools: list[SchoolPlan]) -> None:
        """Relative to today, through the services: submitted ones waiting, scheduled ones in the coming weeks
        (the first ones in the current month when it has days left), one returned with a reason, one draft."""
        rng, by = self.rng, self.by
        today = timezone.localdate()
        requesting = [s for s in schools if s.level != SchoolLevel.DISTRICT]
        if not requesting:
            return
        mine = next((s for s in requesting if s.org is self.plan.party_school), requesting[0])
        others = [s for s in requesting if s is not mine]

        def pick() -> SchoolPlan:
            return rng.choice(others or requesting)

        bookable = self._bookable()
        upcoming = [today + dt.timedelta(days=n) for n in range(1, 28)]
        weekdays = [d for d in upcoming if d.weekday() < 5] or upcoming
        this_month = [d for d in weekdays if d.month == today.month and d.year == today.year]
        made = dict.fromkeys(("draft", "submitted", "scheduled", "returned"), 0)

        def create(school, req, wanted_from, wanted_to):
            return booking_services.booking_create(
                by=by,
                school=school.obj,
                topic=req.topic,
                target_group=req.group,
                headcount=req.headcount,
                wanted_from=wanted_from,
                wanted_to=wanted_to,
                venue_note=req.venue_note,
                courses=req.courses,
            )

        # Scheduled in the coming weeks: two in the current month (when it has days left), two more after.
        for i, school in enumerate([mine, pick(), pick(), pick()]):
            req = self._request(school, rng.choice(bookable))
            candidates = (this_month if i < 2 and this_month else weekdays)[:]
            rng.shuffle(candidates)
            day = next((d for d in candidates if self._free(req.instructor, req.venue, d, req.slot)), None)
            if day is None:
                continue
            booking = create(school, req, max(today, day - dt.timedelta(days=3)), day + dt.timedelta(days=10))
            booking_services.booking_submit(by=by, booking=booking)
            start_hm, end_hm = SLOTS[req.slot]
            booking_services.booking_schedule(
                by=by,
                booking=booking,
                instructor=req.instructor,
                starts_at=_at(day, start_hm),
                ends_at=_at(day, end_hm),
                venue=req.venue,
            )
            self._hold(req.instructor, req.venue, day, req.slot)
            made["scheduled"] += 1
        # Submitted and waiting for the district school.
        for school in (mine, pick(), pick()):
            req = self._request(school, rng.choice(bookable))
            start = today + dt.timedelta(days=rng.randint(7, 20))
            booking = create(school, req, start, start + dt.timedelta(days=rng.randint(7, 21)))
            booking_services.booking_submit(by=by, booking=booking)
            made["submitted"] += 1
        # One returned with a reason.
        req = self._request(pick(), rng.choice(bookable))
        start = today + dt.timedelta(days=rng.randint(3, 10))
        booking = create(req.school, req, start, start + dt.timedelta(days=7))
        booking_services.booking_submit(by=by, booking=booking)
        booking_services.booking_return(by=by, booking=booking, reason=RETURN_REASON)
        made["returned"] += 1
        # One draft, of the demo school user's school.
        req = self._request(mine, rng.choice(bookable))
        start = today + dt.timedelta(days=rng.randint(20, 40))
        create(mine, req, start, start + dt.timedelta(days=14))
        made["draft"] += 1
        for status, n in made.items():
            self.counts[f"bookings_{status}"] = n
        self.counts["bookings"] = self.counts.get("bookings_completed", 0) + sum(made.values())

    # -- evaluation and ranking ----------------------------------------------------------------------------

    def _evaluations(self, schools: list[SchoolPlan]) -> None:
        by = self.by
        evaluated = 0
        indicators = {i.pk: i for i in self.indicators}
        for school in schools:
            if school.level == SchoolLevel.DISTRICT:
                continue
            evaluation_services.evaluation_save(
                by=by,
                school=school.obj,
                year=self.year,
                scores={indicators[pk]: score for pk, score in school.scores.items()},
                note="实地查看、查阅资料、学员评价、综合评定" + ("；培训班次和台账明显不足" if school.weak else ""),
            )
            evaluated += 1
        self.counts["evaluations"] = evaluated
        ranked = evaluation_services.ranking_publish(by=by, org=self.root, year=self.year) if evaluated else []
        self.counts["ranked"] = len(ranked)


def write_demo_schools(plan, *, seed: int) -> dict:
    """Write the party-school demo of the planned county `plan` (already written: its organizations, units and
    members carry their saved objects): schools, instructor pool, catalog, bookings, evaluations and the
    published 2025 ranking. Deterministic for a seed (the bookings around today aside). Returns the counts."""
    return SchoolsDemo(plan, seed).write()
