"""A test-only URL configuration: the product's URLs and three views that fail, for the error-page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import path

from dangjian.urls import urlpatterns as product_urlpatterns


def refused(request):
    raise PermissionDenied


def missing(request):
    raise Http404("不存在")


def suspicious(request):
    raise SuspiciousOperation("bad")


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("test-errors/403/", refused),
    path("test-errors/404/", missing),
    path("test-errors/400/", suspicious),
    path("test-errors/500/", broken),
    *product_urlpatterns,
]
