"""The competence test (履职能力测试): who must sit it in a year, by the policies over party posts, and who of them
has not passed it yet (docs/exams.md, "The competence test")."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from dangjian.exams.models import Assignment, CompetencePolicy, Paper, PaperKind
from dangjian.exams.selectors.results import _attempts_by_member, _makeups, outcome_of
from dangjian.members.models import Member, PartyPost, Status
from dangjian.orgs.models import Organization, ancestor_paths


def policies_for(org: Organization, year: int) -> list[CompetencePolicy]:
    """The policies valid in `year` that apply to `org`'s subtree or part of it: the system's, those owned by `org` or
    an ancestor, and those owned inside the subtree (public rules by design)."""
    return list(
        CompetencePolicy.objects.dangerously_all()
        .valid_in(year)
        .filter(
            Q(owner__isnull=True)
            | Q(owner__path__in=[*ancestor_paths([org.path]), org.path])
            | Q(owner__path__startswith=org.path)
        )
        .select_related("owner")
    )


def required_members(*, by, org: Organization, year: int):
    """The active members `by` sees in `org`'s subtree whom a policy of `year` names: the holders of its party posts at
    any time of the year in an organization of the policy owner's subtree, or (with `leadership`) the leadership-team
    members there. A queryset."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    q = Q(pk__in=[])
    for policy in policies_for(org, year):
        where = Q(organization__path__startswith=policy.owner.path) if policy.owner is not None else Q()
        if policy.posts:
            holders = (
                PartyPost.objects.filter(post__in=policy.posts, start_date__lte=end)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
                .values("member_id")
            )
            q |= where & Q(pk__in=holders)
        if policy.leadership:
            q |= where & Q(is_leadership=True)
    return Member.objects.visible_to(by).filter(status=Status.ACTIVE).in_subtree(org).filter(q)


def competence_not_passed(*, by, org: Organization, year: int, now: dt.datetime | None = None):
    """The members who must sit the year's competence test in `org`'s subtree and have not passed it (on any original
    competence paper of the year or its make-up): a list of members, by organization and name."""
    now = now or timezone.now()
    members = list(
        required_members(by=by, org=org, year=year)
        .select_related("organization")
        .order_by("organization__path", "name", "pk")
    )
    if not members:
        return []
    roots = list(Paper.objects.dangerously_all().filter(kind=PaperKind.COMPETENCE, year=year, makeup_of__isnull=True))
    makeups = {root.pk: _makeups(root) for root in roots}
    ids = [m.pk for m in members]
    assigned = Assignment.objects.dangerously_all().filter(paper__in=[r.pk for r in roots], member_id__in=ids)
    roots_of: dict[int, list] = {}
    by_pk = {r.pk: r for r in roots}
    for member_id, paper_id in assigned.values_list("member_id", "paper_id"):
        roots_of.setdefault(member_id, []).append(by_pk[paper_id])
    attempts = _attempts_by_member([*roots, *(m for ms in makeups.values() for m in ms)], ids, None)
    out = []
    for member in members:
        passed = any(
            outcome_of(root, makeups[root.pk], attempts.get(member.pk, {}), now).passed
            for root in roots_of.get(member.pk, [])
        )
        if not passed:
            out.append(member)
    return out
