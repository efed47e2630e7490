import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from dangjian.accounts.access import access_for
from dangjian.core.signals import security_event

SESSION_STARTED_KEY = "dangjian_auth_started"


class AccessMiddleware:
    """Expose `request.access`, built lazily once per request from the user's role assignments."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.access = SimpleLazyObject(lambda: access_for(request.user))
        return self.get_response(request)


class SessionPolicyMiddleware:
    """Session and password rules of the security baseline.

    - A session ends DANGJIAN_SESSION_MAX_AGE seconds (default 12 hours) after login, however active;
      the idle timeout is SESSION_COOKIE_AGE, renewed on every request.
    - A user whose password has expired, or was set by someone else, can only change it (or log out) until
      they do.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated and SESSION_KEY in request.session:
            # The account was deactivated (or deleted) since login: end the session on the server too, so
            # reactivating the account cannot revive it.
            request.session.flush()
        if user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            if started is None:
                request.session[SESSION_STARTED_KEY] = time.time()
            elif time.time() - started > settings.DANGJIAN_SESSION_MAX_AGE:
                security_event.send(sender=self.__class__, action="session_expired", user=user)
                logout(request)
                messages.info(request, "登录已超过最长会话时间，请重新登录。")
                return redirect(settings.LOGIN_URL)
            if user.password_expired and not self._exempt(request.path):
                messages.warning(request, "您的密码已过期，请先修改密码。")
                return redirect("password_change")
            if user.must_change_password and not self._exempt(request.path):
                # Someone else set this password (a new account, a reset): it is the user's only once changed.
                messages.warning(request, "您的密码由管理员设置，请先修改为只有您知道的密码。")
                return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        # The second factor comes first: its pages stay reachable while the password is expired.
        allowed = (
            reverse("password_change"),
            reverse("logout"),
            reverse("otp_verify"),
            reverse("otp_setup"),
            "/" + settings.STATIC_URL.lstrip("/"),
        )
        return any(path.startswith(p) for p in allowed)


class SecondFactorMiddleware:
    """After the password, a user with a confirmed device must enter a code; a user whose role requires a
    second factor (DANGJIAN_OTP_REQUIRED_ROLES, when DANGJIAN_OTP_ENFORCE) must first enroll one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not self._exempt(request.path):
            from dangjian.accounts.otp import has_confirmed_device, otp_required_for

            if has_confirmed_device(user):
                return redirect(f"{reverse('otp_verify')}?{urlencode({'next': request.get_full_path()}, safe='/')}")
            if otp_required_for(user):
                messages.info(request, "您的角色要求使用双因素认证，请先绑定动态口令。")
                return redirect("otp_setup")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (
            reverse("otp_verify"),
            reverse("otp_setup"),
            reverse("logout"),
            "/" + settings.STATIC_URL.lstrip("/"),
        )
        return any(path.startswith(p) for p in allowed)
