"""Factories of the party-school area. Each object belongs to an organization (`organization` of a school,
`owner` of catalog rows); pass the organization of the place a test needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from dangjian.orgs.tests.factories import OrganizationFactory
from dangjian.schools.models import (
    BookingRequest,
    BookingStatus,
    ContentType,
    Course,
    CourseCategory,
    CourseFormat,
    CourseModule,
    Instructor,
    InstructorTeam,
    PartySchool,
    PremiumRound,
    SchoolAnnualPlan,
    SchoolEvaluation,
    SchoolLevel,
    SchoolVenue,
    StandardCheck,
    StandardItem,
    TargetGroup,
    scheme_for,
)


class PartySchoolFactory(DjangoModelFactory):
    class Meta:
        model = PartySchool

    code = factory.Sequence(lambda n: f"DX{n:04d}")
    name = factory.Sequence(lambda n: f"测试业余党校{n:04d}")
    organization = factory.SubFactory(OrganizationFactory)
    level = SchoolLevel.AMATEUR


class SchoolVenueFactory(DjangoModelFactory):
    class Meta:
        model = SchoolVenue

    school = factory.SubFactory(PartySchoolFactory)
    name = factory.Sequence(lambda n: f"第{n}教室")
    capacity = 60


def default_team() -> InstructorTeam:
    return InstructorTeam.objects.order_by("order", "pk").first() or InstructorTeam.objects.create(name="专业讲师团")


class InstructorFactory(DjangoModelFactory):
    class Meta:
        model = Instructor

    owner = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"讲师{n:04d}")
    team = factory.LazyFunction(default_team)
    employer = "区委党校"
    title = "讲师"


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    owner = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"课程{n:04d}")
    category = CourseCategory.POLITICAL_THEORY
    format = CourseFormat.PACK
    hours = Decimal("4")
    content_type = ContentType.POLITICAL_THEORY

    @factory.post_generation
    def instructors(self, create, extracted, **kwargs):
        if create and extracted:
            self.instructors.set(extracted)


class CourseModuleFactory(DjangoModelFactory):
    class Meta:
        model = CourseModule
        skip_postgeneration_save = True

    owner = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"模块{n:03d}")

    @factory.post_generation
    def courses(self, create, extracted, **kwargs):
        if create and extracted:
            self.courses.set(extracted)


class PremiumRoundFactory(DjangoModelFactory):
    class Meta:
        model = PremiumRound

    owner = factory.SubFactory(OrganizationFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    category = CourseCategory.POLITICAL_THEORY


class BookingRequestFactory(DjangoModelFactory):
    class Meta:
        model = BookingRequest
        skip_postgeneration_save = True

    school = factory.SubFactory(PartySchoolFactory)
    dispatcher = factory.LazyAttribute(lambda o: o.school)
    topic = factory.Sequence(lambda n: f"培训主题{n:03d}")
    target_group = TargetGroup.MEMBERS
    headcount = 40
    wanted_from = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))
    wanted_to = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=28))
    status = BookingStatus.DRAFT

    @factory.post_generation
    def courses(self, create, extracted, **kwargs):
        if create and extracted:
            self.courses.set(extracted)


class SchoolEvaluationFactory(DjangoModelFactory):
    class Meta:
        model = SchoolEvaluation

    school = factory.SubFactory(PartySchoolFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year - 1)


class StandardCheckFactory(DjangoModelFactory):
    class Meta:
        model = StandardCheck

    school = factory.SubFactory(PartySchoolFactory)
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    item = factory.LazyFunction(lambda: StandardItem.objects.order_by("pk").first())
    met = True


class RankingRuleFactory(DjangoModelFactory):
    """A ranking rule (排名规则) of the evaluation seam; the model's defaults are Huangpi's."""

    class Meta:
        model = "schools.RankingRule"

    owner = factory.SubFactory(OrganizationFactory)
    valid_from = 2000


_ranked_codes = iter(range(1, 10**6))


def active_year(schools, year: int, *, classes: bool = True, liuyou: bool = True, plan: bool = True) -> None:
    """Give each school what the ranking's gate asks of a 示范 / 优秀 school in `year`, in bulk: a completed booking
    held that year (a class held, 40 person-times) and every active 六有 item of its scheme checked and met; with
    `plan`, a plan claiming exactly that (1 class, 40 person-times), so that the records score is full (100%)."""
    schools = list(schools)
    if plan:
        SchoolAnnualPlan.objects.bulk_create(
            SchoolAnnualPlan(school=s, year=year, planned_classes=1, planned_trainees=40) for s in schools
        )
    if classes:
        starts = timezone.make_aware(dt.datetime(year, 6, 2, 9, 0))
        BookingRequest.objects.bulk_create(
            BookingRequest(
                school=s,
                dispatcher=s,
                topic="年度培训",
                target_group=TargetGroup.MEMBERS,
                headcount=40,
                wanted_from=dt.date(year, 6, 1),
                wanted_to=dt.date(year, 6, 30),
                status=BookingStatus.COMPLETED,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=3),
            )
            for s in schools
        )
    if liuyou:
        items: dict[str, list] = {}
        for school in schools:
            items.setdefault(scheme_for(school), [])
        for scheme in items:
            items[scheme] = list(StandardItem.objects.filter(scheme=scheme, active=True))
        StandardCheck.objects.bulk_create(
            StandardCheck(school=s, year=year, item=item, met=True) for s in schools for item in items[scheme_for(s)]
        )


def ranked_schools(org, year: int, composites, *, field=None, records=None, names=None, active=True) -> list:
    """Bulk-create one school in `org` per composite, each with a complete evaluation of `year` carrying that
    composite, and its field-check and records-check scores (`field` / `records`: one value per school, by
    default the composite). In bulk, so that a ranking of 78 schools stays fast. With `active` (the default) each
    school also gets an `active_year`, so that the gate does not bar it from 示范 / 优秀. Returns the schools, in
    the order of `composites`."""
    from django.apps import apps

    indicator = apps.get_model("schools", "EvaluationIndicator").objects
    score_model = apps.get_model("schools", "IndicatorScore")
    composites = [Decimal(str(c)) for c in composites]
    field = [Decimal(str(v)) for v in field] if field is not None else composites
    records = [Decimal(str(v)) for v in records] if records is not None else composites
    run = next(_ranked_codes)
    schools = PartySchool.objects.bulk_create(
        PartySchool(
            code=f"RK{run:04d}-{i:03d}",
            name=names[i] if names else f"排名测试党校{run:04d}-{i:03d}",
            organization=org,
            level=SchoolLevel.AMATEUR,
        )
        for i in range(len(composites))
    )
    evaluations = SchoolEvaluation.objects.bulk_create(
        SchoolEvaluation(school=s, year=year, composite=c) for s, c in zip(schools, composites, strict=True)
    )
    field_check = indicator.get(code="field_check")
    records_check = indicator.get(code="records_check")
    score_model.objects.bulk_create(
        [score_model(evaluation=e, indicator=field_check, score=v) for e, v in zip(evaluations, field, strict=True)]
        + [
            score_model(evaluation=e, indicator=records_check, score=v)
            for e, v in zip(evaluations, records, strict=True)
        ]
    )
    if active:
        active_year(schools, year)
    return schools


class PointRuleFactory(DjangoModelFactory):
    """A points rule (积分规则) of the catalog seam: 2 points a class taught, from 2000, open-ended."""

    class Meta:
        model = "schools.PointRule"

    owner = factory.SubFactory(OrganizationFactory)
    event = "class_taught"
    points = Decimal("2")
    valid_from = 2000
    valid_to = None


class PointEntryFactory(DjangoModelFactory):
    """A points ledger entry (积分记录) written directly, for ranking tests; services write real ones."""

    class Meta:
        model = "schools.PointEntry"

    instructor = factory.SubFactory(InstructorFactory)
    year = 2025
    date = factory.LazyAttribute(lambda o: dt.date(o.year, 6, 1))
    event = "class_taught"
    points = Decimal("1")
