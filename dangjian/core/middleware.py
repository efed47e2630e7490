import ipaddress

from django.conf import settings
from django.http import Http404


class AdminNetworkMiddleware:
    """Hide the admin site from addresses outside DANGJIAN_ADMIN_ALLOWED_NETWORKS (等保: 管理终端限制)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = [ipaddress.ip_network(n, strict=False) for n in settings.DANGJIAN_ADMIN_ALLOWED_NETWORKS]

    def __call__(self, request):
        if self.networks and request.path.startswith("/admin/"):
            address = getattr(request, "source_ip", None) or request.META.get("REMOTE_ADDR", "")
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                raise Http404 from None
            if not any(ip in network for network in self.networks):
                raise Http404
        return self.get_response(request)
