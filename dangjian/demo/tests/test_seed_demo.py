"""The demo loader: the small county is valid data, deterministic, and the command guards the database."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models
from django.test import override_settings
from django.utils import timezone

from dangjian.accounts.models import RoleAssignment, User
from dangjian.accounts.roles import Role
from dangjian.demo.builder import (
    DEMO_PASSWORD,
    DEMO_USERS,
    HOURS_YEARS,
    REFERENCE_DATE,
    _value_getter,
    build_demo,
    demo_hours_years,
)
from dangjian.demo.development_demo import admitted_member_ids, wipe_demo_development
from dangjian.demo.dues_demo import wipe_demo_dues
from dangjian.demo.exams_demo import wipe_demo_exams
from dangjian.demo.learning_demo import wipe_demo_learning
from dangjian.demo.supervision_demo import wipe_demo_supervision
from dangjian.members.models import Category, Member, PartyPost, Post, Status
from dangjian.orglife.models import ActivityRecord
from dangjian.orgs.models import BRANCH_KINDS, Organization, OrgKind, Unit, UnitKind, org_code_validator
from dangjian.schools import models as schools
from dangjian.training.models import HoursEntry, HoursYearClose, MemberHoursYear, TrainingClass
from dangjian.training.selectors.ledger import hours_discrepancies

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(small_demo):
    return small_demo


def snapshot() -> dict:
    orgs = Organization.objects.dangerously_all()
    return {
        "orgs": list(orgs.order_by("path").values_list("code", "name", "kind", "path")),
        "units": list(Unit.objects.order_by("name").values_list("name", "credit_code", "organization__code")),
        # Sorted here: the ID number may be stored encrypted, so the database cannot order by it.
        "members": sorted(Member.objects.values_list("id_number", "name", "phone", "organization__code")),
        "posts": sorted(PartyPost.objects.values_list("member__id_number", "organization__code", "post", "start_date")),
        "users": sorted(User.objects.values_list("username", "full_name", "member__id_number")),
        "hours": sorted(HoursEntry.objects.values_list("member__id_number", "date", "hours", "kind").order_by()),
    }


def wipe_schools() -> None:
    """The party-school rows, children before what they point to (their PROTECTed references)."""
    for model in (
        schools.RectificationTask,
        schools.SchoolRanking,
        schools.IndicatorScore,
        schools.SchoolEvaluation,
        schools.BookingEvent,
        schools.BookingRequest,
        schools.PointEntry,
        schools.PremiumEntry,
        schools.PremiumRound,
        schools.CourseModule,
        schools.Course,
        schools.PointRule,
        schools.Instructor,
        schools.StandardCheck,
        schools.FundingLine,
        schools.SchoolAnnualPlan,
        schools.PrincipalTerm,
        schools.JointSchoolUnit,
        schools.SchoolVenue,
    ):
        model._default_manager.all().delete()
    schools.PartySchool.objects.exclude(parent=None).delete()  # extended schools before their parents
    schools.PartySchool.objects.all().delete()


def wipe_training() -> None:
    """The training classes and the ledger entries their closed sessions and premium courses credited (they PROTECT
    sessions, courses and members); sessions, enrollments and attendance go with their class."""
    HoursEntry.objects.dangerously_all().exclude(session=None, course=None).delete()
    TrainingClass.objects.dangerously_all().delete()


def wipe() -> None:
    """Empty the database of the demo's rows. With history off: every delete would otherwise write a "-" history
    row and its audit event, most of the time taken, only for the next lines to delete them."""
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        _wipe()


def _wipe() -> None:
    wipe_demo_exams()  # assignments and attempts PROTECT members
    wipe_demo_dues()  # bases, payments and ledger lines PROTECT members and organizations
    wipe_demo_learning()  # certificates, progress and completions PROTECT members, courses and entries
    wipe_demo_development()  # people on the development path PROTECT members and organizations
    wipe_demo_supervision()  # appointments and visits PROTECT members and units
    ActivityRecord.objects.dangerously_all().delete()  # its attendance PROTECTs members
    ActivityRecord.history.all().delete()
    wipe_training()
    wipe_schools()
    HoursEntry.objects.dangerously_all().delete()
    MemberHoursYear.objects.all().delete()
    HoursYearClose.objects.all().delete()
    for model in (PartyPost, Member, RoleAssignment, User, Unit):
        model.objects.all().delete()
    Organization.objects.dangerously_all().delete()
    for model in (PartyPost, Member, RoleAssignment, Unit, Organization):
        model.history.all().delete()


def test_small_scale_shape(demo):
    assert 400 <= demo.members <= 600
    assert Member.objects.count() == demo.members
    assert 30 <= Organization.objects.count() <= 60
    root = Organization.objects.get_root_nodes().get()
    assert (root.kind, root.name, root.code) == (OrgKind.WORK_COMMITTEE, "清河县教育工作委员会", "QH")
    # The oldest demo year is signed and closed; the later ones are open.
    assert list(HoursYearClose.objects.values_list("organization__code", "year")) == [("QH", 2023)]
    private = Organization.objects.get(name="清河县民办教育机构党委")
    assert private.kind == OrgKind.COMMITTEE and Organization.objects.get_parent(private) == root
    joint = Organization.objects.get_children(private).filter(kind=OrgKind.JOINT_BRANCH)
    assert joint.count() >= 2
    for branch in joint:
        covered = Unit.objects.filter(organization=branch)
        assert 3 <= covered.count() <= 5
        assert all(u.kind == UnitKind.TRAINING_INSTITUTION and u.managing_organization == private for u in covered)
    uncovered = Unit.objects.filter(kind=UnitKind.TRAINING_INSTITUTION, organization=None)
    assert uncovered.exists() and all(u.managing_organization == private for u in uncovered)
    assert Unit.objects.filter(kind=UnitKind.BUREAU).count() == 1
    for school in Unit.objects.filter(kind=UnitKind.SCHOOL).select_related("organization"):
        assert school.organization.depth == 2  # the school's top organization, right under the root
    assert Organization.objects.filter(name="清河县第一中学党委", kind=OrgKind.COMMITTEE).exists()


def test_tree_is_consistent_and_codes_valid(demo):
    assert all(problems == [] for problems in Organization.objects.find_problems())
    for org in Organization.objects.all():
        org_code_validator(org.code)
        assert org.numchild == Organization.objects.get_children_count(org)
        if org.depth > 1:
            assert org.code.startswith(Organization.objects.get_parent(org).code + "-")
    # Members sit in branches; every branch has at least three members and a current secretary.
    assert not Member.objects.exclude(organization__kind__in=BRANCH_KINDS).exists()
    for branch in Organization.objects.filter(kind__in=BRANCH_KINDS):
        assert branch.members.count() >= 3, branch
        secretaries = branch.posts.filter(post=Post.SECRETARY, end_date=None)
        assert secretaries.count() == 1, branch
        assert secretaries.get().member.organization_id == branch.pk


def test_every_record_is_valid(demo):
    members = list(Member.objects.all())
    admitted = admitted_member_ids()
    for member in members:
        member.full_clean()
        assert member.join_date <= REFERENCE_DATE or member.pk in admitted  # this year's admissions
        if member.category == Category.FULL:
            assert member.full_date > member.join_date
        if member.status != Status.ACTIVE:
            assert member.status_changed_on is not None
    assert len({m.id_number for m in members}) == len(members)
    probationary = sum(m.category == Category.PROBATIONARY for m in members)
    assert 0 < probationary < len(members) * 0.06
    assert any(m.is_leadership for m in members) and any(m.is_district_cadre for m in members)
    for unit in Unit.objects.all():
        unit.full_clean()
    for org in Organization.objects.all()[:10]:
        org.full_clean()
    for post in PartyPost.objects.all():
        post.full_clean()
    # What save() would have derived is there too: the ID number is found the way the app looks it up.
    if hasattr(Member.objects, "with_id_number"):
        for member in members[:50]:
            assert Member.objects.with_id_number(member.id_number).get() == member
    # Every row got its "created" history record, as a normal save would have.
    assert Member.history.filter(history_type="+").count() == len(members)
    assert Organization.history.count() == Organization.objects.count()


def test_demo_accounts(demo):
    for username, role in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.full_name and not user.is_superuser and not user.is_staff
        assert set(user.role_assignments.values_list("role", flat=True)) == {role}
    grant = {u: RoleAssignment.objects.filter(user__username=u) for u, _ in DEMO_USERS}
    assert all(g.get().organization is None for u, g in grant.items() if u in ("admin", "secadmin", "auditor"))
    assert grant["committee"].get().organization.depth == 1
    assert grant["school"].get().organization.kind == OrgKind.COMMITTEE
    instructed = [g.organization for g in grant["instructor"]]
    assert 2 <= len(instructed) <= 3 and all(o.kind == OrgKind.JOINT_BRANCH for o in instructed)

    branch = grant["secretary"].get().organization
    assert branch.kind == OrgKind.BRANCH and branch.members.count() >= 10
    assert branch.path.startswith(grant["school"].get().organization.path)
    assert grant["member"].get().organization == branch
    secretary = User.objects.get(username="secretary").member
    ordinary = User.objects.get(username="member").member
    assert secretary.organization == ordinary.organization == branch
    assert secretary.posts.filter(organization=branch, post=Post.SECRETARY, end_date=None).exists()
    assert not ordinary.posts.exists()
    assert User.objects.get(username="secretary").full_name == secretary.name


def test_the_hours_ledger_covers_three_years_and_its_totals_add_up(demo):
    # The synthetic ledger; the training demo's closed sessions (test_training_demo) and the premium courses credit
    # a few more entries.
    assert demo.hours_entries == HoursEntry.objects.filter(session=None, course=None).count() > 10 * demo.members
    years = set(HoursEntry.objects.values_list("year", flat=True).distinct())
    today = timezone.localdate()
    assert years == set(demo_hours_years(today)) >= set(HOURS_YEARS) and max(HOURS_YEARS) == REFERENCE_DATE.year
    assert max(years) == max(today.year, REFERENCE_DATE.year)  # this year too, up to today
    assert not HoursEntry.objects.filter(date__gt=today).exists()
    assert not HoursEntry.objects.exclude(member__status=Status.ACTIVE).exists()
    assert hours_discrepancies() == []
    # A realistic spread: most members meet 32 hours a year, some fall short.
    latest = MemberHoursYear.objects.filter(year=REFERENCE_DATE.year)
    short = latest.filter(total__lt=32).count()
    assert 0.03 * latest.count() < short < 0.4 * latest.count()


def test_same_seed_same_data(demo):
    first = snapshot()
    wipe()
    build_demo(scale="small", seed=1)
    assert snapshot() == first
    wipe()
    build_demo(scale="small", seed=2)
    assert snapshot()["members"] != first["members"]


def test_command_guards_the_database():
    wipe()  # the module's demo, if another test built it (rolled back after this test)
    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", stdout=out)
    assert "演示数据已加载" in out.getvalue() and "党员" in out.getvalue()
    count = Organization.objects.count()

    out = io.StringIO()
    call_command("seed_demo", "--scale", "small", "--if-empty", stdout=out)
    assert out.getvalue().strip() == "数据库已有数据，跳过演示数据加载。"
    with pytest.raises(CommandError):
        call_command("seed_demo", "--scale", "small", stdout=io.StringIO())
    assert Organization.objects.count() == count

    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    assert "secretary" in out.getvalue() and DEMO_PASSWORD in out.getvalue() and "支部书记" in out.getvalue()
    assert "http://127.0.0.1:8000/" in out.getvalue()


def test_command_refused_in_production():
    wipe()
    with override_settings(DANGJIAN_ALLOW_DEMO=False), pytest.raises(CommandError, match="生产环境不允许加载演示数据"):
        call_command("seed_demo", "--scale", "small", stdout=io.StringIO())
    assert not Organization.objects.exists()


def test_demo_logins_without_demo_data():
    wipe()
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    assert "没有演示账号" in out.getvalue()


def test_demo_users_see_their_scope(demo, client):
    """The accounts work: committee sees everyone; the member user's scope is their branch and themself."""
    committee = User.objects.get(username="committee")
    assert Member.objects.visible_to(committee).count() == demo.members
    member_user = User.objects.get(username="member")
    assert list(Member.objects.visible_to(member_user)) == [member_user.member]
    assert Role.MEMBER in member_user.role_assignments.values_list("role", flat=True)


def test_fast_insert_prepares_non_plain_fields_like_the_orm():
    """A field with its own conversion (an encrypted field, say) is stored through it, not bound as is."""

    class Shouting(models.CharField):
        def get_prep_value(self, value):
            return value.upper()

    field = Shouting(max_length=10)
    field.set_attributes_from_name("name")
    plain = models.CharField(max_length=10)
    plain.set_attributes_from_name("name")
    member = Member(name="abc")
    assert _value_getter(field)(member) == "ABC"
    assert _value_getter(plain)(member) == "abc"
