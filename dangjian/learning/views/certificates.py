"""Certificate pages: the public check by number (no login), the printable certificate, the lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from dangjian.core.views_helpers import get_visible_or_404, paginate, scoped
from dangjian.learning.models import Certificate
from dangjian.learning.selectors import certificates as selectors


@never_cache
def certificate_verify(request, number: str):
    """证书查验: anyone with the number sees the masked name, the title, the date and the issuer. An unknown or
    malformed number answers the same 404 page, with nothing that hints at other numbers."""
    certificate = selectors.certificate_by_number(number)
    if certificate is None:
        return render(request, "learning/verify.html", {"certificate": None}, status=404)
    return render(request, "learning/verify.html", {"certificate": certificate})


@login_required
def certificate_list(request):
    """证书: a member's own certificates; staff see the certificates of the members in their scope."""
    query = request.GET.get("q", "")[:50]
    page = paginate(request, selectors.certificate_list(request.user, query=query))
    return render(request, "learning/certificate_list.html", {"page": page, "query": query})


@scoped(Certificate)
def certificate_detail(request, pk: int):
    """The printable certificate (print stylesheet, Chinese layout with the issuing organization)."""
    certificate = get_visible_or_404(Certificate, request.user, pk, request=request)
    return render(request, "learning/certificate.html", {"c": certificate})
