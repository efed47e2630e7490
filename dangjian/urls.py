from django.contrib import admin
from django.urls import include, path

from dangjian.learning.views import certificates as learning_certificates
from dangjian.workbench import views as workbench_views

urlpatterns = [
    path("", include("dangjian.accounts.urls")),
    path("", workbench_views.home, name="home"),
    path("", include("dangjian.workbench.urls")),
    path("notices/", include("dangjian.notices.urls")),
    path("orgs/", include("dangjian.orgs.urls")),
    path("members/", include("dangjian.members.urls")),
    path("schools/", include("dangjian.schools.urls")),
    path("training/", include("dangjian.training.urls")),
    path("orglife/", include("dangjian.orglife.urls")),
    path("committees/", include("dangjian.committees.urls")),
    path("supervision/", include("dangjian.supervision.urls")),
    path("dues/", include("dangjian.dues.urls")),
    path("learning/", include("dangjian.learning.urls")),
    path("verify/<str:number>/", learning_certificates.certificate_verify, name="certificate_verify"),
    path("development/", include("dangjian.development.urls")),
    path("exams/", include("dangjian.exams.urls")),
    path("audit/", include("dangjian.audit.urls")),
    path("jobs/", include("dangjian.jobs.urls")),
    path("uploads/", include("dangjian.core.urls")),
    path("admin/", admin.site.urls),
]
