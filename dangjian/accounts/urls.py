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
]
