from django.urls import path

from dangjian.exams import views

app_name = "exams"
urlpatterns = [
    path("", views.paper_list, name="paper_list"),
    path("mine/", views.my_exams, name="my_exams"),
    path("banks/", views.bank_list, name="bank_list"),
    path("banks/<int:pk>/", views.bank_detail, name="bank_detail"),
    path("banks/<int:pk>/import/", views.bank_import, name="bank_import"),
    path("banks/<int:pk>/papers/new/", views.paper_create, name="paper_create"),
    path("papers/<int:pk>/", views.paper_detail, name="paper_detail"),
    path("papers/<int:pk>/assign/", views.paper_assign, name="paper_assign"),
    path("papers/<int:pk>/makeup/", views.paper_makeup, name="paper_makeup"),
    path("papers/<int:pk>/take/", views.paper_take, name="paper_take"),
    path("attempts/<int:pk>/", views.attempt_view, name="attempt"),
    path("competence/", views.competence, name="competence"),
]
