from dangjian.workbench import views

app_name = "workbench"
urlpatterns = views.urlpatterns
