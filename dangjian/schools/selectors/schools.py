"""Read-side computations of the schools seam: lists and a school's page."""

from __future__ import annotations

from django.db.models import QuerySet

from dangjian.schools.models import PartySchool


def school_list(*, user) -> QuerySet[PartySchool]:
    """The schools the user sees, with what the list shows joined in (a fixed number of queries)."""
    return PartySchool.objects.visible_to(user).select_related("organization", "parent").order_by("code")
