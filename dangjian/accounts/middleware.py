from django.utils.functional import SimpleLazyObject

from dangjian.accounts.access import access_for


class AccessMiddleware:
    """Expose `request.access`, built lazily once per request from the user's role assignments."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: access_for(request.user))
        return self.get_response(request)
