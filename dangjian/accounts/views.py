import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from dangjian.accounts import otp, selectors, services
from dangjian.accounts.forms import (
    AccountCreateForm,
    AccountEditForm,
    AccountFilterForm,
    AccountSearchForm,
    GrantFilterForm,
    GrantForm,
    PasswordResetForm,
    UnlockForm,
)
from dangjian.accounts.lockout import locked_accounts
from dangjian.accounts.models import RecoveryCodeDevice, RoleAssignment, User
from dangjian.core.signals import security_event
from dangjian.core.views_helpers import FAILED, paginate, require, scoped, submit


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


# ---------------------------------------------------------------------------------------------------------
# 用户管理 (the system admin) and 角色授权, 安全设置 (the security admin): pages of no organization's scope, so an
# account of another role is answered 403. Each change goes through accounts.services, which checks the role again
# and records it on the audit trail.


def _require_system_admin(request) -> None:
    require(services.is_system_admin(request.user), services.NOT_SYSTEM_ADMIN)


def _require_security_admin(request) -> None:
    require(services.is_security_admin(request.user), "只有安全管理员可以进行角色授权和安全设置。")


def _filter_values(form, names) -> dict[str, str] | None:
    """The filter's values ("" for a field left empty); None for an invalid filter (its messages are shown)."""
    if form.is_bound and not form.is_valid():
        return None
    data = form.cleaned_data if form.is_bound else {}
    return {name: data.get(name) or "" for name in names}


@login_required
def account_list(request):
    """用户管理: the accounts with their grants, filtered by name or username, role and state."""
    _require_system_admin(request)
    form = AccountFilterForm(request.GET or None)
    values = _filter_values(form, ("q", "role", "active"))
    qs = selectors.accounts(**values) if values is not None else User.objects.none()
    return render(request, "accounts/user_list.html", {"form": form, "page": paginate(request, qs)})


@login_required
def account_create(request):
    """新建账号: the system admin sets the first password, which the holder must change at the first login."""
    _require_system_admin(request)
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = submit(
            form,
            lambda data: services.account_create(
                by=request.user,
                username=data["username"],
                full_name=data["full_name"],
                phone=data["phone"],
                raw_password=data["password"],
            ),
        )
        if user is not FAILED:
            messages.success(request, f"已新建账号“{user.username}”，本人首次登录时须修改密码。")
            return redirect("account_list")
    return render(request, "accounts/user_form.html", {"form": form})


@scoped(User)
def account_edit(request, pk: int):
    """编辑账号: name, phone and active state (an account is deactivated, never deleted)."""
    target = get_object_or_404(User, pk=pk)
    _require_system_admin(request)
    initial = {"full_name": target.full_name, "phone": target.phone, "is_active": target.is_active}
    form = AccountEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = submit(form, lambda data: services.account_update(by=request.user, user=target, **data))
        if changed is not FAILED:
            messages.success(request, f"已保存账号“{target.username}”。" if changed else "没有需要保存的修改。")
            return redirect("account_list")
    grants = target.role_assignments.select_related("organization").order_by("kind", "role", "pk")
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "target": target,
            "grants": grants,
            "may_set_password": services.may_set_password(by=request.user, user=target),
        },
    )


@scoped(User)
def account_password(request, pk: int):
    """重置密码: a business account's new password, set by the system admin, to be changed at the next login.
    Never for the three admins' or the emergency account (only their holders set those)."""
    target = get_object_or_404(User, pk=pk)
    _require_system_admin(request)
    if not services.may_set_password(by=request.user, user=target):
        raise PermissionDenied(services.THREE_ADMINS_PASSWORD_MESSAGE)
    form = PasswordResetForm(request.POST or None, user=target)
    if request.method == "POST" and form.is_valid():
        done = submit(
            form, lambda data: services.password_set(by=request.user, user=target, raw_password=data["password"])
        )
        if done is not FAILED:
            messages.success(request, f"已重置“{target.username}”的密码，本人下次登录时须修改。")
            return redirect("account_list")
    return render(request, "accounts/user_password.html", {"form": form, "target": target})


@login_required
def grant_list(request):
    """角色授权: the grants, filtered by user, role and organization."""
    _require_security_admin(request)
    form = GrantFilterForm(request.GET or None)
    values = _filter_values(form, ("user", "role", "organization"))
    qs = selectors.grants(**values) if values is not None else RoleAssignment.objects.none()
    return render(request, "accounts/grant_list.html", {"form": form, "page": paginate(request, qs)})


ACCOUNT_SEARCH_LIMIT = 20


def _account_organization_code(username: str) -> str:
    """The organization a grant to the chosen account most likely names: its own branch (the member record the
    account logs in as), else the organization of its latest business grant; "" when neither is known."""
    user = User.objects.filter(username__iexact=username.strip()).first() if username.strip() else None
    if user is None:
        return ""
    member = getattr(user, "member", None)
    if member is not None and member.organization_id is not None:
        return member.organization.code
    latest = user.role_assignments.filter(organization__isnull=False).select_related("organization").last()
    return latest.organization.code if latest is not None and latest.organization is not None else ""


@login_required
def grant_create(request):
    """授予角色: a role to an account, over an organization chosen with the picker over every organization (business
    roles) or over none (the three admin roles). Once the account is chosen the picker starts at its own
    organization; it never starts at the top of the tree."""
    _require_security_admin(request)
    initial = {name: request.GET.get(name, "") for name in ("user", "role", "organization")}
    if not initial["organization"] and initial["user"]:
        initial["organization"] = _account_organization_code(initial["user"])
    form = GrantForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        assignment = submit(
            form,
            lambda data: services.role_grant(
                by=request.user, user=data["user"], role=data["role"], organization=data["organization"]
            ),
        )
        if assignment is not FAILED:
            messages.success(request, f"已授予：{assignment}。")
            return redirect("grant_list")
    # The security admin sees no account list: the active accounts are looked up here by name or username.
    user_search = AccountSearchForm(request.GET or None)
    users = []
    if user_search.is_bound and user_search.is_valid() and user_search.cleaned_data["user_q"].strip():
        q = user_search.cleaned_data["user_q"].strip()
        users = list(
            User.objects.filter(Q(username__icontains=q) | Q(full_name__icontains=q), is_active=True)
            .prefetch_related("role_assignments__organization")
            .order_by("username")[: ACCOUNT_SEARCH_LIMIT + 1]
        )
    return render(
        request,
        "accounts/grant_form.html",
        {
            "form": form,
            "user_search": user_search,
            "users": users[:ACCOUNT_SEARCH_LIMIT],
            "more_users": len(users) > ACCOUNT_SEARCH_LIMIT,
        },
    )


@scoped(RoleAssignment)
def grant_revoke(request, pk: int):
    """撤销角色: asked on GET, done on POST."""
    assignment = get_object_or_404(RoleAssignment.objects.select_related("user", "organization"), pk=pk)
    _require_security_admin(request)
    if request.method == "POST":
        label = str(assignment)
        try:
            services.role_revoke(by=request.user, assignment=assignment)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已撤销：{label}。")
        return redirect("grant_list")
    return render(request, "accounts/grant_revoke.html", {"assignment": assignment})


@login_required
def security_settings(request):
    """安全设置: the policy in force and the accounts locked now, each with 解锁."""
    _require_security_admin(request)
    return render(
        request,
        "accounts/security.html",
        {"policy": selectors.security_policy(), "locked": locked_accounts()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_unlock(request):
    """解锁 (POST, the username in the form); GET goes back to the settings page."""
    _require_security_admin(request)
    if request.method == "POST":
        form = UnlockForm(request.POST)
        if not form.is_valid():
            messages.error(request, "请指定要解锁的用户名。")
        else:
            try:
                services.account_unlock(by=request.user, username=form.cleaned_data["username"])
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, f"已解除“{form.cleaned_data['username']}”的锁定。")
    return redirect("security_settings")
