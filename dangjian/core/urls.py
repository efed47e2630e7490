from django.urls import path

from dangjian.core import kept_uploads

app_name = "core"

urlpatterns = [
    path("kept/", kept_uploads.kept_upload, name="kept_upload"),
]
