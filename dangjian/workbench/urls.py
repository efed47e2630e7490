from django.urls import path

from dangjian.workbench import views

app_name = "workbench"
urlpatterns = [
    path("todo/", views.todo, name="todo"),
    path("todo/absent/", views.absent, name="absent"),
]
