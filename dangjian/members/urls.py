from django.urls import path

from dangjian.members import import_views, views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("export.xlsx", views.member_export, name="export"),
    path("search/", views.member_search, name="search"),
    path("import/", import_views.member_import, name="import"),
    path("import/template.xlsx", import_views.member_import_template, name="import_template"),
    path("import/errors.xlsx", import_views.member_import_errors, name="import_errors"),
    path("new/", views.member_create, name="create"),
    path("new/incoming/", views.member_incoming, name="incoming"),
    path("transfers/", views.transfer_list, name="transfers"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/status/", views.member_status, name="status"),
    path("<int:pk>/make-full/", views.member_make_full, name="make_full"),
    path("<int:pk>/id-number/", views.member_full_id, name="full_id"),
    path("<int:pk>/posts/", views.member_post_add, name="post_add"),
    path("<int:pk>/posts/<int:post_pk>/end/", views.member_post_end, name="post_end"),
    path("<int:pk>/transfer/", views.member_transfer_start, name="transfer_start"),
    path("<int:pk>/transfer/accept/", views.member_transfer_accept, name="transfer_accept"),
    path("<int:pk>/transfer/return/", views.member_transfer_return, name="transfer_return"),
    path("<int:pk>/transfer-out/", views.member_transfer_out, name="transfer_out"),
]
