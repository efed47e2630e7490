from dangjian.committees import views

app_name = "committees"
urlpatterns = views.urlpatterns
