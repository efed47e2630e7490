from django.urls import path

from dangjian.orglife import views

app_name = "orglife"
urlpatterns = [
    path("", views.record_list, name="record_list"),
    path("records/new/", views.record_create, name="record_create"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("records/<int:pk>/edit/", views.record_edit, name="record_edit"),
    path("records/<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("records/<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("records/<int:pk>/attachments/<int:attachment_pk>/remove/", views.attachment_remove, name="attachment_remove"),
    path("ledger/", views.ledger, name="ledger"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("compliance/", views.compliance, name="compliance"),
]
