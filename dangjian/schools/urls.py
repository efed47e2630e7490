from dangjian.schools.views import booking, catalog, evaluation, lecture_duty, schools

app_name = "schools"
urlpatterns = [
    *schools.urlpatterns,
    *catalog.urlpatterns,
    *booking.urlpatterns,
    *evaluation.urlpatterns,
    *lecture_duty.urlpatterns,
]
