from dangjian.supervision import views

app_name = "supervision"
urlpatterns = views.urlpatterns
