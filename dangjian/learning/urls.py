from django.urls import path

from dangjian.learning.views import certificates

app_name = "learning"

urlpatterns = [
    path("certificates/", certificates.certificate_list, name="certificate_list"),
    path("certificates/<int:pk>/", certificates.certificate_detail, name="certificate"),
]
