from django.urls import path

from dangjian.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/status/", views.member_status, name="status"),
    path("<int:pk>/id-number/", views.member_full_id, name="full_id"),
    path("<int:pk>/posts/", views.member_post_add, name="post_add"),
    path("<int:pk>/posts/<int:post_pk>/end/", views.member_post_end, name="post_end"),
]
