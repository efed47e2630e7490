"""The demo county's member development (演示数据 · 发展党员): people on the path in the `secretary` login's branch at
every stage — an applicant whose talk is overdue, applicants, an activist, a development candidate, probationary
members (one with an extended probation) and this year's new full member — and a few people in a sample of other
branches, with the year's plan quotas. Written through the development services (system access), so every step keeps
the time rules of the step list and the roster entries are written as on the pages."""

from __future__ import annotations

import datetime as dt
import random

from django.core.exceptions import ValidationError
from django.utils import timezone

from dangjian.accounts.access import Access
from dangjian.core.validators import FEMALE, MALE, add_years, id_check_char
from dangjian.development import services
from dangjian.development.selectors.path import probation_end
from dangjian.members.models import Category, Member, Status
from dangjian.orgs.models import BRANCH_KINDS

# Days after the application each step is dated on (the same schedule as the tests': every rule kept).
SCHEDULE = {
    1: 0, 2: 10, 3: 40, 4: 45, 5: 50, 6: 400, 7: 420, 8: 425, 9: 430, 10: 440, 11: 450, 12: 460, 13: 465,
    14: 470, 15: 480, 16: 490, 17: 500, 18: 505, 19: 510, 20: 515, 21: 600, 22: 830, 23: 850, 24: 860, 25: 870,
}  # fmt: skip
# (days since the application, steps recorded, extend the probation) for the secretary's branch.
SECRETARY_PATHS = (
    (45, 1, False),  # the talk is overdue (more than a month after the application)
    (12, 2, False),
    (200, 5, False),
    (410, 6, False),  # a year of activism just over: may be chosen as a development candidate
    (450, 10, False),
    (560, 20, False),
    (880, 22, True),  # probation extended by six months at its end
    (875, 25, False),  # this year's new full member (unless the demo runs in early January)
)
OTHER_PATHS = ((30, 2, False), (250, 5, False), (470, 14, False), (700, 21, False))
OTHER_BRANCHES = 12
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "佳欣怡子涵雨轩浩宇思远俊杰雅静梓萱一诺晨阳明轩可馨若曦博文天佑嘉懿梦瑶振华"


def _person(rng: random.Random, today: dt.date, n: int) -> dict:
    gender = MALE if rng.random() < 0.5 else FEMALE
    birth = add_years(today, -rng.randint(23, 40)) - dt.timedelta(days=rng.randint(0, 360))
    order = 100 + 2 * ((n * 37 + rng.randint(0, 400)) % 440) + (1 if gender == MALE else 0)
    first17 = f"422822{birth:%Y%m%d}{order:03d}"
    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
    return {"name": name, "gender": gender, "birth_date": birth, "id_number": first17 + id_check_char(first17)}


def _walk(system, branch, rng, today, n, days, to, extend) -> Member | None:
    """Register a person and record their steps up to `to`; the roster entry their admission wrote, if any."""
    full = list(
        Member.objects.dangerously_all()
        .filter(organization=branch, category=Category.FULL, status=Status.ACTIVE)
        .order_by("pk")[:2]
    )
    if len(full) < 2:
        return None
    applied = today - dt.timedelta(days=days)
    try:
        candidate = services.candidate_register(
            by=system, organization=branch, applied_on=applied, **_person(rng, today, n)
        )
        for number in range(2, to + 1):
            extra: dict = {}
            if number == 5:
                extra = {"contacts": full[:1], "people": ""}
            elif number == 9:
                extra = {"contacts": full}
            elif number == 11:
                extra = {"course_days": 3}
            elif number in (2, 16):
                extra = {"people": full[0].name}
            services.step_record(
                by=system,
                candidate=candidate,
                number=number,
                date=applied + dt.timedelta(days=SCHEDULE[number]),
                **extra,
            )
            candidate.refresh_from_db()
        if extend:
            end = probation_end(dict(candidate.steps.values_list("number", "date")))
            assert end is not None, "the admission vote was recorded"
            reason = "考察期间学习不够积极，支部大会决定延长"
            services.probation_extend(by=system, candidate=candidate, months=6, decided_on=end, reason=reason)
    except ValidationError:
        return None  # a generated ID number already taken: the demo goes on without this person
    return candidate.member


def write_demo_development(plan, *, seed: int = 1, today: dt.date | None = None) -> list[Member]:
    """Write the demo's people on the development path and this year's plan quotas; the roster entries written by
    their admissions (probationary and new full members), which the demo's member count includes."""
    today = today or timezone.localdate()
    rng = random.Random(f"development-{seed}")
    system = Access.system_access()
    admitted: list[Member] = []
    branches = []
    if plan.secretary_branch is not None and plan.secretary_branch.obj is not None:
        branches.append((plan.secretary_branch.obj, SECRETARY_PATHS))
    others = [p.obj for p in plan.root.walk() if p.kind in BRANCH_KINDS and p is not plan.secretary_branch and p.obj]
    for org in rng.sample(others, min(OTHER_BRANCHES, len(others))):
        branches.append((org, rng.sample(OTHER_PATHS, 2)))
    n = 0
    for org, paths in branches:
        for days, to, extend in paths:
            n += 1
            member = _walk(system, org, rng, today, n, days, to, extend)
            if member is not None:
                admitted.append(member)
        services.quota_set(by=system, organization=org, year=today.year, quota=rng.randint(1, 3))
    return admitted


def wipe_demo_development() -> None:
    """Delete the demo's development rows (they PROTECT members and organizations), for the demo tests' wipe."""
    from dangjian.development.models import (
        Candidate,
        ContactAssignment,
        PlanQuota,
        ProbationExtension,
        StepRecord,
    )

    for model in (ContactAssignment, ProbationExtension, StepRecord, Candidate, PlanQuota):
        model.objects.dangerously_all().delete()


def admitted_member_ids() -> set[int]:
    """The roster entries written by the demo's admissions (their join dates are recent, unlike the builder's)."""
    from dangjian.development.models import Candidate

    return set(Candidate.objects.dangerously_all().exclude(member=None).values_list("member_id", flat=True))
