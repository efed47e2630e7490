from django.urls import path

from dangjian.supervision.views import clues, dashboard, grid, institutions, instructors, points, visits

app_name = "supervision"
urlpatterns = [
    # dashboard
    path("", dashboard.dashboard, name="dashboard"),
    # institutions
    path("institutions/", institutions.institution_list, name="institution_list"),
    path("institutions/new/", institutions.institution_create, name="institution_create"),
    path("institutions/<int:pk>/", institutions.institution_detail, name="institution_detail"),
    path("institutions/<int:pk>/edit/", institutions.institution_edit, name="institution_edit"),
    path("institutions/<int:pk>/assign/", institutions.institution_assign, name="institution_assign"),
    path("institutions/<int:pk>/checks/", institutions.check_create, name="check_create"),
    path("institutions/<int:pk>/points/", institutions.point_event_create, name="point_event_create"),
    path("institutions/<int:pk>/points/reverse/", institutions.point_event_reverse, name="point_event_reverse"),
    path("institutions/<int:pk>/clues/", institutions.clue_create, name="clue_create"),
    path("institutions/<int:pk>/red-list/", institutions.red_list_request, name="red_list_request"),
    # visits
    path("visits/new/", visits.visit_create, name="visit_create"),
    path("visits/missing/", visits.missing_visits, name="visits_missing"),
    path("visits/photos/<int:pk>/", visits.visit_photo, name="visit_photo"),
    # clues
    path("clues/", clues.clue_board, name="clue_board"),
    path("clues/<int:pk>/", clues.clue_detail, name="clue_detail"),
    path("clues/<int:pk>/status/", clues.clue_status, name="clue_status"),
    # points
    path("points/", points.points, name="points"),
    # instructors
    path("instructors/", instructors.instructor_list, name="instructor_list"),
    path("instructors/new/", instructors.instructor_create, name="instructor_create"),
    path("instructors/summary/", instructors.instructor_summary, name="instructor_summary"),
    path("instructors/<int:pk>/", instructors.instructor_detail, name="instructor_detail"),
    path("instructors/<int:pk>/dismiss/", instructors.instructor_dismiss, name="instructor_dismiss"),
    # grid
    path("grid/", grid.grid_list, name="grid_list"),
    path("pairings/", grid.pairing_list, name="pairing_list"),
    path("pairings/<int:pk>/", grid.pairing_detail, name="pairing_detail"),
]
