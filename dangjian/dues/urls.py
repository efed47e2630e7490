from django.urls import path

from dangjian.dues import views

app_name = "dues"
urlpatterns = [
    path("", views.sheet, name="sheet"),
    path("member/", views.member_page, name="member"),
    path("mine/", views.mine, name="mine"),
    path("receipt/", views.receipt, name="receipt"),
    path("report/", views.report, name="report"),
    path("deductions/", views.deductions, name="import"),
]
