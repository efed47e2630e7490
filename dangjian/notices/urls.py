from dangjian.notices import views

app_name = "notices"
urlpatterns = views.urlpatterns
