from django.urls import path

from dangjian.learning.views import certificates, online

app_name = "learning"

urlpatterns = [
    path("", online.course_list, name="course_list"),
    path("courses/<int:pk>/", online.course_manage, name="course_manage"),
    path("materials/<int:pk>/", online.material_detail, name="material"),
    path("materials/<int:pk>/beat/", online.material_beat, name="material_beat"),
    path("materials/<int:pk>/file/", online.material_file, name="material_file"),
    path("certificates/", certificates.certificate_list, name="certificate_list"),
    path("certificates/<int:pk>/", certificates.certificate_detail, name="certificate"),
]
