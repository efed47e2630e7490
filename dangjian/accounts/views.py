import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from dangjian.accounts import otp
from dangjian.accounts.models import RecoveryCodeDevice
from dangjian.core.signals import security_event


@require_http_methods(["GET", "POST"])
def logout_view(request):
    """POST ends the session on the server (its row is deleted). GET only asks for confirmation, so a
    link or image on another site cannot log anyone out."""
    if request.method == "POST" or not request.user.is_authenticated:
        logout(request)
        return redirect("login")
    return render(request, "accounts/logout_confirm.html")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's password: the old password is asked again; the session stays valid (its hash is updated)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        for field in form.fields.values():
            field.widget.attrs["class"] = "form-control"
        return form

    def form_valid(self, form):
        response = super().form_valid(form)
        security_event.send(sender=type(self), action="password_change", user=self.request.user)
        messages.success(self.request, "密码已修改。")
        return response


class OTPSetupForm(forms.Form):
    password = forms.CharField(label="当前密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    token = forms.CharField(
        label="动态口令（6位数字）",
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("当前密码不正确。")
        return password


class OTPVerifyForm(forms.Form):
    token = forms.CharField(
        label="动态口令或恢复码",
        max_length=16,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "one-time-code", "autofocus": True}),
    )


@login_required
def otp_setup(request):
    """Bind (or replace) the TOTP second factor: scan the QR code, then confirm with the password and a code.

    Replacing an existing factor needs a session already verified with it, so a stolen password alone can
    never swap the factor.
    """
    user = request.user
    if otp.has_confirmed_device(user) and not user.is_verified():
        return redirect("otp_verify")
    device = otp.pending_device(user)
    form = OTPSetupForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        codes = otp.otp_enroll_confirm(user=user, device=device, token=form.cleaned_data["token"])
        if codes is None:
            form.add_error("token", "动态口令不正确或已使用，请等待下一个口令后重试。")
            security_event.send(sender=otp_setup, action="otp_failure", user=user, result="failure")
        else:
            completes_login = not user.is_verified() and otp.otp_required_for(user)
            otp_login(request, device)
            security_event.send(sender=otp_setup, action="otp_enroll", user=user)
            if completes_login:  # the role required a factor before the login could finish
                security_event.send(
                    sender=otp_setup, action="login_success", user=user, detail={"second_factor": "enroll"}
                )
            return render(request, "accounts/otp_codes.html", {"codes": codes})
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=5, title="动态口令二维码")
    return render(request, "accounts/otp_setup.html", {"form": form, "qr_svg": mark_safe(qr_svg), "secret": device.key})


@login_required
def otp_verify(request):
    """Second step of login: a TOTP code, or one single-use recovery code."""
    if request.user.is_verified():
        return redirect(_safe_next(request))
    form = OTPVerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].strip().replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            kind = "recovery_code" if isinstance(device, RecoveryCodeDevice) else "totp"
            security_event.send(sender=otp_verify, action="otp_success", user=request.user, detail={"device": kind})
            security_event.send(
                sender=otp_verify, action="login_success", user=request.user, detail={"second_factor": kind}
            )
            return redirect(_safe_next(request))
        security_event.send(sender=otp_verify, action="otp_failure", user=request.user, result="failure")
        form.add_error("token", "动态口令不正确、已使用或已过期。")
    return render(request, "accounts/otp_verify.html", {"form": form, "next": request.GET.get("next", "")})


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")
