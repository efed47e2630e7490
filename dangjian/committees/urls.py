from django.urls import path

from dangjian.committees import views

app_name = "committees"
urlpatterns = [
    path("", views.term_list, name="term_list"),
    path("org/<int:pk>/", views.organization, name="organization"),
    path("org/<int:pk>/elect/", views.elect, name="elect"),
    path("org/<int:pk>/by-election/", views.by_election, name="by_election"),
    path("org/<int:pk>/vacate/", views.vacate, name="vacate"),
    path("setup/", views.setup, name="setup"),
    path("report/", views.report, name="report"),
    path("org/<int:pk>/report/file/", views.report_file, name="report_file"),
]
