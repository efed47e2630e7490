from django.contrib.auth import logout
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def logout_view(request):
    """End the session on the server (its row is deleted) and go back to the login page."""
    logout(request)
    return redirect("login")
