"""What a school delivered in a year (办班与培训人次), from the system's own rows: the classes it ran and the
completed bookings it held, and the person-times (人次) of both. One definition, shared by the year-end
reconciliation (年终对账, `training.selectors.compliance.school_reconciliation`) and the records score (台账) of
the annual evaluation (`selectors.evaluation.records_scores`).

Sources: Xiqing — "年初制定党校系统全年任务，街镇党校认领培训指标，科学安排培训班次……年终对账考核达标情况": the
year's claimed quotas (`SchoolAnnualPlan.planned_classes`, `planned_trainees` = 计划培训人次) are checked at year
end against classes held and person-times trained; Huangpi counts the same way ("累计办班1410期，培训党员干部
10.3万余人次": classes and person-times, not distinct persons).

The definitions (like with like):
- classes held (实际办班) = the school's training classes that ran in the year (status 已批准 or 已结班, starting
  in the year) + its completed bookings (约课 已完成) held in the year (by the scheduled start, else the wanted
  start, as `selectors.schools.money_check` counts them) that did not become a session of one of those classes
  (that class is counted already);
- person-times (实际培训人次) = for each of those classes, the members who signed in to at least one of its
  sessions (a member trained in two classes counts twice, in one class once however many sessions) + the
  headcount of each counted completed booking (the number the booking was held for);
- sign-ins (签到人次) = every attendance row of those classes (one per member and session), shown beside.

The training app builds on this one: its models are reached through the model registry and the reverse
relations, never imported (docs/development.md, "Dependencies point one way").
"""

from __future__ import annotations

from django.apps import apps
from django.db.models import CharField, Count, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat, ExtractYear

from dangjian.schools.models import BookingRequest, BookingStatus

# The class statuses that count as "ran" (已批准 / 已结班): the same as `training.selectors.compliance.RAN_STATUSES`
# (a test proves it), spelled out because this app may not import training.
RAN_CLASS_STATUSES: tuple[str, ...] = ("approved", "finished")
INTEGER = IntegerField()


def _booking_year():
    return Coalesce(ExtractYear("starts_at"), ExtractYear("wanted_from"))


def _counted(queryset, group: str, counter) -> Coalesce:
    """A correlated count (or sum) per school, 0 when there is none."""
    sub = queryset.order_by().values(group).annotate(n=counter).values("n")
    return Coalesce(Subquery(sub, output_field=INTEGER), Value(0), output_field=INTEGER)


def delivery_annotations(year: int, ref: str = "pk") -> dict:
    """Annotations for a PartySchool queryset (or any queryset whose `ref` is a school's id, e.g. "school_id" of
    evaluations): what each school delivered in `year` (see the module docstring): `ran_classes`,
    `held_bookings`, `class_person_times`, `booking_person_times` and `sign_ins`. Correlated subqueries: one
    query however many schools."""
    training_class = apps.get_model("training", "TrainingClass")
    session = apps.get_model("training", "TrainingSession")
    attendance = apps.get_model("training", "Attendance")
    ran = {"status__in": RAN_CLASS_STATUSES, "starts_on__year": year}
    classes = training_class.objects.filter(school=OuterRef(ref), **ran)
    attendances = attendance.objects.filter(
        session__training_class__school=OuterRef(ref),
        **{f"session__training_class__{key}": value for key, value in ran.items()},
    )
    # A member once per class: distinct (class, member) pairs.
    pair = Concat(
        Cast("session__training_class_id", CharField()),
        Value(":"),
        Cast("member_id", CharField()),
        output_field=CharField(),
    )
    # A completed booking that became a session of a class counted for the same school is counted with the class.
    in_counted_class = session.objects.filter(
        training_class__school=OuterRef("school"),
        **{f"training_class__{key}": value for key, value in ran.items()},
    ).values("booking_id")
    bookings = (
        BookingRequest.objects.dangerously_all()
        .filter(school=OuterRef(ref), status=BookingStatus.COMPLETED)
        .annotate(held_year=_booking_year())
        .filter(held_year=year)
        .exclude(pk__in=Subquery(in_counted_class.filter(booking_id__isnull=False)))
    )
    group = "session__training_class__school"
    return {
        "ran_classes": _counted(classes, "school", Count("pk")),
        "held_bookings": _counted(bookings, "school", Count("pk")),
        "class_person_times": _counted(attendances, group, Count(pair, distinct=True)),
        "booking_person_times": _counted(bookings, "school", Sum("headcount")),
        "sign_ins": _counted(attendances, group, Count("pk")),
    }


def with_delivery(schools, year: int, ref: str = "pk"):
    """`schools` annotated with `delivery_annotations(year, ref)` and the sums `held_classes` and `person_times`."""
    return schools.annotate(**delivery_annotations(year, ref)).annotate(
        held_classes=F("ran_classes") + F("held_bookings"),
        person_times=F("class_person_times") + F("booking_person_times"),
    )
