from django.contrib.auth import views as auth_views
from django.urls import path

from dangjian.accounts import views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", views.logout_view, name="logout"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/otp/setup/", views.otp_setup, name="otp_setup"),
    path("account/otp/verify/", views.otp_verify, name="otp_verify"),
    # 三员分立: the system admin's accounts, the security admin's grants and security settings.
    path("accounts/users/", views.account_list, name="account_list"),
    path("accounts/users/new/", views.account_create, name="account_create"),
    path("accounts/users/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/users/<int:pk>/password/", views.account_password, name="account_password"),
    path("accounts/grants/", views.grant_list, name="grant_list"),
    path("accounts/grants/new/", views.grant_create, name="grant_create"),
    path("accounts/grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("accounts/security/", views.security_settings, name="security_settings"),
    path("accounts/security/unlock/", views.account_unlock, name="account_unlock"),
]
