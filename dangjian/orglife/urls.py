from dangjian.orglife import views

app_name = "orglife"
urlpatterns = views.urlpatterns
