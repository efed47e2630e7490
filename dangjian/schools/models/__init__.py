"""Party schools (党校): schools, their venues, principals, plans, money and the 六有 checklist; the instructor
pool (师资库) and its points (积分); the course catalog (课程), modules and premium-course rounds (精品课程评选);
menu-style booking (约课 → 选课点单 → 排课派单); the annual evaluation and ranking (考评).

Sources: the Xiqing report (street/town party schools: 六有, three instructor teams, the 40/40/20 module mix,
quotas and 年终对账) and the Huangpi report (amateur schools: 六有/六个一, seven course categories, instructor
points, the annual ranking top 3 → 示范, top 15% → 优秀, the last → 不合格).

Scope. A school belongs to the organization that runs it; the catalog, the instructor pool, modules, point
rules and premium rounds belong to an owning organization too and are shared downwards: a user sees what is
owned inside their subtrees and what is owned by an ancestor of one of their subtree roots (a town school
picks from the district's catalog). Changes need a school-managing role (工委工作人员 or 党校管理员) over the
owner.

The models live in one module per seam — `scope` (the school roles' scope and the scoped querysets), `schools`,
`instructors`, `catalog`, `lecture_duty`, `booking`, `evaluation` — and are all imported here, so that Django registers
them and the rest of the code imports them from `dangjian.schools.models`.
"""

from dangjian.schools.models.booking import BookingEvent, BookingRequest, BookingStatus
from dangjian.schools.models.catalog import (
    DEFAULT_FORMAT_HOURS,
    DEFAULT_PREMIUM_REWARD_HOURS,
    ContentType,
    Course,
    CourseCategory,
    CourseFormat,
    CourseModule,
    PremiumEntry,
    PremiumRound,
    PremiumRoundStatus,
    TargetGroup,
    format_hours,
)
from dangjian.schools.models.evaluation import (
    EvaluationIndicator,
    Grade,
    IndicatorKind,
    IndicatorScore,
    RankingRule,
    RectificationStatus,
    RectificationTask,
    SchoolEvaluation,
    SchoolRanking,
    TieDecision,
)
from dangjian.schools.models.instructors import Instructor, InstructorTeam, PointEntry, PointEvent, PointRule
from dangjian.schools.models.lecture_duty import LECTURE_DUTY_LEVELS, LectureDuty, LectureDutyWhere, LectureDutyWho
from dangjian.schools.models.schools import (
    BuildMode,
    FundingLine,
    FundingPurpose,
    JointSchoolUnit,
    PartySchool,
    PrincipalTerm,
    SchoolAnnualPlan,
    SchoolLevel,
    SchoolVenue,
    StandardCheck,
    StandardItem,
    StandardScheme,
    scheme_for,
)
from dangjian.schools.models.scope import (
    ZERO,
    SchoolScopedQuerySet,
    school_code_validator,
    school_manage_roots,
    school_scoped,
    school_view_roots,
    shared_q,
)

__all__ = [
    "DEFAULT_FORMAT_HOURS",
    "DEFAULT_PREMIUM_REWARD_HOURS",
    "LECTURE_DUTY_LEVELS",
    "ZERO",
    "BookingEvent",
    "BookingRequest",
    "BookingStatus",
    "BuildMode",
    "ContentType",
    "Course",
    "CourseCategory",
    "CourseFormat",
    "CourseModule",
    "EvaluationIndicator",
    "FundingLine",
    "FundingPurpose",
    "Grade",
    "IndicatorKind",
    "IndicatorScore",
    "Instructor",
    "InstructorTeam",
    "JointSchoolUnit",
    "LectureDuty",
    "LectureDutyWhere",
    "LectureDutyWho",
    "PartySchool",
    "PointEntry",
    "PointEvent",
    "PointRule",
    "PremiumEntry",
    "PremiumRound",
    "PremiumRoundStatus",
    "PrincipalTerm",
    "RankingRule",
    "RectificationStatus",
    "RectificationTask",
    "SchoolAnnualPlan",
    "SchoolEvaluation",
    "SchoolLevel",
    "SchoolRanking",
    "SchoolScopedQuerySet",
    "SchoolVenue",
    "StandardCheck",
    "StandardItem",
    "StandardScheme",
    "TargetGroup",
    "TieDecision",
    "format_hours",
    "scheme_for",
    "school_code_validator",
    "school_manage_roots",
    "school_scoped",
    "school_view_roots",
    "shared_q",
]
