from django.urls import path

from reviews.views import sessions, teams, workloads

app_name = "reviews"

urlpatterns = [
    path("workloads/", workloads.workload_list, name="workload_list"),
    path("workloads/new/", workloads.workload_create, name="workload_create"),
    path("workloads/<uuid:workload_uuid>/", workloads.workload_detail, name="workload_detail"),
    path("workloads/<uuid:workload_uuid>/edit/", workloads.workload_edit, name="workload_edit"),
    path("sessions/<uuid:session_uuid>/", sessions.session_detail, name="session_detail"),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/<uuid:team_uuid>/", teams.team_detail, name="team_detail"),
    path(
        "teams/<uuid:team_uuid>/members/<int:member_id>/role/",
        teams.member_role,
        name="member_role",
    ),
    path(
        "teams/<uuid:team_uuid>/members/<int:member_id>/remove/",
        teams.member_remove,
        name="member_remove",
    ),
]
