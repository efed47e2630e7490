"""The forms of the account pages (用户管理, 角色授权, 安全设置): every message in Chinese, beside its field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth import password_validation
from django.db.models import QuerySet
from django.urls import reverse

from dangjian.accounts.models import User
from dangjian.accounts.roles import Role
from dangjian.core.forms import BootstrapFormMixin, OrgPickerInput, ScopedCodeField
from dangjian.core.validators import validate_phone

ACTIVE_CHOICES = [("", "全部"), ("1", "启用"), ("0", "停用")]
ROLE_FILTER_CHOICES = [("", "全部角色"), *Role.choices]


def organizations() -> QuerySet[Any]:
    """Every organization: the security admin grants over the whole structure (the three admins hold no
    organization, so `granted_to` would give them none). Reached without importing `orgs`, which sits above
    accounts."""
    model: Any = apps.get_model("orgs", "Organization")
    return model.objects.dangerously_all()


class AccountFilterForm(BootstrapFormMixin, forms.Form):
    q = forms.CharField(label="姓名或用户名", max_length=50, required=False)
    role = forms.ChoiceField(label="角色", choices=ROLE_FILTER_CHOICES, required=False)
    active = forms.ChoiceField(label="状态", choices=ACTIVE_CHOICES, required=False)


class AccountCreateForm(BootstrapFormMixin, forms.Form):
    username = forms.CharField(label="用户名", max_length=150, help_text="登录时使用，创建后不可修改。")
    full_name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=20, required=False, validators=[validate_phone])
    password = forms.CharField(
        label="初始密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="由您设置并告知本人；本人首次登录时必须修改。",
    )
    password2 = forms.CharField(
        label="确认初始密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致。")
        return data


class AccountEditForm(BootstrapFormMixin, forms.Form):
    full_name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=20, required=False, validators=[validate_phone])
    is_active = forms.BooleanField(label="启用（取消勾选即停用账号，账号不会被删除）", required=False)


class PasswordResetForm(BootstrapFormMixin, forms.Form):
    """A new password for a business account, set by the system admin; the holder must change it at login."""

    password = forms.CharField(
        label="新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="确认新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        try:
            password_validation.validate_password(password, self.user)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        return password

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致。")
        return data


class GrantFilterForm(BootstrapFormMixin, forms.Form):
    user = forms.CharField(label="用户（姓名或用户名）", max_length=50, required=False)
    role = forms.ChoiceField(label="角色", choices=ROLE_FILTER_CHOICES, required=False)
    organization = forms.CharField(label="党组织（名称或编码）", max_length=100, required=False)


class UsernameField(forms.CharField):
    """An account picked by its username (exact, case-insensitive)."""

    def clean(self, value):
        username = super().clean(value)
        if not username:
            return None
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise forms.ValidationError("找不到用户名为“%(username)s”的账号。", params={"username": username})
        return user


class GrantOrgPickerInput(OrgPickerInput):
    """The organization picker over every organization (`orgs:pick_grantable`): the security admin holds no
    organization, so the picker of the user's own view would offer nothing."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-org-picker"] = reverse("orgs:pick_grantable")
        return context


class GrantForm(BootstrapFormMixin, forms.Form):
    user = UsernameField(label="用户名", max_length=150)
    role = forms.ChoiceField(label="角色", choices=[("", "请选择角色"), *Role.choices])
    # Never preset to the top of the tree: a role granted there covers everything. The page presets the account's
    # own organization once the account is chosen (`grant_create`).
    organization = ScopedCodeField(
        label="授权党组织",
        required=False,
        preset_own=False,
        widget=GrantOrgPickerInput,
        help_text="业务角色必填，角色覆盖该组织及其全部下级；三员角色（系统、安全、审计管理员）不填。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations()  # type: ignore[attr-defined]


class AccountSearchForm(BootstrapFormMixin, forms.Form):
    user_q = forms.CharField(label="查找账号（姓名或用户名）", max_length=50, required=False)


class UnlockForm(forms.Form):
    username = forms.CharField(max_length=150)
