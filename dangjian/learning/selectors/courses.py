"""Reads of online courses: what a member may learn (assigned and optional, with their progress), the staff's list
of the catalog courses with online material, one course's material, offers and completions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from dangjian.learning.models import (
    CourseCompletion,
    CourseOffer,
    MaterialProgress,
    OnlineMaterial,
    offers_for_member_q,
)
from dangjian.learning.services.policies import rule_for
from dangjian.orgs.models import ancestor_paths

if TYPE_CHECKING:
    from dangjian.schools.models import Course


@dataclass
class MaterialRow:
    material: OnlineMaterial
    watched_seconds: int = 0
    share: int = 0


@dataclass
class MemberCourse:
    course: Course
    required: bool
    due_on: dt.date | None
    offered_by: list[str] = field(default_factory=list)
    materials: list[MaterialRow] = field(default_factory=list)
    share: int = 0
    completion: CourseCompletion | None = None


def member_courses(member, *, year: int) -> tuple[list[MemberCourse], int]:
    """The courses offered to `member` (a required offer makes the course required, the earliest due date shows),
    each with its material, the share watched and the completion; and the rule's minimum share. Four queries."""
    paths = [*ancestor_paths([member.organization.path]), member.organization.path]
    offers = (
        CourseOffer.objects.visible_to(member.user)
        .filter(offers_for_member_q(member.pk, paths))
        .select_related("course", "organization", "training_class")
        .order_by("pk")
    )
    by_course: dict[int, MemberCourse] = {}
    for offer in offers:
        row = by_course.get(offer.course_id)
        if row is None:
            row = by_course[offer.course_id] = MemberCourse(course=offer.course, required=False, due_on=None)
        row.required |= offer.required
        if offer.due_on and (row.due_on is None or offer.due_on < row.due_on):
            row.due_on = offer.due_on
        label = offer.training_class.title if offer.training_class else offer.organization.name
        if label not in row.offered_by:
            row.offered_by.append(label)
    materials = OnlineMaterial.objects.visible_to(member.user).filter(course_id__in=by_course, active=True)
    progress = {
        p.material_id: p
        for p in MaterialProgress.objects.visible_to(member.user).filter(member=member, material__in=materials)
    }
    totals: dict[int, list[int]] = {}
    for material in materials:
        row = by_course[material.course_id]
        seen = progress.get(material.pk)
        watched = seen.watched_seconds if seen else 0
        row.materials.append(
            MaterialRow(material, watched, min(100, watched * 100 // max(1, material.duration_seconds)))
        )
        if material.tracked:
            total = totals.setdefault(material.course_id, [0, 0])
            total[0] += min(watched, material.duration_seconds)
            total[1] += material.duration_seconds
    for course_id, (seen_seconds, total_seconds) in totals.items():
        by_course[course_id].share = seen_seconds * 100 // total_seconds if total_seconds else 0
    for completion in CourseCompletion.objects.visible_to(member.user).filter(member=member, course_id__in=by_course):
        by_course[completion.course_id].completion = completion
    rows = sorted(by_course.values(), key=lambda r: (not r.required, r.completion is not None, r.course.title))
    return rows, rule_for(member, year).min_share


def staff_courses(user) -> QuerySet:
    """The catalog courses the user sees that have online material or offers, with their counts."""
    from dangjian.schools.models import Course

    return (
        Course.objects.visible_to(user)
        .annotate(
            material_count=Count("online_materials", filter=Q(online_materials__active=True), distinct=True),
            offer_count=Count("online_offers", distinct=True),
        )
        .filter(Q(material_count__gt=0) | Q(offer_count__gt=0))
        .select_related("owner")
        .order_by("title", "pk")
    )


def course_detail(user, course) -> dict:
    """One course's material, the offers and the completions the user sees."""
    return {
        "materials": OnlineMaterial.objects.visible_to(user).filter(course=course).order_by("position", "pk"),
        "offers": CourseOffer.objects.visible_to(user)
        .filter(course=course)
        .select_related("organization", "training_class", "school"),
        "completions": CourseCompletion.objects.visible_to(user)
        .filter(course=course)
        .select_related("member", "member__organization")
        .order_by("-completed_on", "-pk")[:200],
    }
