"""The demo district (演示数据): a county's education system, generated deterministically from a seed.

The county (清河县) has an education work committee at the root and, under it:

- the education bureau's 机关党委 (or, at small scale, one 机关党支部);
- the private-education institutions' party committee (民办教育机构党委), whose joint branches (联合党支部) each
  cover 3–5 off-campus training institutions, a few larger institutions with a branch of their own, and some
  institutions not yet covered (they still belong to the committee as their managing organization);
- the schools: a big school has a 党委 with 党总支 sections and 党支部 below them, a middle-sized one a 党总支,
  a small one a single 党支部.

Everything is planned in memory first, from `random.Random(seed)` and a seeded Faker, with every date anchored to
`REFERENCE_DATE`, so the same seed always yields the same organizations, codes, names and ID numbers. Then it is
written with `bulk_create` in one transaction: the tree's materialized paths are computed here rather than through
treebeard's one-node-at-a-time API, and every row gets its "created" history record as a normal save would.

Organization codes are hierarchical: the root is "QH", its children "QH-001", "QH-002" …, their children
"QH-003-01" …, one more "-NN" group per level, so a code shows where the organization sits in the tree.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import Role
from dangjian.core.bulk import insert_rows, value_getter
from dangjian.core.validators import FEMALE, MALE, add_years, id_check_char
from dangjian.demo.committees_demo import write_demo_committees
from dangjian.demo.development_demo import write_demo_development
from dangjian.demo.dues_demo import write_demo_dues
from dangjian.demo.exams_demo import write_demo_exams
from dangjian.demo.hours import write_demo_hours
from dangjian.demo.learning_demo import write_demo_learning
from dangjian.demo.orglife_demo import write_demo_orglife
from dangjian.demo.schools_demo import write_demo_schools
from dangjian.demo.supervision_demo import write_demo_supervision
from dangjian.demo.training_demo import write_demo_training
from dangjian.members import models as member_models
from dangjian.members.models import Category, Education, Member, PartyPost, Post, Status
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind
from dangjian.training.models import HoursEntry, HoursYearClose, MemberHoursYear

REFERENCE_DATE = dt.date(2025, 12, 31)
DEMO_PASSWORD = "Dangjian@2026"
COUNTY = "清河县"
COUNTY_REGION_CODE = "130534"
ROOT_CODE = "QH"
HISTORY_REASON = "加载演示数据"

# The demo accounts, in the order they are listed, with the role each one holds.
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("admin", Role.SYSTEM_ADMIN),
    ("secadmin", Role.SECURITY_ADMIN),
    ("auditor", Role.AUDIT_ADMIN),
    ("committee", Role.COMMITTEE),
    ("school", Role.SCHOOL_ADMIN),
    ("secretary", Role.SECRETARY),
    ("instructor", Role.INSTRUCTOR),
    ("member", Role.MEMBER),
)
DEMO_USERNAMES: tuple[str, ...] = tuple(username for username, _ in DEMO_USERS)


@dataclass(frozen=True)
class Scale:
    """How big the demo county is: numbers of each kind of body and the size range of each kind of branch."""

    big_schools: int  # a 党委 with 党总支 sections
    medium_schools: int  # a 党总支 with branches
    small_schools: int  # a single 党支部
    joint_branches: int
    institution_branches: int  # larger institutions with a branch of their own
    uncovered_institutions: int
    bureau_branches: int  # 0: the bureau has a single 机关党支部
    sections: tuple[int, int]  # 党总支 per big school
    section_branches: tuple[int, int]  # branches per 党总支 of a big school
    medium_branches: tuple[int, int]  # branches of a 党总支 school
    big_branch_size: tuple[int, int]
    medium_branch_size: tuple[int, int]
    small_branch_size: tuple[int, int]
    retiree_branch_size: tuple[int, int]


SCALES: dict[str, Scale] = {
    # ≈ 500 members in ≈ 40 organizations.
    "small": Scale(
        big_schools=1,
        medium_schools=2,
        small_schools=10,
        joint_branches=4,
        institution_branches=1,
        uncovered_institutions=3,
        bureau_branches=0,
        sections=(2, 2),
        section_branches=(3, 3),
        medium_branches=(3, 4),
        big_branch_size=(14, 30),
        medium_branch_size=(10, 26),
        small_branch_size=(8, 28),
        retiree_branch_size=(12, 26),
    ),
    # ≈ 40,000 members in ≈ 2,000 organizations (the size of Tianjin-Xiqing's system in docs/rules.md).
    "county": Scale(
        big_schools=50,
        medium_schools=120,
        small_schools=310,
        joint_branches=60,
        institution_branches=6,
        uncovered_institutions=40,
        bureau_branches=8,
        sections=(3, 4),
        section_branches=(3, 5),
        medium_branches=(3, 6),
        big_branch_size=(14, 46),
        medium_branch_size=(12, 38),
        small_branch_size=(5, 32),
        retiree_branch_size=(15, 50),
    ),
    # ≈ 200,000 members in ≈ 10,000 organizations, ≥ 3,000,000 ledger entries: a city's education system, the
    # scale of the hours benchmark (bench/hours_bench.py). The county's mix, five times over.
    "city": Scale(
        big_schools=250,
        medium_schools=650,
        small_schools=1700,
        joint_branches=300,
        institution_branches=30,
        uncovered_institutions=200,
        bureau_branches=10,
        sections=(3, 4),
        section_branches=(3, 5),
        medium_branches=(3, 6),
        big_branch_size=(14, 46),
        medium_branch_size=(12, 38),
        small_branch_size=(5, 32),
        retiree_branch_size=(15, 50),
    ),
}
# The years of the demo hours ledger: the three complete years up to the reference date (promotion review looks at
# three), and the current year up to today, so that this year's reports show progress (进行中).
HOURS_YEARS = tuple(range(REFERENCE_DATE.year - 2, REFERENCE_DATE.year + 1))


def demo_hours_years(today: dt.date) -> tuple[int, ...]:
    return tuple(range(HOURS_YEARS[0], max(HOURS_YEARS[-1], today.year) + 1))


# ---------------------------------------------------------------------------------------------------------
# Name material.

TOWNS = (
    "城关镇 柳林镇 杨庄镇 石桥镇 河西镇 马坊镇 白塔镇 古城镇 新集镇 双河镇 龙泉镇 高桥镇 "
    "桃园乡 黄庄乡 枣林乡 南湖乡 北辛庄乡 王官屯镇 孙家集镇 青龙镇 永安镇 太平乡 长乐乡 东营镇"
).split()
VILLAGES = (
    "王庄 张庄 李家 刘村 前屯 后屯 东营 西营 高桥 柳河 杨树 槐树 枣园 梨园 南关 北关 河口 沙窝 "
    "马家 赵庄 孟庄 石佛 油坊 谢炉 葛仙 连庄 坝营 马屯 小屯 大营 双庙 三里 五里 七里 十里 白庄 黄河 "
    "辛庄 新村 尚庄"
).split()
AREAS = ("城东", "城西", "城南", "城北", "开发区")
ROADS = "人民路 建设路 解放路 文化路 育才路 长江路 黄河路 青年路 学府路 振兴路 府前街 幸福街 和平街 新华街".split()

INSTITUTION_BRANDS = (
    "启航 博雅 育英 明德 思源 智慧树 星火 书香 阳光 蓝天 翰林 卓越 金桥 远航 晨光 墨香 乐学 优学 童心 七彩 "
    "百灵鸟 小海豚 知行 致远 格致 求是 行知 弘毅 博学 青禾 春雨 雏鹰 鲲鹏 天骄 华英 领航 英才 睿智 慧源 "
    "启明星 满天星 彩虹 向日葵 小树苗 金话筒 墨韵 新起点 未来星 状元 尚学"
).split()
INSTITUTION_TYPES = (
    "培训学校 文化培训学校 艺术培训学校 美术培训学校 音乐培训学校 舞蹈培训学校 书法培训学校 "
    "体育培训中心 科技培训学校 围棋培训学校 编程培训中心 语言培训学校"
).split()

# The sections of a big school: (党总支 name, its possible branches). The first section always exists and holds
# the school's leadership team.
SECTIONS = {
    "high": (
        ("行政党总支", ("办公室党支部", "教务处党支部", "政教处党支部", "总务处党支部", "教科室党支部")),
        ("文科党总支", ("语文教研组党支部", "英语教研组党支部", "政治教研组党支部", "历史地理教研组党支部")),
        (
            "理科党总支",
            ("数学教研组党支部", "物理教研组党支部", "化学教研组党支部", "生物教研组党支部", "信息技术教研组党支部"),
        ),
        ("综合党总支", ("音乐美术教研组党支部", "体育教研组党支部", "心理健康教育中心党支部")),
    ),
    "primary": (
        ("行政党总支", ("校长办公室党支部", "教导处党支部", "德育处党支部", "后勤服务中心党支部")),
        ("低年级党总支", ("一年级党支部", "二年级党支部", "三年级党支部")),
        ("高年级党总支", ("四年级党支部", "五年级党支部", "六年级党支部")),
        ("学科党总支", ("语文教研组党支部", "数学教研组党支部", "英语教研组党支部", "艺体教研组党支部")),
    ),
    "vocational": (
        ("行政党总支", ("办公室党支部", "教务处党支部", "学生处党支部", "招生就业处党支部", "实训中心党支部")),
        ("机电专业部党总支", ("机电技术教研室党支部", "汽车运用与维修教研室党支部", "数控技术教研室党支部")),
        ("信息技术专业部党总支", ("计算机应用教研室党支部", "电子商务教研室党支部", "数字媒体教研室党支部")),
        ("现代服务专业部党总支", ("学前教育教研室党支部", "旅游服务教研室党支部", "会计事务教研室党支部")),
        ("公共基础部党总支", ("语文数学教研室党支部", "思政英语教研室党支部", "体育艺术教研室党支部")),
    ),
}
BUREAU_BRANCHES = (
    "局办公室党支部",
    "人事股党支部",
    "基础教育股党支部",
    "计划财务股党支部",
    "教研室党支部",
    "教育督导室党支部",
    "安全稳定股党支部",
    "民办教育管理股党支部",
    "电教仪器站党支部",
    "离退休干部党支部",
)

MALE_GIVEN = (
    "伟刚勇毅俊峰强军平东文辉力明永健志义兴良海山波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信杰涛昌成康"
    "星光天达安岩中茂进林有坚和博诚先敬振壮思群豪承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦奇翰朗宏鸣朋斌"
    "栋维启克伦翔旭鹏泽晨辰建家致树德行泰盛雄钧冠腾航弘卫红华"
)
FEMALE_GIVEN = (
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱霞香月媛艳瑞佳嘉琼"
    "勤珍莉桂叶璐娅琦晶妍茜秋珊莎锦青倩婷婉娴瑾颖露瑶怡雁蓓仪荷丹蓉君琴蕊薇菁梦岚婕馨韵园艺咏卿澜纯悦"
    "昭冰爽茗羽希宁欣滢筠柔竹凝晓欢枫芸菲亚宜舒丽阳妮宝雯萱雨曼紫"
)
MINORITIES = ("回族", "满族", "蒙古族", "壮族", "土家族", "苗族", "朝鲜族")
REGION_CODES = (COUNTY_REGION_CODE,) * 14 + ("130533", "130535", "130582", "130503", "371423", "371402")
MOBILE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    *"150 151 152 153 155 156 157 158 159 166 177 180 181 182 183 185 186 187 188 189 191 198 199".split(),
)

EDUCATION_WEIGHTS = {
    # postgraduate, bachelor, college, secondary vocational, high school, junior or below
    "staff": (15, 62, 18, 3, 2, 0),
    "leader": (30, 62, 8, 0, 0, 0),
    "retiree": (1, 25, 35, 25, 10, 4),
    "institution": (8, 58, 30, 2, 2, 0),
    "bureau": (30, 60, 10, 0, 0, 0),
}
EDUCATIONS = (
    Education.POSTGRADUATE,
    Education.BACHELOR,
    Education.COLLEGE,
    Education.SECONDARY_VOCATIONAL,
    Education.HIGH_SCHOOL,
    Education.JUNIOR_OR_BELOW,
)
# (youngest, oldest, most common) age on the reference date, and the share of women.
AGES = {
    "staff": (23, 59, 40),
    "leader": (36, 58, 49),
    "retiree": (60, 90, 68),
    "institution": (22, 52, 31),
    "bureau": (26, 59, 45),
}
FEMALE_SHARE = {"staff": 0.62, "leader": 0.35, "retiree": 0.45, "institution": 0.6, "bureau": 0.4}


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 42 → 四十二, 105 → 一百零五, 230 → 二百三十 (1–999)."""
    digits = "零一二三四五六七八九"
    if not 0 < n < 1000:
        raise ValueError(n)
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        if rest == 0:
            return digits[hundreds] + "百"
        tail = chinese_number(rest)
        if rest < 10:
            return digits[hundreds] + "百零" + tail
        return digits[hundreds] + "百" + ("一" + tail if rest < 20 else tail)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def path_step(n: int) -> str:
    """Treebeard's step for the n-th child (1-based): n in base 36, padded to the model's step length."""
    alphabet, out = Organization.alphabet, ""
    while n:
        n, r = divmod(n, len(alphabet))
        out = alphabet[r] + out
    if len(out) > Organization.steplen:
        raise ValueError("too many children for one organization")
    return out.rjust(Organization.steplen, alphabet[0])


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(kind_prefix: str, region: str, body: int) -> str:
    """A 统一社会信用代码 with valid check characters (GB 32100: prefix, region, GB 11714 code, check)."""
    digits = f"{body:08d}"
    rest = 11 - sum(int(d) * w for d, w in zip(digits, _ORG_CODE_WEIGHTS, strict=True)) % 11
    org_code = digits + {10: "X", 11: "0"}.get(rest, str(rest))
    first17 = kind_prefix + region + org_code
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


# ---------------------------------------------------------------------------------------------------------
# The plan: what will be written, built in memory first.


@dataclass(eq=False)
class OrgPlan:
    name: str
    kind: str
    established_on: dt.date
    children: list[OrgPlan] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    code: str = ""
    path: str = ""
    obj: Organization | None = None

    def add(self, child: OrgPlan) -> OrgPlan:
        self.children.append(child)
        return child

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(eq=False)
class UnitPlan:
    name: str
    kind: str
    credit_code: str
    address: str
    organization: OrgPlan | None
    managing: OrgPlan | None
    obj: Unit | None = None


@dataclass(eq=False)
class PostPlan:
    member: Member
    organization: OrgPlan
    post: str
    start_date: dt.date
    end_date: dt.date | None = None


@dataclass
class DemoSummary:
    scale: str
    seed: int
    organizations_by_kind: dict[str, int]
    units_by_kind: dict[str, int]
    members: int
    members_by_category: dict[str, int]
    posts: int
    usernames: list[str]
    seconds: float
    hours_entries: int = 0
    schools: dict[str, int] = field(default_factory=dict)
    training: dict[str, int] = field(default_factory=dict)
    orglife_records: int = 0
    committees: dict[str, int] = field(default_factory=dict)
    supervision: dict[str, int] = field(default_factory=dict)

    @property
    def organizations(self) -> int:
        return sum(self.organizations_by_kind.values())

    @property
    def units(self) -> int:
        return sum(self.units_by_kind.values())


class DemoPlanner:
    """Plans the demo county in memory. Same scale and seed → the same plan, on any machine and database."""

    def __init__(self, scale: Scale, seed: int):
        self.scale = scale
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        person = next(p for p in self.fake.get_providers() if hasattr(p, "first_names_male"))
        self._surnames = list(person.last_names)
        self._surname_weights = _cumulative(person.last_names.values())
        self._faker_given = {MALE: list(person.first_names_male), FEMALE: list(person.first_names_female)}
        self._used_ids: set[str] = set()
        self._used_phones: set[str] = set()
        self._credit_serial = 0
        self.units: list[UnitPlan] = []
        self.members: list[tuple[Member, OrgPlan, UnitPlan | None]] = []
        self.posts: list[PostPlan] = []
        # The bodies the demo accounts are attached to.
        self.party_school: OrgPlan | None = None
        self.secretary_branch: OrgPlan | None = None
        self.instructor_branches: list[OrgPlan] = []
        self.secretaries: dict[OrgPlan, Member] = {}  # each organization's current secretary
        self.root = self._plan()

    # -- helpers -------------------------------------------------------------------------------------------

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def _founded(self, first_year: int, last_year: int) -> dt.date:
        return self._date_between(dt.date(first_year, 1, 1), dt.date(last_year, 12, 31))

    def person_name(self, gender: str) -> str:
        surname = self.fake.random.choices(self._surnames, cum_weights=self._surname_weights)[0]
        if self.rng.random() < 0.35:
            given = self.rng.choice(self._faker_given[gender])
        else:
            pool = MALE_GIVEN if gender == MALE else FEMALE_GIVEN
            given = self.rng.choice(pool) + self.rng.choice(pool)
        return surname + given

    def _credit_code(self, prefix: str) -> str:
        self._credit_serial += 1
        body = 10_000_000 + self._credit_serial * 7919 % 89_999_989
        return credit_code(prefix, COUNTY_REGION_CODE, body)

    def _address(self, town: str | None = None) -> str:
        if town:
            return f"{COUNTY}{town}{self.rng.choice(ROADS)}{self.rng.randint(1, 200)}号"
        return f"{COUNTY}{self.rng.choice(ROADS)}{self.rng.randint(1, 600)}号"

    def _id_number(self, birth: dt.date, gender: str) -> str:
        while True:
            region = self.rng.choice(REGION_CODES)
            # The sequence's last digit is odd for men, even for women (GB 11643); 000 is not used.
            order = self.rng.randint(0, 499) * 2 + 1 if gender == MALE else self.rng.randint(1, 499) * 2
            first17 = f"{region}{birth:%Y%m%d}{order:03d}"
            if first17 not in self._used_ids:
                self._used_ids.add(first17)
                return first17 + id_check_char(first17)

    def _phone(self) -> str:
        while True:
            phone = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"
            if phone not in self._used_phones:
                self._used_phones.add(phone)
                return phone

    # -- people --------------------------------------------------------------------------------------------

    def member(
        self, org: OrgPlan, unit: UnitPlan | None, group: str, *, steady: bool = False, leader: bool = False
    ) -> Member:
        """One member of `org`. `steady`: a full, active member (branch committee candidates, leaders)."""
        rng = self.rng
        kind = "leader" if leader else group
        gender = FEMALE if rng.random() < FEMALE_SHARE[kind] else MALE
        youngest, oldest, mode = AGES[kind]
        age = int(rng.triangular(youngest, oldest + 1, mode))
        birth = REFERENCE_DATE - dt.timedelta(days=int(age * 365.25) + rng.randrange(365))
        adult = add_years(birth, 18)

        probationary = not steady and group != "retiree" and rng.random() < 0.035
        if probationary:
            join = self._date_between(max(adult, REFERENCE_DATE - dt.timedelta(days=360)), REFERENCE_DATE)
            full = None
        else:
            latest_join = REFERENCE_DATE - dt.timedelta(days=400)
            if group == "retiree":
                join_age = rng.triangular(18, 45, 25)
            elif rng.random() < 0.5:
                join_age = rng.triangular(19, 24, 21)  # at college
            else:
                join_age = rng.triangular(22, 45, 28)
            join = add_years(birth, int(join_age)) + dt.timedelta(days=rng.randrange(365))
            if join > latest_join:
                join = self._date_between(adult, latest_join)
            full = add_years(join, 1)
            if rng.random() < 0.06:  # probation extended
                full += dt.timedelta(days=rng.randint(180, 360))
            full = min(full, REFERENCE_DATE)

        status, changed = Status.ACTIVE, None
        if not steady and not probationary:
            roll = rng.random()
            if group == "retiree":
                status = Status.DECEASED if roll < 0.04 else Status.TRANSFERRED_OUT if roll < 0.05 else status
            elif roll < 0.025:
                status = Status.TRANSFERRED_OUT
            elif roll < 0.027:
                status = Status.SUSPENDED
            elif roll < 0.028:
                status = Status.EXPELLED
            elif roll < 0.030:
                status = Status.DECEASED
            if status != Status.ACTIVE:
                changed = self._date_between(min(full + dt.timedelta(days=1), REFERENCE_DATE), REFERENCE_DATE)

        ethnicity = "汉族" if rng.random() < 0.96 else rng.choice(MINORITIES)
        education = rng.choices(EDUCATIONS, weights=EDUCATION_WEIGHTS[kind])[0]
        member = Member(
            name=self.person_name(gender),
            gender=gender,
            ethnicity=ethnicity,
            birth_date=birth,
            id_number=self._id_number(birth, gender),
            phone=self._phone(),
            education=education,
            join_date=join,
            full_date=full,
            category=Category.PROBATIONARY if probationary else Category.FULL,
            status=status,
            status_changed_on=changed,
            is_leadership=leader,
        )
        org.members.append(member)
        self.members.append((member, org, unit))
        return member

    def staff_branch(
        self,
        org: OrgPlan,
        unit: UnitPlan | None,
        size: int,
        group: str,
        *,
        leaders: int = 0,
        cadres: int = 0,
        units: list[UnitPlan] | None = None,
    ) -> list[Member]:
        """Fill a branch: `leaders` leadership-team members first (the first `cadres` of them district-managed
        cadres), then at least three full members in all, then everybody else."""
        people = []
        for i in range(size):
            member_unit = self.rng.choice(units) if units else unit
            member = self.member(org, member_unit, group, steady=i < max(3, leaders), leader=i < leaders)
            member.is_district_cadre = i < cadres
            people.append(member)
        self.branch_posts(org)
        return people

    # -- posts ---------------------------------------------------------------------------------------------

    def _term_start(self) -> dt.date:
        return self._date_between(REFERENCE_DATE - dt.timedelta(days=3 * 365 - 30), REFERENCE_DATE - dt.timedelta(60))

    def post(self, member: Member, org: OrgPlan, post: str, start: dt.date, end: dt.date | None = None) -> None:
        earliest = (member.full_date or member.join_date) + dt.timedelta(days=1)
        start = min(max(start, earliest), end or REFERENCE_DATE)
        self.posts.append(PostPlan(member, org, post, start, end))

    @staticmethod
    def eligible(members: list[Member]) -> list[Member]:
        return [m for m in members if m.category == Category.FULL and m.status == Status.ACTIVE]

    def branch_posts(self, org: OrgPlan) -> None:
        """A branch's committee: a secretary always; from 7 members a committee of 3 or 5 (支部工作条例)."""
        candidates = self.eligible(org.members)
        start = self._term_start()
        self.post(candidates[0], org, Post.SECRETARY, start)
        self.secretaries[org] = candidates[0]
        if len(org.members) >= 7:
            seats = 5 if len(org.members) >= 25 and self.rng.random() < 0.6 else 3
            others = candidates[1:seats]
            if others and self.rng.random() < 0.3:
                self.post(others[0], org, Post.DEPUTY_SECRETARY, start)
                others = others[1:]
            for member in others:
                self.post(member, org, Post.COMMITTEE_MEMBER, start)
            # The previous term's secretary, for some branches: a post with an end date.
            if len(candidates) > seats and self.rng.random() < 0.25:
                previous = candidates[seats]
                end = start - dt.timedelta(days=1)
                self.post(previous, org, Post.SECRETARY, add_years(start, -3), end)

    def committee_posts(self, org: OrgPlan, people: list[Member], seats: int) -> None:
        """The committee of a 党委 / 党总支 / 工委: secretary, deputy, then 委员, from `people` in order."""
        start = self._term_start()
        people = list({id(m): m for m in people}.values())  # one seat each, in order
        for i, member in enumerate(people[:seats]):
            if i == 0:
                post = Post.SECRETARY
                self.secretaries[org] = member
            else:
                post = Post.DEPUTY_SECRETARY if i == 1 and seats >= 5 else Post.COMMITTEE_MEMBER
            self.post(member, org, post, start)

    def secretary_of(self, org: OrgPlan) -> Member:
        return self.secretaries[org]

    # -- the county ----------------------------------------------------------------------------------------

    def _plan(self) -> OrgPlan:
        root = OrgPlan(f"{COUNTY}教育工作委员会", OrgKind.WORK_COMMITTEE, dt.date(1992, 7, 1))
        bureau_leaders = self._plan_bureau(root)
        private = self._plan_private_education(root)
        schools = self._plan_schools(root)
        # The work committee: the bureau's leaders and the secretaries of the two biggest school committees.
        committee_people = bureau_leaders[:5] + [self.secretary_of(s) for s in schools[:2]]
        self.committee_posts(root, committee_people, 7)
        # The private-education committee: a bureau official, then secretaries of its own branches.
        branch_secretaries = [self.secretary_of(b) for b in private.children]
        self.committee_posts(private, bureau_leaders[5:6] + branch_secretaries, 5)
        self._number(root)
        return root

    def _plan_bureau(self, root: OrgPlan) -> list[Member]:
        unit = UnitPlan(f"{COUNTY}教育局", UnitKind.BUREAU, self._credit_code("11"), self._address(), None, root)
        self.units.append(unit)
        n = self.scale.bureau_branches
        if n == 0:
            top = root.add(OrgPlan(f"{COUNTY}教育局机关党支部", OrgKind.BRANCH, self._founded(1980, 1995)))
            unit.organization = top
            return self.staff_branch(top, unit, self.rng.randint(12, 18), "bureau", leaders=6, cadres=6)
        top = root.add(OrgPlan(f"{COUNTY}教育局机关党委", OrgKind.COMMITTEE, self._founded(1980, 1995)))
        unit.organization = top
        leaders: list[Member] = []
        for i, name in enumerate(BUREAU_BRANCHES[:n]):
            branch = top.add(OrgPlan(name, OrgKind.BRANCH, self._founded(1996, 2015)))
            if i == 0:
                leaders = self.staff_branch(branch, unit, self.rng.randint(14, 22), "bureau", leaders=7, cadres=7)
            else:
                self.staff_branch(branch, unit, self.rng.randint(6, 20), "bureau")
        secretaries = [self.secretary_of(b) for b in top.children[1:]]
        self.committee_posts(top, leaders[1:2] + secretaries, 5)
        return leaders

    def _plan_private_education(self, root: OrgPlan) -> OrgPlan:
        scale = self.scale
        private = root.add(OrgPlan(f"{COUNTY}民办教育机构党委", OrgKind.COMMITTEE, dt.date(2019, 6, 28)))
        names = [brand + kind for brand in INSTITUTION_BRANDS for kind in INSTITUTION_TYPES]
        self.rng.shuffle(names)
        names.reverse()  # pop() from the end takes them in shuffled order

        def institution(org: OrgPlan | None) -> UnitPlan:
            if not names:  # the city scale needs more names than brand × type: prefix a town
                town = TOWNS[self.rng.randrange(len(TOWNS))][:-1]
                names.extend(town + brand + kind for brand in INSTITUTION_BRANDS for kind in INSTITUTION_TYPES)
                self.rng.shuffle(names)
            unit = UnitPlan(
                f"{COUNTY}{names.pop()}",
                UnitKind.TRAINING_INSTITUTION,
                self._credit_code("52"),
                self._address(self.rng.choice(TOWNS[:4])),
                org,
                private,
            )
            self.units.append(unit)
            return unit

        per_area: Counter[str] = Counter()
        for i in range(scale.joint_branches):
            area = AREAS[i % len(AREAS)] if i < 2 * len(AREAS) else TOWNS[(i - 2 * len(AREAS)) % len(TOWNS)][:-1]
            per_area[area] += 1
            name = f"{area}片区培训机构第{chinese_number(per_area[area])}联合党支部"
            branch = private.add(OrgPlan(name, OrgKind.JOINT_BRANCH, self._founded(2019, 2024)))
            covered = [institution(branch) for _ in range(self.rng.randint(3, 5))]
            self.staff_branch(branch, None, self.rng.randint(3, 7), "institution", units=covered)
            if len(self.instructor_branches) < 3:
                self.instructor_branches.append(branch)
        for _ in range(scale.institution_branches):
            unit = institution(None)
            branch = private.add(OrgPlan(f"{unit.name}党支部", OrgKind.BRANCH, self._founded(2018, 2024)))
            unit.organization = branch
            self.staff_branch(branch, unit, self.rng.randint(3, 12), "institution")
        for _ in range(scale.uncovered_institutions):
            institution(None)
        return private

    def _school_names(self) -> tuple[list[tuple[str, str, str | None]], ...]:
        """(name, type, town) of the big, medium and small schools, all distinct."""
        scale = self.scale
        numbered = {"中学": 0, "小学": 0}

        def next_numbered(kind: str) -> tuple[str, str, None]:
            numbered[kind] += 1
            return f"{COUNTY}第{chinese_number(numbered[kind])}{kind}", "high" if kind == "中学" else "primary", None

        big = [
            next_numbered("中学"),
            next_numbered("中学"),
            (f"{COUNTY}职业技术教育中心", "vocational", None),
            (f"{COUNTY}实验中学", "high", None),
            next_numbered("小学"),
        ]
        while len(big) < scale.big_schools:
            big.append(next_numbered("中学" if len(big) % 2 else "小学"))
        big = big[: scale.big_schools]

        medium = []
        for suffix in ("中学", "中心小学", "实验学校", "第二中学"):
            for town in TOWNS:
                medium.append((f"{COUNTY}{town}{suffix}", "primary" if "小学" in suffix else "high", town))
        while len(medium) < scale.medium_schools:
            medium.append(next_numbered("中学" if len(medium) % 2 else "小学"))
        medium = medium[: scale.medium_schools]

        small = [
            (f"{COUNTY}实验小学", "primary", None),
            (f"{COUNTY}特殊教育学校", "primary", None),
            (f"{COUNTY}教师进修学校", "high", None),
        ]
        kindergartens = [(f"{COUNTY}{town}中心幼儿园", "kindergarten", town) for town in TOWNS]
        villages = [(f"{COUNTY}{town}{village}小学", "primary", town) for village in VILLAGES for town in TOWNS]
        pool = kindergartens + villages
        # Mix kindergartens in with the village schools, in an order fixed by the seed.
        picks = self.rng.sample(range(len(pool)), min(len(pool), max(0, scale.small_schools - len(small))))
        small += [pool[i] for i in sorted(picks, key=lambda i: (i % len(TOWNS), i))]
        return big, medium, small[: scale.small_schools]

    def _school_unit(self, name: str, town: str | None, root: OrgPlan) -> UnitPlan:
        unit = UnitPlan(name, UnitKind.SCHOOL, self._credit_code("12"), self._address(town), None, root)
        self.units.append(unit)
        return unit

    def _plan_schools(self, root: OrgPlan) -> list[OrgPlan]:
        scale, rng = self.scale, self.rng
        big, medium, small = self._school_names()
        tops = []
        for index, (name, school_type, town) in enumerate(big):
            unit = self._school_unit(name, town, root)
            top = root.add(OrgPlan(f"{name}党委", OrgKind.COMMITTEE, self._founded(1985, 2005)))
            unit.organization = top
            tops.append(top)
            templates = SECTIONS["vocational" if school_type == "vocational" else school_type]
            count = min(len(templates), rng.randint(*scale.sections))
            chosen = [templates[0], *[templates[i] for i in sorted(rng.sample(range(1, len(templates)), count - 1))]]
            leaders: list[Member] = []
            for s, (section_name, branch_names) in enumerate(chosen):
                section = top.add(OrgPlan(section_name, OrgKind.GENERAL_BRANCH, self._founded(2000, 2018)))
                k = min(len(branch_names), rng.randint(*scale.section_branches))
                for b, i in enumerate(sorted(rng.sample(range(len(branch_names)), k))):
                    branch = section.add(OrgPlan(branch_names[i], OrgKind.BRANCH, self._founded(2000, 2020)))
                    size = rng.randint(*scale.big_branch_size)
                    if s == 0 and b == 0:
                        leaders = self.staff_branch(
                            branch, unit, max(size, 10), "staff", leaders=rng.randint(5, 7), cadres=2
                        )
                        leaders = leaders[: sum(m.is_leadership for m in leaders)]
                    else:
                        if index == 0 and s == 1 and b == 0:
                            size = max(size, 12)  # the demo secretary's branch
                            self.secretary_branch = branch
                        self.staff_branch(branch, unit, size, "staff")
                section_secretaries = [self.secretary_of(b) for b in section.children]
                self.committee_posts(section, section_secretaries, min(5, len(section_secretaries)))
            retirees = top.add(OrgPlan("离退休教职工党支部", OrgKind.BRANCH, self._founded(2000, 2015)))
            self.staff_branch(retirees, unit, rng.randint(*scale.retiree_branch_size), "retiree")
            self.committee_posts(top, leaders + [self.secretary_of(s) for s in top.children], 7)
            if index == 0:
                self.party_school = top

        for name, _school_type, town in medium:
            unit = self._school_unit(name, town, root)
            top = root.add(OrgPlan(f"{name}党总支", OrgKind.GENERAL_BRANCH, self._founded(1990, 2012)))
            unit.organization = top
            tops.append(top)
            n = rng.randint(*scale.medium_branches)
            with_retirees = rng.random() < 0.7
            teachers = n - 1 - with_retirees
            names = ["行政党支部"] + [f"教师第{chinese_number(i + 1)}党支部" for i in range(teachers)]
            leaders = []
            for i, branch_name in enumerate(names):
                branch = top.add(OrgPlan(branch_name, OrgKind.BRANCH, self._founded(2000, 2020)))
                size = rng.randint(*scale.medium_branch_size)
                if i == 0:
                    led = self.staff_branch(branch, unit, max(size, 7), "staff", leaders=rng.randint(3, 5), cadres=2)
                    leaders = led[: sum(m.is_leadership for m in led)]
                else:
                    self.staff_branch(branch, unit, size, "staff")
            if with_retirees:
                branch = top.add(OrgPlan("退休教师党支部", OrgKind.BRANCH, self._founded(2005, 2020)))
                self.staff_branch(branch, unit, rng.randint(*scale.retiree_branch_size), "retiree")
            others = [self.secretary_of(b) for b in top.children[1:]]
            self.committee_posts(top, leaders[:2] + others, 5)

        for name, _school_type, town in small:
            unit = self._school_unit(name, town, root)
            top = root.add(OrgPlan(f"{name}党支部", OrgKind.BRANCH, self._founded(1995, 2018)))
            unit.organization = top
            tops.append(top)
            size = rng.randint(*scale.small_branch_size)
            leaders = min(size, rng.randint(2, 3))
            self.staff_branch(top, unit, size, "staff", leaders=leaders, cadres=1)
        return tops

    # -- codes and paths -----------------------------------------------------------------------------------

    def _number(self, root: OrgPlan) -> None:
        root.code, root.path = ROOT_CODE, path_step(1)

        def number(parent: OrgPlan, depth: int) -> None:
            # Three digits under the root, two below; more where the city scale has more children.
            width = max(3 if depth == 1 else 2, len(str(len(parent.children))))
            for i, child in enumerate(parent.children, start=1):
                child.code = f"{parent.code}-{i:0{width}d}"
                child.path = parent.path + path_step(i)
                number(child, depth + 1)

        number(root, 1)


def _cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# ---------------------------------------------------------------------------------------------------------
# Writing the plan.


def build_demo(*, scale: str, seed: int = 1, stdout=None) -> DemoSummary:
    """Plan the demo county for `scale` and `seed` and write it, in one transaction, to an empty database.

    Raises ValueError for an unknown scale or when organizations or demo accounts already exist.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    started = time.monotonic()

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message)

    plan = DemoPlanner(SCALES[scale], seed)
    say(f"已生成演示数据方案：{len(plan.members)} 名党员（{time.monotonic() - started:.1f} 秒）。")
    with transaction.atomic():
        if Organization.objects.dangerously_all().exists():
            raise ValueError("organizations already exist")
        if User.objects.filter(username__in=DEMO_USERNAMES).exists():
            raise ValueError("demo accounts already exist")
        orgs = _write_organizations(plan.root)
        _write_units(plan.units)
        users = _write_users(plan)
        members = _write_members(plan)
        _write_posts(plan.posts)
        _write_grants(plan, users)
        say(f"已写入组织和党员（{time.monotonic() - started:.1f} 秒）。")
        today = timezone.localdate()
        hours_entries = write_demo_hours(members, seed=seed, years=demo_hours_years(today), today=today)
        say(f"已写入学时台账 {hours_entries} 条（{time.monotonic() - started:.1f} 秒）。")
        schools = write_demo_schools(plan, seed=seed)
        training = write_demo_training(plan, seed=seed)
        orglife_records = write_demo_orglife(plan, seed=seed, today=today)
        committees = write_demo_committees(plan, seed=seed, today=today)
        write_demo_dues(plan, seed=seed, today=today)
        supervision = write_demo_supervision(plan, seed=seed, today=today)
        write_demo_learning(plan, seed=seed, today=today)
        members.extend(write_demo_development(plan, seed=seed, today=today))  # admitted: in the roster
        write_demo_exams(plan, seed=seed, today=today)
        # The oldest demo year is signed and closed (学时年度关账); the later ones stay open for entries.
        HoursYearClose.objects.bulk_create(
            HoursYearClose(organization=root, year=HOURS_YEARS[0], note="经工委会议审定")
            for root in Organization.objects.dangerously_all().filter(depth=1)
        )
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Fresh planner statistics for the bulk-loaded tables.
        with connection.cursor() as cursor:
            for model in (Organization, Unit, Member, PartyPost, HoursEntry, MemberHoursYear):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    say(f"已写入数据库（{time.monotonic() - started:.1f} 秒）。")
    return DemoSummary(
        scale=scale,
        seed=seed,
        organizations_by_kind=dict(Counter(o.kind for o in orgs)),
        units_by_kind=dict(Counter(u.kind for u in plan.units)),
        members=len(members),
        members_by_category=dict(Counter(m.category for m in members)),
        posts=len(plan.posts),
        usernames=list(users),
        seconds=time.monotonic() - started,
        hours_entries=hours_entries,
        schools=schools,
        training=training,
        orglife_records=orglife_records,
        committees=committees,
        supervision=supervision,
    )


def _write_organizations(root: OrgPlan) -> list[Organization]:
    objs = []
    for p in root.walk():
        p.obj = Organization(
            code=p.code,
            name=p.name,
            kind=p.kind,
            established_on=p.established_on,
            path=p.path,
            depth=len(p.path) // Organization.steplen,
            numchild=len(p.children),
        )
        objs.append(p.obj)
    create_with_history(Organization, objs)
    return objs


def _write_units(units: list[UnitPlan]) -> None:
    objs = []
    for p in units:
        p.obj = Unit(
            name=p.name,
            kind=p.kind,
            credit_code=p.credit_code,
            address=p.address,
            organization=p.organization.obj if p.organization else None,
            managing_organization=p.managing.obj if p.managing else None,
        )
        objs.append(p.obj)
    create_with_history(Unit, objs)


def _write_users(plan: DemoPlanner) -> dict[str, User]:
    """The demo accounts; `secretary` and `member` are linked to members of the same school branch."""
    branch = plan.secretary_branch
    secretary = plan.secretary_of(branch)
    office_holders = {id(p.member) for p in plan.posts}
    ordinary = next(
        m for m in branch.members if id(m) not in office_holders and m.status == Status.ACTIVE and not m.is_leadership
    )
    linked = {"secretary": secretary, "member": ordinary}
    password = make_password(DEMO_PASSWORD)
    users = {}
    for username, _role in DEMO_USERS:
        member = linked.get(username)
        full_name = member.name if member else plan.person_name(plan.rng.choice((MALE, FEMALE)))
        users[username] = User.objects.create(username=username, password=password, full_name=full_name)
        if member is not None:
            member.user = users[username]
    return users


def _write_members(plan: DemoPlanner) -> list[Member]:
    # Member.save() keeps the ID number's blind index (the keyed hash that makes it unique and searchable);
    # no save() runs here, so compute it the same way.
    digest = getattr(member_models, "id_number_digest", None)
    members = []
    for member, org, unit in plan.members:
        member.organization = org.obj
        member.unit = unit.obj if unit else None
        if digest is not None:
            member.id_number_digest = digest(member.id_number)
        members.append(member)
    create_with_history(Member, members)
    return members


def _write_posts(posts: list[PostPlan]) -> None:
    objs = [
        PartyPost(
            member=p.member,
            organization=p.organization.obj,
            post=p.post,
            start_date=p.start_date,
            end_date=p.end_date,
        )
        for p in posts
    ]
    create_with_history(PartyPost, objs)


def _write_grants(plan: DemoPlanner, users: dict[str, User]) -> None:
    scopes: dict[str, list[OrgPlan | None]] = {
        "admin": [None],
        "secadmin": [None],
        "auditor": [None],
        "committee": [plan.root],
        "school": [plan.party_school],
        "secretary": [plan.secretary_branch],
        "instructor": plan.instructor_branches,
        "member": [plan.secretary_branch],
    }
    for username, role in DEMO_USERS:
        for org in scopes[username]:
            RoleAssignment.objects.create(user=users[username], role=role, organization=org.obj if org else None)


# ---------------------------------------------------------------------------------------------------------
# Writing with history, through the fast inserts of core.bulk.

# Kept under their old names for the callers that know them.
_insert = insert_rows
_value_getter = value_getter


def create_with_history(model, objs: list) -> None:
    """Insert `objs` (new, unsaved instances of `model`) and their "created" history records.

    What `bulk_create` + simple_history's `bulk_history_create` would write: the instances get their primary
    keys, `auto_now`/`auto_now_add` fields are set to now, each history row copies the instance. Like
    `bulk_create`, no `save()` runs and no signal is sent.
    """
    if not objs:
        return
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj in objs:
        for attname in stamped:
            setattr(obj, attname, now)
    ids = insert_rows(model, fields, objs, returning=True)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias

    history = model.history.model
    extra = {"history_date": now, "history_change_reason": HISTORY_REASON, "history_type": "+", "history_user_id": None}
    history_fields = [f for f in history._meta.concrete_fields if not f.primary_key]
    # Plain rows rather than model instances (a fraction of the cost): the getters only read attributes.
    rows = [
        SimpleNamespace(
            **{f.attname: extra[f.attname] if f.attname in extra else getattr(obj, f.attname) for f in history_fields}
        )
        for obj in objs
    ]
    insert_rows(history, history_fields, rows, returning=False)
