from django.urls import path

from dangjian.development import views

app_name = "development"
urlpatterns = [
    path("", views.candidate_list, name="list"),
    path("new/", views.candidate_create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/step/", views.step_record, name="step"),
    path("<int:pk>/extend/", views.extend, name="extend"),
    path("<int:pk>/print/", views.print_checklist, name="print"),
    path("plan/", views.plan, name="plan"),
]
