"""`manage.py seed_demo`: load the deterministic demo county into an empty database."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dangjian.accounts.models import User
from dangjian.demo.builder import DEMO_USERNAMES, SCALES, build_demo, demo_hours_years
from dangjian.members.models import Category, Member
from dangjian.orgs.models import Organization, OrgKind, Unit, UnitKind

SCHOOLS_LINE = (
    "  党校 {schools} 所（其中{ranked}所参加{year}年度考评排名），讲师 {instructors} 名，课程 {courses} 门，"
    "约课 {bookings} 条。"
)
COMMITTEES_LINE = (
    "  委员会任期 {terms} 届（即将届满 {ending}，逾期未换届 {overdue}，有空缺 {vacancies}，"
    "应设未设 {missing}），往届 {ended_terms} 届。"
)
TRAINING_LINE = (
    "  培训班 {classes} 个，课次 {sessions} 个（已结束 {sessions_closed} 个），"
    "报名 {enrollments} 人次，签到 {attendances} 人次。"
)


def database_has_data() -> bool:
    """Organizations, units, members or a demo account already exist: demo data would mix with them."""
    return (
        Organization.objects.dangerously_all().exists()
        or Unit.objects.dangerously_all().exists()
        or Member.objects.dangerously_all().exists()
        or User.objects.filter(username__in=DEMO_USERNAMES).exists()
    )


class Command(BaseCommand):
    help = "加载演示数据：一个县的教育系统党组织、单位、党员和演示账号（只能加载到空数据库）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=sorted(SCALES),
            default="small",
            help=(
                "规模：small 约500名党员；county 约4万名党员、2000个党组织；"
                "city 约20万名党员、1万个党组织、300万条学时记录。"
            ),
        )
        parser.add_argument("--seed", type=int, default=1, help="随机种子：同一种子生成完全相同的数据（默认1）。")
        parser.add_argument("--if-empty", action="store_true", help="数据库已有数据时跳过，而不是报错。")

    def handle(self, *args, scale, seed, if_empty, **options):
        if not settings.DANGJIAN_ALLOW_DEMO:
            raise CommandError("生产环境不允许加载演示数据。")
        if database_has_data():
            if if_empty:
                self.stdout.write("数据库已有数据，跳过演示数据加载。")
                return
            raise CommandError("数据库已有党组织、单位、党员或演示账号，演示数据只能加载到空数据库。")
        summary = build_demo(scale=scale, seed=seed, stdout=self.stdout if options["verbosity"] > 1 else None)

        def breakdown(counts: dict[str, int], choices) -> str:
            return "，".join(f"{label} {counts[value]}" for value, label in choices if counts.get(value))

        self.stdout.write(
            self.style.SUCCESS(f"演示数据已加载（规模 {scale}，种子 {seed}，用时 {summary.seconds:.1f} 秒）。")
        )
        self.stdout.write(
            f"  党组织 {summary.organizations} 个：{breakdown(summary.organizations_by_kind, OrgKind.choices)}"
        )
        self.stdout.write(f"  单位 {summary.units} 个：{breakdown(summary.units_by_kind, UnitKind.choices)}")
        self.stdout.write(f"  党员 {summary.members} 名：{breakdown(summary.members_by_category, Category.choices)}")
        self.stdout.write(
            f"  党内职务 {summary.posts} 条；演示账号 {len(summary.usernames)} 个（manage.py demo_logins 查看）。"
        )
        years = demo_hours_years(timezone.localdate())
        self.stdout.write(f"  学时记录 {summary.hours_entries} 条（{years[0]}–{years[-1]}年）。")
        self.stdout.write(SCHOOLS_LINE.format_map(summary.schools))
        if summary.training:
            self.stdout.write(TRAINING_LINE.format_map(summary.training))
        this_year = timezone.localdate().year
        self.stdout.write(f"  组织生活记录 {summary.orglife_records} 条（{this_year - 1}–{this_year}年，抽样党组织）。")
        if summary.committees:
            self.stdout.write(COMMITTEES_LINE.format_map(summary.committees))
        if summary.supervision:
            self.stdout.write(
                "  校外培训机构 {institutions} 家，党建指导员 {instructors} 名，走访 {visits} 次，线索 {clues} 条，"
                "同步检查 {checks} 次，积分记录 {point_events} 条，红名单 {red_list} 家。".format_map(
                    summary.supervision
                )
            )
