from dangjian.schools.views import booking, catalog, evaluation, schools

app_name = "schools"
urlpatterns = [*schools.urlpatterns, *catalog.urlpatterns, *booking.urlpatterns, *evaluation.urlpatterns]
