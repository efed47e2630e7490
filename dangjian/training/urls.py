from django.urls import path

from dangjian.training.views import classes, hours, hours_import

app_name = "training"
urlpatterns = [
    # classes
    path("classes/", classes.class_list, name="class_list"),
    path("classes/new/", classes.class_create, name="class_create"),
    path("classes/<int:pk>/", classes.class_detail, name="class_detail"),
    path("classes/<int:pk>/edit/", classes.class_edit, name="class_edit"),
    path("classes/<int:pk>/filing/", classes.class_filing, name="class_filing"),
    path("classes/<int:pk>/file/", classes.class_file, name="class_file"),
    path("classes/<int:pk>/approve/", classes.class_approve, name="class_approve"),
    path("classes/<int:pk>/reject/", classes.class_reject, name="class_reject"),
    path("classes/<int:pk>/finish/", classes.class_finish, name="class_finish"),
    path("classes/<int:pk>/enrollment/", classes.enrollment, name="enrollment"),
    path("classes/<int:pk>/enrollment/add/", classes.enrollment_add, name="enrollment_add"),
    path("classes/<int:pk>/enrollment/by-organization/", classes.enrollment_by_organization, name="enrollment_by_org"),
    path("classes/<int:pk>/enrollment/import/", classes.enrollment_import, name="enrollment_import"),
    path("classes/<int:pk>/enrollment/withdraw/", classes.enrollment_withdraw, name="enrollment_withdraw"),
    path("classes/<int:pk>/sessions/new/", classes.session_add, name="session_add"),
    path("classes/<int:pk>/sessions/from-booking/", classes.session_from_booking, name="session_from_booking"),
    path("sessions/<int:pk>/", classes.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", classes.session_edit, name="session_edit"),
    path("sessions/<int:pk>/attendance/", classes.attendance_mark, name="attendance_mark"),
    path("sessions/<int:pk>/close/", classes.session_close, name="session_close"),
    path("sessions/<int:pk>/qr/", classes.session_qr, name="session_qr"),
    path("sign-in/", classes.sign_in, name="sign_in"),
    path("my/classes/", classes.my_classes, name="my_classes"),
    # hours
    path("my/hours/", hours.my_hours, name="my_hours"),
    path("hours/", hours.dashboard, name="dashboard"),
    path("hours/members/", hours.member_report, name="member_report"),
    path("hours/members/<int:pk>/", hours.member_hours, name="member_hours"),
    path("hours/entries/<int:pk>/correct/", hours.entry_correct, name="entry_correct"),
    path("hours/branch/", hours.branch, name="branch"),
    path("hours/branch/enroll/", hours.branch_enroll, name="branch_enroll"),
    path("hours/reconciliation/", hours.reconciliation, name="reconciliation"),
    path("hours/import/", hours_import.hours_import, name="hours_import"),
    path("hours/close/", hours.year_close_view, name="year_close"),
    path("hours/reopen/", hours.year_reopen_view, name="year_reopen"),
    path("policies/", hours.policy_list, name="policies"),
    path("policies/new/", hours.policy_create, name="policy_create"),
    path("policies/<int:pk>/edit/", hours.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/active/", hours.policy_toggle, name="policy_toggle"),
]
