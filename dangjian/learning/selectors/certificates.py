"""Reads of certificates (证书): a user's list, the public check by number."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from dangjian.learning.models import Certificate

NUMBER_RE = re.compile(r"^ZS\d{4}-\d{6}$")


def certificate_list(user, *, query: str = "") -> QuerySet[Certificate]:
    """The certificates `user` sees (their own as a member, their members' as staff), newest first; `query` matches
    a whole number or the start of a title."""
    qs = Certificate.objects.visible_to(user).select_related("member", "issuer")
    query = (query or "").strip()
    if query:
        qs = qs.filter(number=query.upper()) if NUMBER_RE.match(query.upper()) else qs.filter(title__contains=query)
    return qs.order_by("-issued_on", "-pk")


def my_certificates(user) -> QuerySet[Certificate]:
    """The certificates of the member account `user` itself."""
    return Certificate.objects.visible_to(user).filter(member__user_id=user.pk).select_related("issuer")


def certificate_by_number(number: str) -> Certificate | None:
    """The certificate with exactly this number, for the public check: public by design (it shows only the masked
    name, the title, the date and the issuer). A malformed number finds nothing, the same way as an unknown one."""
    number = (number or "").strip().upper()
    if not NUMBER_RE.match(number):
        return None
    return Certificate.objects.dangerously_all().select_related("member", "issuer").filter(number=number).first()
