from dangjian.training.views import classes, hours

app_name = "training"
urlpatterns = [*classes.urlpatterns, *hours.urlpatterns]
